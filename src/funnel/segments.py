"""Conversion by segment: any column, or two at once, with honest intervals.

Per segment: leads, conversions, rate, Wilson 95% interval and lift against the overall rate
of the same population. Segments under the minimum size are marked small and are never named
best or worst. Numeric columns are binned (quantiles, or edges the user gives), except number
columns that hold codes (one segment per code); missing values are their own bucket, labelled
``(missing)``.

A segment is called best (or worst) only when the data supports it: its conversion differs
from the rest of the population's (Fisher's exact test, segment against everyone else) after a
Holm correction for the number of segments compared. When none does, :class:`Ranking` says so,
with the closest segment's figures as the evidence.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.stats import hypergeom

from funnel.codes import looks_like_code
from funnel.filters import MISSING, NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose, join
from funnel.funnel_columns import load_key
from funnel.funnels import Unavailable, reach_conditions, stages_for
from funnel.i18n import t
from funnel.stats import DEFAULT_MIN_N, wilson, wilson_sql
from funnel.store import RESERVED_PREFIX, DatasetInfo, Store, quote_ident

NUMERIC_ROLES = ("number", "behaviour", "amount")
#: Where the ``(missing)`` bucket sorts in :attr:`Segment.order`: after every bin.
MISSING_ORDER = 10**6
#: Family-wise error rate of the best/worst tests (Holm over the segments compared).
ALPHA = 0.05
#: The segment holding a column's values beyond its ``top`` (see :func:`segment_table`).
OTHER = "(other)"
OTHER_ORDER = MISSING_ORDER - 1


@dataclass(frozen=True)
class Binning:
    """How to bucket a numeric column: ``q`` quantile bins, or explicit ``edges``."""

    q: int = 5
    edges: tuple[float, ...] = ()


@dataclass(frozen=True)
class Segment:
    """Conversion of one segment (one value, or one pair of values)."""

    keys: tuple[str, ...]
    order: tuple[int, ...]
    n: int
    converted: int
    rate: float | None
    ci_low: float
    ci_high: float
    lift: float | None
    small_sample: bool
    best: bool = False
    worst: bool = False
    versus: str = "similar"  # the interval lies "above" or "below" the overall rate, or spans it
    after_sale: bool = False  # cut by a column known only after the sale: never best or worst

    @property
    def label(self) -> str:
        return " × ".join(self.keys)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON record."""
        return {
            "segment": self.label,
            "keys": list(self.keys),
            "n": self.n,
            "converted": self.converted,
            "rate": self.rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "lift": self.lift,
            "small_sample": self.small_sample,
            "best": self.best,
            "worst": self.worst,
            "versus_overall": self.versus,
            "after_sale": self.after_sale,
            "counts": "all_leads",  # still-open leads included, like the funnel's
        }


@dataclass(frozen=True)
class Contrast:
    """One segment against the rest of its population: the evidence for best or worst."""

    segment: str
    n: int
    converted: int
    rest_n: int
    rest_converted: int
    p_value: float  # Fisher's exact test, two-sided (central: twice the smaller one-sided p)
    p_adjusted: float  # Holm over the segments compared
    #: The ranked segment nearest in rate on the same side (the runner-up), and the p of the
    #: two against each other (Bonferroni over the best's and the worst's check).
    next_segment: str | None = None
    next_n: int = 0
    next_converted: int = 0
    p_next: float | None = None

    @property
    def next_rate(self) -> float:
        return self.next_converted / self.next_n if self.next_n else 0.0

    @property
    def rate(self) -> float:
        return self.converted / self.n

    @property
    def rest_rate(self) -> float:
        return self.rest_converted / self.rest_n

    def as_dict(self) -> dict[str, Any]:
        low, high = wilson(self.converted, self.n)
        rest_low, rest_high = wilson(self.rest_converted, self.rest_n)
        return {
            "segment": self.segment,
            "n": self.n,
            "converted": self.converted,
            "rate": self.rate,
            "ci_low": low,
            "ci_high": high,
            "rest_n": self.rest_n,
            "rest_converted": self.rest_converted,
            "rest_rate": self.rest_rate,
            "rest_ci_low": rest_low,
            "rest_ci_high": rest_high,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "next_segment": self.next_segment,
            "next_n": self.next_n,
            "next_converted": self.next_converted,
            "next_rate": self.next_converted / self.next_n if self.next_n else None,
            "p_next": self.p_next,
        }


