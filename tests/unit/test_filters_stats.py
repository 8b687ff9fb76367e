"""Filters and honest statistics: every value bound (never spliced into SQL), plain errors for
filters that cannot apply, and a Wilson interval checked against an independent formula.

Expected numbers come from plain pandas on the generated demo frame, never from funnel's tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.filters import (
    MISSING,
    NO_FILTERS,
    FilterError,
    Filters,
    column_values,
    date_span,
    parse_date,
    parse_where,
)
from funnel.fragment import Fragment, compose
from funnel.funnels import compute_funnel
from funnel.i18n import t
from funnel.ingest import load_demo, load_files, read_inputs
from funnel.stats import DEFAULT_MIN_N, Z95, rate, wilson, wilson_sql
from funnel.store import DatasetInfo, Store
from tests.support import snapshot

DEMO_LEADS = 20_000
Z = 1.959963984540054


def reference_wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """Wilson score interval in its 'closed' form, written independently of funnel.stats."""
    if n == 0:
        return 0.0, 0.0
    root = z * math.sqrt(z * z + 4 * k * (n - k) / n)
    low = (2 * k + z * z - root) / (2 * (n + z * z))
    high = (2 * k + z * z + root) / (2 * (n + z * z))
    return max(0.0, low), min(1.0, high)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("filters") / "funnel.duckdb") as store:
        load_demo(store, "demo", leads=DEMO_LEADS)
        yield store


@pytest.fixture(scope="module")
def demo(demo_store: Store) -> DatasetInfo:
    return demo_store.require("demo")


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_leads(DEMO_LEADS, seed=7)


def matching(store: Store, info: DatasetInfo, filters: Filters) -> int:
    """How many leads a filter keeps, counted through funnel's own WHERE clause."""
    query = compose(f"SELECT count(*) AS n FROM {info.table()} WHERE {{w}}", w=filters.where(info))
    row = store.fetch_frame(query.sql, query.params)
    return int(row["n"].iloc[0])


# --- statistics --------------------------------------------------------------------------


def test_z95_is_the_two_sided_95_percent_quantile() -> None:
    assert Z95 == Z
    assert DEFAULT_MIN_N == 30


@pytest.mark.parametrize(
    ("k", "n"),
    [(0, 1), (1, 1), (0, 10), (10, 10), (1, 2), (3, 7), (842, 8000), (5289, 45211), (1, 100000)],
)
def test_wilson_matches_an_independent_formula(k: int, n: int) -> None:
    low, high = wilson(k, n)
    ref_low, ref_high = reference_wilson(k, n)
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)
    assert 0.0 <= low <= k / n + 1e-15
    assert k / n - 1e-15 <= high <= 1.0


def test_wilson_bounds_are_exactly_zero_with_no_success_and_one_with_no_failure() -> None:
    # Downstream code compares these bounds with an overall rate of exactly 0.0 or 1.0
    # ("clearly above/below"), so rounding dust such as 3.5e-18 must not appear.
    none_low, _ = wilson_sql("0", "n")
    _, all_high = wilson_sql("n", "n")
    with duckdb.connect() as conn:
        rows = conn.execute(
            f"SELECT n, {none_low}, {all_high} FROM range(1, 301) r(n) ORDER BY n"
        ).fetchall()
    for n, sql_low, sql_high in rows:
        assert (wilson(0, n)[0], sql_low) == (0.0, 0.0), n
        assert (wilson(n, n)[1], sql_high) == (1.0, 1.0), n


def test_wilson_of_an_empty_group_is_zero_zero() -> None:
    assert wilson(0, 0) == (0.0, 0.0)
    assert reference_wilson(0, 0) == (0.0, 0.0)


def test_wilson_interval_narrows_as_the_sample_grows() -> None:
    small = wilson(10, 100)
    large = wilson(1000, 10000)
    assert small[1] - small[0] > large[1] - large[0]


@pytest.mark.parametrize(
    ("k", "n"), [(0, 0), (0, 1), (1, 1), (0, 10), (10, 10), (3, 7), (842, 8000), (5289, 45211)]
)
def test_wilson_sql_computed_in_duckdb_matches_the_independent_formula(k: int, n: int) -> None:
    low_sql, high_sql = wilson_sql("k", "n")
    with duckdb.connect() as conn:
        row = conn.execute(
            f"SELECT {low_sql}, {high_sql} FROM (SELECT ?::BIGINT AS k, ?::BIGINT AS n)", [k, n]
        ).fetchone()
    assert row is not None
    ref_low, ref_high = reference_wilson(k, n)
    assert row[0] == pytest.approx(ref_low, abs=1e-12)
    assert row[1] == pytest.approx(ref_high, abs=1e-12)


def test_rate_is_none_for_an_empty_group() -> None:
    assert rate(1, 4) == 0.25
    assert rate(0, 0) is None


# --- Filters as values -------------------------------------------------------------------


def test_no_filters_is_inactive_and_describes_nothing(demo: DatasetInfo) -> None:
    assert not NO_FILTERS.active
    assert NO_FILTERS.where(demo) == Fragment("TRUE")
    assert NO_FILTERS.describe() == []


