"""Databases written by an older funnel are migrated in place, losing nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from funnel.feedback import load_feedback
from funnel.ingest import load_demo
from funnel.readers import SourceFile
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
from funnel.tunerstate import TunerState, load_state, save_state
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


def _downgrade_to_v6(path: Path) -> None:
    """Make the file look like schema 6, from before the tuner state was kept."""
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE funnel_tuner_states")
    con.execute("DROP TABLE funnel_arrivals")
    con.execute("UPDATE funnel_meta SET value = '6' WHERE key = 'schema_version'")
    con.close()


def _downgrade_to_v3_without_the_audit_log(path: Path) -> None:
    """Make the file look like schema 3: no audit log, sign-offs without e-mail or via."""
    _downgrade_to_v6(path)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE funnel_audit")
    con.execute("DROP SEQUENCE funnel_audit_seq")
    for column in ("email", "via"):
        con.execute(f"ALTER TABLE funnel_version_events DROP COLUMN {column}")
    con.execute("UPDATE funnel_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def _downgrade_to_v4(path: Path) -> None:
    """Make the file look like schema 4: no load history, no first-seen times on leads."""
    _downgrade_to_v6(path)
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
    _downgrade_to_v6(db_path)
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


def test_a_version_6_database_gains_the_tuner_state_table_and_keeps_everything(
    db_path: Path,
) -> None:
    with Store(db_path) as store:
        info = load_demo(store, "demo", leads=500).dataset
        save_version(store, info, template_for(info), author="Aiko")
        leads = store.fetch_frame(f"SELECT lead_id FROM {info.table()} ORDER BY lead_id")
        verdicts = pd.DataFrame(
            {"Lead ID": leads["lead_id"].iloc[:3], "Status": ["Accepted", "Rejected", "Accepted"]}
        )
        load_feedback(store, "demo", SourceFile("sales.csv", verdicts, "csv"))
        before = snapshot(store, "demo")
        feedback = store.fetch_frame("SELECT * FROM funnel_feedback ORDER BY lead_id")
        history = store.load_history()
    _downgrade_to_v6(db_path)
    old = duckdb.connect(str(db_path), read_only=True)
    assert old.execute("SELECT value FROM funnel_meta").fetchall() == [("6",)]
    old.close()

    with Store(db_path) as store:
        assert snapshot(store, "demo") == before
        assert store.load_history() == history
        assert [v.author for v in list_versions(store)] == ["Aiko"]
        kept_feedback = store.fetch_frame("SELECT * FROM funnel_feedback ORDER BY lead_id")
        assert kept_feedback.equals(feedback) and len(feedback) == 3
        info = store.require("demo")
        assert load_state(store, info) is None  # nothing kept yet
        meeting = TunerState.starting(template_for(info)).with_rules(
            "sales", template_for(info).with_points(0, 9)
        )
        save_state(store, info, meeting)
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
    assert version["value"].iloc[0] == str(SCHEMA_VERSION) == "8"
    with Store(db_path, read_only=True) as store:
        kept = load_state(store, store.require("demo"))
    assert kept is not None and kept.state == meeting


def test_the_tuner_state_follows_a_rename_survives_a_reload_and_goes_with_a_delete(
    store: Store,
) -> None:
    info = load_demo(store, "demo", leads=500).dataset
    meeting = replace(TunerState.starting(template_for(info)), active="sales")
    save_state(store, info, meeting)
    renamed = store.rename("demo", "spring")
    assert store.tuner_state("demo") is None
    assert (kept := load_state(store, renamed)) is not None and kept.state == meeting
    reloaded = load_demo(store, "spring", leads=400, seed=3).dataset  # same columns
    assert (kept := load_state(store, reloaded)) is not None and kept.state == meeting
    store.delete("spring")
    assert store.tuner_state("spring") is None


def test_a_version_8_database_written_before_the_tuner_state_landed_gains_its_table(
    db_path: Path,
) -> None:
    with Store(db_path) as store:
        info = load_demo(store, "demo", leads=500).dataset
        before = snapshot(store, "demo")
    con = duckdb.connect(str(db_path))
    con.execute("DROP TABLE funnel_tuner_states")  # schema 8 as main wrote it before 7 landed
    con.close()
    with Store(db_path, read_only=True) as store:
        assert store.tuner_state("demo") is None  # read only: nothing kept, no error
    with Store(db_path) as store:
        assert snapshot(store, "demo") == before
        meeting = TunerState.starting(template_for(info))
        save_state(store, store.require("demo"), meeting)
    with Store(db_path, read_only=True) as store:
        kept = load_state(store, store.require("demo"))
    assert kept is not None and kept.state == meeting