@dataclass(frozen=True)
class Ranking:
    """Whether the data names a best and a worst segment, and why.

    ``verdict`` is ``ranked`` (a best or a worst is named), ``no_difference`` (no segment
    converts differently from the rest beyond chance), ``too_few`` (fewer than two segments
    have the minimum number of leads) or ``after_sale`` (cut by a column known only after the
    sale: never ranked). A segment above (below) the rest is still not best (worst) when it
    does not convert apart from the next ranked segment on its side: beside one far better
    segment, every other looks "below the rest" without being worse than its peers
    (``not_apart`` when that leaves neither named).
    """

    verdict: str = "too_few"
    compared: int = 0  # segments with at least min_n leads, each tested against the rest
    best: Contrast | None = None
    worst: Contrast | None = None
    closest: Contrast | None = None  # with no_difference: the smallest adjusted p
    #: Above (below) the rest, but not apart from the runner-up: not called best (worst).
    best_not_apart: Contrast | None = None
    worst_not_apart: Contrast | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "test": "fisher_exact_central_vs_rest_holm",
            "alpha": ALPHA,
            "compared": self.compared,
            "best": None if self.best is None else self.best.as_dict(),
            "worst": None if self.worst is None else self.worst.as_dict(),
            "closest": None if self.closest is None else self.closest.as_dict(),
            "best_not_apart": None
            if self.best_not_apart is None
            else self.best_not_apart.as_dict(),
            "worst_not_apart": (
                None if self.worst_not_apart is None else self.worst_not_apart.as_dict()
            ),
        }


@dataclass(frozen=True)
class SegmentTable:
    """Segments of a population, with the overall rate they are compared to."""

    by: tuple[str, ...]
    from_stage: str
    to_stage: str
    n: int
    converted: int
    overall_rate: float | None
    min_n: int
    segments: list[Segment] = field(default_factory=list)
    #: The columns of ``by`` known only after the sale (then no segment is best or worst).
    after_sale: tuple[str, ...] = ()
    #: Whether a best and a worst segment are named, with the evidence.
    ranking: Ranking = field(default_factory=Ranking)
    #: Per column cut to its ``top`` values: how many values went into :data:`OTHER`.
    folded: dict[str, int] = field(default_factory=dict)
    #: Number columns of ``by`` read as codes (one segment per value, not ranges), with how
    #: many values each has: see :func:`is_code_column`.
    codes: dict[str, int] = field(default_factory=dict)


def parse_edges(text: str) -> tuple[float, ...]:
    """Parse bin edges typed as ``10, 50, 100`` (a Japanese 、 separates too).

    Raises :class:`ValueError` when a part is not a number.

    >>> parse_edges("10, 50、100"), parse_edges(" ")
    ((10.0, 50.0, 100.0), ())
    """
    return tuple(float(x) for x in text.replace("、", ",").split(",") if x.strip())


def after_sale_columns(info: DatasetInfo) -> set[str]:
    """Columns known only after the sale: flagged leaks (from their data, by a person, or the
    outcomes file's deal details) and the deal's amount.

    Cut by one, segments "convert" at 100% because the sale wrote the column: they are kept
    out of the pickers and filters by default, and never called best or worst.
    """
    return {s.name for s in info.mapping.leads if s.leak or s.role == "amount"}


