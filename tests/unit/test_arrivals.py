"""Score and tier under the version in force when each lead arrived, beside today's rules."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from funnel.arrivals import record_arrivals, scores_then_and_now, version_in_force
from funnel.demo import generate_later, generate_leads
from funnel.feedback import FEEDBACK
from funnel.ingest import load_files
from funnel.readers import SourceFile
from funnel.scoring.leads import score_leads
from funnel.store import ARRIVALS, FIRST_SEEN_COL, SCHEMA_VERSION, Store
from funnel.suggest import template_for
from funnel.versions.history import save_version
from funnel.versions.signoff import propose, sign

N = 1500


def agree(store: Store, rs: object, at: datetime, effective: date | None = None) -> int:
    info = store.require("crm")
    v = save_version(store, info, rs, author="Aiko", now=at, effective_from=effective)  # type: ignore[arg-type]
    propose(store, v.version_id, "Aiko", now=at)
    sign(store, v.version_id, "marketing", "Aiko", now=at)
    sign(store, v.version_id, "sales", "Ben", now=at)
    return v.version_id


def agree_after_first_load(store: Store, rs: object) -> int:
    """Agree ``rs`` a second after the leads stored so far were first seen (so they arrived
    before it), and wait until a load now comes after it."""
    row = store.fetch_frame(
        f'SELECT max("{FIRST_SEEN_COL}") AS at FROM {store.require("crm").table()}'
    )
    at = pd.Timestamp(row["at"].iloc[0]).to_pydatetime() + timedelta(seconds=1)
    vid = agree(store, rs, at)
    while datetime.now() < at + timedelta(seconds=1):
        time.sleep(0.1)
    return vid


def arrivals(store: Store) -> pd.DataFrame:
    return store.fetch_frame(
        f"SELECT lead_id, version_id, score, tier FROM {ARRIVALS} WHERE dataset = 'crm' "
        "ORDER BY lead_id"
    )


def test_leads_arriving_while_a_version_is_in_force_keep_its_score_and_tier(
    store: Store,
) -> None:
    first, later = generate_leads(N, seed=5), generate_later(N, seed=5, months=2)
    load_files(store, "crm", SourceFile("crm.csv", first, "csv"))
    assert arrivals(store).empty  # no version in force: nothing to keep
    rs = template_for(store.require("crm"))
    vid = agree_after_first_load(store, rs)
    load_files(store, "crm", SourceFile("later.csv", later, "csv"), refresh=True)
    info = store.require("crm")
    got = arrivals(store)
    new_ids = set(later["lead_id"].astype(str)) - set(first["lead_id"].astype(str))
    assert set(got["lead_id"]) == new_ids and len(new_ids) > 0
    assert set(got["version_id"]) == {vid}
    # independently: the same rules scored lead by lead on the stored leads
    scored = score_leads(store, info, rs).set_index("id").loc[got["lead_id"]]
    assert got["score"].tolist() == pytest.approx(scored["score"].astype(float).tolist())
    assert got["tier"].tolist() == scored["tier"].tolist()
    assert record_arrivals(store, info) == 0  # idempotent: each lead scored once


def test_a_version_not_yet_effective_is_not_in_force(store: Store) -> None:
    load_files(store, "crm", SourceFile("crm.csv", generate_leads(N, seed=6), "csv"))
    rs = template_for(store.require("crm"))
    now = datetime.now()
    agree(store, rs, now - timedelta(days=1), effective=date.today() + timedelta(days=30))
    assert version_in_force(store, "crm", now) is None
    v1 = agree(store, rs.with_threshold(rs.hot.name, rs.hot.min_score + 1), now - timedelta(days=2))
    chosen = version_in_force(store, "crm", now)
    assert chosen is not None and chosen.version_id == v1
    assert version_in_force(store, "crm", now - timedelta(days=3)) is None


def test_scores_then_and_now_put_the_arrival_version_beside_todays_rules(store: Store) -> None:
    first, later = generate_leads(N, seed=7), generate_later(N, seed=7, months=2)
    load_files(store, "crm", SourceFile("crm.csv", first, "csv"))
    rs = template_for(store.require("crm"))
    agree_after_first_load(store, rs)
    load_files(store, "crm", SourceFile("later.csv", later, "csv"), refresh=True)
    stricter = rs.with_threshold(rs.hot.name, rs.hot.min_score + 15)
    info = store.require("crm")
    both = scores_then_and_now(store, info, stricter).set_index("id")
    now = score_leads(store, info, stricter).set_index("id").loc[both.index]
    assert both["tier_now"].tolist() == now["tier"].tolist()
    arrived = both[both["tier_then"].notna()]
    assert len(arrived) == len(later) - len(first)
    assert (arrived["score_then"] == arrived["score_now"]).all()  # same points, new threshold
    assert ((arrived["tier_then"] == rs.hot.name) & (arrived["tier_now"] != rs.hot.name)).any()
    assert both.loc[both["tier_then"].isna(), "version_id"].isna().all()


def test_a_version_whose_columns_the_new_export_lacks_records_nothing_and_loads(
    store: Store,
) -> None:
    load_files(store, "crm", SourceFile("crm.csv", generate_leads(N, seed=8), "csv"))
    rs = template_for(store.require("crm"))
    agree(store, rs, datetime.now() - timedelta(days=1))
    later = generate_later(N, seed=8, months=2).drop(columns=sorted(rs.columns()))
    info = load_files(store, "crm", SourceFile("later.csv", later, "csv")).dataset
    assert info.leads == len(later) and arrivals(store).empty


def _downgrade_to_6(path: Path) -> None:
    """Make the file look like schema 6: no arrivals table, no disposition source."""
    con = duckdb.connect(str(path))
    con.execute(f"DROP TABLE {ARRIVALS}")
    con.execute(f"ALTER TABLE {FEEDBACK} DROP COLUMN source")
    con.execute("UPDATE funnel_meta SET value = '6' WHERE key = 'schema_version'")
    con.close()


def test_a_schema_6_store_opens_and_migrates_losing_nothing(db_path: Path) -> None:
    from funnel.feedback import load_feedback

    frame = generate_leads(400, seed=9)
    with Store(db_path) as store:
        info = load_files(store, "crm", SourceFile("crm.csv", frame, "csv")).dataset
        verdicts = pd.DataFrame({"lead_id": frame["lead_id"].iloc[:30], "status": "Accepted"})
        load_feedback(store, "crm", SourceFile("v.csv", verdicts, "csv"))
        leads = store.fetch_frame(f"SELECT * EXCLUDE ({FIRST_SEEN_COL}) FROM {info.table()}")
    _downgrade_to_6(db_path)
    with Store(db_path) as store:
        after = store.fetch_frame(f"SELECT * EXCLUDE ({FIRST_SEEN_COL}) FROM {info.table()}")
        rows = store.fetch_frame(f"SELECT source, count(*) AS n FROM {FEEDBACK} GROUP BY 1")
        version = store.fetch_frame("SELECT value FROM funnel_meta WHERE key='schema_version'")
        assert arrivals(store).empty
    pd.testing.assert_frame_equal(after, leads)
    assert rows.to_dict("records") == [{"source": "file", "n": 30}]
    assert version["value"].iloc[0] == str(SCHEMA_VERSION) == "8"
