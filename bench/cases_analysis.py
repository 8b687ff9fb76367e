"""Analysis cases: what the Funnel and Segments pages compute for one filter state.

Every case queries the same table: the demo leads (``generate_leads(rows, seed=7)``) stored
once per run by ``funnel.ingest.load_demo`` in a scratch DuckDB file (``Workspace.demo_store``),
so through the real mapping, validation and storage, reserved ``_funnel_*`` columns included.

The baseline is plain pandas/numpy on the same rows already in memory: the columns the pages
read, fetched once (untimed) from that table into a DataFrame as DuckDB hands them over
(pandas' default dtypes; no categoricals or indexes prepared for it). Each timed baseline call
then does what funnel's SQL does: boolean masks for the filters and the stages reached,
groupby/value_counts for the counts, quantiles, and Wilson intervals with numpy. Before timing,
each case checks once that both sides produce the same counts (and the same rates, intervals
and quantiles to 1e-9), so a broken side cannot look fast.

Goals from the issue (read, never asserted): each page's computation at most 150 ms median at
1M leads and 1.5 s at 10M.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import fisher_exact

from bench.harness import Trial, Workspace, case
from funnel.filters import MISSING, Filters
from funnel.funnels import FunnelPage, stage_dates, stages_for
from funnel.funnels import funnel_page as compute_funnel_page
from funnel.segments import (
    MISSING_ORDER,
    Binning,
    SegmentTable,
    numeric_columns,
    segment_table,
)
from funnel.stats import DEFAULT_MIN_N, Z95
from funnel.store import OUTCOME_COL, DatasetInfo, Store

#: The filter state measured: a date range start plus two of the seven sources. It keeps about
#: 40% of the demo leads (70% were created from October 2025 on, 57% of those by web form or ads).
FILTERS = Filters(date_from=date(2025, 10, 1), equals=(("source", ("Web form", "Ads")),))
#: Columns cut by the segment cases (``web_visits`` is numeric, so it is binned).
SEGMENT_TEXT = ("industry", "company_size")
SEGMENT_NUMBER = "web_visits"
TTC_QUANTILES = (0.25, 0.5, 0.75, 0.9, 0.99)

Bools = NDArray[np.bool_]
Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


# --- the cases ---------------------------------------------------------------------------------


@case(
    "funnel_page",
    "funnel_page (funnel, cohorts, time to convert; filtered) vs pandas masks/groupby/quantile",
)
def funnel_page(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    leads = _pandas_leads(ws, store, info)

    def run() -> FunnelPage:
        # what the page asks for (app/filters.py): the three views from one scan
        return compute_funnel_page(store, info, stages_for(store, info), FILTERS)

    def baseline() -> dict[str, Any]:
        return pandas_funnel_page(leads, FILTERS)

    _same_funnel_page(run(), baseline())
    return Trial(run=run, baseline=baseline)


@case(
    "segments_one",
    "segment_table by industry + by web_visits (5 quantile bins), filtered, vs pandas groupby",
)
def segments_one(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    leads = _pandas_leads(ws, store, info)

    def run() -> list[SegmentTable]:
        return [
            segment_table(store, info, [SEGMENT_TEXT[0]], FILTERS),
            segment_table(store, info, [SEGMENT_NUMBER], FILTERS),
        ]

    def baseline() -> list[dict[tuple[Any, ...], SegmentRow]]:
        return [
            pandas_segments(leads, [SEGMENT_TEXT[0]], FILTERS),
            pandas_segments(leads, [SEGMENT_NUMBER], FILTERS),
        ]

    for table, rows in zip(run(), baseline(), strict=True):
        _same_segments(table, rows, leads)
    return Trial(run=run, baseline=baseline)


@case(
    "segments_heatmap",
    "segment_table by industry x company_size, filtered, vs pandas groupby on both columns",
)
def segments_heatmap(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    leads = _pandas_leads(ws, store, info)

    def run() -> SegmentTable:
        return segment_table(store, info, list(SEGMENT_TEXT), FILTERS)

    def baseline() -> dict[tuple[Any, ...], SegmentRow]:
        return pandas_segments(leads, list(SEGMENT_TEXT), FILTERS)

    _same_segments(run(), baseline(), leads)
    return Trial(run=run, baseline=baseline)


# --- the pandas side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Leads:
    """The leads in memory, and which column plays which part (decided untimed)."""

    frame: pd.DataFrame
    created: str
    stages: tuple[str, ...]
    dates: dict[str, str]  # stage -> column holding the date it was reached
    numeric: frozenset[str]


def _pandas_leads(ws: Workspace, store: Store, info: DatasetInfo) -> Leads:
    def make() -> Leads:
        stages = tuple(stages_for(store, info))
        dates = {s: c for s, c in stage_dates(info).items() if c}
        created = info.mapping.column("created")
        assert created is not None
        # Only the columns the pages read: at 10M leads the whole table (30 columns, 14 of them
        # text) would cost gigabytes the baseline never touches.
        wanted = [created, *dates.values(), OUTCOME_COL, *(c for c, _ in FILTERS.equals)]
        wanted += [*SEGMENT_TEXT, SEGMENT_NUMBER]
        columns = ", ".join(f'"{c}"' for c in dict.fromkeys(wanted))
        with ws.step(f"fetching {len(dict.fromkeys(wanted))} columns into pandas"):
            frame = store.fetch_frame(f"SELECT {columns} FROM {info.table()}")
        ws.log(f"  frame: {frame.memory_usage(deep=True).sum() / 1e6:,.0f} MB")
        return Leads(frame, created, stages, dates, frozenset(numeric_columns(info)))

    return ws.memo("analysis_leads", make)


def filter_mask(leads: Leads, filters: Filters) -> Bools:
    """The rows ``filters.where`` selects, as a boolean mask (text compared as text)."""
    frame = leads.frame
    mask = np.ones(len(frame), dtype=bool)
    created = frame[leads.created]
    if filters.date_from:
        mask &= (created >= pd.Timestamp(filters.date_from)).to_numpy()
    if filters.date_to:
        mask &= (created < pd.Timestamp(filters.date_to + timedelta(days=1))).to_numpy()
    for column, values in filters.equals:
        wanted = [v for v in values if v != MISSING]
        col = frame[column]
        part = col.isin(wanted).to_numpy(dtype=bool, na_value=False)
        if MISSING in values:
            part |= col.isna().to_numpy()
        mask &= part
    return mask


def reached(leads: Leads) -> list[Bools]:
    """Per stage: reached it, i.e. has its date (won: the outcome) or reached a later one."""
    frame = leads.frame
    out: list[Bools] = []
    later = np.zeros(len(frame), dtype=bool)
    for stage in reversed(leads.stages[1:]):
        if stage == "won":
            evidence = (frame[OUTCOME_COL] == "won").to_numpy(dtype=bool, na_value=False)
        else:
            evidence = frame[leads.dates[stage]].notna().to_numpy()
        later = later | evidence
        out.append(later)
    out.append(np.ones(len(frame), dtype=bool))
    return out[::-1]


def wilson(k: NDArray[Any], n: NDArray[Any], z: float = Z95) -> tuple[Floats, Floats]:
    """Vectorised Wilson score interval (0, 0 where n is 0), as ``funnel.stats.wilson``."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low = np.where(n > 0, np.maximum(0.0, centre - half), 0.0)
        high = np.where(n > 0, np.minimum(1.0, centre + half), 0.0)
    return low, high


