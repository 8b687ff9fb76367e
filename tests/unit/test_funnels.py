"""The funnel, cohorts and time to convert, checked against plain pandas on the original data.

Expected numbers are computed from the generated demo frame and from the CSV files in
../shared/datasets/ (Olist: leads + won deals; UCI bank marketing, Moro, Cortez & Rita 2014,
doi:10.1016/j.dss.2014.03.001), never from funnel's own tables. Semantics under test: the
first stage is every lead; a lead reaches stage k when it has stage k's date or reached any
later stage in the list; ``won`` is the outcome.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.filters import MISSING, NO_FILTERS, FilterError, Filters
from funnel.funnels import (
    Cohort,
    Step,
    Transition,
    Unavailable,
    cohort_trend,
    compare_funnels,
    compute_funnel,
    default_stages,
    funnel_page,
    remember_stages,
    stages_for,
    time_to_convert,
)
from funnel.i18n import t
from funnel.ingest import load_demo, load_files, read_inputs
from funnel.store import DatasetInfo, Store

DEMO_LEADS = 20_000
Z = 1.959963984540054
OLIST = "olist_marketing_funnel"
DEMO_DATES = {"mql": "mql_date", "sql": "sql_date", "opportunity": "opportunity_date"}
QUANTILES = {"p25_days": 0.25, "median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}


# --- independent reference computations ---------------------------------------------------


def reference_wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    root = z * math.sqrt(z * z + 4 * k * (n - k) / n)
    return (
        max(0.0, (2 * k + z * z - root) / (2 * (n + z * z))),
        min(1.0, (2 * k + z * z + root) / (2 * (n + z * z))),
    )


@dataclass(frozen=True)
class Raw:
    """An original dataset as plain pandas: created date, evidence of each stage, outcome."""

    frame: pd.DataFrame
    created: pd.Series | None
    evidence: dict[str, pd.Series]  # stage -> has this stage's own evidence
    dates: dict[str, pd.Series]  # stage -> the date it was reached (first stage: created)
    closed: pd.Series | None

    def reached(self, stages: Sequence[str], keep: pd.Series | None = None) -> list[pd.Series]:
        """Per stage: the leads reaching it (its own evidence or any later stage's)."""
        keep = self.everyone() if keep is None else keep
        out = [keep]
        for i in range(1, len(stages)):
            later = reduce(lambda a, b: a | b, (self.evidence[s] for s in stages[i:]))
            out.append(keep & later)
        return out

    def everyone(self) -> pd.Series:
        return pd.Series(True, index=self.frame.index)

    def keep(self, column: str, *values: str) -> pd.Series:
        series = self.frame[column]
        mask = series.isin([v for v in values if v != MISSING])
        if MISSING in values:
            mask |= series.isna()
        return mask

    def created_between(self, start: date | None, end: date | None) -> pd.Series:
        assert self.created is not None
        day = self.created.dt.normalize()
        mask = self.everyone()
        if start:
            mask &= day >= pd.Timestamp(start)
        if end:
            mask &= day <= pd.Timestamp(end)
        return mask


def expected_steps(raw: Raw, stages: Sequence[str], keep: pd.Series | None = None) -> list[Step]:
    counts = [int(m.sum()) for m in raw.reached(stages, keep)]
    steps = []
    for i, (stage, n) in enumerate(zip(stages, counts, strict=True)):
        prev = counts[i - 1] if i else n
        steps.append(
            Step(
                stage=stage,
                n=n,
                rate_from_previous=(1.0 if n else None) if i == 0 else (n / prev if prev else None),
                rate_from_first=n / counts[0] if counts[0] else None,
                drop_off=prev - n if i else 0,
            )
        )
    return steps


def assert_same_steps(actual: Sequence[Step], expected: Sequence[Step]) -> None:
    assert [(s.stage, s.n, s.drop_off) for s in actual] == [
        (s.stage, s.n, s.drop_off) for s in expected
    ]
    for a, e in zip(actual, expected, strict=True):
        for field in ("rate_from_previous", "rate_from_first"):
            got, want = getattr(a, field), getattr(e, field)
            if want is None:
                assert got is None, (a.stage, field)
            else:
                assert got == pytest.approx(want, abs=1e-12), (a.stage, field)


def days_between(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.total_seconds() / 86400.0


# --- fixtures: each real dataset loaded once per module --------------------------------------


@pytest.fixture(scope="module")
def analysis_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("funnels") / "funnel.duckdb") as store:
        yield store


@pytest.fixture(scope="module")
def demo(analysis_store: Store) -> DatasetInfo:
    return load_demo(analysis_store, "demo", leads=DEMO_LEADS).dataset


@pytest.fixture(scope="module")
def small(analysis_store: Store) -> DatasetInfo:
    """A small demo whose remembered stages the stage-list tests may change."""
    return load_demo(analysis_store, "small", leads=300).dataset


@pytest.fixture(scope="module")
def demo_raw() -> Raw:
    frame = generate_leads(DEMO_LEADS, seed=7)
    evidence = {stage: frame[col].notna() for stage, col in DEMO_DATES.items()}
    evidence["won"] = frame["outcome"] == "Won"
    dates = {stage: frame[col] for stage, col in DEMO_DATES.items()}
    dates["lead"] = frame["created_at"]
    dates["won"] = frame["closed_date"]
    return Raw(frame, frame["created_at"], evidence, dates, frame["closed_date"])


@pytest.fixture(scope="module")
def olist(analysis_store: Store, shared_datasets: Path) -> DatasetInfo:
    base = shared_datasets / OLIST
    leads, deals, _ = read_inputs(
        base / "olist_marketing_qualified_leads_dataset.csv",
        base / "olist_closed_deals_dataset.csv",
    )
    return load_files(analysis_store, "olist", leads, deals).dataset


@pytest.fixture(scope="module")
def olist_raw(shared_datasets: Path) -> Raw:
    base = shared_datasets / OLIST
    leads = pd.read_csv(base / "olist_marketing_qualified_leads_dataset.csv", dtype=str)
    deals = pd.read_csv(base / "olist_closed_deals_dataset.csv", dtype=str)
    frame = leads.merge(deals[["mql_id", "won_date"]], on="mql_id", how="left")
    assert len(frame) == 8000
    # The README: empty cells and "unknown" both mean a missing origin.
    frame["origin"] = frame["origin"].mask(frame["origin"] == "unknown")
    created = pd.to_datetime(frame["first_contact_date"])
    closed = pd.to_datetime(frame["won_date"])
    evidence = {"won": frame["mql_id"].isin(deals["mql_id"])}
    return Raw(frame, created, evidence, {"mql": created, "won": closed}, closed)


@pytest.fixture(scope="module")
def bank(analysis_store: Store, shared_datasets: Path) -> DatasetInfo:
    leads, _, _ = read_inputs(shared_datasets / "uci_bank_marketing" / "bank-full.csv")
    return load_files(analysis_store, "bank", leads, outcome_column="y").dataset


@pytest.fixture(scope="module")
def bank_raw(shared_datasets: Path) -> Raw:
    frame = pd.read_csv(shared_datasets / "uci_bank_marketing" / "bank-full.csv", sep=";")
    frame = frame.replace("unknown", None)
    return Raw(frame, None, {"won": frame["y"] == "yes"}, {}, None)


# --- stage lists ------------------------------------------------------------------------------


def test_default_stages_are_the_stages_each_dataset_has_in_the_usual_order(
    demo: DatasetInfo, olist: DatasetInfo, bank: DatasetInfo
) -> None:
    assert default_stages(demo) == ["lead", "mql", "sql", "opportunity", "won"]
    assert default_stages(olist) == ["mql", "won"]
    assert default_stages(bank) == ["lead", "won"]


def test_a_dataset_without_remembered_stages_uses_its_default(
    analysis_store: Store, demo: DatasetInfo, olist: DatasetInfo
) -> None:
    assert stages_for(analysis_store, demo) == default_stages(demo)
    assert stages_for(analysis_store, olist) == ["mql", "won"]


def test_remembered_stages_survive_reopening_the_store(db_path: Path) -> None:
    with Store(db_path) as store:
        info = load_demo(store, "small", leads=300).dataset
        assert remember_stages(store, info, ["lead", "sql", "won", "sql"]) == ["lead", "sql", "won"]
    with Store(db_path) as store:
        info = store.require("small")
        assert stages_for(store, info) == ["lead", "sql", "won"]
        steps = compute_funnel(store, info, stages_for(store, info))
        assert [s.stage for s in steps] == ["lead", "sql", "won"]


def test_remembered_stages_that_no_longer_exist_fall_back_to_the_default(
    analysis_store: Store, small: DatasetInfo
) -> None:
    analysis_store.set_setting(small.name, "funnel_stages", ["lead", "demo_booked"])
    assert stages_for(analysis_store, small) == default_stages(small)
    analysis_store.set_setting(small.name, "funnel_stages", ["sql", "demo_booked", "won"])
    assert stages_for(analysis_store, small) == ["sql", "won"]


def test_a_dataset_without_an_outcome_has_no_won_stage(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "no_outcome.csv"
    path.write_text(
        "lead_id,created_at,mql_date\nA,2025-01-05,2025-01-06\nB,2025-01-07,\n", "utf-8"
    )
    leads, _, _ = read_inputs(path)
    info = load_files(store, "no_outcome", leads).dataset
    assert default_stages(info) == ["lead", "mql"]
    assert [s.n for s in compute_funnel(store, info, ["lead", "mql"])] == [2, 1]
    with pytest.raises(Unavailable) as err:
        compute_funnel(store, info, ["lead", "won"])
    assert err.value.code == "unknown_stage"


@pytest.mark.parametrize("stages", [[], ["won"], ["lead", "lead"], ["demo_booked", "won"]])
def test_a_funnel_needs_at_least_two_known_stages_and_a_refused_list_is_not_saved(
    analysis_store: Store, small: DatasetInfo, stages: list[str]
) -> None:
    remember_stages(analysis_store, small, ["mql", "won"])
    with pytest.raises(Unavailable) as err:
        remember_stages(analysis_store, small, stages)
    assert err.value.code == "too_few_stages"
    assert t("analysis.too_few_stages", "en") == "A funnel needs at least two stages."
    assert stages_for(analysis_store, small) == ["mql", "won"]


@pytest.mark.parametrize(
    ("dataset", "stages", "unknown"),
    [
        ("demo", ["lead", "demo_booked", "won"], "demo_booked"),
        ("olist", ["lead", "won"], "lead"),
        ("bank", ["lead", "mql", "won"], "mql"),
    ],
)
def test_an_unknown_stage_is_refused_with_its_name(
    analysis_store: Store,
    demo: DatasetInfo,
    olist: DatasetInfo,
    bank: DatasetInfo,
    dataset: str,
    stages: list[str],
    unknown: str,
) -> None:
    info = {"demo": demo, "olist": olist, "bank": bank}[dataset]
    with pytest.raises(Unavailable) as err:
        compute_funnel(analysis_store, info, stages)
    assert err.value.code == "unknown_stage"
    assert err.value.params == {"stage": unknown}
    assert t("analysis.unknown_stage", "en", **err.value.params) == (
        f"This dataset has no stage {unknown}."
    )


# --- the funnel on the three datasets -----------------------------------------------------------


@pytest.mark.parametrize(
    "stages",
    [
        ["lead", "mql", "sql", "opportunity", "won"],
        ["lead", "sql", "won"],
        ["mql", "opportunity"],
        ["lead", "won"],
        ["sql", "opportunity", "won"],
    ],
)
def test_demo_funnel_matches_pandas_on_the_generated_frame(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw, stages: list[str]
) -> None:
    assert_same_steps(
        compute_funnel(analysis_store, demo, stages), expected_steps(demo_raw, stages)
    )


def test_demo_funnel_counts_are_the_leads_reaching_each_stage(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    steps = compute_funnel(analysis_store, demo, default_stages(demo))
    frame = demo_raw.frame
    won = frame["outcome"] == "Won"
    assert steps[0].n == DEMO_LEADS
    assert steps[-1].n == int(won.sum()) == demo.won
    assert steps[-1].rate_from_first == pytest.approx(won.mean(), abs=1e-12)
    assert [s.n for s in steps] == sorted((s.n for s in steps), reverse=True)
    assert all(s.drop_off == p.n - s.n for p, s in zip(steps, steps[1:], strict=False))


def test_olist_funnel_is_842_won_of_8000_leads(
    analysis_store: Store, olist: DatasetInfo, olist_raw: Raw
) -> None:
    steps = compute_funnel(analysis_store, olist, ["mql", "won"])
    assert [(s.stage, s.n) for s in steps] == [("mql", 8000), ("won", 842)]
    assert steps[1].rate_from_previous == pytest.approx(842 / 8000, abs=1e-12)
    assert steps[1].drop_off == 7158
    assert_same_steps(steps, expected_steps(olist_raw, ["mql", "won"]))


def test_bank_funnel_is_5289_won_of_45211_leads(
    analysis_store: Store, bank: DatasetInfo, bank_raw: Raw
) -> None:
    steps = compute_funnel(analysis_store, bank, ["lead", "won"])
    assert [(s.stage, s.n) for s in steps] == [("lead", 45211), ("won", 5289)]
    assert steps[1].rate_from_first == pytest.approx(5289 / 45211, abs=1e-12)
    assert_same_steps(steps, expected_steps(bank_raw, ["lead", "won"]))


def test_a_lead_reaches_a_stage_through_any_later_stage_in_the_list(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text(
        "lead_id,created_at,mql_date,sql_date,opportunity_date,closed_date,outcome\n"
        "A,2025-01-05,,,,2025-03-01,Won\n"  # won with no stage dates filled in
        "B,2025-01-06,,2025-01-20,,,Open\n"  # SQL date without an MQL date
        "C,2025-01-07,2025-01-08,,,2025-02-01,Lost\n"
        "D,2025-02-01,2025-02-02,2025-02-03,2025-02-04,2025-03-04,Won\n"
        "E,2025-02-10,,,,,Open\n",
        encoding="utf-8",
    )
    leads, _, _ = read_inputs(path)
    info = load_files(store, "gaps", leads).dataset

    def counts(stages: list[str]) -> list[int]:
        return [s.n for s in compute_funnel(store, info, stages)]

    assert counts(["lead", "mql", "sql", "opportunity", "won"]) == [5, 4, 3, 2, 2]
    assert counts(["lead", "sql", "won"]) == [5, 3, 2]
    # B's SQL date is not evidence of MQL when SQL is not in the chosen list
    assert counts(["lead", "mql", "won"]) == [5, 3, 2]
    # the first stage is every lead, whatever its own date says
    assert counts(["mql", "won"]) == [5, 2]


# --- the funnel under filters -------------------------------------------------------------------


def test_demo_funnel_for_one_source_matches_pandas(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    filters = Filters(equals=(("source", ("Seminar",)),))
    keep = demo_raw.keep("source", "Seminar")
    assert 0 < keep.sum() < DEMO_LEADS
    assert_same_steps(
        compute_funnel(analysis_store, demo, stages, filters),
        expected_steps(demo_raw, stages, keep),
    )


def test_demo_funnel_for_several_sources_matches_pandas(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    filters = Filters(equals=(("source", ("Seminar", "Referral", "Ads")),))
    keep = demo_raw.keep("source", "Seminar", "Referral", "Ads")
    assert_same_steps(
        compute_funnel(analysis_store, demo, stages, filters),
        expected_steps(demo_raw, stages, keep),
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 6, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), None),
        (None, date(2025, 9, 30)),
        (date(2026, 3, 16), date(2026, 3, 16)),
    ],
)
def test_demo_funnel_for_a_created_date_range_matches_pandas(
    analysis_store: Store,
    demo: DatasetInfo,
    demo_raw: Raw,
    start: date | None,
    end: date | None,
) -> None:
    stages = default_stages(demo)
    keep = demo_raw.created_between(start, end)
    assert keep.sum() > 0
    assert_same_steps(
        compute_funnel(analysis_store, demo, stages, Filters(date_from=start, date_to=end)),
        expected_steps(demo_raw, stages, keep),
    )


def test_demo_funnel_for_missing_budget_and_a_date_range_matches_pandas(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    start, end = date(2025, 10, 1), date(2026, 6, 30)
    filters = Filters(
        date_from=start,
        date_to=end,
        equals=(("budget", (MISSING,)), ("industry", ("Finance", "Manufacturing"))),
    )
    keep = (
        demo_raw.created_between(start, end)
        & demo_raw.keep("budget", MISSING)
        & demo_raw.keep("industry", "Finance", "Manufacturing")
    )
    assert keep.sum() > 0
    assert_same_steps(
        compute_funnel(analysis_store, demo, stages, filters),
        expected_steps(demo_raw, stages, keep),
    )


def test_a_filter_keeping_no_lead_gives_an_empty_funnel_without_rates(
    analysis_store: Store, demo: DatasetInfo
) -> None:
    steps = compute_funnel(
        analysis_store, demo, ["lead", "won"], Filters(equals=(("source", ("Nowhere",)),))
    )
    empty = {
        "n": 0,
        "rate_from_previous": None,
        "rate_from_first": None,
        "drop_off": 0,
        "counts": "all_leads",  # funnel conversion counts still-open leads too
    }
    assert [s.as_dict() for s in steps] == [{"stage": "lead", **empty}, {"stage": "won", **empty}]


@pytest.mark.parametrize(
    ("origin", "leads", "won"),
    [
        ("paid_search", 1586, 195),
        ("organic_search", 2296, 271),
        ("social", 1350, 75),
        ("email", 493, 15),
        (MISSING, 1159, 193),
    ],
)
def test_olist_funnel_by_origin_matches_the_dataset_readme(
    analysis_store: Store, olist: DatasetInfo, olist_raw: Raw, origin: str, leads: int, won: int
) -> None:
    filters = Filters(equals=(("origin", (origin,)),))
    steps = compute_funnel(analysis_store, olist, ["mql", "won"], filters)
    assert [s.n for s in steps] == [leads, won]
    assert_same_steps(
        steps, expected_steps(olist_raw, ["mql", "won"], olist_raw.keep("origin", origin))
    )


def test_olist_missing_origin_is_the_60_empty_and_1099_unknown_cells(
    analysis_store: Store, olist: DatasetInfo, shared_datasets: Path
) -> None:
    path = shared_datasets / OLIST / "olist_marketing_qualified_leads_dataset.csv"
    origin = pd.read_csv(path, dtype=str, keep_default_na=False)["origin"]
    assert (int((origin == "").sum()), int((origin == "unknown").sum())) == (60, 1099)
    steps = compute_funnel(
        analysis_store, olist, ["mql", "won"], Filters(equals=(("origin", (MISSING,)),))
    )
    assert [s.n for s in steps] == [60 + 1099, 193]


def test_olist_funnel_for_a_created_date_range_matches_pandas(
    analysis_store: Store, olist: DatasetInfo, olist_raw: Raw
) -> None:
    start, end = date(2018, 1, 1), date(2018, 3, 31)
    steps = compute_funnel(
        analysis_store, olist, ["mql", "won"], Filters(date_from=start, date_to=end)
    )
    keep = olist_raw.created_between(start, end)
    assert_same_steps(steps, expected_steps(olist_raw, ["mql", "won"], keep))


@pytest.mark.parametrize(
    "equals",
    [
        (("job", ("admin.",)),),
        (("job", (MISSING,)),),
        (("education", ("tertiary", MISSING)), ("marital", ("single",))),
        (("age", ("30", "31")),),
    ],
)
def test_bank_funnel_under_value_filters_matches_pandas(
    analysis_store: Store,
    bank: DatasetInfo,
    bank_raw: Raw,
    equals: tuple[tuple[str, tuple[str, ...]], ...],
) -> None:
    frame = bank_raw.frame
    keep = bank_raw.everyone()
    for column, values in equals:
        series = frame[column].astype("string")
        mask = series.isin([v for v in values if v != MISSING]).fillna(False)
        if MISSING in values:
            mask |= series.isna()
        keep &= mask.astype(bool)
    assert keep.sum() > 0
    steps = compute_funnel(analysis_store, bank, ["lead", "won"], Filters(equals=equals))
    assert_same_steps(steps, expected_steps(bank_raw, ["lead", "won"], keep))


def test_compare_funnels_equals_each_funnel_under_the_combined_filters(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    shared = Filters(date_from=date(2025, 7, 1), date_to=date(2026, 6, 30))
    a = Filters(equals=(("source", ("Seminar",)),))
    b = Filters(equals=(("source", ("Ads", "Cold call")),), date_from=date(2025, 10, 1))
    left, right = compare_funnels(analysis_store, demo, stages, shared, a, b)
    assert left == compute_funnel(analysis_store, demo, stages, shared.and_(a))
    assert right == compute_funnel(analysis_store, demo, stages, shared.and_(b))
    window = demo_raw.created_between(date(2025, 7, 1), date(2026, 6, 30))
    assert_same_steps(
        left, expected_steps(demo_raw, stages, window & demo_raw.keep("source", "Seminar"))
    )
    narrower = demo_raw.created_between(date(2025, 10, 1), date(2026, 6, 30))
    assert_same_steps(
        right,
        expected_steps(demo_raw, stages, narrower & demo_raw.keep("source", "Ads", "Cold call")),
    )


# --- cohorts ------------------------------------------------------------------------------------


def expected_cohorts(
    raw: Raw, stages: Sequence[str], keep: pd.Series | None = None
) -> tuple[pd.DataFrame, float, pd.Timestamp]:
    """Per created month: n and converted; the p90 of days to the last stage; the data's as-of."""
    assert raw.created is not None
    reached = raw.reached(stages)[-1]
    keep = raw.everyone() if keep is None else keep
    month = raw.created.dt.to_period("M")
    table = (
        pd.DataFrame({"month": month, "hit": reached})[keep]
        .groupby("month")
        .agg(n=("hit", "size"), converted=("hit", "sum"))
    )
    target = raw.dates[stages[-1]]
    # a conversion dated before its lead was created is a data error, not a duration
    timed = reached & target.notna() & (target >= raw.created)
    p90 = float(np.quantile(days_between(raw.created[timed], target[timed]), 0.9))
    as_of = max(d.max() for d in [raw.created, *raw.dates.values()])
    return table, p90, as_of


def assert_cohorts_match(
    cohorts: list[Cohort], table: pd.DataFrame, p90: float, as_of: pd.Timestamp
) -> None:
    assert [c.month.strftime("%Y-%m") for c in cohorts] == [str(m) for m in table.index]
    for c, (month, row) in zip(cohorts, table.iterrows(), strict=True):
        assert (c.n, c.converted) == (int(row["n"]), int(row["converted"])), month
        assert c.rate == pytest.approx(row["converted"] / row["n"], abs=1e-12)
        low, high = reference_wilson(int(row["converted"]), int(row["n"]))
        assert (c.ci_low, c.ci_high) == (
            pytest.approx(low, abs=1e-12),
            pytest.approx(high, abs=1e-12),
        )
        month_end = (month + 1).to_timestamp() - pd.Timedelta(days=1)
        assert c.mature == (month_end + pd.Timedelta(days=math.ceil(p90)) <= as_of), month


def test_demo_cohorts_match_pandas_by_created_month(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    trend = cohort_trend(analysis_store, demo, stages)
    table, p90, as_of = expected_cohorts(demo_raw, stages)
    assert trend.target == "won"
    assert trend.days_to_convert_p90 == pytest.approx(p90, abs=1e-9)
    assert pd.Timestamp(trend.as_of) == as_of == pd.Timestamp("2026-09-30")
    assert len(trend.cohorts) == 18
    assert_cohorts_match(trend.cohorts, table, p90, as_of)


def test_demo_latest_cohorts_are_immature_and_earlier_ones_mature(
    analysis_store: Store, demo: DatasetInfo
) -> None:
    trend = cohort_trend(analysis_store, demo, default_stages(demo))
    flags = [c.mature for c in trend.cohorts]
    assert flags[0] and not flags[-1]
    first_immature = flags.index(False)
    assert all(flags[:first_immature]) and not any(flags[first_immature:])
    assert 1 <= len(flags) - first_immature <= 6


def test_demo_cohorts_to_an_earlier_stage_use_that_stages_own_p90(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = ["lead", "mql", "sql"]
    trend = cohort_trend(analysis_store, demo, stages)
    table, p90, as_of = expected_cohorts(demo_raw, stages)
    assert trend.target == "sql"
    assert trend.days_to_convert_p90 == pytest.approx(p90, abs=1e-9)
    assert_cohorts_match(trend.cohorts, table, p90, as_of)


def test_demo_cohorts_under_a_filter_count_only_its_leads_but_keep_the_datasets_horizon(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    filters = Filters(equals=(("source", ("Seminar",)),), date_from=date(2025, 9, 1))
    trend = cohort_trend(analysis_store, demo, stages, filters)
    keep = demo_raw.keep("source", "Seminar") & demo_raw.created_between(date(2025, 9, 1), None)
    table, p90, as_of = expected_cohorts(demo_raw, stages, keep)
    assert trend.days_to_convert_p90 == pytest.approx(p90, abs=1e-9)
    assert_cohorts_match(trend.cohorts, table, p90, as_of)


def test_olist_cohorts_match_pandas_and_ignore_the_deal_won_before_first_contact(
    analysis_store: Store, olist: DatasetInfo, olist_raw: Raw
) -> None:
    trend = cohort_trend(analysis_store, olist, ["mql", "won"])
    table, p90, as_of = expected_cohorts(olist_raw, ["mql", "won"])
    assert table["n"].sum() == 8000 and table["converted"].sum() == 842
    assert trend.days_to_convert_p90 == pytest.approx(p90, abs=1e-9)
    assert pd.Timestamp(trend.as_of) == as_of
    assert_cohorts_match(trend.cohorts, table, p90, as_of)


def test_a_reloaded_dataset_gets_its_own_horizon(store: Store) -> None:
    # the dataset-wide days to convert and latest date are read once per load: a reload
    # under the same name (new data) must not reuse the old load's
    first = load_demo(store, "again", leads=300, seed=1).dataset
    before = cohort_trend(store, first, default_stages(first))
    second = load_demo(store, "again", leads=400, seed=2).dataset
    after = cohort_trend(store, second, default_stages(second))
    raw = generate_leads(400, seed=2)
    assert sum(c.n for c in after.cohorts) == 400
    assert pd.Timestamp(after.as_of) == max(
        pd.to_datetime(raw[c]).max()
        for c in ("created_at", "mql_date", "sql_date", "opportunity_date", "closed_date")
    )
    assert (before.days_to_convert_p90, before.as_of) != (after.days_to_convert_p90, after.as_of)


def test_a_dataset_without_dates_has_no_cohorts(analysis_store: Store, bank: DatasetInfo) -> None:
    with pytest.raises(Unavailable) as err:
        cohort_trend(analysis_store, bank, ["lead", "won"])
    assert err.value.code == "no_dates"
    assert t("analysis.no_dates", "en").startswith("This dataset has no created date")


def test_cohorts_of_a_filter_keeping_no_lead_are_empty(
    analysis_store: Store, demo: DatasetInfo
) -> None:
    filters = Filters(equals=(("source", ("Nowhere",)),))
    trend = cohort_trend(analysis_store, demo, default_stages(demo), filters)
    assert trend.cohorts == []
    full = cohort_trend(analysis_store, demo, default_stages(demo))
    assert trend.days_to_convert_p90 == full.days_to_convert_p90
    assert trend.as_of == full.as_of


# --- time to convert ----------------------------------------------------------------------------


def assert_transition_matches(transition: Transition, days: pd.Series) -> None:
    values = days.to_numpy(dtype=float)
    assert transition.n == len(values)
    for field, q in QUANTILES.items():
        assert getattr(transition, field) == pytest.approx(np.quantile(values, q), abs=1e-9), field
    p90 = np.quantile(values, 0.9)
    bucket = 7 if p90 > 28 else 1
    assert transition.bucket_days == bucket
    q99 = np.quantile(values, 0.99)
    within = values[values <= q99]
    expected = pd.Series(np.floor(within / bucket) * bucket).value_counts().sort_index()
    assert transition.histogram == [(float(b), int(c)) for b, c in expected.items()]
    assert sum(c for _, c in transition.histogram) == len(within)


def pairs(raw: Raw, a: str, b: str, keep: pd.Series | None = None) -> pd.Series:
    start, end = raw.dates[a], raw.dates[b]
    mask = start.notna() & end.notna()
    if b == "won":
        mask &= raw.evidence["won"]
    if keep is not None:
        mask &= keep
    return days_between(start[mask], end[mask])


def test_demo_time_between_consecutive_stages_matches_numpy(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = default_stages(demo)
    transitions = time_to_convert(analysis_store, demo, stages)
    assert [(tr.from_stage, tr.to_stage) for tr in transitions] == list(
        zip(stages, stages[1:], strict=False)
    )
    for tr in transitions:
        assert_transition_matches(tr, pairs(demo_raw, tr.from_stage, tr.to_stage))


def test_demo_time_to_convert_under_a_filter_matches_numpy(
    analysis_store: Store, demo: DatasetInfo, demo_raw: Raw
) -> None:
    stages = ["lead", "sql", "won"]
    filters = Filters(equals=(("source", ("Seminar", "Webinar")),), date_to=date(2026, 3, 31))
    keep = demo_raw.keep("source", "Seminar", "Webinar") & demo_raw.created_between(
        None, date(2026, 3, 31)
    )
    transitions = time_to_convert(analysis_store, demo, stages, filters)
    assert [(tr.from_stage, tr.to_stage) for tr in transitions] == [("lead", "sql"), ("sql", "won")]
    for tr in transitions:
        assert_transition_matches(tr, pairs(demo_raw, tr.from_stage, tr.to_stage, keep))


def test_olist_time_to_win_matches_numpy_including_the_deal_won_before_contact(
    analysis_store: Store, olist: DatasetInfo, olist_raw: Raw
) -> None:
    (transition,) = time_to_convert(analysis_store, olist, ["mql", "won"])
    days = pairs(olist_raw, "mql", "won")
    assert len(days) == 842 and (days < 0).sum() == 1
    assert_transition_matches(transition, days)


def test_a_dataset_without_dates_has_no_times_to_convert(
    analysis_store: Store, bank: DatasetInfo
) -> None:
    assert time_to_convert(analysis_store, bank, ["lead", "won"]) == []


def test_no_filter_is_the_same_as_the_default(analysis_store: Store, demo: DatasetInfo) -> None:
    stages = default_stages(demo)
    assert compute_funnel(analysis_store, demo, stages) == compute_funnel(
        analysis_store, demo, stages, NO_FILTERS
    )


# --- the whole page in one scan ------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        NO_FILTERS,
        Filters(date_from=date(2025, 10, 1), equals=(("source", ("Web form", "Ads")),)),
        Filters(equals=(("budget", (MISSING,)),)),
        Filters(equals=(("source", ("no such source",)),)),  # keeps no lead
        Filters(date_to=date(2025, 3, 31)),
        Filters(date_from=date(2025, 2, 1), date_to=date(2025, 2, 1)),  # one day
        Filters(equals=(("web_visits", ("0", "3")),)),  # a number, compared as text
        Filters(equals=(("budget", (MISSING, "Yes")), ("industry", ("Retail", "IT / Software")))),
    ],
)
@pytest.mark.parametrize(
    "stages", [None, ["lead", "won"], ["lead", "sql", "won"], ["mql", "opportunity"]]
)
def test_the_funnel_page_in_one_scan_is_each_view_computed_alone(
    analysis_store: Store, demo: DatasetInfo, filters: Filters, stages: list[str] | None
) -> None:
    stages = stages or default_stages(demo)
    page = funnel_page(analysis_store, demo, stages, filters)
    assert page.steps == compute_funnel(analysis_store, demo, stages, filters)
    assert page.trend == cohort_trend(analysis_store, demo, stages, filters)
    assert page.transitions == time_to_convert(analysis_store, demo, stages, filters)


def test_the_funnel_page_of_real_datasets_is_each_view_computed_alone(
    analysis_store: Store, olist: DatasetInfo, bank: DatasetInfo
) -> None:
    page = funnel_page(analysis_store, olist, ["mql", "won"])
    assert page.steps == compute_funnel(analysis_store, olist, ["mql", "won"])
    assert page.trend == cohort_trend(analysis_store, olist, ["mql", "won"])
    assert page.transitions == time_to_convert(analysis_store, olist, ["mql", "won"])
    without_dates = funnel_page(analysis_store, bank, ["lead", "won"])
    assert without_dates.steps == compute_funnel(analysis_store, bank, ["lead", "won"])
    assert without_dates.trend is None  # cohort_trend: Unavailable("no_dates")
    assert without_dates.transitions == []
    with pytest.raises(Unavailable):
        funnel_page(analysis_store, bank, ["lead"])
    dated = Filters(date_from=date(2024, 1, 1))
    with pytest.raises(FilterError) as refused:
        funnel_page(analysis_store, bank, ["lead", "won"], dated)
    assert refused.value.code == "filter_no_dates"
