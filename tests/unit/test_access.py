"""Who may change what: roles, a database that requires sign-in, and the audit log.

The checks live in the library functions that write (store.save/rename/delete, versions.save,
propose, sign, import): a page that forgets to hide a control, or a forged request for one,
still changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from funnel import audit
from funnel.access import (
    Access,
    AccessError,
    Actor,
    Roles,
    RolesError,
    identity_from_claims,
)
from funnel.ingest import load_demo
from funnel.store import SCHEMA_VERSION, Store
from funnel.suggest import template_for
from funnel.versions.files import import_version, version_to_yaml
from funnel.versions.history import get_version, list_versions, save_version
from funnel.versions.record import VersionError
from funnel.versions.signoff import propose, sign
from tests.support import snapshot

ROLES = Roles.from_dict(
    {
        "sign_marketing": ["group:funnel-marketing", "both@example.com"],
        "sign_sales": ["group:funnel-sales", "both@example.com"],
        "manage_datasets": ["mara@example.com"],
        "view": ["domain:example.com"],
    }
)
ISSUER = "http://127.0.0.1:9400"


def person(login: str, *groups: str, email: str | None = None) -> Actor:
    address = email or f"{login}@example.com"
    return identity_from_claims(
        {
            "email": address,
            "email_verified": True,
            "name": login.title(),
            "groups": list(groups),
            "iat": 4_102_444_800,
            "iss": ISSUER,
            "sub": login,
        },
        now=4_102_444_800,
    )


MARA = person("mara", "funnel-marketing")
SAM = person("sam", "funnel-sales")
VIC = person("vic")
BOTH = person("both")
OLGA = person("olga", email="olga@other.org")


@pytest.fixture
def served(store: Store) -> Store:
    """A store holding the demo and a proposed version, then served with sign-in."""
    info = load_demo(store, "demo", leads=400).dataset
    v = save_version(store, info, template_for(info), author="Aiko")
    propose(store, v.version_id, "Aiko")
    store.set_access(Access(required=True, issuer=ISSUER, roles=ROLES), by=Actor.cli("admin"))
    return store


def state(store: Store) -> tuple[object, ...]:
    """Everything a refused change must leave as it was."""
    with store.cursor() as cur:
        versions = cur.execute("SELECT * FROM funnel_versions ORDER BY version_id").fetchall()
        events = cur.execute("SELECT * FROM funnel_version_events ORDER BY event_id").fetchall()
        rows = cur.execute("SELECT count(*) FROM funnel_audit").fetchall()
    names = [d.name for d in store.datasets()]
    return versions, events, rows, names, snapshot(store, "demo")


# --- roles -------------------------------------------------------------------------------------


def test_roles_match_by_e_mail_domain_or_group_and_anyone_in_a_role_may_view() -> None:
    assert ROLES.held_by(MARA) == ("sign_marketing", "manage_datasets", "view")
    assert ROLES.held_by(SAM) == ("sign_sales", "view")
    assert ROLES.held_by(VIC) == ("view",)
    assert ROLES.held_by(OLGA) == ()
    outside = Roles.from_dict({"sign_sales": ["Ben@Partner.org"]})
    ben = person("ben", email="ben@partner.org")
    assert outside.held_by(ben) == ("sign_sales", "view")


@pytest.mark.parametrize(
    ("roles", "code"),
    [
        ({"signer": ["a@b.c"]}, "unknown_role"),
        ({"view": ["example.com"]}, "bad_rule"),
        ({"view": {"a": 1}}, "not_list"),
        (["view"], "not_table"),
    ],
)
def test_a_roles_table_that_cannot_mean_anything_is_refused_naming_the_fix(
    roles: object, code: str
) -> None:
    with pytest.raises(RolesError) as caught:
        Roles.from_dict(roles, source="roles.toml")
    assert caught.value.code == code
    assert caught.value.message("en").startswith("roles.toml: ")
    assert "Fix" in caught.value.message("en") or code == "not_list"


def test_a_roles_file_is_read_from_toml_and_its_problems_are_named(tmp_path: Path) -> None:
    good = tmp_path / "roles.toml"
    good.write_text('[roles]\nsign_sales = ["group:funnel-sales"]\n', "utf-8")
    assert Roles.from_file(good).held_by(SAM) == ("sign_sales", "view")
    bad = tmp_path / "bad.toml"
    bad.write_text("[roles\n", "utf-8")
    with pytest.raises(RolesError, match="not valid TOML"):
        Roles.from_file(bad)
    with pytest.raises(RolesError, match="does not exist"):
        Roles.from_file(tmp_path / "absent.toml")


# --- identities from the provider's claims -----------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"sub": "nobody", "iat": 100}, "no_email"),
        ({"email": "not-an-address", "iat": 100}, "no_email"),
        ({"email": "a@b.c", "email_verified": False, "iat": 100}, "email_unverified"),
        ({"email": "a@b.c"}, "expired"),  # no time of sign-in at all
        ({"email": "a@b.c", "iat": 100 - 13 * 3600}, "expired"),
    ],
)
def test_claims_that_cannot_name_a_current_person_are_refused(
    claims: dict[str, object], code: str
) -> None:
    with pytest.raises(AccessError) as caught:
        identity_from_claims(claims, now=100)
    assert caught.value.code == code
    assert caught.value.message("ja") != caught.value.message("en")


def test_the_sign_in_time_counts_not_the_id_token_expiry() -> None:
    """Streamlit trusts its cookie 30 days: funnel's own maximum age decides."""
    claims = {"email": "a@b.c", "iat": 1000, "exp": 1010, "auth_time": 1000}
    assert identity_from_claims(claims, now=1000 + 3600).id == "a@b.c"
    with pytest.raises(AccessError, match="expired"):
        identity_from_claims(claims, max_session_hours=0.5, now=1000 + 3600)


