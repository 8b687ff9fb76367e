"""Refreshing a dataset from a newer export updates it by lead id and keeps its history; a
refused or failed refresh leaves the stored dataset exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import funnel.refresh
from funnel.demo import generate_later, generate_leads
from funnel.i18n import t
from funnel.ingest import choose_mapping, load_files, prepare
from funnel.mapping import ColumnSpec
from funnel.problems import LoadError
from funnel.readers import SourceFile, read_file
from funnel.refresh import RefreshError, RefreshPlan, carry_mapping
from funnel.store import FIRST_SEEN_COL, OUTCOME_COL, OUTCOME_SINCE_COL, Store, StoreError
from tests.support import snapshot

N = 4000
LABELS = {"Won": "won", "Lost": "lost", "Open": "open"}


def source(frame: pd.DataFrame, name: str = "crm.csv") -> SourceFile:
    return SourceFile(name, frame, "csv")


def same(x: pd.Series, y: pd.Series) -> pd.Series:
    """Equal values, two missing values counting as equal (as ``IS NOT DISTINCT FROM``)."""
    return (x == y).fillna(False).astype(bool) | (x.isna() & y.isna())


def expected_counts(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, object]:
    """What a refresh must count, computed with pandas from the two exports alone."""
    old, new = before.set_index("lead_id"), after.set_index("lead_id")
    common = old.index.intersection(new.index)
    a, b = old.loc[common], new.loc[common]
    differs = pd.Series(False, index=common)
    for column in old.columns:
        differs |= ~same(a[column], b[column])
    was, now = a["outcome"].map(LABELS), b["outcome"].map(LABELS)
    moved = was != now
    recorded = moved & was.isin(["won", "lost"])
    return {
        "added": int((~new.index.isin(old.index)).sum()),
        "missing": int((~old.index.isin(new.index)).sum()),
        "changed": int(differs.sum()),
        "unchanged": int((~differs).sum()),
        "outcomes_changed": int(moved.sum()),
        "recorded": sorted(common[recorded]),
        "transitions": pd.DataFrame({"a": was[recorded], "b": now[recorded]})
        .value_counts()
        .to_dict(),
    }


def newer_export(frame: pd.DataFrame) -> pd.DataFrame:
    """A newer export by hand: 150 leads gone, open leads won, a lost one won, an attribute
    edited, 60 new leads."""
    newer = frame.iloc[150:].copy()
    opened = newer.index[newer["outcome"] == "Open"][:7]
    newer.loc[opened, "outcome"] = "Won"
    lost = newer.index[newer["outcome"] == "Lost"][:2]
    newer.loc[lost, "outcome"] = "Won"
    newer.loc[newer.index[40:45], "industry"] = "Retail"
    fresh = generate_leads(60, seed=99)
    fresh["lead_id"] = [f"N{i:05d}" for i in range(60)]
    return pd.concat([newer, fresh], ignore_index=True)


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return generate_leads(N)


def test_a_refresh_counts_what_pandas_counts_and_keeps_the_leads_missing_from_the_new_file(
    store: Store, base: pd.DataFrame
) -> None:
    newer = newer_export(base)
    load_files(store, "crm", source(base))
    expected = expected_counts(base, newer)

    result = load_files(
        store, "crm", source(newer, "crm-later.csv"), refresh=True, accept_changed_outcomes=True
    )

    plan = result.refresh
    assert plan is not None
    assert (plan.added, plan.changed, plan.unchanged, plan.missing) == (
        expected["added"],
        expected["changed"],
        expected["unchanged"],
        expected["missing"],
    )
    assert plan.outcomes_changed == expected["outcomes_changed"]
    assert dict(((a, b), n) for a, b, n in plan.recorded) == expected["transitions"]
    assert [i for i, _, _ in plan.examples] == expected["recorded"][:10]
    info = result.dataset
    ids = set(store.fetch_frame(f"SELECT lead_id FROM {info.table()}")["lead_id"])
    assert ids == set(base["lead_id"]) | set(newer["lead_id"])  # missing leads kept
    assert info.leads == len(ids) == plan.after
    stored = store.fetch_frame(
        f'SELECT lead_id, industry, "{OUTCOME_COL}" AS outcome FROM {info.table()}'
    ).set_index("lead_id")
    truth = pd.concat([base.iloc[:150], newer]).set_index("lead_id")  # new values win
    assert stored["outcome"].to_dict() == truth["outcome"].map(LABELS).to_dict()
    assert stored["industry"].to_dict() == truth["industry"].to_dict()
    outcomes = store.fetch_frame(f"SELECT lead_id, outcome FROM {info.table('outcomes')}")
    assert (
        dict(zip(outcomes["lead_id"], outcomes["outcome"], strict=True))
        == stored["outcome"].to_dict()
    )
    won = int((truth["outcome"] == "Won").sum())
    assert (info.won, info.won + info.lost + info.open) == (won, len(truth))


def test_each_lead_keeps_when_it_was_first_seen_and_since_when_its_outcome_holds(
    store: Store, base: pd.DataFrame
) -> None:
    newer = newer_export(base)
    load_files(store, "crm", source(base))
    info = store.require("crm")
    first = store.fetch_frame(f'SELECT min("{FIRST_SEEN_COL}") AS t FROM {info.table()}')["t"][0]
    plan = load_files(store, "crm", source(newer), refresh=True, accept_changed_outcomes=True)
    info = plan.dataset
    times = store.fetch_frame(
        f'SELECT lead_id, "{FIRST_SEEN_COL}" AS seen, "{OUTCOME_SINCE_COL}" AS since '
        f"FROM {info.table()}"
    ).set_index("lead_id")
    loaded = store.load_history("crm")[-1].loaded_at
    old_ids = set(base["lead_id"])
    moved = expected_counts(base, newer)
    was = base.set_index("lead_id")["outcome"]
    now = newer.set_index("lead_id")["outcome"]
    common = was.index.intersection(now.index)
    changed = set(common[was.loc[common] != now.loc[common]])
    assert len(changed) == moved["outcomes_changed"]
    for lead, row in times.iterrows():
        if lead in old_ids:
            assert row["seen"] == first  # first seen at the first load, refresh or not
            assert row["since"] == (loaded if lead in changed else first)
        else:
            assert row["seen"] == row["since"] == loaded


def test_a_refresh_changing_recorded_outcomes_is_refused_naming_them_and_stores_nothing(
    store: Store, base: pd.DataFrame
) -> None:
    newer = newer_export(base)
    load_files(store, "crm", source(base))
    before = snapshot(store, "crm")
    history = store.load_history("crm")
    expected = expected_counts(base, newer)

    with pytest.raises(RefreshError) as refused:
        load_files(store, "crm", source(newer), refresh=True)

    message = refused.value.message("en")
    assert "2 outcomes already recorded" in message and "lost → won: 2" in message
    assert all(i in message for i in expected["recorded"])
    assert "--accept-changed-outcomes" in message
    assert "受注" in refused.value.message("ja")
    assert snapshot(store, "crm") == before
    assert store.load_history("crm") == history


def test_a_refresh_that_fails_while_writing_leaves_the_dataset_and_its_history_untouched(
    store: Store, base: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_files(store, "crm", source(base))
    before = snapshot(store, "crm")
    history = store.load_history("crm")
    schemas = set(store.fetch_frame("SELECT schema_name FROM duckdb_schemas()")["schema_name"])
    real = funnel.refresh.merge_tables

    def half_then_fail(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise OSError("the disk went away")

    monkeypatch.setattr(funnel.refresh, "merge_tables", half_then_fail)
    with pytest.raises(OSError, match="disk went away"):
        load_files(
            store, "crm", source(newer_export(base)), refresh=True, accept_changed_outcomes=True
        )

    assert snapshot(store, "crm") == before
    assert store.load_history("crm") == history
    after = set(store.fetch_frame("SELECT schema_name FROM duckdb_schemas()")["schema_name"])
    assert after == schemas


@pytest.mark.parametrize(
    ("edit", "code", "named"),
    [
        (lambda f: f.drop(columns=["industry", "region"]), "refresh_columns_missing", "industry"),
        (lambda f: f.drop(columns=["lead_id"]), "refresh_without_id", ""),
        (lambda f: f.rename(columns={"lead_id": "Lead ID"}), "refresh_id_changed", "lead_id"),
    ],
)
def test_new_files_that_cannot_update_the_dataset_are_refused_with_a_fix_and_nothing_stored(
    store: Store,
    base: pd.DataFrame,
    edit: Callable[[pd.DataFrame], pd.DataFrame],
    code: str,
    named: str,
) -> None:
    load_files(store, "crm", source(base))
    before = snapshot(store, "crm")

    with pytest.raises(LoadError) as refused:
        load_files(store, "crm", source(edit(base), "later.csv"), refresh=True)

    problem = next(p for p in refused.value.problems if p.code == code)
    assert problem.file == "later.csv" and problem.fix("en") and problem.fix("ja")
    assert named in problem.message("en") + problem.fix("en")
    assert snapshot(store, "crm") == before
    assert len(store.load_history("crm")) == 1


def test_a_column_holding_another_kind_of_value_now_is_refused_naming_both_kinds(
    store: Store, base: pd.DataFrame
) -> None:
    load_files(store, "crm", source(base))
    before = snapshot(store, "crm")
    newer = source(base.assign(employees=base["employees"].astype(str) + " staff"), "later.csv")
    mapping = choose_mapping(newer, stored=store.require("crm").mapping).with_role(
        "employees", "attribute"
    )

    with pytest.raises(LoadError) as refused:
        load_files(store, "crm", newer, mapping=mapping, refresh=True)

    (problem,) = refused.value.problems
    assert (problem.code, problem.column) == ("refresh_column_kind", "employees")
    assert "text values now, but number values in crm" in problem.message("en")
    assert "数値" in problem.message("ja") and "テキスト" in problem.message("ja")
    assert snapshot(store, "crm") == before


def test_a_dataset_without_lead_ids_cannot_be_refreshed_only_replaced(
    store: Store, base: pd.DataFrame
) -> None:
    load_files(store, "rows", source(base.drop(columns=["lead_id"])))
    with pytest.raises(LoadError) as refused:
        load_files(store, "rows", source(base), refresh=True)
    assert refused.value.problems[0].code == "refresh_stored_without_id"
    assert "Replace" in refused.value.problems[0].fix("en")


def test_refreshing_a_dataset_that_does_not_exist_names_the_ones_that_do(
    store: Store, base: pd.DataFrame
) -> None:
    load_files(store, "crm", source(base))
    with pytest.raises(StoreError) as refused:
        load_files(store, "crn", source(base), refresh=True)
    assert refused.value.code == "dataset_missing" and "crm" in str(refused.value)


def test_a_preview_writes_nothing_and_a_refresh_whose_counts_moved_since_is_refused(
    store: Store, base: pd.DataFrame
) -> None:
    load_files(store, "crm", source(base))
    newer = source(newer_export(base))
    prepared = prepare(newer, choose_mapping(newer, stored=store.require("crm").mapping))
    before = snapshot(store, "crm")

    plan = store.preview_refresh("crm", prepared)

    assert snapshot(store, "crm") == before and len(store.load_history("crm")) == 1
    moved = RefreshPlan(**{**plan.__dict__, "added": plan.added + 1})
    with pytest.raises(RefreshError) as refused:
        store.refresh("crm", prepared, accept_changed_outcomes=True, expected=moved)
    assert refused.value.code == "plan_moved"
    assert snapshot(store, "crm") == before
    info, done = store.refresh("crm", prepared, accept_changed_outcomes=True, expected=plan)
    assert done == plan and info.leads == plan.after


def test_the_load_history_keeps_every_load_follows_a_rename_and_goes_with_a_delete(
    store: Store, base: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "crm.csv"
    base.to_csv(path, index=False)
    load_files(store, "crm", read_file(path))
    load_files(store, "crm", source(newer_export(base)), refresh=True, accept_changed_outcomes=True)
    load_files(store, "crm", source(base))

    history = store.load_history("crm")

    assert [r.mode for r in history] == ["new", "refresh", "replace"]
    import hashlib

    first = history[0]
    assert first.files[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (first.rows, first.added, first.changed) == (N, N, None)
    refreshed = history[1]
    assert refreshed.missing == 150 and refreshed.added == 60 and refreshed.leads == N + 60
    assert all(r.loaded_at for r in history)
    from funnel import audit

    logged = [e for e in audit.events(store, dataset="crm") if e.action == "dataset.refreshed"]
    assert any(e.detail.get("mode") == "refresh" and e.detail.get("added") == 60 for e in logged)
    store.rename("crm", "spring")
    assert [r.mode for r in store.load_history("spring")] == ["new", "refresh", "replace"]
    store.delete("spring")
    assert store.load_history() == []


def test_a_refresh_keeps_the_stored_mapping_decisions_where_they_still_apply(
    store: Store, base: pd.DataFrame
) -> None:
    load_files(store, "crm", source(base))
    stored = store.require("crm").mapping
    edited = carry_mapping(
        stored,
        stored,
    )
    assert edited == stored
    flagged = type(stored)(
        leads=tuple(
            ColumnSpec(s.name, s.role, s.stage, leak=True, reason="leak.by_hand")
            if s.name == "region"
            else s
            for s in stored.leads
        ),
        outcome=stored.outcome,
        placeholders=stored.placeholders,
    )
    load_files(store, "crm", source(base), mapping=flagged)
    result = load_files(
        store, "crm", source(newer_export(base)), refresh=True, accept_changed_outcomes=True
    )
    region = next(s for s in result.dataset.mapping.leads if s.name == "region")
    assert region.leak


def test_the_later_demo_export_refreshes_with_the_counts_pandas_finds(store: Store) -> None:
    first = generate_leads(N, seed=5)
    later = generate_later(N, seed=5, months=2)
    load_files(store, "demo", source(first, "demo-september.csv"))
    expected = expected_counts(first, later)

    plan = load_files(store, "demo", source(later, "demo-november.csv"), refresh=True).refresh

    assert plan is not None
    assert expected["added"] == len(later) - N > 0 and expected["missing"] == 0
    assert (plan.added, plan.changed, plan.unchanged, plan.missing) == (
        expected["added"],
        expected["changed"],
        expected["unchanged"],
        0,
    )
    assert plan.outcomes_changed == expected["outcomes_changed"] > 0
    assert plan.recorded_changed == len(expected["recorded"]) == 0  # open leads moved only


def test_the_later_demo_export_is_the_same_leads_further_on() -> None:
    first, later = generate_leads(3000, seed=2), generate_later(3000, seed=2, months=2)
    head = later.iloc[:3000]
    fixed = [
        c
        for c in first.columns
        if not c.endswith("_date") and c not in ("outcome", "amount", "lost_reason")
    ]
    pd.testing.assert_frame_equal(head[fixed], first[fixed])
    for column in ("mql_date", "sql_date", "opportunity_date", "closed_date"):
        reached = first[column].notna()
        assert (head.loc[reached, column] == first.loc[reached, column]).all()  # dates stay
    assert not ((first["outcome"] == "Won") & (head["outcome"] != "Won")).any()
    new = later.iloc[3000:]
    assert len(new) == 333 and new["lead_id"].iloc[0] == "L0003001"
    assert new["created_at"].min() > first["created_at"].max()
    assert later.drop(columns="lead_id").notna().any().all()
    assert t("refresh.outcome.won", "ja") == "受注"


def test_olist_loaded_without_its_closed_deals_then_refreshed_with_them(
    store: Store, olist: tuple[Path, Path]
) -> None:
    leads, deals = olist
    first = load_files(store, "olist", read_file(leads)).dataset
    assert first.won == 0

    result = load_files(store, "olist", read_file(leads), read_file(deals), refresh=True)

    plan = result.refresh
    assert plan is not None
    closed = pd.read_csv(deals)
    mqls = pd.read_csv(leads)
    won = mqls["mql_id"].isin(closed["mql_id"]).sum()
    assert result.dataset.won == won and plan.added == 0 and plan.missing == 0
    assert plan.recorded_changed == 0  # open leads became won: nothing recorded moved
    assert plan.outcomes_changed == plan.changed == won
    assert [r.mode for r in store.load_history("olist")] == ["new", "refresh"]
    roles = [f["role"] for f in store.load_history("olist")[-1].files]
    assert roles == ["leads", "outcomes"]