def segment_columns(info: DatasetInfo, *, after_sale: bool = False) -> list[str]:
    """Columns a segment (or a filter) can be cut by: every stored column except ids and
    dates, and — unless ``after_sale`` — except those known only after the sale."""
    roles = {s.name: s.role for s in info.mapping.leads}
    hidden = set() if after_sale else after_sale_columns(info)
    return [
        c
        for c in info.columns
        if roles.get(c) not in ("id", "created", "stage", "closed", "outcome", "first_contact")
        and not c.startswith(RESERVED_PREFIX)
        and c not in hidden
    ]


def numeric_columns(info: DatasetInfo) -> set[str]:
    return {s.name for s in info.mapping.leads if s.role in NUMERIC_ROLES}


def code_values(store: Store, info: DatasetInfo, column: str) -> int | None:
    """How many values a number column holds when they are codes (a region or prefecture code:
    whole numbers, few values, a name that does not count something — :mod:`funnel.codes`, the
    rule the suggestion reads columns by), else None. Only plain ``number`` columns: behaviours
    count and amounts measure. Read over every lead of the dataset, so a filter does not turn
    a column's ranges into codes."""
    roles = {s.name: s.role for s in info.mapping.leads}
    if roles.get(column) != "number":
        return None
    key = (load_key(store, info), column)  # one query per column and load, not per table
    with _CODES_LOCK:
        if key in _CODES:
            return _CODES[key]
    found = _code_values(store, info, column)
    with _CODES_LOCK:
        if len(_CODES) >= 1_024:
            _CODES.clear()
        _CODES[key] = found
    return found


_CODES: dict[tuple[Hashable, ...], int | None] = {}
_CODES_LOCK = threading.Lock()