# --- without sign-in required: everything allowed, everything recorded ---------------------------


def test_without_sign_in_every_change_is_recorded_with_who_and_the_fingerprint(
    store: Store,
) -> None:
    info = load_demo(store, "demo", leads=300, by=Actor.cli("ops")).dataset
    load_demo(store, "demo", leads=300, seed=2)  # the app on a laptop: the OS user
    info = store.require("demo")
    v = save_version(store, info, template_for(info), author="Aiko", by=Actor.cli("aiko"))
    propose(store, v.version_id, "Aiko")
    sign(store, v.version_id, "marketing", "Aiko")
    sign(store, v.version_id, "sales", "Ben", by=Actor.cli("ben"))
    exported = version_to_yaml(get_version(store, v.version_id))
    import_version(store, info, exported, source="a.yaml", author="Carol")
    store.rename("demo", "spring")
    store.delete("spring", by=Actor.cli("ops"))

    rows = audit.events(store)
    assert [(r.action, r.actor, r.via) for r in rows] == [
        ("dataset.loaded", "ops", "cli"),
        ("dataset.refreshed", Actor.local().id, "local"),
        ("version.saved", "aiko", "cli"),
        ("version.proposed", Actor.local().id, "local"),
        ("version.signed", Actor.local().id, "local"),
        ("version.signed", "ben", "cli"),
        ("version.imported", Actor.local().id, "local"),
        ("dataset.renamed", Actor.local().id, "local"),
        ("dataset.deleted", "ops", "cli"),
    ]
    assert rows[0].fingerprint != rows[1].fingerprint == info.fingerprint  # another seed
    assert {r.fingerprint for r in rows[2:]} == {info.fingerprint}
    assert rows[4].detail == {"label": v.label(), "name": "Aiko", "role": "marketing"}
    assert rows[6].detail["file"] == "a.yaml" and rows[7].detail["to"] == "spring"
    assert [r.event_id for r in rows] == sorted(r.event_id for r in rows)
    # the log outlives the dataset, as the versions do
    assert len(list_versions(store)) == 2 and store.datasets() == []
    assert audit.events(store, dataset="demo")[0].action == "dataset.loaded"


def test_a_refused_change_leaves_no_row_and_a_failed_one_neither(store: Store) -> None:
    info = load_demo(store, "demo", leads=300).dataset
    v = save_version(store, info, template_for(info), author="Aiko")
    before = len(audit.events(store))
    with pytest.raises(VersionError):
        sign(store, v.version_id, "marketing", "Aiko")  # a draft cannot be signed
    with pytest.raises(Exception):  # noqa: B017 - any refusal: the name is taken
        load_demo(store, "", leads=10)
    assert len(audit.events(store)) == before


