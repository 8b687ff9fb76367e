// A real OpenID Connect provider for funnel's sign-in tests: node-oidc-provider 9.13.3 with its
// built-in login form (any password), users from users.json.
//
//   node provider.mjs        prints "READY <issuer>" once it listens on 127.0.0.1
//
// IDP_PORT            its port on 127.0.0.1
// IDP_REDIRECT_URIS   the app's redirect URIs, comma-separated (each must be registered up front)
// IDP_ID_TOKEN_TTL    seconds an ID token is valid (default 3600)
//
// A login absent from users.json signs in with only "sub" (no e-mail, no name, no groups).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT ?? 9400);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.IDP_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const users = JSON.parse(readFileSync(new URL('./users.json', import.meta.url), 'utf8'));

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'funnel',
    client_secret: 'funnel-test-secret',
    redirect_uris: redirectUris,
    post_logout_redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Streamlit reads only the ID token's claims (never /userinfo): put the scopes' claims in it.
  conformIdTokenClaims: false,
  async findAccount(ctx, sub) {
    const profile = users[sub] ?? {};
    return { accountId: sub, async claims() { return { sub, ...profile }; } };
  },
  // No consent screen: the test client is first-party.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: Number(process.env.IDP_ID_TOKEN_TTL ?? 3600) },
  cookies: { keys: ['test-only-cookie-key'] },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(port, '127.0.0.1', () => console.log(`READY ${issuer}`));
