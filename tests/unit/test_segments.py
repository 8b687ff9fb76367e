"""Conversion by segment, checked against plain pandas on the original data.

Per segment: leads, conversions, rate, a Wilson 95% interval (checked against the closed-form
formula written here), lift against the population's overall rate, and the small-sample flag
that keeps a tiny segment from being named best or worst. Expected numbers come from the
generated demo frame and the CSV files in ../shared/datasets/ (Olist; UCI bank marketing,
Moro, Cortez & Rita 2014, doi:10.1016/j.dss.2014.03.001), never from funnel's tables.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.filters import MISSING, FilterError, Filters
from funnel.fragment import Fragment
from funnel.funnels import Unavailable
from funnel.i18n import t
from funnel.ingest import load_demo, load_files, read_inputs
from funnel.segments import (
    MISSING_ORDER,
    Binning,
    SegmentTable,
    _bin_expression,
    segment_table,
)
from funnel.stats import wilson
from funnel.store import DatasetInfo, Store
from tests.support import snapshot

DEMO_LEADS = 20_000
Z = 1.959963984540054
OLIST = "olist_marketing_funnel"
WEIRD_COLUMN = '会社 "規模"'
WEIRD_NUMBER = "売上 (円)"
WEIRD_VALUES = ("O'Reilly", "<b>x</b>", "1; DROP TABLE x", "株式会社 テスト", 'say "hi"')


def reference_wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval in its closed form, written independently of funnel.stats."""
    if n == 0:
        return 0.0, 0.0
    root = z * math.sqrt(z * z + 4 * k * (n - k) / n)
    return (
        max(0.0, (2 * k + z * z - root) / (2 * (n + z * z))),
        min(1.0, (2 * k + z * z + root) / (2 * (n + z * z))),
    )


def as_keys(series: pd.Series) -> pd.Series:
    """A text column as segment keys: missing cells are the ``(missing)`` segment."""
    return series.astype("string").fillna(MISSING).astype(object)


def as_bins(values: pd.Series, edges: Sequence[float]) -> pd.Series:
    """Bin index per value: below the first edge is 0, at or above the last is len(edges)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    index = np.searchsorted(np.asarray(sorted(edges), dtype=float), numbers, side="right")
    return pd.Series(np.where(numbers.isna(), MISSING_ORDER, index), index=values.index)


def quantile_edges(values: pd.Series, q: int = 5) -> list[float]:
    """Quantile edges strictly above the minimum (an edge at the minimum bins nothing)."""
    clean = values.dropna().astype(float)
    found = np.quantile(clean, [i / q for i in range(1, q)])
    return sorted({float(e) for e in found if e > clean.min()})


def segment_key(table: SegmentTable, binned: Sequence[bool]) -> list[tuple[object, ...]]:
    """Each segment's identity: its value, or its bin index for a binned column."""
    return [
        tuple(s.order[i] if b else s.keys[i] for i, b in enumerate(binned)) for s in table.segments
    ]


