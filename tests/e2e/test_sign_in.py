"""Sign-in through a real OpenID Connect provider, in Chromium, against ``funnel serve``.

node-oidc-provider runs on 127.0.0.1 with its login form; ``funnel serve`` starts the app with
sign-in and the roles from its config file: Mara signs for marketing and manages datasets, Sam
signs for sales, Vic only views (the example.com domain), Olga (other.org) has no role, and
"nobody" is a login the provider knows nothing about (its ID token carries no e-mail).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from playwright.sync_api import Browser, Page, expect

from funnel import audit
from funnel.access import Actor
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.history import list_versions, save_version
from funnel.versions.signoff import propose
from tests.e2e.signin import (
    WAIT,
    Provider,
    TeamServer,
    new_context,
    sign_in,
    signed_in_as,
    team_stack,
)
from tests.e2e.socket_rig import Sock, in_thread

pytestmark = pytest.mark.e2e

MARA = ("mara", "Mara Marketing", "mara@example.com")
SAM = ("sam", "Sam Sales", "sam@example.com")
VIC = ("vic", "Vic Viewer", "vic@example.com")


@dataclass
class Team:
    provider: Provider
    server: TeamServer
    first: int  # a proposed version: Mara and Sam sign it in the browser
    second: int  # another: the forged requests aim at it

    def stored(
        self,
    ) -> tuple[
        list[tuple[int, str, tuple[tuple[str, str, str], ...]]], list[str], list[audit.AuditEvent]
    ]:
        """Versions, datasets and the audit log, read with the server stopped (one process
        holds the database file), then the server is started again."""
        self.server.stop()
        try:
            with Store(self.server.database, read_only=True) as store:
                versions = [
                    (v.version_id, v.status, tuple((s.role, s.name, s.email) for s in v.signoffs))
                    for v in list_versions(store)
                ]
                return versions, [d.name for d in store.datasets()], audit.events(store)
        finally:
            self.server.start()


@pytest.fixture(scope="module")
def team(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    ids: list[int] = []

    def prepare(database: Path) -> None:
        aiko = Actor.cli("aiko")
        with Store(database) as store:
            info = load_demo(store, "demo", leads=400).dataset
            for _ in range(2):
                v = save_version(store, info, template_for(info), author="aiko", by=aiko)
                ids.append(propose(store, v.version_id, "aiko", by=aiko).version_id)

    with team_stack(tmp_path_factory.mktemp("team"), prepare) as (provider, server):
        yield Team(provider, server, *ids)


def open_page(page: Page, url: str, path: str, title_key: str) -> None:
    page.goto(f"{url}/{path}")
    expect(page.get_by_role("heading", name=t(title_key, "en"), exact=True)).to_be_visible(
        timeout=WAIT
    )
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)


def pick_version(page: Page, version_id: int) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=t("rulesets.pick", "en")).click()
    page.get_by_role("option").filter(has_text=f"#{version_id} ").click()
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)


def test_nobody_sees_data_before_signing_in(browser: Browser, team: Team) -> None:
    context = new_context(browser)
    page = context.new_page()
    for path in ("", "data", "rulesets", "audit"):
        page.goto(f"{team.server.url}/{path}")
        expect(page.get_by_text(t("signin.intro", "en"))).to_be_visible(timeout=WAIT)
        expect(page.get_by_role("button", name=t("signin.button", "en"))).to_be_visible()
        assert page.get_by_test_id("stDataFrame").count() == 0
        assert page.get_by_text("demo").count() == 0
        assert page.get_by_test_id("stAlertContentWarning").count() == 0  # no cookie, no doubt
    context.close()


def test_a_viewer_is_offered_nothing_to_change_and_forged_requests_change_nothing(
    browser: Browser, team: Team
) -> None:
    url = team.server.url
    vic, vpage = sign_in(browser, url, VIC[0])
    signed_in_as(vpage, VIC[1], VIC[2])
    open_page(vpage, url, "data", "data.title")
    expect(vpage.get_by_text(t("data.view_only", "en"))).to_be_visible()
    assert vpage.get_by_test_id("stFileUploader").count() == 0
    assert vpage.get_by_role("button", name=t("data.delete", "en")).count() == 0
    open_page(vpage, url, "rulesets", "rulesets.title")
    expect(vpage.get_by_text(t("rulesets.no_sign_role", "en"))).to_be_visible()
    assert vpage.get_by_test_id("stForm").count() == 0
    mara, mpage = sign_in(browser, url, MARA[0])
    signed_in_as(mpage, MARA[1], MARA[2])
    before = team.stored()

    vic_cookies, mara_cookies = vic.cookies(), mara.cookies()
    sign, delete = t("rulesets.sign", "en"), t("data.delete", "en")

    async def forge() -> dict[str, list[str]]:
        m = await Sock.open(url, mara_cookies)  # the real ids, from a session that shows them
        ids = {
            "sign": (await m.run("rulesets")).buttons[sign],
            "delete": (await m.run("data")).buttons[delete],
        }
        await m.close()
        v = await Sock.open(url, vic_cookies)
        shown = {"vic": (await v.run("data")).texts}
        seen = shown | {
            "rulesets": (await v.run("rulesets", (ids["sign"], "sign_form", "delete"))).texts,
            "data": (await v.run("data", (ids["delete"], "delete", "delete_yes"))).texts,
        }
        await v.close()
        # the control: the same message from someone who may sign does sign
        m = await Sock.open(url, mara_cookies)
        await m.run("rulesets")
        seen["control"] = (await m.run("rulesets", (ids["sign"],))).texts
        await m.close()
        return seen

    seen = in_thread(forge)
    assert any(VIC[1] in x for x in seen["vic"]), seen  # the rig was Vic, signed in
    versions, datasets, log = team.stored()
    assert datasets == before[1] == ["demo"]
    assert log[: len(before[2])] == before[2]
    assert [(e.action, e.actor, e.version_id) for e in log[len(before[2]) :]] == [
        ("version.signed", MARA[2], team.second)
    ]
    assert dict((v[0], v[2]) for v in versions)[team.second] == (("marketing", *MARA[1:]),)
    for context in (vic, mara):
        context.close()


def test_marketing_and_sales_sign_the_same_version_in_two_browsers(
    browser: Browser, team: Team
) -> None:
    url = team.server.url
    people = {}
    for login, name, email in (MARA, SAM):
        context, page = sign_in(browser, url, login)
        signed_in_as(page, name, email)
        open_page(page, url, "rulesets", "rulesets.title")
        pick_version(page, team.first)
        people[login] = (context, page)
    for login, name, email in (MARA, SAM):
        page = people[login][1]
        page.reload()
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)
        pick_version(page, team.first)
        form = page.get_by_test_id("stForm")
        expect(
            form.get_by_text(t("rulesets.signing_as", "en", name=name, email=email))
        ).to_be_visible()
        assert form.get_by_role("textbox", name=t("rulesets.your_name", "en")).count() == 0
        side = "marketing" if login == "mara" else "sales"
        other = "sales" if side == "marketing" else "marketing"
        # the radio group itself: while the form re-renders, a second copy of a label can
        # exist for a moment outside it (seen under load in CI: a strict-mode violation)
        radio = form.get_by_test_id("stRadio").get_by_role("radiogroup")
        expect(radio.get_by_text(t(f"report.role.{side}", "en"), exact=True)).to_be_visible()
        assert radio.get_by_text(t(f"report.role.{other}", "en"), exact=True).count() == 0
        form.get_by_role("button", name=t("rulesets.sign", "en"), exact=True).click()
        expect(
            page.get_by_test_id("stAlertContentSuccess").filter(
                has_text=t("rulesets.done.sign", "en")
            )
        ).to_be_visible(timeout=WAIT)
    sam_page = people["sam"][1]
    expect(sam_page.get_by_text(t("rulesets.is_agreed", "en"))).to_be_visible(timeout=WAIT)

    versions, _, log = team.stored()  # the server stops and starts again
    assert dict((v[0], v[1:]) for v in versions)[team.first] == (
        "agreed",
        (("marketing", *MARA[1:]), ("sales", *SAM[1:])),
    )
    assert [(e.actor, e.actor_name, e.via, e.detail.get("role")) for e in log[-2:]] == [
        (MARA[2], MARA[1], "sign-in", "marketing"),
        (SAM[2], SAM[1], "sign-in", "sales"),
    ]
    # the cookie secret is kept in the data folder: a restart signs nobody out
    mara_page = people["mara"][1]
    mara_page.reload()
    signed_in_as(mara_page, MARA[1], MARA[2])
    open_page(mara_page, url, "audit", "audit.title")
    expect(mara_page.get_by_test_id("stDataFrame")).to_be_visible()
    for context, _ in people.values():
        context.close()


@pytest.mark.parametrize(
    ("login", "key", "params"),
    [
        ("olga", "signin.no_role", {"email": "olga@other.org"}),
        ("nobody", "access.no_email", {}),
    ],
)
def test_a_sign_in_without_a_role_or_an_e_mail_is_told_why_and_sees_nothing(
    browser: Browser, team: Team, login: str, key: str, params: dict[str, str]
) -> None:
    context, page = sign_in(browser, team.server.url, login)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        t(key, "en", **params)[:40], timeout=WAIT
    )
    expect(page.get_by_role("button", name=t("signin.out", "en"))).to_be_visible()
    assert page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_text("demo").count() == 0
    context.close()


def test_a_forged_identity_cookie_is_not_signed_in(browser: Browser, team: Team) -> None:
    url = team.server.url
    vic, page = sign_in(browser, url, VIC[0])
    signed_in_as(page, VIC[1], VIC[2])
    cookie = next(c for c in vic.cookies() if c["name"] == "_streamlit_user")
    good = cookie["value"]
    claims = json.loads(URLSafeTimedSerializer("x", salt="_streamlit_user").loads_unsafe(good)[1])
    claims.update(email=MARA[2], name=MARA[1], groups=["funnel-marketing"])
    body = json.dumps(json.dumps(claims)).encode()
    edited = base64.urlsafe_b64encode(body).rstrip(b"=").decode() + good[good.index(".") :]
    guessed = URLSafeTimedSerializer("not-the-secret", salt="_streamlit_user").dumps(
        json.dumps(claims)
    )
    for value in (edited, guessed):
        forged = new_context(browser)
        forged.add_cookies([{**cookie, "value": value}])
        fpage = forged.new_page()
        fpage.goto(f"{url}/rulesets")
        expect(fpage.get_by_text(t("signin.intro", "en"))).to_be_visible(timeout=WAIT)
        expect(fpage.get_by_test_id("stAlertContentWarning")).to_contain_text(
            t("signin.not_verified", "en")[:60]
        )
        assert fpage.get_by_text(MARA[2]).count() == 0
        forged.close()
    vic.close()


def test_a_sign_in_older_than_the_servers_limit_must_sign_in_again(
    browser: Browser, team: Team
) -> None:
    team.server.stop()
    team.server.start(max_session_hours=0.002)  # 7.2 s
    try:
        context, page = sign_in(browser, team.server.url, MARA[0])
        signed_in_as(page, MARA[1], MARA[2])
        time.sleep(8)
        page.reload()  # Streamlit's own cookie is still good for 30 days
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
            t("access.expired", "en"), timeout=WAIT
        )
        expect(page.get_by_role("button", name=t("signin.again", "en"))).to_be_visible()
        assert page.get_by_test_id("stDataFrame").count() == 0
        context.close()
    finally:
        team.server.stop()
        team.server.start()


def test_a_provider_that_is_down_is_named_instead_of_a_bare_error_page(
    browser: Browser, team: Team
) -> None:
    team.provider.stop()
    try:
        context = new_context(browser)
        page = context.new_page()
        page.goto(team.server.url)
        page.get_by_role("button", name=t("signin.button", "en"), exact=True).click()
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
            f"The sign-in service ({team.provider.issuer}) cannot be reached", timeout=WAIT
        )
        assert page.url.startswith(team.server.url)
        context.close()
    finally:
        team.provider.start()