# --- a database that requires sign-in -------------------------------------------------------------


def test_two_signed_in_people_sign_and_the_signatures_carry_their_provider_identity(
    served: Store,
) -> None:
    v = list_versions(served)[0]
    sign(served, v.version_id, "marketing", "typed, and not used", by=MARA)
    done = sign(served, v.version_id, "sales", comment="fits capacity", by=SAM)
    assert done.status == "agreed"
    assert [(s.role, s.name, s.email) for s in done.signoffs] == [
        ("marketing", "Mara", "mara@example.com"),
        ("sales", "Sam", "sam@example.com"),
    ]
    signed = [r for r in audit.events(served) if r.action == "version.signed"]
    assert [(r.actor, r.actor_name, r.via) for r in signed] == [
        ("mara@example.com", "Mara", "sign-in"),
        ("sam@example.com", "Sam", "sign-in"),
    ]
    assert signed[0].detail["issuer"] == ISSUER and signed[0].detail["subject"] == "mara"
    exported = version_to_yaml(done)
    assert "email: mara@example.com" in exported and "email: sam@example.com" in exported


def test_one_person_cannot_hold_both_signatures_whatever_their_roles(served: Store) -> None:
    v = list_versions(served)[0]
    sign(served, v.version_id, "marketing", by=BOTH)
    before = state(served)
    with pytest.raises(VersionError) as caught:
        sign(served, v.version_id, "sales", by=BOTH)
    assert caught.value.code == "same_person"
    assert state(served) == before
    # the same display name from another e-mail address is another person
    other = identity_from_claims(
        {"email": "both2@example.com", "name": "Both", "groups": ["funnel-sales"], "iat": 1},
        now=1,
    )
    assert sign(served, v.version_id, "sales", by=other).status == "agreed"


@pytest.mark.parametrize(
    ("who", "action"),
    [
        (VIC, "sign_marketing"),
        (VIC, "sign_sales"),
        (SAM, "sign_marketing"),
        (MARA, "sign_sales"),
        (OLGA, "sign_sales"),
    ],
)
def test_a_signature_without_the_sides_role_is_refused_by_the_library(
    served: Store, who: Actor, action: str
) -> None:
    v = list_versions(served)[0]
    before = state(served)
    with pytest.raises(AccessError) as caught:
        sign(served, v.version_id, action.removeprefix("sign_"), by=who)
    assert caught.value.code == "not_allowed"
    assert who.id in caught.value.message("en")
    assert state(served) == before


def test_a_viewer_cannot_load_refresh_rename_delete_save_propose_or_import(
    served: Store,
) -> None:
    info = served.require("demo")
    text = version_to_yaml(list_versions(served)[0])
    before = state(served)
    attempts = [
        lambda: load_demo(served, "other", leads=50, by=VIC),
        lambda: load_demo(served, "demo", leads=50, by=VIC),
        lambda: served.rename("demo", "mine", by=VIC),
        lambda: served.delete("demo", by=VIC),
        lambda: save_version(served, info, template_for(info), author="Vic", by=VIC),
        lambda: import_version(served, info, text, source="x.yaml", by=VIC),
        lambda: propose(served, list_versions(served)[0].version_id, by=VIC),
    ]
    for attempt in attempts:
        with pytest.raises(AccessError) as caught:
            attempt()
        assert caught.value.code == "not_allowed"
    assert state(served) == before


def test_nobody_signed_in_changes_nothing_and_the_command_line_may_not_sign(
    served: Store,
) -> None:
    v = list_versions(served)[0]
    before = state(served)
    with pytest.raises(AccessError) as caught:
        served.delete("demo")  # a page that forgot to pass who acts: the app's OS user
    assert caught.value.code == "sign_in_first"
    with pytest.raises(AccessError) as caught:
        sign(served, v.version_id, "marketing", "Aiko", by=Actor.cli("aiko"))
    assert caught.value.code == "sign_in_to_sign"
    assert ISSUER in caught.value.message("en") and "sign in" in caught.value.message("en")
    assert state(served) == before
    # the command line may change datasets, recorded under its --as name
    served.rename("demo", "spring", by=Actor.cli("ops"))
    assert audit.events(served)[-1].actor == "ops"


