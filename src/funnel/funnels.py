"""The funnel: stages in order, conversion between them, cohorts and time to convert.

A lead *reaches* a stage when it has that stage's date, or reached any later stage in the
chosen order (a won lead whose SQL date was never filled in still passed SQL). The first stage
is every lead; ``won`` is the outcome. All counting happens in one DuckDB query per view.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import bind, compose
from funnel.funnel_columns import (
    NULL_INT,
    Chosen,
    LeadColumns,
    bucket_starts,
    day_sql,
    keep,
    lead_columns,
)
from funnel.i18n import CodedError
from funnel.stats import wilson, wilson_sql
from funnel.store import CLOSED_COL, OUTCOME_COL, DatasetInfo, Store, quote_ident

STAGE_ORDER = ("lead", "mql", "sql", "opportunity", "won")
STAGES_SETTING = "funnel_stages"
#: What each transition reports: p25, median, p75, p90, and p99 (where its histogram stops).
TRANSITION_QUANTILES = (0.25, 0.5, 0.75, 0.9, 0.99)


class Unavailable(CodedError):
    """A view that this dataset cannot show; ``code`` says why (e.g. ``no_dates``)."""

    prefix = "analysis"


def stage_dates(info: DatasetInfo) -> dict[str, str | None]:
    """The stages this dataset has, each with the column holding the date it was reached.

    The first stage's date is the created date; ``won`` uses the outcome's closed date.
    """
    mapping = info.mapping
    first = mapping.first_stage if mapping.first_stage in STAGE_ORDER else "lead"
    columns = mapping.stage_columns()
    out: dict[str, str | None] = {first: columns.get(first) or mapping.column("created")}
    for stage in STAGE_ORDER[1:-1]:
        if stage in columns and stage not in out:
            out[stage] = columns[stage]
    if mapping.outcome is not None:
        out["won"] = CLOSED_COL
    return out


def default_stages(info: DatasetInfo) -> list[str]:
    """Every stage the dataset has, in the usual order (Olist: mql, won)."""
    have = stage_dates(info)
    return [s for s in STAGE_ORDER if s in have]


def stages_for(store: Store, info: DatasetInfo) -> list[str]:
    """The remembered stage list of a dataset, or its default."""
    saved = store.setting(info.name, STAGES_SETTING)
    have = stage_dates(info)
    if isinstance(saved, list):
        stages = [s for s in saved if s in have]
        if len(stages) >= 2:
            return stages
    return default_stages(info)


def remember_stages(store: Store, info: DatasetInfo, stages: Sequence[str]) -> list[str]:
    """Validate and remember a dataset's stage list (at least two known stages)."""
    have = stage_dates(info)
    cleaned = [s for s in dict.fromkeys(stages) if s in have]
    if len(cleaned) < 2:
        raise Unavailable("too_few_stages")
    store.set_setting(info.name, STAGES_SETTING, cleaned)
    return cleaned


def _stage_evidence(info: DatasetInfo, stages: Sequence[str]) -> list[str]:
    """SQL conditions, one per stage: the lead has this stage's own evidence (date or won)."""
    if len(stages) < 2:
        raise Unavailable("too_few_stages")
    have = stage_dates(info)
    evidence: list[str] = []
    for i, stage in enumerate(stages):
        if stage not in have:
            raise Unavailable("unknown_stage", stage=stage)
        if i == 0:
            evidence.append("TRUE")
        elif stage == "won":
            evidence.append(f"{quote_ident(OUTCOME_COL)} = 'won'")
        else:
            column = have[stage]
            evidence.append(f"{quote_ident(column)} IS NOT NULL" if column else "FALSE")
    return evidence


def reach_conditions(info: DatasetInfo, stages: Sequence[str]) -> list[str]:
    """SQL conditions, one per stage: reached this stage or any later one."""
    evidence = _stage_evidence(info, stages)
    return ["(" + " OR ".join(evidence[i:]) + ")" if i else "TRUE" for i in range(len(evidence))]


def _reach_level(info: DatasetInfo, stages: Sequence[str]) -> str:
    """SQL for the furthest stage a lead reached (its index): it reached stage ``i`` exactly
    when this is ``i`` or more, as :func:`reach_conditions` says, each evidence read once."""
    evidence = _stage_evidence(info, stages)
    cases = " ".join(f"WHEN {evidence[i]} THEN {i}" for i in range(len(evidence) - 1, 0, -1))
    return f"CASE {cases} ELSE 0 END"