def _days(frame: pd.DataFrame, start: str, end: str, rows: Bools) -> Floats:
    """Days from ``start`` to ``end`` on the selected rows."""
    span = frame[end].to_numpy()[rows] - frame[start].to_numpy()[rows]
    days: Floats = span / np.timedelta64(1, "D")
    return days


def pandas_funnel_page(leads: Leads, filters: Filters) -> dict[str, Any]:
    """The Funnel page's numbers: stage counts, monthly cohorts, time between stages."""
    frame, stages = leads.frame, leads.stages
    mask = filter_mask(leads, filters)
    reach = reached(leads)

    # The funnel: leads reaching each stage, conversion from the previous and the first stage.
    counts = np.array([np.count_nonzero(r & mask) for r in reach])
    with np.errstate(divide="ignore", invalid="ignore"):
        from_previous = counts[1:] / counts[:-1]
        from_first = counts / counts[0]
    drop_off = np.concatenate([[0], counts[:-1] - counts[1:]])

    # Cohorts: conversion to the last stage by creation month, Wilson interval, maturity.
    created = frame[leads.created]
    target = leads.dates.get(stages[-1])
    p90: float | None = None
    if target is not None:
        ok = reach[-1] & (frame[target] >= created).to_numpy(dtype=bool, na_value=False)
        waits = _days(frame, leads.created, target, ok)
        p90 = float(np.quantile(waits, 0.9)) if len(waits) else None
    as_of = max(frame[c].max() for c in dict.fromkeys([leads.created, *leads.dates.values()]))
    in_cohort = mask & created.notna().to_numpy()
    months = created.to_numpy()[in_cohort].astype("datetime64[M]")
    cohorts = (
        pd.DataFrame({"month": months, "hit": reach[-1][in_cohort]})
        .groupby("month", sort=True)["hit"]
        .agg(["size", "sum"])
    )
    n, converted = cohorts["size"].to_numpy(), cohorts["sum"].to_numpy()
    low, high = wilson(converted, n)
    starts = cohorts.index.to_numpy().astype("datetime64[M]")  # pandas keeps them as [s]
    month_start = starts.astype("datetime64[D]")
    month_end = (starts + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    wait = np.timedelta64(math.ceil(p90 or 0.0), "D")
    mature = month_end + wait <= np.datetime64(as_of, "D")

    # Time to convert: quantiles and histogram of days between consecutive dated stages.
    transitions = []
    for a, b in zip(stages, stages[1:], strict=False):
        if a not in leads.dates or b not in leads.dates:
            continue
        da, db = leads.dates[a], leads.dates[b]
        both = mask & frame[da].notna().to_numpy() & frame[db].notna().to_numpy()
        if b == "won":
            both &= (frame[OUTCOME_COL] == "won").to_numpy(dtype=bool, na_value=False)
        d = _days(frame, da, db, both)
        q = np.quantile(d, TTC_QUANTILES) if len(d) else np.full(len(TTC_QUANTILES), np.nan)
        bucket = 7 if len(d) and q[3] > 28 else 1
        shown = d[d <= q[4]] if len(d) else d
        hist = pd.Series(np.floor(shown / bucket) * bucket).value_counts().sort_index()
        transitions.append(
            {"from": a, "to": b, "n": len(d), "q": q, "bucket": bucket, "hist": hist}
        )

    return {
        "counts": counts,
        "from_previous": from_previous,
        "from_first": from_first,
        "drop_off": drop_off,
        "cohorts": {
            "month": month_start,
            "n": n,
            "converted": converted,
            "rate": converted / n,
            "ci_low": low,
            "ci_high": high,
            "mature": mature,
            "p90": p90,
            "as_of": as_of,
        },
        "transitions": transitions,
    }


@dataclass(frozen=True)
class SegmentRow:
    n: int
    converted: int
    rate: float
    ci_low: float
    ci_high: float
    lift: float | None
    small_sample: bool
    best: bool
    worst: bool


def bin_codes(values: pd.Series, selected: Bools, q: int = Binning().q) -> Floats:
    """Quantile bins of the selected rows of a numeric column as funnel numbers them.

    Edges are the quantiles of the selected values (duplicates dropped); a value's bin is how
    many edges are at or below it; missing values get NaN.

    >>> bin_codes(pd.Series([1, 2, 3, 4, None, 9]), np.array([1, 1, 1, 1, 1, 0], bool), q=2)
    array([ 0.,  0.,  1.,  1., nan])
    """
    x = values.to_numpy(dtype=np.float64, na_value=np.nan)[selected]
    present = ~np.isnan(x)
    found = np.quantile(x[present], [i / q for i in range(1, q)]) if present.any() else x[:0]
    edges = np.unique(found[np.isfinite(found)])
    codes = np.searchsorted(edges, x, side="right").astype(np.float64)
    codes[~present] = np.nan
    return codes


def pandas_segments(
    leads: Leads, by: Sequence[str], filters: Filters, *, min_n: int = DEFAULT_MIN_N
) -> dict[tuple[Any, ...], SegmentRow]:
    """Conversion first stage -> last stage per segment, keyed as funnel orders segments.

    Text keys are the value (``(missing)`` for NULL); numeric keys are the bin number
    (``MISSING_ORDER`` for missing), as in ``Segment.order``.
    """
    reach = reached(leads)
    selected = filter_mask(leads, filters) & reach[0]
    keys: dict[str, Any] = {}
    for i, column in enumerate(by):
        if column in leads.numeric:
            keys[f"k{i}"] = bin_codes(leads.frame[column], selected)
        else:  # stays a pandas (Arrow) string column: to_numpy() objects would be 7x slower
            keys[f"k{i}"] = leads.frame[column][selected].reset_index(drop=True)
    groups = (
        pd.DataFrame({**keys, "hit": reach[-1][selected]})
        .groupby(list(keys), dropna=False, sort=False)["hit"]
        .agg(["size", "sum"])
    )
    n, converted = groups["size"].to_numpy(), groups["sum"].to_numpy()
    rate = converted / n
    low, high = wilson(converted, n)
    total_n, total_converted = int(n.sum()), int(converted.sum())
    overall = total_converted / total_n if total_n else None
    lift = rate / overall if overall else np.full(len(n), np.nan)
    small = n < min_n
    ranked = ~small
    best, worst = _best_and_worst(n, converted, ranked & (n < total_n))
    index = groups.index if len(by) > 1 else [(k,) for k in groups.index]
    out: dict[tuple[Any, ...], SegmentRow] = {}
    for j, key in enumerate(index):
        named = tuple(_key_name(value, by[i] in leads.numeric) for i, value in enumerate(key))
        out[named] = SegmentRow(
            int(n[j]),
            int(converted[j]),
            float(rate[j]),
            float(low[j]),
            float(high[j]),
            None if overall is None else float(lift[j]),
            bool(small[j]),
            bool(best[j]),
            bool(worst[j]),
        )
    return out


def _best_and_worst(n: Ints, converted: Ints, ranked: Bools) -> tuple[Bools, Bools]:
    """Best and worst as funnel names them: Fisher's exact test (central) of each segment against
    the rest, Holm-adjusted over the ranked ones; best is the highest rate significantly above
    the rest (more leads on a tie), worst the lowest below, each kept only when it also converts
    apart from the runner-up on its side (the same test, the two against each other, Bonferroni
    over the best's and the worst's check)."""
    best = np.zeros(len(n), dtype=bool)
    worst = np.zeros(len(n), dtype=bool)
    index = np.flatnonzero(ranked)
    if len(index) < 2:
        return best, worst
    total_n, total_conv = int(n.sum()), int(converted.sum())
    sides = ("less", "greater")  # two-sided: twice the smaller one-sided p, as funnel's
    raw = np.array(
        [
            min(1.0, 2 * min(fisher_exact(table, alternative=side).pvalue for side in sides))
            for table in (
                [
                    [converted[i], n[i] - converted[i]],
                    [total_conv - converted[i], total_n - n[i] - total_conv + converted[i]],
                ]
                for i in index
            )
        ]
    )
    order = np.argsort(raw, kind="stable")
    adjusted = np.empty(len(raw))
    adjusted[order] = np.minimum(
        np.maximum.accumulate((len(raw) - np.arange(len(raw))) * raw[order]), 1.0
    )
    rate = converted[index] / n[index]
    rest = (total_conv - converted[index]) / (total_n - n[index])
    above = (adjusted < 0.05) & (rate > rest)
    below = (adjusted < 0.05) & (rate < rest)
    if above.any():
        pick = max(np.flatnonzero(above), key=lambda j: (rate[j], n[index[j]]))
        others = [j for j in range(len(index)) if j != pick]
        runner_up = max(others, key=lambda j: (rate[j], n[index[j]]))
        best[index[pick]] = _apart(n, converted, index[pick], index[runner_up])
    if below.any():
        pick = min(np.flatnonzero(below), key=lambda j: (rate[j], -n[index[j]]))
        others = [j for j in range(len(index)) if j != pick]
        runner_up = min(others, key=lambda j: (rate[j], -n[index[j]]))
        worst[index[pick]] = _apart(n, converted, index[pick], index[runner_up])
    return best, worst


def _apart(n: Ints, converted: Ints, i: int, j: int) -> bool:
    """Whether segment ``i`` converts apart from segment ``j`` (central Fisher, Bonferroni x2)."""
    table = [[converted[i], n[i] - converted[i]], [converted[j], n[j] - converted[j]]]
    sides = ("less", "greater")
    central = min(1.0, 2 * min(fisher_exact(table, alternative=side).pvalue for side in sides))
    return bool(min(1.0, 2 * central) < 0.05)


def _key_name(value: Any, numeric: bool) -> Any:
    missing = value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
    if numeric:
        return MISSING_ORDER if missing else int(value)
    return MISSING if missing else str(value)


# --- the checks (untimed, once per case) -------------------------------------------------------


class Mismatch(AssertionError):
    """funnel and the pandas baseline disagree: the case would time different work."""


def _check(ok: bool, what: str, got: object, expected: object) -> None:
    if not ok:
        raise Mismatch(f"{what}: funnel {got!r} != pandas {expected!r}")


def _close(a: Sequence[float | None] | Floats, b: Sequence[float | None] | Floats) -> bool:
    x = np.array([np.nan if v is None else v for v in a], dtype=np.float64)
    y = np.array([np.nan if v is None else v for v in b], dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))