def assert_segments_match(
    table: SegmentTable,
    keys: Sequence[pd.Series],
    hit: pd.Series,
    population: pd.Series | None = None,
    *,
    min_n: int = 30,
) -> None:
    """Compare every segment with a pandas groupby of the same population."""
    population = pd.Series(True, index=hit.index) if population is None else population
    frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})[population]
    frame["hit"] = hit[population].astype(bool)
    grouped = frame.groupby([f"k{i}" for i in range(len(keys))], dropna=False)["hit"].agg(
        ["size", "sum"]
    )
    expected = {
        (idx if isinstance(idx, tuple) else (idx,)): (int(row["size"]), int(row["sum"]))
        for idx, row in grouped.iterrows()
    }
    binned = [pd.api.types.is_integer_dtype(k.dtype) for k in keys]
    actual = dict(
        zip(segment_key(table, binned), ((s.n, s.converted) for s in table.segments), strict=True)
    )
    assert actual == expected
    total, converted = int(population.sum()), int(frame["hit"].sum())
    assert (table.n, table.converted) == (total, converted)
    overall = converted / total if total else None
    if overall is None:
        assert table.overall_rate is None
    else:
        assert table.overall_rate == pytest.approx(overall, abs=1e-12)
    for s in table.segments:
        assert s.rate == pytest.approx(s.converted / s.n, abs=1e-12)
        low, high = reference_wilson(s.converted, s.n)
        assert s.ci_low == pytest.approx(low, abs=1e-12), s.keys
        assert s.ci_high == pytest.approx(high, abs=1e-12), s.keys
        if overall:
            assert s.lift == pytest.approx((s.converted / s.n) / overall, abs=1e-12)
        else:
            assert s.lift is None
        assert s.small_sample == (s.n < min_n)
        expected_versus = "similar"
        if overall is not None and low > overall:
            expected_versus = "above"
        elif overall is not None and high < overall:
            expected_versus = "below"
        assert s.versus == expected_versus, s.keys


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- fixtures: each real dataset loaded once per module --------------------------------------


@pytest.fixture(scope="module")
def seg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("segments")


@pytest.fixture(scope="module")
def seg_store(seg_dir: Path) -> Iterator[Store]:
    with Store(seg_dir / "funnel.duckdb") as store:
        yield store


@pytest.fixture(scope="module")
def demo(seg_store: Store) -> DatasetInfo:
    return load_demo(seg_store, "demo", leads=DEMO_LEADS).dataset


@pytest.fixture(scope="module")
def demo_frame() -> pd.DataFrame:
    frame = generate_leads(DEMO_LEADS, seed=7)
    won = frame["outcome"] == "Won"
    frame["reached_opportunity"] = frame["opportunity_date"].notna() | won
    frame["reached_sql"] = frame["sql_date"].notna() | frame["reached_opportunity"]
    frame["reached_mql"] = frame["mql_date"].notna() | frame["reached_sql"]
    frame["won"] = won
    return frame


@pytest.fixture(scope="module")
def olist(seg_store: Store, shared_datasets: Path) -> DatasetInfo:
    base = shared_datasets / OLIST
    leads, deals, _ = read_inputs(
        base / "olist_marketing_qualified_leads_dataset.csv",
        base / "olist_closed_deals_dataset.csv",
    )
    return load_files(seg_store, "olist", leads, deals).dataset


@pytest.fixture(scope="module")
def olist_frame(shared_datasets: Path) -> pd.DataFrame:
    base = shared_datasets / OLIST
    leads = pd.read_csv(base / "olist_marketing_qualified_leads_dataset.csv", dtype=str)
    deals = pd.read_csv(base / "olist_closed_deals_dataset.csv", dtype=str)
    leads["origin"] = leads["origin"].mask(leads["origin"] == "unknown")
    leads["won"] = leads["mql_id"].isin(deals["mql_id"])
    return leads


@pytest.fixture(scope="module")
def bank(seg_store: Store, shared_datasets: Path) -> DatasetInfo:
    leads, _, _ = read_inputs(shared_datasets / "uci_bank_marketing" / "bank-full.csv")
    return load_files(seg_store, "bank", leads, outcome_column="y").dataset


@pytest.fixture(scope="module")
def bank_frame(shared_datasets: Path) -> pd.DataFrame:
    frame = pd.read_csv(shared_datasets / "uci_bank_marketing" / "bank-full.csv", sep=";")
    frame = frame.replace("unknown", None)
    frame["won"] = frame["y"] == "yes"
    return frame


@pytest.fixture(scope="module")
def weird_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(60):
        rows.append(
            {
                "lead id": f"X{i:03d}",
                "作成日": f"2025-0{1 + i % 3}-{1 + i % 28:02d}",
                WEIRD_COLUMN: WEIRD_VALUES[i % 5] if i % 11 else "",
                WEIRD_NUMBER: str(i * 10) if i % 7 else "",
                "result": "won" if i % 4 == 0 else "lost",
            }
        )
    return rows