def test_filters_describe_the_date_range_and_every_value_in_plain_text() -> None:
    filters = Filters(
        date_from=date(2025, 6, 1),
        date_to=date(2025, 12, 31),
        equals=(("source", ("Seminar", "Ads")), ("budget", (MISSING,))),
    )
    assert filters.active
    assert filters.describe() == [
        ("created", "2025-06-01 – 2025-12-31"),
        ("source", "Seminar, Ads"),
        ("budget", MISSING),
    ]
    assert Filters(date_to=date(2025, 1, 31)).describe() == [("created", "… – 2025-01-31")]


def test_filter_keys_are_stable_and_keep_japanese_readable() -> None:
    a = Filters(equals=(("業種", ("製造業",)),))
    assert a.key() == Filters(equals=(("業種", ("製造業",)),)).key()
    assert "製造業" in a.key()
    assert a.key() != Filters(equals=(("業種", ("小売",)),)).key()


@pytest.mark.parametrize(
    "filters",
    [
        NO_FILTERS,
        Filters(date_from=date(2025, 6, 1)),
        Filters(date_to=date(2026, 1, 31), equals=(("業種", ("製造業", MISSING)),)),
        Filters(date(2025, 1, 1), date(2025, 1, 31), (('会社 "規模"', ("O'Reilly",)),)),
    ],
)
def test_filters_rebuilt_from_their_key_are_equal(filters: Filters) -> None:
    assert Filters.from_key(filters.key()) == filters


def test_combining_filters_keeps_the_narrower_dates_and_both_value_conditions() -> None:
    a = Filters(date_from=date(2025, 5, 1), date_to=date(2026, 5, 1), equals=(("x", ("1",)),))
    b = Filters(date_from=date(2025, 7, 1), date_to=date(2026, 1, 31), equals=(("y", ("2",)),))
    both = a.and_(b)
    assert both.date_from == date(2025, 7, 1)
    assert both.date_to == date(2026, 1, 31)
    assert both.equals == (("x", ("1",)), ("y", ("2",)))
    assert NO_FILTERS.and_(a) == a


def test_parse_where_groups_repeated_columns_and_keeps_equals_signs_in_values() -> None:
    assert parse_where(["source=Ads", " source = Seminar ", "業種=製造業", "note=a=b"]) == (
        ("source", ("Ads", "Seminar")),
        ("業種", ("製造業",)),
        ("note", ("a=b",)),
    )
    assert parse_where([]) == ()


def test_parse_where_rejects_an_item_without_equals_sign_in_plain_words() -> None:
    with pytest.raises(FilterError) as err:
        parse_where(["source=Ads", "Seminar"])
    assert err.value.code == "filter_syntax"
    assert err.value.params == {"item": "Seminar"}
    assert t("analysis.filter_syntax", "en", **err.value.params) == (
        "Write filters as COLUMN=VALUE, not Seminar."
    )


def test_parse_date_reads_iso_dates_and_treats_blank_as_no_limit() -> None:
    assert parse_date("2025-04-01") == date(2025, 4, 1)
    assert parse_date(" 2025-04-01 ") == date(2025, 4, 1)
    assert parse_date(None) is None
    assert parse_date("") is None


@pytest.mark.parametrize("text", ["2025-13-01", "yesterday", "01/04/2025", "2025-02-30"])
def test_parse_date_rejects_a_non_date_in_plain_words(text: str) -> None:
    with pytest.raises(FilterError) as err:
        parse_date(text)
    assert err.value.code == "filter_bad_date"
    assert t("analysis.filter_bad_date", "en", **err.value.params) == (
        f"{text} is not a date: write YYYY-MM-DD."
    )


# --- Filters against the demo data --------------------------------------------------------


def test_a_value_filter_keeps_exactly_the_leads_with_that_value(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("source", ("Seminar",)),))
    assert matching(demo_store, demo, filters) == int((frame["source"] == "Seminar").sum())


def test_several_values_for_one_column_keep_leads_with_any_of_them(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("source", ("Seminar", "Ads", "Referral")),))
    expected = int(frame["source"].isin(["Seminar", "Ads", "Referral"]).sum())
    assert matching(demo_store, demo, filters) == expected


