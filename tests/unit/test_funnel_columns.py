"""The Funnel page's kept columns: DuckDB's own numbers from numpy, and never a stale load.

:func:`funnel.funnels.funnel_page` counts from :mod:`funnel.funnel_columns` instead of
scanning the table; tests/unit/test_funnels.py checks it against the SQL views for every
filter kind. Here: its quantiles and histograms against DuckDB's, and that a dataset reloaded
or refreshed is counted from its new rows, not from the columns kept for the old ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

import funnel.funnel_columns
from funnel.demo import generate_leads
from funnel.filters import NO_FILTERS, FilterError, Filters
from funnel.funnel_columns import histogram, lead_columns, quantiles_cont
from funnel.funnels import (
    cohort_trend,
    compute_funnel,
    default_stages,
    funnel_page,
    time_to_convert,
)
from funnel.ingest import load_files
from funnel.readers import SourceFile
from funnel.store import DatasetInfo, Store

QUANTILES = [0.25, 0.5, 0.75, 0.9, 0.99]


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    funnel.funnel_columns.forget_all()
    yield
    funnel.funnel_columns.forget_all()


def samples() -> Iterator[np.ndarray]:
    rng = np.random.default_rng(16)
    yield np.array([3.5])
    yield np.array([2.0, -1.0])
    yield np.repeat([0.0, 7.0, 7.0, 30.25], 5)
    for i in range(200):
        values = rng.exponential(40.0, int(rng.integers(2, 2500))) - rng.random() * 5
        if i % 2:  # whole seconds, as date_diff('second', ...) / 86400.0 gives
            values = np.round(values * 86400) / 86400.0
        yield values


def test_quantiles_are_duckdbs_quantile_cont_to_the_last_bit() -> None:
    con = duckdb.connect()
    for values in samples():
        (expected,) = con.execute(
            "SELECT quantile_cont(x, [0.25, 0.5, 0.75, 0.9, 0.99]) FROM unnest(?) AS t(x)",
            [values.tolist()],
        ).fetchone() or (None,)
        assert quantiles_cont(np.sort(values), QUANTILES) == expected, len(values)


def test_histograms_count_each_value_where_sqls_floor_puts_it() -> None:
    con = duckdb.connect()
    for values in list(samples())[:40]:
        for bucket in (1, 7):
            expected = con.execute(
                "SELECT floor(x / ?) * ? AS b, count(*) FROM unnest(?) AS t(x) GROUP BY b "
                "ORDER BY b",
                [bucket, bucket, values.tolist()],
            ).fetchall()
            assert histogram(np.sort(values), bucket) == expected


def views(store: Store, info: DatasetInfo, filters: Filters = NO_FILTERS) -> tuple[object, ...]:
    """What the three SQL views say: the page must say the same."""
    stages = default_stages(info)
    return (
        compute_funnel(store, info, stages, filters),
        cohort_trend(store, info, stages, filters),
        time_to_convert(store, info, stages, filters),
    )


def page(store: Store, info: DatasetInfo, filters: Filters = NO_FILTERS) -> tuple[object, ...]:
    shown = funnel_page(store, info, default_stages(info), filters)
    return (shown.steps, shown.trend, shown.transitions)


def later_export(frame: pd.DataFrame) -> pd.DataFrame:
    """The same leads months later: every open lead now won on 2026-03-01, 500 new leads."""
    later = frame.copy()
    opened = later["outcome"] == "Open"
    later.loc[opened, "outcome"] = "Won"
    later.loc[opened, "closed_date"] = pd.Timestamp("2026-03-01")
    fresh = generate_leads(500, seed=41)
    fresh["lead_id"] = [f"L{i:05d}" for i in range(len(fresh))]
    return pd.concat([later, fresh], ignore_index=True)


def test_a_refreshed_or_reloaded_dataset_is_counted_from_its_new_rows(store: Store) -> None:
    frame = generate_leads(3000, seed=5)
    filters = Filters(date_from=date(2025, 6, 1), equals=(("source", ("Web form", "Ads")),))
    first = load_files(store, "crm", SourceFile("crm.csv", frame, "csv")).dataset
    before = page(store, first, filters)
    assert before == views(store, first, filters)
    kept = lead_columns(store, first)

    refreshed = load_files(
        store,
        "crm",
        SourceFile("crm.csv", later_export(frame), "csv"),
        refresh=True,
        accept_changed_outcomes=True,
    ).dataset
    after = page(store, refreshed, filters)

    assert lead_columns(store, refreshed) is not kept
    assert after == views(store, refreshed, filters)
    assert after != before  # open leads won: more reached the last stage

    replaced = load_files(store, "crm", SourceFile("crm.csv", frame.iloc[:1000], "csv")).dataset
    assert page(store, replaced, filters) == views(store, replaced, filters)
    assert funnel_page(store, replaced, default_stages(replaced)).steps[0].n == 1000


def test_the_kept_columns_make_room_for_the_dataset_in_use(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(funnel.funnel_columns, "KEPT_DATASETS", 1)
    frame = generate_leads(500, seed=3)
    a = load_files(store, "a", SourceFile("a.csv", frame, "csv")).dataset
    b = load_files(store, "b", SourceFile("b.csv", frame.iloc[:200], "csv")).dataset
    kept_a = lead_columns(store, a)
    assert page(store, a) == views(store, a)
    assert page(store, b) == views(store, b)
    assert lead_columns(store, a) is not kept_a  # dropped for b, read again
    assert page(store, a) == views(store, a)


def test_a_filter_on_a_column_the_dataset_lacks_is_refused_as_the_sql_views_refuse_it(
    store: Store,
) -> None:
    info = load_files(store, "crm", SourceFile("crm.csv", generate_leads(300), "csv")).dataset
    filters = Filters(equals=(("no such column", ("x",)),))
    with pytest.raises(FilterError) as refused:
        funnel_page(store, info, default_stages(info), filters)
    with pytest.raises(FilterError) as by_sql:
        compute_funnel(store, info, default_stages(info), filters)
    assert refused.value.code == by_sql.value.code == "filter_unknown_column"
    assert str(refused.value) == str(by_sql.value)