@pytest.fixture(scope="module")
def weird(seg_store: Store, seg_dir: Path, weird_rows: list[dict[str, str]]) -> DatasetInfo:
    leads, _, _ = read_inputs(write_csv(seg_dir / "weird.csv", weird_rows))
    return load_files(seg_store, "weird", leads, outcome_column="result").dataset


@pytest.fixture(scope="module")
def weird_frame(weird_rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(weird_rows).replace("", None)
    frame["won"] = frame["result"] == "won"
    return frame


@pytest.fixture(scope="module")
def plans(seg_store: Store, seg_dir: Path) -> DatasetInfo:
    """Plans whose two smallest segments have the most extreme rates."""
    sizes = {
        "tiny": (5, 5),
        "zero": (4, 0),
        "big_good": (40, 20),
        "big_bad": (40, 4),
        "mid": (35, 7),
    }
    rows = []
    for plan, (n, won) in sizes.items():
        for i in range(n):
            rows.append({"id": f"{plan}{i}", "plan": plan, "won": "yes" if i < won else "no"})
    leads, _, _ = read_inputs(write_csv(seg_dir / "plans.csv", rows))
    return load_files(seg_store, "plans", leads, outcome_column="won").dataset


# --- one column ------------------------------------------------------------------------------


def test_olist_by_origin_matches_the_dataset_readme(seg_store: Store, olist: DatasetInfo) -> None:
    table = segment_table(seg_store, olist, ["origin"])
    by = {s.keys[0]: (s.converted, s.n) for s in table.segments}
    assert by["paid_search"] == (195, 1586)
    assert by["organic_search"] == (271, 2296)
    assert by["social"] == (75, 1350)
    assert by["email"] == (15, 493)
    assert by[MISSING] == (193, 1159)
    assert (table.from_stage, table.to_stage) == ("mql", "won")
    assert (table.n, table.converted) == (8000, 842)


def test_olist_by_origin_matches_pandas(
    seg_store: Store, olist: DatasetInfo, olist_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, olist, ["origin"])
    assert_segments_match(table, [as_keys(olist_frame["origin"])], olist_frame["won"])
    assert table.segments[-1].keys == (MISSING,)


def test_segments_interval_agrees_with_funnel_stats_wilson(
    seg_store: Store, olist: DatasetInfo
) -> None:
    for s in segment_table(seg_store, olist, ["origin"]).segments:
        low, high = wilson(s.converted, s.n)
        assert (s.ci_low, s.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high))
        assert s.ci_low <= s.rate <= s.ci_high