def _code_values(store: Store, info: DatasetInfo, column: str) -> int | None:
    c = quote_ident(column)
    query = compose(
        "SELECT count(DISTINCT {c}), coalesce(bool_and({c} = floor({c})), false) FROM {leads}",
        c=Fragment(f"CAST({c} AS DOUBLE)"),
        leads=info.table(),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    if row is None:
        return None
    distinct, whole = int(row[0]), bool(row[1])
    return distinct if distinct > 1 and looks_like_code(column, distinct, whole) else None


def _bin_expression(
    store: Store,
    info: DatasetInfo,
    column: str,
    binning: Binning,
    where: Fragment,
) -> tuple[Fragment, list[str]]:
    """A CASE expression numbering a numeric column's bins (``where`` selects the leads the
    quantiles are taken over), and the bins' labels.

    Quantile bins by default. When one lowest value holds so many leads that quantiles
    collapse onto it (most leads have 0 trials), that value gets its own "= value" bin and the
    rest is cut by its own quantiles.
    """
    col = quote_ident(column)
    edges = sorted(set(binning.edges))
    point: float | None = None
    if not edges:
        qs = [i / binning.q for i in range(1, binning.q)]
        query = compose(
            "SELECT quantile_cont({col}, {qs}::DOUBLE[]), min({col}) "
            "FROM {leads} WHERE {col} IS NOT NULL AND {where}",
            col=col,
            qs=bind(qs),
            leads=info.table(),
            where=where,
        )
        with store.cursor() as cur:
            row = cur.execute(query.sql, query.args).fetchone()
        found = (
            [float(e) for e in (row[0] or []) if e is not None and math.isfinite(e)] if row else []
        )
        lowest = None if not row or row[1] is None else float(row[1])
        edges = sorted({e for e in found if lowest is None or e > lowest})
        if lowest is not None and 2 * len(edges) < binning.q - 1:
            point = lowest
            query = compose(
                "SELECT quantile_cont({col}, {qs}::DOUBLE[]), min({col}) FROM {leads} "
                "WHERE {col} > {lowest} AND {where}",
                col=col,
                qs=bind(qs),
                leads=info.table(),
                lowest=bind(lowest),
                where=where,
            )
            with store.cursor() as cur:
                rest = cur.execute(query.sql, query.args).fetchone()
            above = [float(e) for e in (rest[0] or []) if e is not None] if rest else []
            first_above = None if not rest or rest[1] is None else float(rest[1])
            edges = sorted({e for e in above if first_above is None or e > first_above})
    cases: list[Fragment] = []
    labels: list[str] = []
    lower: float | None = None
    if point is not None:
        cases.append(compose("WHEN {col} <= {point} THEN 0", col=col, point=bind(point)))
        labels.append(f"= {_fmt(point)}")
    for edge in edges:
        number = str(len(labels))
        cases.append(compose("WHEN {col} < {edge} THEN {n}", col=col, edge=bind(edge), n=number))
        if lower is None and point is None:
            labels.append(f"< {_fmt(edge)}")
        elif lower is None:
            labels.append(f"{_fmt(point or 0)} < x < {_fmt(edge)}")
        else:
            labels.append(f"{_fmt(lower)} ≤ x < {_fmt(edge)}")
        lower = edge
    if lower is not None:
        labels.append(f"≥ {_fmt(lower)}")
    elif point is not None:
        labels.append(f"> {_fmt(point)}")
    else:
        labels.append("all")
    expr = compose(
        "CASE WHEN {col} IS NULL THEN NULL {cases} ELSE {last} END",
        col=col,
        cases=join(" ", cases),
        last=str(len(labels) - 1),
    )
    return expr, labels


def _fmt(x: float) -> str:
    """Format a bin edge compactly.

    >>> _fmt(1000.0), _fmt(2.5), _fmt(1234567.0)
    ('1,000', '2.5', '1,234,567')
    """
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def segment_table(
    store: Store,
    info: DatasetInfo,
    by: Sequence[str],
    filters: Filters = NO_FILTERS,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    min_n: int = DEFAULT_MIN_N,
    bins: MappingABC[str, Binning] | None = None,
    top: int | None = None,
) -> SegmentTable:
    """Conversion from ``from_stage`` (default: the first) to ``to_stage`` (default: the last)
    by one or two columns.

    With ``top``, a text column keeps its ``top`` values with the most leads (in the
    population) and puts the rest in one :data:`OTHER` segment (``folded`` says how many): a
    heatmap of hundreds of values is unreadable.
    """
    if not 1 <= len(by) <= 2:
        raise Unavailable("segment_by_count")
    allowed = segment_columns(info, after_sale=True)  # asked for by name: shown, marked
    after_sale = tuple(c for c in by if c in after_sale_columns(info))
    for col in by:
        if col not in allowed:
            raise Unavailable("segment_unknown_column", column=col, columns=", ".join(allowed[:15]))
    stages = stages_for(store, info)
    start = from_stage or stages[0]
    end = to_stage or stages[-1]
    if start not in stages or end not in stages or stages.index(start) >= stages.index(end):
        raise Unavailable("segment_bad_stages", start=start, end=end, stages=", ".join(stages))
    conditions = reach_conditions(info, stages)
    population = conditions[stages.index(start)]
    converted = conditions[stages.index(end)]
    where = filters.where(info)
    numeric = numeric_columns(info)
    key_exprs: list[Fragment] = []
    labels: dict[int, list[str]] = {}
    folded: dict[str, int] = {}
    codes: dict[str, int] = {}
    for i, col in enumerate(by):
        explicit = bool((bins or {}).get(col, Binning()).edges)  # the user's edges: ranges
        n_codes = None if col not in numeric or explicit else code_values(store, info, col)
        if n_codes is not None:
            codes[col] = n_codes  # one segment per code, written as a whole number
        if col in numeric and n_codes is None:
            binning = (bins or {}).get(col, Binning())
            within = compose("{population} AND {where}", population=population, where=where)
            expr, labels[i] = _bin_expression(store, info, col, binning, within)
            key_exprs.append(expr)
        else:
            cast = "CAST(CAST({} AS BIGINT) AS VARCHAR)" if col in codes else "CAST({} AS VARCHAR)"
            text = Fragment(cast.format(quote_ident(col)))
            within = compose("{population} AND {where}", population=population, where=where)
            kept = _top_values(store, info, text, within, top)
            if kept is None:
                key_exprs.append(text)
            else:
                values, more = kept
                folded[col] = more
                key_exprs.append(
                    compose(
                        "CASE WHEN {t} IS NULL OR {t} IN ({values}) THEN {t} ELSE {other} END",
                        t=text,
                        values=join(", ", [bind(v) for v in values], empty="NULL"),
                        other=bind(OTHER),
                    )
                )
    low, high = wilson_sql("converted", "n")
    group = ", ".join(f"k{i}" for i in range(len(by)))
    query = compose(
        """
        WITH base AS (
            SELECT {keys}, ({converted}) AS hit
            FROM {leads} WHERE {population} AND {where}
        ),
        groups AS (
            SELECT {group}, count(*) AS n, count(*) FILTER (WHERE hit) AS converted
            FROM base GROUP BY {group}
        )
        SELECT *, converted / n AS rate, {low} AS ci_low, {high} AS ci_high,
               sum(n) OVER () AS total_n, sum(converted) OVER () AS total_converted
        FROM groups
        """,
        keys=join(", ", [compose(f"{{key}} AS k{i}", key=k) for i, k in enumerate(key_exprs)]),
        converted=converted,
        leads=info.table(),
        population=population,
        where=where,
        group=group,
        low=low,
        high=high,
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    total_n = int(rows[0][-2]) if rows else 0
    total_converted = int(rows[0][-1]) if rows else 0
    overall = total_converted / total_n if total_n else None
    segments: list[Segment] = []
    k = len(by)
    for row in rows:
        keys: list[str] = []
        order: list[int] = []
        for i in range(k):
            raw = row[i]
            if raw is None:
                keys.append(MISSING)
                order.append(MISSING_ORDER)
            elif i in labels:
                keys.append(labels[i][int(raw)])
                order.append(int(raw))
            elif by[i] in folded and raw == OTHER:
                keys.append(OTHER)
                order.append(OTHER_ORDER)
            else:
                keys.append(str(raw))
                order.append(0)
        n, conv = int(row[k]), int(row[k + 1])
        r = row[k + 2]
        segments.append(
            Segment(
                keys=tuple(keys),
                order=tuple(order),
                n=n,
                converted=conv,
                rate=r,
                ci_low=float(row[k + 3]),
                ci_high=float(row[k + 4]),
                lift=(r / overall) if (r is not None and overall) else None,
                small_sample=n < min_n,
                versus=_versus(float(row[k + 3]), float(row[k + 4]), overall),
                after_sale=bool(after_sale),
            )
        )
    for i, col in enumerate(by):
        if col in codes:  # codes in their own order (13 before 140), missing and other last
            known = {s.keys[i] for s in segments} - {MISSING, OTHER}
            at = {v: rank for rank, v in enumerate(sorted(known, key=int))}
            segments = [
                replace(s, order=(*s.order[:i], at.get(s.keys[i], s.order[i]), *s.order[i + 1 :]))
                for s in segments
            ]
    segments.sort(key=lambda s: (s.order, s.keys))
    ranking = Ranking("after_sale") if after_sale else rank_segments(segments)
    segments = _mark_extremes(segments, ranking)
    return SegmentTable(
        tuple(by),
        start,
        end,
        total_n,
        total_converted,
        overall,
        min_n,
        segments,
        after_sale=after_sale,
        ranking=ranking,
        folded=folded,
        codes=codes,
    )


def _top_values(
    store: Store, info: DatasetInfo, text: Fragment, within: Fragment, top: int | None
) -> tuple[list[str], int] | None:
    """A column's ``top`` values with the most leads, and how many others it has; None when
    it has no more than ``top`` (nothing to fold)."""
    if top is None:
        return None
    query = compose(
        "SELECT {t} AS v, count(*) AS n FROM {leads} WHERE {within} AND {t} IS NOT NULL "
        "GROUP BY 1 ORDER BY n DESC, v",
        t=text,
        leads=info.table(),
        within=within,
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    if len(rows) <= top:
        return None
    return [str(v) for v, _ in rows[:top]], len(rows) - top


def _versus(low: float, high: float, overall: float | None) -> str:
    """Where a segment's interval lies against the overall rate.

    >>> _versus(0.12, 0.15, 0.10), _versus(0.05, 0.08, 0.10), _versus(0.08, 0.12, 0.10)
    ('above', 'below', 'similar')
    """
    if overall is None:
        return "similar"
    if low > overall:
        return "above"
    if high < overall:
        return "below"
    return "similar"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of ``p_values`` (same order, each capped at 1).

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    out = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        out[i] = round(running, 12)
    return out


def fisher_central(total: int, converted: int, n: Sequence[int], k: Sequence[int]) -> list[float]:
    """Two-sided Fisher's exact p-values of segments (``k`` converted of ``n``) against the rest
    of ``total`` leads (``converted`` in all), each twice its smaller one-sided p (the
    "central" two-sided test), computed for all segments at once from the hypergeometric
    distribution.

    >>> [round(p, 4) for p in fisher_central(20, 7, [5, 5], [5, 0])]
    [0.0027, 0.166]
    """
    if not n:
        return []
    dist = hypergeom(total, converted, np.asarray(n))
    at_most = dist.cdf(np.asarray(k))
    at_least = dist.sf(np.asarray(k) - 1)
    return [float(p) for p in np.minimum(1.0, 2 * np.minimum(at_most, at_least))]


def rank_segments(segments: Sequence[Segment]) -> Ranking:
    """Test each segment with at least the minimum number of leads against the rest of the
    population (Fisher's exact test), Holm-adjust over those compared, and name as best the
    highest-converting segment significantly above the rest (worst: lowest, below).

    Too-small segments are part of "the rest" but never candidates; fewer than two candidates
    rank nothing.
    """
    total_n = sum(s.n for s in segments)
    total_converted = sum(s.converted for s in segments)
    ranked = [s for s in segments if not s.small_sample and s.n < total_n]
    if len(ranked) < 2:
        return Ranking("too_few", len(ranked))
    raw = fisher_central(
        total_n, total_converted, [s.n for s in ranked], [s.converted for s in ranked]
    )
    adjusted = holm(raw)
    contrasts = [
        Contrast(s.label, s.n, s.converted, total_n - s.n, total_converted - s.converted, p, q)
        for s, p, q in zip(ranked, raw, adjusted, strict=True)
    ]
    above = [c for c in contrasts if c.p_adjusted < ALPHA and c.rate > c.rest_rate]
    below = [c for c in contrasts if c.p_adjusted < ALPHA and c.rate < c.rest_rate]
    # the highest (lowest) rate; equal rates: the one with more leads, then the first shown
    best = max(above, key=lambda c: (c.rate, c.n), default=None)
    worst = min(below, key=lambda c: (c.rate, -c.n), default=None)
    if best is None and worst is None:
        closest = min(contrasts, key=lambda c: (c.p_adjusted, -c.n))
        return Ranking("no_difference", len(ranked), closest=closest)
    best = _against_next(best, contrasts, higher=True)
    worst = _against_next(worst, contrasts, higher=False)
    apart = [
        c
        if c and c.p_next is not None and c.p_next < ALPHA and (c.rate > c.next_rate) == higher
        else None
        for c, higher in ((best, True), (worst, False))
    ]
    unsure = [c if c and c not in apart else None for c in (best, worst)]
    verdict = "ranked" if any(apart) else "not_apart"
    return Ranking(verdict, len(ranked), apart[0], apart[1], None, unsure[0], unsure[1])


def _against_next(
    c: Contrast | None, contrasts: list[Contrast], *, higher: bool
) -> Contrast | None:
    """``c`` with the runner-up on its side (the next highest rate for a best, the next lowest
    for a worst) and the p of the two against each other, Bonferroni over two such checks."""
    if c is None:
        return None
    others = [o for o in contrasts if o.segment != c.segment]  # never empty: two are ranked
    nxt = (max if higher else min)(others, key=lambda o: (o.rate, o.n if higher else -o.n))
    n, k = c.n + nxt.n, c.converted + nxt.converted
    (p,) = fisher_central(n, k, [c.n], [c.converted])
    return replace(
        c,
        next_segment=nxt.segment,
        next_n=nxt.n,
        next_converted=nxt.converted,
        p_next=min(1.0, 2 * p),
    )


def _mark_extremes(segments: list[Segment], ranking: Ranking) -> list[Segment]:
    """Mark the segments the ranking names best and worst."""
    best = ranking.best.segment if ranking.best else None
    worst = ranking.worst.segment if ranking.worst else None
    return [
        Segment(**{**s.__dict__, "best": s.label == best, "worst": s.label == worst})
        for s in segments
    ]


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _p(p: float) -> str:
    """An adjusted p-value as words put it.

    >>> _p(0.0004), _p(0.0312), _p(1.0)
    ('< 0.001', '= 0.031', '= 1.000')
    """
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _contrast_params(c: Contrast, quote: Callable[[str], str]) -> dict[str, Any]:
    low, high = wilson(c.converted, c.n)
    rest_low, rest_high = wilson(c.rest_converted, c.rest_n)
    return {
        "segment": quote(c.segment),
        "rate": _pct(c.rate),
        "low": _pct(low),
        "high": _pct(high),
        "n": f"{c.n:,}",
        "rest_rate": _pct(c.rest_rate),
        "rest_low": _pct(rest_low),
        "rest_high": _pct(rest_high),
        "rest_n": f"{c.rest_n:,}",
        "p": quote(_p(c.p_adjusted)),  # "< 0.001" would read as markup where it is shown
        "next": quote(c.next_segment or ""),
        "next_rate": _pct(c.next_converted / c.next_n) if c.next_n else "–",
        "next_n": f"{c.next_n:,}",
        "p_next": quote(_p(1.0 if c.p_next is None else c.p_next)),
    }


def ranking_lines(
    table: SegmentTable, lang: str, quote: Callable[[str], str] = str
) -> list[tuple[str, str]]:
    """The ranking in words, as ``(message key, text)``: who is best and worst and why, or why
    nobody is. ``quote`` wraps the user's text (column and segment names) for where it is shown.

    A table cut by a column known only after the sale says nothing here (its own warning says
    why nothing is ranked).
    """
    r = table.ranking
    common = {
        "by": " × ".join(quote(b) for b in table.by),
        "compared": r.compared,
        "min_n": table.min_n,
    }
    keys: list[tuple[str, dict[str, Any]]] = []
    if r.verdict == "too_few":
        keys.append(("ranking.too_few", common))
    elif r.verdict == "no_difference" and r.closest is not None:
        keys.append(("ranking.no_difference", {**common, **_contrast_params(r.closest, quote)}))
    elif r.verdict in ("ranked", "not_apart"):
        sides = (("best", r.best, r.best_not_apart), ("worst", r.worst, r.worst_not_apart))
        for side, found, unsure in sides:
            if found is not None:
                keys.append((f"ranking.{side}", {**common, **_contrast_params(found, quote)}))
            elif unsure is not None:
                params = {**common, **_contrast_params(unsure, quote)}
                keys.append((f"ranking.{side}_not_apart", params))
            else:
                keys.append((f"ranking.no_{side}", common))
    return [(key, t(key, lang, **params)) for key, params in keys]


def ranking_evidence(table: SegmentTable, lang: str) -> list[str]:
    """:func:`ranking_lines` as plain text (the CLI and its JSON)."""
    return [text for _, text in ranking_lines(table, lang)]