def _same_funnel_page(page: FunnelPage, expected: dict[str, Any]) -> None:
    counts = [s.n for s in page.steps]
    _check(counts == expected["counts"].tolist(), "stage counts", counts, expected["counts"])
    _check(counts[0] > 0, "filtered leads", counts[0], "more than none")
    prev = [s.rate_from_previous for s in page.steps[1:]]
    _check(_close(prev, expected["from_previous"]), "rate from previous", prev, "")
    first = [s.rate_from_first for s in page.steps]
    _check(_close(first, expected["from_first"]), "rate from first", first, "")
    drops = [s.drop_off for s in page.steps]
    _check(drops == expected["drop_off"].tolist(), "drop-off", drops, expected["drop_off"])

    trend, want = page.trend, expected["cohorts"]
    if trend is None:
        raise RuntimeError("the demo leads have created dates, but the page found no cohorts")
    months = [np.datetime64(c.month, "D") for c in trend.cohorts]
    _check(months == list(want["month"]), "cohort months", months, want["month"])
    for field in ("n", "converted"):
        got = [getattr(c, field) for c in trend.cohorts]
        _check(got == want[field].tolist(), f"cohort {field}", got, want[field])
    for field in ("rate", "ci_low", "ci_high"):
        got = [getattr(c, field) for c in trend.cohorts]
        _check(_close(got, want[field]), f"cohort {field}", got, want[field])
    mature = [c.mature for c in trend.cohorts]
    _check(mature == want["mature"].tolist(), "cohort maturity", mature, want["mature"])
    _check(_close([trend.days_to_convert_p90], [want["p90"]]), "p90", trend, want["p90"])
    _check(trend.as_of == want["as_of"], "as of", trend.as_of, want["as_of"])

    got_t = [(t.from_stage, t.to_stage, t.n) for t in page.transitions]
    want_t = [(t["from"], t["to"], t["n"]) for t in expected["transitions"]]
    _check(got_t == want_t, "transitions", got_t, want_t)
    for t, w in zip(page.transitions, expected["transitions"], strict=True):
        what = f"{t.from_stage}->{t.to_stage}"
        q = [t.p25_days, t.median_days, t.p75_days, t.p90_days]
        _check(_close(q, w["q"][:4]), f"{what} quantiles", q, w["q"][:4])
        _check(t.bucket_days == w["bucket"], f"{what} bucket", t.bucket_days, w["bucket"])
        hist = dict(t.histogram)
        want_hist = {float(k): int(v) for k, v in w["hist"].items()}
        _check(hist == want_hist, f"{what} histogram", hist, want_hist)