@dataclass(frozen=True)
class Step:
    """One stage of a funnel."""

    stage: str
    n: int
    rate_from_previous: float | None
    rate_from_first: float | None
    drop_off: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "n": self.n,
            "rate_from_previous": self.rate_from_previous,
            "rate_from_first": self.rate_from_first,
            "drop_off": self.drop_off,
            "counts": "all_leads",  # still-open leads included (back-tests count fewer)
        }


def compute_funnel(
    store: Store, info: DatasetInfo, stages: Sequence[str], filters: Filters = NO_FILTERS
) -> list[Step]:
    """Count the leads reaching each stage, with conversion and drop-off."""
    conditions = reach_conditions(info, stages)
    query = compose(
        "SELECT {counts} FROM {leads} WHERE {where}",
        counts=", ".join(f"count(*) FILTER (WHERE {c})" for c in conditions),
        leads=info.table(),
        where=filters.where(info),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    return _steps(stages, [int(v) for v in (row or [0] * len(stages))])


def _steps(stages: Sequence[str], values: Sequence[int]) -> list[Step]:
    """Each stage's step from the leads reaching it (conversion and drop-off)."""
    steps: list[Step] = []
    for i, (stage, n) in enumerate(zip(stages, values, strict=True)):
        prev = values[i - 1] if i else n
        steps.append(
            Step(
                stage=stage,
                n=n,
                rate_from_previous=(n / prev if prev else None) if i else (1.0 if n else None),
                rate_from_first=n / values[0] if values[0] else None,
                drop_off=prev - n if i else 0,
            )
        )
    return steps


def compare_funnels(
    store: Store,
    info: DatasetInfo,
    stages: Sequence[str],
    filters: Filters,
    a: Filters,
    b: Filters,
) -> tuple[list[Step], list[Step]]:
    """Two segments' funnels under the same shared filters, stage by stage."""
    return (
        compute_funnel(store, info, stages, filters.and_(a)),
        compute_funnel(store, info, stages, filters.and_(b)),
    )


# --- cohorts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """Conversion of the leads created in one month."""

    month: datetime
    n: int
    converted: int
    rate: float | None
    ci_low: float
    ci_high: float
    mature: bool


@dataclass(frozen=True)
class CohortTrend:
    """Monthly cohorts, and what decides whether a cohort has had time to convert."""

    cohorts: list[Cohort]
    days_to_convert_p90: float | None
    as_of: datetime | None
    target: str


def _date_expr(info: DatasetInfo, stage: str) -> str | None:
    column = stage_dates(info).get(stage)
    return quote_ident(column) if column else None


def _convert_sql(info: DatasetInfo, stages: Sequence[str], quantile: float) -> tuple[str, str]:
    """SQL for the quantile of days from created to the last stage, and the data's latest date.

    Both are read from the whole dataset (no filters): they describe how this business's
    leads convert, not one segment.
    """
    created = info.mapping.column("created")
    assert created is not None
    c = quote_ident(created)
    reached = reach_conditions(info, stages)[-1]
    target_date = _date_expr(info, stages[-1])
    p90_sql = "NULL"
    if target_date is not None:
        p90_sql = (
            f"(SELECT quantile_cont(date_diff('second', {c}, {target_date}) / 86400.0, {quantile})"
            f" FROM {info.table()} WHERE {reached} AND {target_date} >= {c})"
        )
    dates = [c] + [quote_ident(v) for v in stage_dates(info).values() if v]
    as_of_sql = "greatest(" + ", ".join(f"max({d})" for d in dates) + ")"
    return p90_sql, as_of_sql


def days_to_convert(
    store: Store, info: DatasetInfo, *, quantile: float = 0.9
) -> tuple[float | None, datetime | None]:
    """The dataset's own time to convert (days from created to won, its 90th percentile) and
    the latest date in the data — what :func:`cohort_trend` uses to mark immature cohorts.

    ``(None, None)`` without a created date; the days are None when no won lead has a closed
    date on or after its created date.
    """
    if info.mapping.column("created") is None or "won" not in stage_dates(info):
        return None, None
    first = next(iter(stage_dates(info)))
    p90_sql, as_of_sql = _convert_sql(info, [first, "won"], quantile)
    with store.cursor() as cur:
        row = cur.execute(f"SELECT {p90_sql}, (SELECT {as_of_sql} FROM {info.table()})").fetchone()
    p90, as_of = row or (None, None)
    return (None if p90 is None else float(p90)), as_of


def cohort_trend(
    store: Store,
    info: DatasetInfo,
    stages: Sequence[str],
    filters: Filters = NO_FILTERS,
    *,
    quantile: float = 0.9,
) -> CohortTrend:
    """Monthly conversion from the first to the last stage, by lead creation month.

    A cohort is *immature* when its youngest leads have not yet had as long as the dataset's
    own 90th percentile of time to convert, counted to the latest date in the data: its rate
    will still rise, so it must not be read as a collapse. Both are read from every lead,
    whatever the filters, once per dataset (:func:`_maturity`).
    """
    created = info.mapping.column("created")
    if created is None:
        raise Unavailable("no_dates")
    reached = reach_conditions(info, stages)[-1]
    p90, as_of = _maturity(store, info, stages, quantile)
    low, high = wilson_sql("converted", "n")
    query = compose(
        """
        WITH months AS (
            SELECT date_trunc('month', {created}) AS month, count(*) AS n,
                   count(*) FILTER (WHERE {reached}) AS converted
            FROM {leads} WHERE {created} IS NOT NULL AND {where} GROUP BY 1
        )
        SELECT month, n, converted, converted / n AS rate, {low} AS ci_low, {high} AS ci_high,
               (month + INTERVAL 1 MONTH - INTERVAL 1 DAY
                    + to_days(CAST(ceil(coalesce({p90}, 0)) AS INTEGER))) <= {as_of} AS mature
        FROM months ORDER BY month
        """,
        p90=bind(p90),
        as_of=bind(as_of),
        leads=info.table(),
        created=quote_ident(created),
        reached=reached,
        where=filters.where(info),
        low=low,
        high=high,
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    cohorts = [
        Cohort(r[0], int(r[1]), int(r[2]), r[3], float(r[4]), float(r[5]), bool(r[6])) for r in rows
    ]
    return CohortTrend(cohorts, p90, as_of, stages[-1])


#: (database, schema, dataset load, stages, quantile) → (days to convert, latest date)
_MATURITY: dict[tuple[str, str, str, tuple[str, ...], float], tuple[float | None, Any]] = {}
_MATURITY_LOCK = threading.Lock()


def _maturity(
    store: Store, info: DatasetInfo, stages: Sequence[str], quantile: float
) -> tuple[float | None, datetime | None]:
    """The dataset's ``quantile`` of days from creation to the last stage, and its latest
    date: from every lead, so read once per loaded dataset (a reload is a new load)."""
    key = (
        str(store.path),
        info.schema,
        info.fingerprint + info.loaded_at.isoformat(),
        tuple(stages),
        quantile,
    )
    with _MATURITY_LOCK:
        if key in _MATURITY:
            return _MATURITY[key]
    p90_sql, as_of_sql = _convert_sql(info, stages, quantile)
    with store.cursor() as cur:
        found = cur.execute(
            f"SELECT {p90_sql}, (SELECT {as_of_sql} FROM {info.table()})"
        ).fetchone()
    p90, as_of = found or (None, None)
    value = (None if p90 is None else float(p90), as_of)
    with _MATURITY_LOCK:
        if len(_MATURITY) >= 256:
            _MATURITY.clear()
        _MATURITY[key] = value
    return value


# --- time to convert ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """How long leads took from one stage to the next."""

    from_stage: str
    to_stage: str
    n: int
    median_days: float | None
    p25_days: float | None
    p75_days: float | None
    p90_days: float | None
    histogram: list[tuple[float, int]]  # (bucket start in days, leads)
    bucket_days: int


def time_to_convert(
    store: Store, info: DatasetInfo, stages: Sequence[str], filters: Filters = NO_FILTERS
) -> list[Transition]:
    """Median and distribution of days between consecutive stages that both have dates.

    One query for every transition: a single scan of the (filtered) leads writes each one's
    days per transition, then their quantiles and histograms are counted from those. Each
    histogram's buckets are a week when the transition's 90th percentile is above four weeks
    (else a day), up to its 99th percentile.
    """
    pairs = _transition_days(info, stages)
    if not pairs:
        return []
    k = range(len(pairs))
    query = compose(
        """
        WITH days AS MATERIALIZED (SELECT {columns} FROM {leads} WHERE {where}),
        {stats}
        SELECT stats.*, hist.t, hist.b, hist.n FROM stats LEFT JOIN hist ON TRUE ORDER BY t, b
        """,
        columns=", ".join(f"{days} AS t{i}" for i, (_, _, days) in enumerate(pairs)),
        leads=info.table(),
        where=filters.where(info),
        stats=_transition_stats(len(pairs)),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    hists: list[list[tuple[float, int]]] = [[] for _ in k]
    for row in rows:
        t, b, count = row[-3:]
        if t is not None:
            hists[t].append((float(b), int(count)))
    out: list[Transition] = []
    for i, (a, b, _) in enumerate(pairs):
        n, q = rows[0][2 * i : 2 * i + 2]  # stats.*: n0, q0, n1, q1, ..., then b0, b1, ...
        bucket = rows[0][2 * len(pairs) + i]
        q = q if q is not None else [None] * 5
        out.append(Transition(a, b, int(n), q[1], q[0], q[2], q[3], hists[i], int(bucket)))
    return out


def _transition_days(info: DatasetInfo, stages: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(from, to, days SQL)`` for each consecutive pair of stages that both have dates; the
    days are NULL for a lead without both dates (or, to ``won``, not won)."""
    pairs: list[tuple[str, str, str]] = []
    for a, b in zip(stages, stages[1:], strict=False):
        da, db = _date_expr(info, a), _date_expr(info, b)
        if da is None or db is None:
            continue
        only = f"{da} IS NOT NULL AND {db} IS NOT NULL"
        if b == "won":
            only += f" AND {quote_ident(OUTCOME_COL)} = 'won'"
        pairs.append((a, b, f"CASE WHEN {only} THEN date_diff('second', {da}, {db}) / 86400.0 END"))
    return pairs


def _transition_stats(count: int) -> str:
    """The CTEs ``quantiles``, ``stats`` and ``hist`` over a CTE ``days`` holding ``t0``,
    ``t1``, ...: each transition's count, quantiles, bucket width and histogram."""
    k = range(count)
    quantiles = ", ".join(
        f"count(t{i}) AS n{i}, quantile_cont(t{i}, [0.25, 0.5, 0.75, 0.9, 0.99]) AS q{i}" for i in k
    )
    buckets = ", ".join(f"CASE WHEN coalesce(q{i}[4], 0) > 28 THEN 7 ELSE 1 END AS b{i}" for i in k)
    histograms = " UNION ALL ".join(
        f"SELECT {i} AS t, floor(t{i} / b{i}) * b{i} AS b, count(*) AS n FROM days, stats "
        f"WHERE t{i} <= q{i}[5] GROUP BY ALL"
        for i in k
    )
    return (
        f"quantiles AS MATERIALIZED (SELECT {quantiles} FROM days), "
        f"stats AS (SELECT *, {buckets} FROM quantiles), "
        f"hist AS ({histograms})"
    )


# --- the whole page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelPage:
    """What the Funnel page shows for one filter state; ``trend`` is None without a created
    date (where :func:`cohort_trend` says ``no_dates``)."""

    steps: list[Step]
    trend: CohortTrend | None
    transitions: list[Transition]


def funnel_page(
    store: Store,
    info: DatasetInfo,
    stages: Sequence[str],
    filters: Filters = NO_FILTERS,
    *,
    quantile: float = 0.9,
) -> FunnelPage:
    """The funnel, its monthly cohorts and the time between stages for one filter state: the
    numbers :func:`compute_funnel`, :func:`cohort_trend` and :func:`time_to_convert` give.

    Counted with numpy from the dataset's leads read once as a few columns
    (:mod:`funnel.funnel_columns`: each stage's evidence, the creation day and month, each
    transition's days, a filter column's values as codes), so a filter change scans no table.
    One ``bincount`` of (creation month, furthest stage reached) per filtered lead gives both
    the funnel and the cohorts; each transition's quantiles are DuckDB's ``quantile_cont``.
    """
    evidence = _stage_evidence(info, stages)
    last = len(stages) - 1
    created = info.mapping.column("created")
    pairs = _transition_days(info, stages)
    p90, as_of = _maturity(store, info, stages, quantile) if created else (None, None)
    filters.where(info)  # an unknown column or a dateless dataset: refused before reading
    columns = lead_columns(store, info)
    wanted = [("flag", e) for e in evidence[1:]] + [("ranked", days) for _, _, days in pairs]
    if created is not None:
        wanted.append(("int", _month_code(created)))
        if filters.date_from or filters.date_to:
            wanted.append(("int", day_sql(created)))
    columns.read(wanted)  # what this dataset's first page needs, in one scan
    mask = keep(columns, info, filters)

    # one code per lead, (its creation month's index or "no date" last) x stages + the
    # furthest stage it reached, doubled: adding the filter's mask makes the kept leads' odd
    groups, months = columns.memo(
        ("funnel", tuple(evidence), created), lambda: _groups(columns, evidence, created)
    )
    width, size = len(stages), 2 * (len(months) + 1) * len(stages)
    if mask is None:
        counts = np.bincount(groups, minlength=size)[::2]
    else:
        counts = np.bincount(groups + mask, minlength=size)[1::2]
    counts = counts.reshape(-1, width)
    at_level = counts.sum(axis=0)
    reached = [int(v) for v in np.cumsum(at_level[::-1])[::-1]]

    trend = None
    if created is not None:
        cohorts = []
        for i, month in enumerate(months):
            n = int(counts[i].sum())
            if n:
                converted = int(counts[i, last])
                low, high = wilson(converted, n)
                cohorts.append(
                    Cohort(
                        month, n, converted, converted / n, low, high, _mature(month, p90, as_of)
                    )
                )
        trend = CohortTrend(cohorts, p90, as_of, stages[-1])

    transitions = []
    spans = columns.ranked([days for _, _, days in pairs])
    for (a, b, days), (rows, values) in zip(pairs, spans, strict=True):
        chosen = Chosen(values, None if mask is None else mask[rows])
        if not chosen.n:
            transitions.append(Transition(a, b, 0, None, None, None, None, [], 1))
            continue
        q = chosen.quantiles(TRANSITION_QUANTILES)
        bucket = 7 if q[3] > 28 else 1
        starts = columns.memo(("buckets", days, bucket), partial(bucket_starts, values, bucket))
        shown = chosen.histogram(bucket, q[4], starts)
        transitions.append(Transition(a, b, chosen.n, q[1], q[0], q[2], q[3], shown, bucket))
    return FunnelPage(_steps(stages, reached), trend, transitions)


def _groups(
    columns: LeadColumns, evidence: Sequence[str], created: str | None
) -> tuple[np.ndarray, list[datetime]]:
    """Each lead's (creation month, furthest stage) code for :func:`funnel_page`, doubled,
    in the narrowest integer type that holds it, and the months in order, each the first
    instant of the month as ``date_trunc('month', created)`` gives it (a DATE or TIMESTAMP
    column, what loading stores, truncates to a TIMESTAMP)."""
    level = np.zeros(columns.rows, dtype=np.int32)
    for i, flag in enumerate(columns.flags(evidence[1:]), start=1):
        level[flag] = i  # the furthest stage with its own evidence, as _reach_level says
    if created is None:
        return _narrow(2 * level), []
    (code,) = columns.ints([_month_code(created)])
    dated = code != NULL_INT
    if not dated.any():
        return _narrow(2 * level), []
    # months present, numbered in date order; a lead without a date after the last month
    low = int(code[dated].min())
    shifted = np.where(dated, code - (low - 1), 0)  # 0: no date
    present = np.bincount(shifted)[1:] > 0
    known = low + np.flatnonzero(present)
    index = np.concatenate(([len(known)], np.cumsum(present) - 1)).astype(np.int32)[shifted]
    months = [datetime(int(k) // 12, int(k) % 12 + 1, 1) for k in known]
    return _narrow(2 * (index * len(evidence) + level)), months


def _month_code(created: str) -> str:
    """SQL numbering a lead's creation month (``year * 12 + month - 1``), in date order."""
    c = quote_ident(created)
    return f"(year({c}) * 12 + month({c}) - 1)"


def _narrow(codes: np.ndarray) -> np.ndarray:
    """Non-negative codes in the smallest unsigned type that still holds each code + 1
    (``bincount`` reads a byte per lead faster than eight).

    >>> _narrow(np.array([0, 254])).dtype, _narrow(np.array([0, 255])).dtype
    (dtype('uint8'), dtype('uint16'))
    """
    top = int(codes.max(initial=0)) + 1
    for kind in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(kind).max:
            return codes.astype(kind)
    return codes


def _mature(month: datetime, p90: float | None, as_of: datetime | None) -> bool:
    """Whether a cohort has had time to convert, as :func:`cohort_trend`'s SQL decides: its
    last day plus the whole days of ``p90`` is on or before ``as_of``."""
    if as_of is None:
        return False
    next_month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    wait = timedelta(days=math.ceil(p90 or 0.0)) - timedelta(days=1)
    return bool(next_month + wait <= as_of)