def test_filters_on_two_columns_must_both_hold(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    filters = Filters(equals=(("source", ("Seminar",)), ("industry", ("Finance", "Retail"))))
    expected = (frame["source"] == "Seminar") & frame["industry"].isin(["Finance", "Retail"])
    assert matching(demo_store, demo, filters) == int(expected.sum())


def test_the_missing_value_selects_empty_cells(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    missing = int(frame["budget"].isna().sum())
    assert missing > 0
    assert matching(demo_store, demo, Filters(equals=(("budget", (MISSING,)),))) == missing
    with_yes = Filters(equals=(("budget", (MISSING, "Yes")),))
    expected = int((frame["budget"].isna() | (frame["budget"] == "Yes")).sum())
    assert matching(demo_store, demo, with_yes) == expected


def test_a_number_column_is_filtered_by_its_text(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    value = int(frame["inquiries"].mode().iloc[0])
    filters = Filters(equals=(("inquiries", (str(value),)),))
    assert matching(demo_store, demo, filters) == int((frame["inquiries"] == value).sum())


def test_the_date_range_includes_both_end_days(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    day = frame["created_at"].dt.normalize()
    start, end = date(2025, 6, 1), date(2025, 12, 31)
    filters = Filters(date_from=start, date_to=end)
    expected = (day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end))
    assert matching(demo_store, demo, filters) == int(expected.sum())
    single = Filters(date_from=end, date_to=end)
    assert matching(demo_store, demo, single) == int((day == pd.Timestamp(end)).sum()) > 0


def test_an_open_ended_date_range_counts_from_or_until_one_day(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    day = frame["created_at"].dt.normalize()
    cut = date(2026, 3, 15)
    assert matching(demo_store, demo, Filters(date_from=cut)) == int(
        (day >= pd.Timestamp(cut)).sum()
    )
    assert matching(demo_store, demo, Filters(date_to=cut)) == int((day <= pd.Timestamp(cut)).sum())


def test_an_empty_value_list_keeps_no_lead(demo_store: Store, demo: DatasetInfo) -> None:
    assert matching(demo_store, demo, Filters(equals=(("source", ()),))) == 0


def test_the_date_span_is_the_first_and_last_creation_day(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame
) -> None:
    created = frame["created_at"]
    assert date_span(demo_store, demo) == (created.min().date(), created.max().date())


@pytest.mark.parametrize("column", ["source", "budget", "employees"])
def test_column_values_come_most_frequent_first_and_each_selects_its_leads(
    demo_store: Store, demo: DatasetInfo, frame: pd.DataFrame, column: str
) -> None:
    values = column_values(demo_store, demo, column, limit=40)
    counts = frame[column].astype("string").fillna(MISSING).value_counts()
    assert set(values) <= set(counts.index)
    assert len(values) == min(40, len(counts))
    got = [int(counts[v]) for v in values]
    assert got == sorted(got, reverse=True)
    assert got[0] == int(counts.iloc[0])
    for value in values[:12]:
        filters = Filters(equals=((column, (value,)),))
        assert matching(demo_store, demo, filters) == int(counts[value]), value


def test_column_values_of_an_unknown_column_is_a_filter_error(
    demo_store: Store, demo: DatasetInfo
) -> None:
    with pytest.raises(FilterError) as err:
        column_values(demo_store, demo, "nope")
    assert err.value.code == "filter_unknown_column"


@pytest.mark.parametrize(
    "value",
    [
        "x' OR '1'='1",
        "Seminar' OR 1=1 --",
        "Seminar'); DROP TABLE leads; --",
        '" OR ""="',
        "?",
        "$1",
    ],
)
def test_sql_shaped_values_are_bound_so_they_match_nothing_and_change_nothing(
    demo_store: Store, demo: DatasetInfo, value: str
) -> None:
    filters = Filters(equals=(("source", (value,)),))
    assert filters.where(demo) == Fragment('(CAST("source" AS VARCHAR) IN (?))', (value,))
    assert matching(demo_store, demo, filters) == 0
    steps = compute_funnel(demo_store, demo, ["lead", "won"], filters)
    assert [s.n for s in steps] == [0, 0]
    assert demo_store.require("demo").leads == DEMO_LEADS
    assert matching(demo_store, demo, NO_FILTERS) == DEMO_LEADS


def test_a_filter_on_an_unknown_column_names_it_and_leaves_the_data_untouched(
    demo_store: Store, demo: DatasetInfo
) -> None:
    before = snapshot(demo_store, "demo")
    for column in ("no_such_column", 'source" OR 1=1 --', "_funnel_outcome"):
        with pytest.raises(FilterError) as err:
            Filters(equals=((column, ("x",)),)).where(demo)
        assert err.value.code == "filter_unknown_column"
        assert err.value.params["column"] == column
        message = t("analysis.filter_unknown_column", "en", **err.value.params)
        assert message.startswith(f"There is no column {column} to filter on. Columns: lead_id")
    assert snapshot(demo_store, "demo") == before


def test_a_date_filter_on_a_dataset_without_dates_says_so(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("customer,job,y\nc1,admin.,yes\nc2,services,no\nc3,admin.,no\n", "utf-8")
    leads, _, _ = read_inputs(path)
    info = load_files(store, "calls", leads, outcome_column="y").dataset
    assert info.mapping.column("created") is None
    with pytest.raises(FilterError) as err:
        Filters(date_from=date(2025, 1, 1)).where(info)
    assert err.value.code == "filter_no_dates"
    assert t("analysis.filter_no_dates", "en", **err.value.params) == (
        "calls has no created date, so it cannot be filtered by date."
    )
    assert date_span(store, info) is None
    # value filters still work on it
    assert matching(store, info, Filters(equals=(("job", ("admin.",)),))) == 2
