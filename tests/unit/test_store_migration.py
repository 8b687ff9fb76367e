"""Databases written by an older funnel are migrated in place, losing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from funnel.ingest import load_demo
from funnel.store import (
    AMOUNT_COL,
    CLOSED_COL,
    FIRST_SEEN_COL,
    OUTCOME_COL,
    OUTCOME_SINCE_COL,
    SCHEMA_VERSION,
    Store,
    StoreError,
)
from funnel.suggest import template_for
from funnel.versions.history import list_versions, save_version
from tests.support import snapshot


def _downgrade_to_v1(path: Path, schema: str) -> None:
    """Make the file look like schema 1: no settings table, no outcome columns on leads."""
    con = duckdb.connect(str(path))
    for col in (OUTCOME_COL, CLOSED_COL, AMOUNT_COL, FIRST_SEEN_COL, OUTCOME_SINCE_COL):
        con.execute(f'ALTER TABLE "{schema}".leads DROP COLUMN "{col}"')
    con.execute("DROP TABLE funnel_settings")
    con.execute("DROP TABLE funnel_loads")
    con.execute("UPDATE funnel_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()


def test_a_version_1_database_gains_outcome_columns_and_keeps_every_dataset(
    db_path: Path,
) -> None:
    with Store(db_path) as store:
        info = load_demo(store, "demo", leads=3000).dataset
        before = snapshot(store, "demo")
        expected = store.fetch_frame(
            f'SELECT lead_id, "{OUTCOME_COL}" AS o FROM {info.table()} ORDER BY lead_id'
        )
    _downgrade_to_v1(db_path, info.schema)

    with Store(db_path) as store:
        assert snapshot(store, "demo") == before  # leads (minus added columns) and outcomes
        migrated = store.fetch_frame(
            f'SELECT lead_id, "{OUTCOME_COL}" AS o FROM {info.table()} ORDER BY lead_id'
        )
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
        store.set_setting("demo", "stages", ["lead", "won"])
        assert store.setting("demo", "stages") == ["lead", "won"]
    assert migrated.equals(expected)
    assert version["value"].iloc[0] == str(SCHEMA_VERSION)


def test_settings_follow_a_rename_and_go_with_a_delete(store: Store) -> None:
    load_demo(store, "demo", leads=500)
    store.set_setting("demo", "stages", ["lead", "mql", "won"])
    store.rename("demo", "spring")
    assert store.setting("spring", "stages") == ["lead", "mql", "won"]
    assert store.setting("demo", "stages") is None
    store.delete("spring")
    assert store.setting("spring", "stages") is None


def _downgrade_to_v3_without_the_audit_log(path: Path) -> None:
    """Make the file look like schema 3: no audit log, sign-offs without e-mail or via."""
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE funnel_audit")
    con.execute("DROP SEQUENCE funnel_audit_seq")
    for column in ("email", "via"):
        con.execute(f"ALTER TABLE funnel_version_events DROP COLUMN {column}")
    con.execute("UPDATE funnel_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def _downgrade_to_v4(path: Path) -> None:
    """Make the file look like schema 4: no load history, no first-seen times on leads."""
    con = duckdb.connect(str(path))
    for (schema,) in con.execute("SELECT schema_name FROM funnel_datasets").fetchall():
        for col in (FIRST_SEEN_COL, OUTCOME_SINCE_COL):
            con.execute(f'ALTER TABLE "{schema}".leads DROP COLUMN "{col}"')
    con.execute("DROP TABLE funnel_loads")
    con.execute("DROP SEQUENCE funnel_load_seq")
    for name, files in con.execute("SELECT name, files FROM funnel_datasets").fetchall():
        older = [
            {k: v for k, v in f.items() if k not in ("role", "sha256")} for f in json.loads(files)
        ]
        con.execute(
            "UPDATE funnel_datasets SET files = ? WHERE name = ?", [json.dumps(older), name]
        )
    con.execute("UPDATE funnel_meta SET value = '4' WHERE key = 'schema_version'")
    con.close()


def test_a_version_3_database_gains_the_audit_log_and_keeps_its_sign_offs(
    db_path: Path,
) -> None:
    from funnel import audit
    from funnel.suggest import template_for
    from funnel.versions.history import list_versions, save_version
    from funnel.versions.signoff import propose, sign

    with Store(db_path) as store:
        info = load_demo(store, "demo", leads=500).dataset
        v = save_version(store, info, template_for(info), author="Aiko")
        propose(store, v.version_id, "Aiko")
        sign(store, v.version_id, "marketing", "Aiko")
        before = snapshot(store, "demo")
    _downgrade_to_v3_without_the_audit_log(db_path)

    with Store(db_path) as store:
        assert snapshot(store, "demo") == before
        kept = list_versions(store)[0]
        assert [(s.role, s.name, s.email) for s in kept.signoffs] == [("marketing", "Aiko", "")]
        assert audit.events(store) == []  # nothing is made up for the time before the log
        sign(store, kept.version_id, "sales", "Ben")
        assert [e.action for e in audit.events(store)] == ["version.signed"]
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
    assert version["value"].iloc[0] == str(SCHEMA_VERSION)


def test_a_version_4_database_gains_the_load_history_and_first_seen_times_losing_nothing(
    db_path: Path,
) -> None:
    with Store(db_path) as store:
        load_demo(store, "demo", leads=2000)
        load_demo(store, "spring", leads=700, seed=3)
        before = {name: snapshot(store, name) for name in ("demo", "spring")}
        infos = {d.name: d for d in store.datasets()}
        save_version(store, infos["demo"], template_for(infos["demo"]), author="Aki")
    _downgrade_to_v4(db_path)
    with pytest.raises(StoreError, match="older"):
        Store(db_path, read_only=True)

    with Store(db_path) as store:
        assert {name: snapshot(store, name) for name in before} == before
        history = store.load_history()
        assert [(r.dataset, r.mode, r.rows, r.added) for r in history] == [
            ("demo", "new", 2000, 2000),
            ("spring", "new", 700, 700),
        ]
        assert [r.loaded_at for r in history] == [
            infos["demo"].loaded_at,
            infos["spring"].loaded_at,
        ]
        assert history[0].files[0]["sha256"] is None  # not kept before: not made up
        assert len(list_versions(store, "demo")) == 1
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
        times = store.fetch_frame(
            f'SELECT DISTINCT "{FIRST_SEEN_COL}" AS a, "{OUTCOME_SINCE_COL}" AS b '
            f"FROM {infos['demo'].table()}"
        )
        load_demo(store, "demo", leads=2000)  # and it takes new loads
        assert [r.mode for r in store.load_history("demo")] == ["new", "replace"]
    assert version["value"].iloc[0] == str(SCHEMA_VERSION)
    assert times.to_dict("records") == [
        {"a": infos["demo"].loaded_at, "b": infos["demo"].loaded_at}
    ]


def test_a_version_5_database_gains_the_feedback_table_losing_nothing(db_path: Path) -> None:
    with Store(db_path) as store:
        load_demo(store, "demo", leads=500)
        before = snapshot(store, "demo")
        history = store.load_history()
    con = duckdb.connect(str(db_path))
    con.execute("DROP TABLE funnel_feedback")
    con.execute("UPDATE funnel_meta SET value = '5' WHERE key = 'schema_version'")
    con.close()

    with Store(db_path) as store:
        assert snapshot(store, "demo") == before
        assert store.load_history() == history
        empty = store.fetch_frame("SELECT count(*) AS n FROM funnel_feedback")["n"][0]
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
    assert empty == 0 and version["value"].iloc[0] == str(SCHEMA_VERSION) == "8"