def test_demo_by_industry_under_filters_matches_pandas(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    filters = Filters(
        date_from=date(2025, 7, 1), date_to=date(2026, 6, 30), equals=(("source", ("Seminar",)),)
    )
    day = demo_frame["created_at"].dt.normalize()
    keep = (
        (demo_frame["source"] == "Seminar")
        & (day >= pd.Timestamp("2025-07-01"))
        & (day <= pd.Timestamp("2026-06-30"))
    )
    table = segment_table(seg_store, demo, ["industry"], filters)
    assert_segments_match(table, [as_keys(demo_frame["industry"])], demo_frame["won"], keep)


def test_demo_by_budget_keeps_missing_values_as_their_own_segment(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, demo, ["budget"])
    assert [s.keys for s in table.segments] == [("No",), ("Yes",), (MISSING,)]
    assert_segments_match(table, [as_keys(demo_frame["budget"])], demo_frame["won"])


def test_demo_from_mql_to_opportunity_counts_the_leads_reaching_mql(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, demo, ["source"], from_stage="mql", to_stage="opportunity")
    assert (table.from_stage, table.to_stage) == ("mql", "opportunity")
    assert table.n == int(demo_frame["reached_mql"].sum())
    assert_segments_match(
        table,
        [as_keys(demo_frame["source"])],
        demo_frame["reached_opportunity"],
        demo_frame["reached_mql"],
    )


def test_demo_from_sql_to_the_last_stage_by_default(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, demo, ["timeline"], from_stage="sql")
    assert (table.from_stage, table.to_stage) == ("sql", "won")
    assert_segments_match(
        table, [as_keys(demo_frame["timeline"])], demo_frame["won"], demo_frame["reached_sql"]
    )


def test_a_population_that_never_converts_has_no_lift_and_no_best_or_worst(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    # demo leads with a competitor's e-mail address never win
    filters = Filters(equals=(("email_type", ("Competitor",)),))
    table = segment_table(seg_store, demo, ["source"], filters)
    keep = demo_frame["email_type"] == "Competitor"
    assert keep.sum() > 0 and not demo_frame.loc[keep, "won"].any()
    assert table.overall_rate == 0.0
    assert all(s.lift is None and not s.best and not s.worst for s in table.segments)
    assert_segments_match(table, [as_keys(demo_frame["source"])], demo_frame["won"], keep)


def test_a_segment_without_conversions_is_not_clearly_above_a_population_without_any(
    seg_store: Store, demo: DatasetInfo
) -> None:
    filters = Filters(equals=(("email_type", ("Competitor",)),))
    table = segment_table(seg_store, demo, ["source"], filters)
    assert table.overall_rate == 0.0
    assert {s.keys[0]: s.versus for s in table.segments} == {
        s.keys[0]: "similar" for s in table.segments
    }


def test_a_filter_keeping_no_lead_gives_an_empty_table(seg_store: Store, demo: DatasetInfo) -> None:
    table = segment_table(seg_store, demo, ["source"], Filters(equals=(("source", ("Nowhere",)),)))
    assert table.segments == []
    assert (table.n, table.converted, table.overall_rate) == (0, 0, None)


# --- small samples, best and worst --------------------------------------------------------------


def test_the_smallest_segments_with_the_most_extreme_rates_are_never_best_or_worst(
    seg_store: Store, plans: DatasetInfo
) -> None:
    table = segment_table(seg_store, plans, ["plan"], min_n=30)
    by = {s.keys[0]: s for s in table.segments}
    assert by["tiny"].rate == 1.0 and by["zero"].rate == 0.0
    assert by["tiny"].small_sample and by["zero"].small_sample
    assert not (by["tiny"].best or by["tiny"].worst or by["zero"].best or by["zero"].worst)
    assert [k for k, s in by.items() if s.best] == ["big_good"]  # 50% against mid's 20%
    # 10% is below the rest but not apart from mid's 20% on 35 leads: not called worst
    assert not any(s.worst for s in by.values())
    assert table.ranking.worst_not_apart is not None
    assert table.ranking.worst_not_apart.segment == "big_bad"
    assert not by["mid"].best and not by["mid"].worst
    assert table.min_n == 30


def test_a_lower_minimum_lets_small_segments_be_ranked(
    seg_store: Store, plans: DatasetInfo
) -> None:
    table = segment_table(seg_store, plans, ["plan"], min_n=3)
    # 5 won of 5 is beyond chance against the rest but not against big_good's 20 of 40; big_bad
    # is below the rest but zero (0 of 4) is lower still: ranked, yet nothing is named
    assert not any(s.best or s.worst for s in table.segments)
    r = table.ranking
    assert (r.verdict, r.compared) == ("not_apart", 5)
    assert r.best_not_apart is not None and r.worst_not_apart is not None
    assert (r.best_not_apart.segment, r.best_not_apart.next_segment) == ("tiny", "big_good")
    assert (r.worst_not_apart.segment, r.worst_not_apart.next_segment) == ("big_bad", "zero")
    assert not any(s.small_sample for s in table.segments)


def test_when_every_segment_is_small_none_is_best_or_worst(
    seg_store: Store, plans: DatasetInfo
) -> None:
    table = segment_table(seg_store, plans, ["plan"], min_n=1000)
    assert all(s.small_sample for s in table.segments)
    assert not any(s.best or s.worst for s in table.segments)


def test_small_sample_is_strictly_fewer_leads_than_the_minimum(
    seg_store: Store, plans: DatasetInfo
) -> None:
    table = segment_table(seg_store, plans, ["plan"], min_n=35)
    by = {s.keys[0]: s.small_sample for s in table.segments}
    assert by == {"big_bad": False, "big_good": False, "mid": False, "tiny": True, "zero": True}


# --- two columns --------------------------------------------------------------------------------


def test_bank_job_by_education_matches_a_pandas_crosstab(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, bank, ["job", "education"])
    job, education = as_keys(bank_frame["job"]), as_keys(bank_frame["education"])
    leads = pd.crosstab(job, education)
    won = pd.crosstab(job, education, values=bank_frame["won"].astype(int), aggfunc="sum")
    expected = {
        (j, e): (int(leads.loc[j, e]), int(won.loc[j, e]))
        for j in leads.index
        for e in leads.columns
        if leads.loc[j, e] > 0
    }
    assert {s.keys: (s.n, s.converted) for s in table.segments} == expected
    assert table.segments[0].label == f"{table.segments[0].keys[0]} × {table.segments[0].keys[1]}"
    assert_segments_match(table, [job, education], bank_frame["won"])


def test_bank_two_columns_under_a_filter_match_pandas(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("marital", ("married",)), ("housing", ("yes",))))
    keep = (bank_frame["marital"] == "married") & (bank_frame["housing"] == "yes")
    table = segment_table(seg_store, bank, ["contact", "poutcome"], filters, min_n=50)
    assert_segments_match(
        table,
        [as_keys(bank_frame["contact"]), as_keys(bank_frame["poutcome"])],
        bank_frame["won"],
        keep,
        min_n=50,
    )


# --- numeric columns ------------------------------------------------------------------------------


def test_bank_age_quantile_edges_are_numpys_linear_quantiles(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    expr, labels = _bin_expression(seg_store, bank, "age", Binning(), Fragment("TRUE"))
    edges = list(expr.params)
    assert edges == pytest.approx(quantile_edges(bank_frame["age"]), abs=1e-9)
    assert labels == ["< 32", "32 ≤ x < 36", "36 ≤ x < 42", "42 ≤ x < 51", "≥ 51"]
    table = segment_table(seg_store, bank, ["age"])
    assert [s.label for s in table.segments] == labels
    assert_segments_match(table, [as_bins(bank_frame["age"], edges)], bank_frame["won"])


@pytest.mark.parametrize("column", ["balance", "campaign", "duration"])
def test_bank_number_columns_are_binned_by_their_quantiles(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame, column: str
) -> None:
    edges = quantile_edges(bank_frame[column])
    table = segment_table(seg_store, bank, [column])
    assert_segments_match(table, [as_bins(bank_frame[column], edges)], bank_frame["won"])
    assert len(table.segments) <= len(edges) + 1


def test_values_below_the_first_custom_edge_fall_in_the_first_bin(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, bank, ["age"], bins={"age": Binning(edges=(60, 30, 40, 30))})
    assert [s.label for s in table.segments] == ["< 30", "30 ≤ x < 40", "40 ≤ x < 60", "≥ 60"]
    age = bank_frame["age"]
    assert [s.n for s in table.segments] == [
        int((age < 30).sum()),
        int(((age >= 30) & (age < 40)).sum()),
        int(((age >= 40) & (age < 60)).sum()),
        int((age >= 60).sum()),
    ]
    assert_segments_match(table, [as_bins(age, (30, 40, 60))], bank_frame["won"])


def test_custom_edges_outside_the_data_leave_empty_bins_out(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    table = segment_table(seg_store, bank, ["age"], bins={"age": Binning(edges=(0, 50, 500))})
    assert [s.label for s in table.segments] == ["0 ≤ x < 50", "50 ≤ x < 500"]
    assert_segments_match(table, [as_bins(bank_frame["age"], (0, 50, 500))], bank_frame["won"])


def test_a_number_with_missing_values_gets_a_missing_bin_last(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    amount = demo_frame["amount"].astype("Float64")
    edges = quantile_edges(amount)
    table = segment_table(seg_store, demo, ["amount"], to_stage="opportunity")
    assert table.segments[-1].keys == (MISSING,)
    assert table.segments[-1].n == int(amount.isna().sum())
    assert_segments_match(table, [as_bins(amount, edges)], demo_frame["reached_opportunity"])


def test_quantile_edges_come_from_the_filtered_population(
    seg_store: Store, demo: DatasetInfo, demo_frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("source", ("Seminar", "Webinar")),))
    keep = demo_frame["source"].isin(["Seminar", "Webinar"]) & demo_frame["reached_mql"]
    edges = quantile_edges(demo_frame.loc[keep, "employees"], q=4)
    table = segment_table(
        seg_store, demo, ["employees"], filters, from_stage="mql", bins={"employees": Binning(q=4)}
    )
    assert_segments_match(table, [as_bins(demo_frame["employees"], edges)], demo_frame["won"], keep)


def test_a_binned_number_by_a_text_column_matches_pandas(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("loan", ("no",)),))
    keep = bank_frame["loan"] == "no"
    edges = quantile_edges(bank_frame.loc[keep, "age"], q=3)
    table = segment_table(seg_store, bank, ["job", "age"], filters, bins={"age": Binning(q=3)})
    assert_segments_match(
        table,
        [as_keys(bank_frame["job"]), as_bins(bank_frame["age"], edges)],
        bank_frame["won"],
        keep,
    )


def test_two_binned_numbers_under_a_filter_match_pandas(
    seg_store: Store, bank: DatasetInfo, bank_frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("contact", ("cellular",)),))
    keep = bank_frame["contact"] == "cellular"
    bins = {"age": Binning(q=3), "balance": Binning(edges=(0, 1000))}
    table = segment_table(seg_store, bank, ["age", "balance"], filters, bins=bins)
    keys = [
        as_bins(bank_frame["age"], quantile_edges(bank_frame.loc[keep, "age"], q=3)),
        as_bins(bank_frame["balance"], (0, 1000)),
    ]
    assert_segments_match(table, keys, bank_frame["won"], keep)


@pytest.mark.parametrize(
    ("dataset", "column"),
    [("demo", "trial_signups"), ("bank", "pdays"), ("bank", "previous")],
)
def test_a_number_whose_quantiles_tie_still_splits_its_distinct_values(
    seg_store: Store,
    demo: DatasetInfo,
    bank: DatasetInfo,
    demo_frame: pd.DataFrame,
    bank_frame: pd.DataFrame,
    dataset: str,
    column: str,
) -> None:
    # Over 80% of these values are one number (0 trial sign-ups; pdays -1 "never contacted"),
    # so every quintile edge is that number; the leads with other values must not vanish
    # into a single bucket with them.
    info, frame = (demo, demo_frame) if dataset == "demo" else (bank, bank_frame)
    assert frame[column].nunique() > 2
    table = segment_table(seg_store, info, [column])
    assert len(table.segments) >= 2, [s.label for s in table.segments]
    assert sum(s.n for s in table.segments) == len(frame)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("by", [[], ["source", "industry", "region"]])
def test_segments_need_one_or_two_columns(
    seg_store: Store, demo: DatasetInfo, by: list[str]
) -> None:
    with pytest.raises(Unavailable) as err:
        segment_table(seg_store, demo, by)
    assert err.value.code == "segment_by_count"
    assert t("analysis.segment_by_count", "en") == "Segment by one column, or two for a heatmap."


@pytest.mark.parametrize(
    "column",
    ["no_such_column", "lead_id", "created_at", "mql_date", "closed_date", "_funnel_outcome"],
)
def test_an_unknown_or_unusable_segment_column_is_refused_by_name(
    seg_store: Store, demo: DatasetInfo, column: str
) -> None:
    with pytest.raises(Unavailable) as err:
        segment_table(seg_store, demo, ["source", column])
    assert err.value.code == "segment_unknown_column"
    assert err.value.params["column"] == column
    message = t("analysis.segment_unknown_column", "en", **err.value.params)
    assert message.startswith(f"{column} cannot be a segment. Columns: source, industry")


def test_refused_segment_requests_leave_the_stored_data_untouched(
    seg_store: Store, demo: DatasetInfo
) -> None:
    before = snapshot(seg_store, "demo")
    refused = [
        {"by": ["source", 'x" FROM leads; DROP TABLE leads; --']},
        {"by": []},
        {"by": ["source"], "from_stage": "won", "to_stage": "mql"},
        {"by": ["source"], "filters": Filters(equals=(("nope", ("x",)),))},
    ]
    for kwargs in refused:
        with pytest.raises((Unavailable, FilterError)):
            segment_table(seg_store, demo, **kwargs)
    assert snapshot(seg_store, "demo") == before


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("opportunity", "mql"),
        ("won", "won"),
        ("won", None),
        ("lead", "demo_booked"),
        ("closed", "won"),
    ],
)
def test_conversion_must_go_from_an_earlier_stage_to_a_later_one(
    seg_store: Store, demo: DatasetInfo, start: str, end: str | None
) -> None:
    with pytest.raises(Unavailable) as err:
        segment_table(seg_store, demo, ["source"], from_stage=start, to_stage=end)
    assert err.value.code == "segment_bad_stages"
    assert err.value.params["start"] == start
    message = t("analysis.segment_bad_stages", "en", **err.value.params)
    assert message.startswith("Conversion must go from an earlier stage to a later one")
    assert "lead, mql, sql, opportunity, won" in message


