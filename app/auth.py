"""Sign-in: who is using the app, and what their roles let the pages offer them.

Sign-in is on when Streamlit's secrets hold an ``[auth]`` section (``make serve`` writes them;
``make run`` reads none). Then :func:`gate` runs before any page: nobody sees data before
signing in through the company's identity provider, and a sign-in that cannot name a current
person (no e-mail, too old), or a person in no role, is told why and goes no further.

Hiding a control is only for the eye: every change is checked again by the library function
that makes it (:mod:`funnel.access`), with the identity read again from ``st.user`` when the
change is asked for.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import streamlit as st

from app import ui
from funnel.access import Access, AccessError, Actor, identity_from_claims

_PROBE_TIMEOUT_S = 3.0
#: Streamlit's identity cookie (a long one is split into ``_streamlit_user_1``, ``_2``, ...).
_IDENTITY_COOKIE = "_streamlit_user"


def auth_settings() -> dict[str, Any] | None:
    """The ``[auth]`` secrets in force, or None: sign-in is off."""
    try:
        return st.secrets["auth"].to_dict() if "auth" in st.secrets else None
    except FileNotFoundError:  # no secrets file at all
        return None


def signing_in() -> bool:
    """Whether this server signs people in."""
    return auth_settings() is not None


def access() -> Access:
    """What the database requires (roles, how long a sign-in lasts)."""
    return ui.store().access()


def actor() -> Actor:
    """Who is using the app now: the signed-in person, or the OS user without sign-in.

    Read again at every call (a button's callback included), never kept from an earlier run.
    """
    if not signing_in():
        return Actor.local()
    if not st.user.get("is_logged_in", False):
        raise AccessError("sign_in_first")
    return identity_from_claims(st.user.to_dict(), max_session_hours=access().max_session_hours)


def may(action: str) -> bool:
    """Whether the pages should offer ``action`` (the library decides again when it runs)."""
    if not signing_in():
        return True
    try:
        return access().roles.allows(actor(), action)
    except AccessError:
        return False


def provider_problem(metadata_url: str) -> str | None:
    """Why the identity provider cannot be reached now, or None.

    Checked before ``st.login()``: when the provider is down Streamlit shows a bare
    "400 Authentication error" page instead of the app.
    """
    try:
        with urllib.request.urlopen(metadata_url, timeout=_PROBE_TIMEOUT_S) as response:
            json.load(response)
    except Exception as exc:  # noqa: BLE001 - any failure means the same to the person
        return type(exc).__name__
    return None


def unverified_identity(cookies: Any) -> bool:
    """Whether the browser sent an identity cookie that Streamlit did not accept.

    Streamlit ignores a cookie it cannot verify (edited, re-signed with another secret, or
    from before the server's cookie secret changed) without a word; the person would only see
    the sign-in page again. Signed out, the cookie is gone, so its presence here means it was
    refused.

    >>> unverified_identity({"_streamlit_user_1": "x"}), unverified_identity({"other": "y"})
    (True, False)
    """
    return any(
        name == _IDENTITY_COOKIE or name.startswith(_IDENTITY_COOKIE + "_") for name in cookies
    )


def _sign_in_page(settings: dict[str, Any]) -> None:
    st.title("funnel")
    st.write(ui.t("signin.intro"))
    if unverified_identity(st.context.cookies.keys()):
        st.warning(ui.t("signin.not_verified"))
    if st.button(ui.t("signin.button"), key="_signin", type="primary"):
        url = str(settings.get("server_metadata_url", ""))
        problem = provider_problem(url)
        if problem is not None:
            st.error(
                ui.t("signin.provider_down", issuer=url.split("/.well-known")[0], error=problem)
            )
        else:
            st.login()


def _sign_out(where: Any = st) -> None:
    if where.button(ui.t("signin.out"), key="_signout"):
        st.logout()


def gate() -> None:
    """Stop the run unless the person may see funnel; show who they are in the sidebar."""
    settings = auth_settings()
    required = access()
    if settings is None:
        if required.required:  # a sign-in database opened by a server without sign-in
            st.error(ui.t("signin.db_requires", issuer=required.issuer or "-"))
            st.stop()
        return
    if not required.required:
        st.error(ui.t("signin.not_recorded"))
        st.stop()
    if not st.user.get("is_logged_in", False):
        _sign_in_page(settings)
        st.stop()
    try:
        who = actor()
    except AccessError as exc:
        st.error(ui.refusal(exc))
        again, out = st.columns(2)
        if again.button(ui.t("signin.again"), key="_signin_again", type="primary"):
            st.login()
        _sign_out(out)
        st.stop()
    roles = required.roles.held_by(who)
    if not roles:
        st.error(ui.t("signin.no_role", email=who.id))
        _sign_out()
        st.stop()
    st.sidebar.caption(ui.tm("signin.as", name=who.name, email=who.id))
    st.sidebar.caption(", ".join(ui.t(f"access.role.{r}") for r in roles))
    _sign_out(st.sidebar)