def test_the_signer_manager_may_load_and_delete_and_a_signed_in_author_is_their_name(
    served: Store,
) -> None:
    load_demo(served, "fresh", leads=60, by=MARA)
    info = served.require("fresh")
    v = save_version(served, info, template_for(info), author="typed", by=SAM)
    assert v.author == "Sam"
    served.delete("fresh", by=MARA)
    assert [(r.action, r.actor) for r in audit.events(served)[-3:]] == [
        ("dataset.loaded", "mara@example.com"),
        ("version.saved", "sam@example.com"),
        ("dataset.deleted", "mara@example.com"),
    ]


def test_requiring_sign_in_is_kept_in_the_file_and_only_an_explicit_change_turns_it_off(
    served: Store, db_path: Path
) -> None:
    served.close()
    with Store(db_path, read_only=True) as again:  # another process, later
        kept = again.access()
    assert kept.required and kept.issuer == ISSUER and kept.roles == ROLES
    assert kept.by == "admin" and kept.since
    with Store(db_path) as again:
        again.set_access(Access.OFF, by=Actor.cli("boss"))
        assert not again.access().required
        rows = audit.events(again)
    assert [(r.action, r.actor) for r in rows[-2:]] == [
        ("access.required", "admin"),
        ("access.off", "boss"),
    ]
    assert rows[-2].detail["roles"] == ROLES.as_dict()


def test_a_tampered_access_setting_fails_closed(served: Store, db_path: Path) -> None:
    served.close()
    con = duckdb.connect(str(db_path))
    con.execute(
        "UPDATE funnel_meta SET value = '{\"required\": true, \"roles\": 7}' WHERE key = 'access'"
    )
    con.close()
    with Store(db_path) as again:
        assert again.access().required and not again.access().roles
        with pytest.raises(AccessError):
            again.delete("demo", by=MARA)


def test_the_audit_log_cannot_be_written_around(served: Store) -> None:
    """The only writers are the functions above; the table has no update or delete path."""
    source = Path(audit.__file__).read_text("utf-8")
    store_source = Path(sys.modules["funnel.store"].__file__ or "").read_text("utf-8")
    for text in (source, store_source):
        assert "UPDATE {AUDIT}" not in text and "DELETE FROM {AUDIT}" not in text
    assert SCHEMA_VERSION >= 4


def test_the_cli_states_who_it_acts_as_and_refuses_to_sign(
    served: Store, db_path: Path, tmp_path: Path
) -> None:
    served.close()

    def funnel(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "funnel", "--db", str(db_path), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    done = funnel("rules", "sign", "1", "--role", "sales", "--name", "Ben", "--as", "ben")
    assert done.returncode == 2
    assert "Acting as ben (command line)" in done.stderr
    assert "sign in" in done.stderr and ISSUER in done.stderr
    done = funnel("--lang", "ja", "rules", "sign", "1", "--role", "sales", "--name", "Ben")
    assert done.returncode == 2 and "アプリを開き、サインインしてから承認" in done.stderr
    assert funnel("rename", "demo", "spring", "--as", "ops").returncode == 0
    log = funnel("audit", "--json")
    assert log.returncode == 0
    import json

    rows = json.loads(log.stdout)
    assert [(r["action"], r["actor"], r["via"]) for r in rows[-2:]] == [
        ("access.required", "admin", "cli"),
        ("dataset.renamed", "ops", "cli"),
    ]
    text = funnel("audit").stdout
    assert "renamed a dataset demo → spring" in text and "(command line)" in text
    status = funnel("auth", "status", "--json")
    assert json.loads(status.stdout)["required"] is True
    off = funnel("auth", "off", "--as", "boss")
    assert off.returncode == 0 and "boss" in off.stdout
    assert funnel("auth", "status").stdout.startswith("Sign-in is not required")
    assert json.loads(funnel("audit", "--json", "--limit", "1").stdout)[0]["action"] == "access.off"