def _same_segments(
    table: SegmentTable, expected: dict[tuple[Any, ...], SegmentRow], leads: Leads
) -> None:
    what = " x ".join(table.by)
    got: dict[tuple[Any, ...], SegmentRow] = {}
    for s in table.segments:
        key = tuple(
            s.order[i] if column in leads.numeric else s.keys[i]
            for i, column in enumerate(table.by)
        )
        got[key] = SegmentRow(
            s.n,
            s.converted,
            s.rate if s.rate is not None else math.nan,
            s.ci_low,
            s.ci_high,
            s.lift,
            s.small_sample,
            s.best,
            s.worst,
        )
    _check(got.keys() == expected.keys(), f"{what} segments", sorted(got), sorted(expected))
    _check(len(got) > 1, f"{what} segments", len(got), "more than one")
    for key, want in expected.items():
        have = got[key]
        exact = (have.n, have.converted, have.small_sample, have.best, have.worst)
        wanted = (want.n, want.converted, want.small_sample, want.best, want.worst)
        _check(exact == wanted, f"{what} {key}", exact, wanted)
        floats = [have.rate, have.ci_low, have.ci_high, have.lift]
        wanted_floats = [want.rate, want.ci_low, want.ci_high, want.lift]
        _check(_close(floats, wanted_floats), f"{what} {key}", floats, wanted_floats)
    _check(table.n == sum(r.n for r in expected.values()), f"{what} total", table.n, expected)