def test_a_segment_filter_on_an_unknown_column_is_a_filter_error(
    seg_store: Store, demo: DatasetInfo
) -> None:
    with pytest.raises(FilterError) as err:
        segment_table(seg_store, demo, ["source"], Filters(equals=(("nope", ("x",)),)))
    assert err.value.code == "filter_unknown_column"


# --- quotes, markup, SQL and Japanese in names and values -----------------------------------------


def test_values_with_quotes_markup_sql_and_japanese_are_grouped_exactly(
    seg_store: Store, weird: DatasetInfo, weird_frame: pd.DataFrame
) -> None:
    assert WEIRD_COLUMN in weird.columns
    table = segment_table(seg_store, weird, [WEIRD_COLUMN], min_n=5)
    assert {s.keys[0] for s in table.segments} == {*WEIRD_VALUES, MISSING}
    assert_segments_match(table, [as_keys(weird_frame[WEIRD_COLUMN])], weird_frame["won"], min_n=5)


def test_a_japanese_number_column_with_gaps_is_binned_with_a_missing_bin(
    seg_store: Store, weird: DatasetInfo, weird_frame: pd.DataFrame
) -> None:
    numbers = pd.to_numeric(weird_frame[WEIRD_NUMBER])
    table = segment_table(seg_store, weird, [WEIRD_NUMBER, WEIRD_COLUMN], min_n=1)
    assert_segments_match(
        table,
        [as_bins(numbers, quantile_edges(numbers)), as_keys(weird_frame[WEIRD_COLUMN])],
        weird_frame["won"],
        min_n=1,
    )


