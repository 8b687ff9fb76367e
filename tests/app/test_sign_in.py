"""Sign-in in the pages: the gate, controls offered by role, signatures by the signed-in person.

AppTest sets ``st.user`` (``at.user``) and the ``[auth]`` secrets without a provider; the
browser tests (tests/e2e/test_sign_in.py) go through a real one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app import ui
from funnel import audit
from funnel.access import Access, Actor, Roles
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.history import list_versions, save_version
from funnel.versions.signoff import propose

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"
AUTH = {
    "redirect_uri": "http://127.0.0.1:1/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "funnel",
    "client_secret": "s",
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}
ROLES = Roles.from_dict(
    {
        "sign_marketing": ["group:funnel-marketing"],
        "sign_sales": ["group:funnel-sales"],
        "manage_datasets": ["mara@example.com"],
        "view": ["domain:example.com"],
    }
)
NOW = 4_102_444_800  # 2100: a sign-in that has not expired


def user(login: str, *groups: str, email: str | None = None, **claims: Any) -> dict[str, Any]:
    return {
        "is_logged_in": True,
        "email": email or f"{login}@example.com",
        "email_verified": True,
        "name": login.title(),
        "groups": list(groups),
        "iat": NOW,
        "iss": "http://127.0.0.1:1",
        "sub": login,
    } | claims


MARA = user("mara", "funnel-marketing")
SAM = user("sam", "funnel-sales")
VIC = user("vic")


@pytest.fixture
def served(db_path: Path) -> int:
    """The demo with a proposed version, in a database that requires sign-in."""
    with Store(db_path) as store:
        info = load_demo(store, "demo", leads=300).dataset
        v = save_version(store, info, template_for(info), author="Aiko")
        propose(store, v.version_id, "Aiko")
        store.set_access(Access(required=True, issuer="http://idp", roles=ROLES), by=Actor.cli())
    return v.version_id


def run(
    who: dict[str, Any] | None, page: str | None = None, secrets: dict[str, Any] | None = AUTH
) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    if secrets is not None:
        at.secrets["auth"] = secrets
    at.user = who if who is not None else {"is_logged_in": False}
    at.run()
    if page is not None:
        at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def texts(at: AppTest) -> str:
    """Everything written on the page, Markdown escapes removed."""
    shown = " ".join(str(x.value) for x in (*at.markdown, *at.caption, *at.error, *at.info))
    return re.sub(r"\\(.)", r"\1", shown)


def rows(db_path: Path) -> tuple[object, ...]:
    """What a refused or shown-only run must leave unchanged (read through the app's store:
    one process holds one connection to a file)."""
    del db_path  # the app's store points at it (FUNNEL_DB)
    store = ui.store()
    return (
        [(v.version_id, v.status, v.signoffs) for v in list_versions(store)],
        [d.name for d in store.datasets()],
        len(audit.events(store)),
    )


def test_nobody_sees_data_before_signing_in(served: int) -> None:
    for page in (None, "data", "tuner", "rulesets", "audit"):
        at = run(None, page)
        assert labels(at) == [t("signin.button", "en")]
        assert not at.dataframe and [s.key for s in at.selectbox] == ["lang"]
        assert "demo" not in texts(at)


def test_the_provider_being_down_is_said_before_any_redirect(served: int) -> None:
    at = run(None)
    at.button(key="_signin").click().run()
    (error,) = at.error
    assert error.value.startswith("The sign-in service (http://127.0.0.1:1) cannot be reached")


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (user("olga", email="olga@other.org"), "olga@other.org has no role in funnel"),
        ({"is_logged_in": True, "sub": "nobody", "iat": NOW}, "did not send an e-mail address"),
        (user("mara", "funnel-marketing", iat=1_000), "Your sign-in has expired"),
        (user("vic", email_verified=False), "is not verified"),
    ],
)
def test_a_sign_in_that_cannot_name_a_person_with_a_role_shows_why_and_nothing_else(
    served: int, db_path: Path, who: dict[str, Any], expected: str
) -> None:
    before = rows(db_path)
    for page in (None, "data", "rulesets"):
        at = run(who, page)
        assert expected in at.error[0].value
        assert not at.dataframe and "demo" not in texts(at)
        assert t("signin.out", "en") in labels(at)
    assert rows(db_path) == before


def test_a_viewer_is_offered_no_load_rename_delete_save_propose_or_sign(
    served: int, db_path: Path
) -> None:
    before = rows(db_path)
    data = run(VIC, "data")
    assert not data.get("file_uploader")
    assert not {t(k, "en") for k in ("data.load_button", "data.rename", "data.delete")} & set(
        labels(data)
    )
    assert data.info[0].value == t("data.view_only", "en")
    assert data.dataframe  # the stored datasets are shown
    rulesets = run(VIC, "rulesets")
    assert rulesets.info[0].value == t("rulesets.no_sign_role", "en")
    assert not rulesets.get("form")
    assert [w.key for w in rulesets.text_input] == ["sql_table"]  # the export's, not a name
    tuner = run(VIC, "tuner")
    assert t("tuner.save_button", "en") not in labels(tuner)
    assert "vic@example.com" in texts(tuner)  # who is signed in, in the sidebar
    assert rows(db_path) == before


def test_two_people_sign_as_themselves_and_no_name_is_typed(served: int, db_path: Path) -> None:
    at = run(MARA, "rulesets")
    keys = [w.key for w in at.text_input]
    assert f"sign_name:{served}" not in keys
    assert at.radio(key=f"sign_role:{served}").options == [t("report.role.marketing", "en")]
    assert "Mara (mara@example.com)" in texts(at)
    at.button(key=f"FormSubmitter:sign_form:{served}-{t('rulesets.sign', 'en')}").click().run()
    sam = run(SAM, "rulesets")
    assert sam.radio(key=f"sign_role:{served}").options == [t("report.role.sales", "en")]
    sam.text_input(key=f"sign_comment:{served}").input("fits our capacity")
    sam.button(key=f"FormSubmitter:sign_form:{served}-{t('rulesets.sign', 'en')}").click().run()
    store = ui.store()
    (v,) = list_versions(store)
    log = audit.events(store)
    assert v.status == "agreed"
    assert [(s.role, s.name, s.email, s.comment) for s in v.signoffs] == [
        ("marketing", "Mara", "mara@example.com", ""),
        ("sales", "Sam", "sam@example.com", "fits our capacity"),
    ]
    assert [(e.action, e.actor, e.via) for e in log[-2:]] == [
        ("version.signed", "mara@example.com", "sign-in"),
        ("version.signed", "sam@example.com", "sign-in"),
    ]
    shown = run(VIC, "audit")
    table = shown.dataframe[0].value
    assert list(table[t("audit.col.who", "en")][:2]) == ["sam@example.com", "mara@example.com"]


def test_the_dataset_manager_deletes_and_the_log_keeps_who(served: int, db_path: Path) -> None:
    at = run(MARA, "data")
    at.selectbox(key="manage_dataset").select("demo").run()
    at.button(key="delete").click().run()
    at.button(key="delete_yes").click().run()
    store = ui.store()
    assert store.datasets() == []
    last = audit.events(store)[-1]
    assert (last.action, last.actor, last.dataset) == (
        "dataset.deleted",
        "mara@example.com",
        "demo",
    )


def test_a_sign_in_database_is_not_shown_by_a_server_without_sign_in(
    served: int, db_path: Path
) -> None:
    before = rows(db_path)
    at = run(None, None, secrets=None)
    assert "requires sign-in" in at.error[0].value and not at.dataframe
    assert rows(db_path) == before


def test_a_server_with_sign_in_on_a_database_that_does_not_require_it_stops(
    db_path: Path,
) -> None:
    with Store(db_path) as store:
        load_demo(store, "demo", leads=100)
    at = run(MARA)
    assert "make serve" in at.error[0].value and not at.dataframe


def test_without_sign_in_nothing_changes_and_the_os_user_is_recorded(
    open_app: Callable[..., AppTest], db_path: Path
) -> None:
    with Store(db_path) as store:
        load_demo(store, "demo", leads=100)
    at = open_app("data")
    assert t("data.upload_first", "en") in [i.value for i in at.info]
    at.selectbox(key="manage_dataset").select("demo").run()
    at.text_input(key="new_name").input("spring").run()
    at.button(key="rename").click().run()
    last = audit.events(ui.store())[-1]
    assert (last.action, last.actor, last.via) == ("dataset.renamed", Actor.local().id, "local")