@pytest.mark.parametrize(
    "values",
    [("O'Reilly",), ("<b>x</b>", "1; DROP TABLE x"), ('say "hi"', MISSING), ("株式会社 テスト",)],
)
def test_filters_on_a_quoted_japanese_column_select_exactly_those_values(
    seg_store: Store, weird: DatasetInfo, weird_frame: pd.DataFrame, values: tuple[str, ...]
) -> None:
    before = snapshot(seg_store, "weird")
    filters = Filters(equals=((WEIRD_COLUMN, values),))
    keep = weird_frame[WEIRD_COLUMN].isin([v for v in values if v != MISSING])
    if MISSING in values:
        keep |= weird_frame[WEIRD_COLUMN].isna()
    table = segment_table(seg_store, weird, [WEIRD_COLUMN], filters, min_n=5)
    assert {s.keys[0] for s in table.segments} == set(values)
    assert_segments_match(
        table, [as_keys(weird_frame[WEIRD_COLUMN])], weird_frame["won"], keep, min_n=5
    )
    assert snapshot(seg_store, "weird") == before
    assert seg_store.require("weird").leads == 60


def test_segment_records_carry_every_field_the_cli_prints(
    seg_store: Store, olist: DatasetInfo
) -> None:
    record = segment_table(seg_store, olist, ["origin"]).segments[0].as_dict()
    assert set(record) >= {
        "segment",
        "n",
        "converted",
        "rate",
        "ci_low",
        "ci_high",
        "lift",
        "small_sample",
    }


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_codes_stored_as_numbers_are_segments_by_value_in_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    """A region code (whole numbers, six values) is one segment per code; a quantity with few
    values named as a count, and a number with many values, are still cut into ranges."""
    from funnel.cli import main

    rng = np.random.default_rng(3)
    n = 1_200
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": "2025-03-01",
            "region_code": rng.choice([1, 13, 14, 23, 27, 140], n),
            "employees": rng.integers(1, 5_000, n),
            "won": rng.random(n) < 0.2,
        }
    )
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    db = str(tmp_path / "f.duckdb")
    assert main(["load", str(path), "--outcome", "won", "--db", db]) == 0
    capsys.readouterr()
    args = ["segments", "--dataset", "leads", "--db", db, "--lang", lang]

    assert main([*args, "--by", "region_code", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["codes"] == {"region_code": 6}
    counts = frame["region_code"].value_counts()
    assert [(s["segment"], s["n"]) for s in record["segments"]] == [
        (str(code), int(counts[code])) for code in sorted(counts.index)
    ]
    assert main([*args, "--by", "region_code"]) == 0
    assert t("segments.codes", lang, column="region_code", values=6) in capsys.readouterr().err

    assert main([*args, "--by", "employees", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["codes"] == {} and len(record["segments"]) == 5  # quantile ranges
    assert main([*args, "--by", "region_code", "--edges", "region_code=20", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["codes"] == {}
    assert [s["segment"] for s in record["segments"]] == ["< 20", "≥ 20"]


def test_whether_a_column_holds_codes_is_read_again_when_the_dataset_is_reloaded(
    tmp_path: Path,
) -> None:
    """The answer is kept per load (one query per column, not per table): a reload whose column
    now holds many values is read again."""
    from funnel.segments import code_values

    def frame(values: int) -> bytes:
        n = 600
        return (
            pd.DataFrame(
                {
                    "lead_id": [f"L{i}" for i in range(n)],
                    "area_code": [i % values for i in range(n)],
                    "won": [i % 5 == 0 for i in range(n)],
                }
            )
            .to_csv(index=False)
            .encode()
        )

    with Store(tmp_path / "f.duckdb") as store:
        info = load_files(store, "d", *read_inputs_bytes(frame(6)), outcome_column="won").dataset
        assert code_values(store, info, "area_code") == 6
        info = load_files(store, "d", *read_inputs_bytes(frame(300)), outcome_column="won").dataset
        assert code_values(store, info, "area_code") is None


def read_inputs_bytes(data: bytes) -> tuple[Any, ...]:
    from funnel.readers import read_bytes

    return (read_bytes(data, "leads.csv"),)
