"""Conversion by fit band × engagement band (A1 … C3): each lead's points from fit rules
and from engagement rules, each cut into bands by its own distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, balanced, compose
from funnel.population import backtest_population
from funnel.rules import RuleSet
from funnel.scoring.source import Source, source
from funnel.stats import near_thirds, wilson
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident


@dataclass(frozen=True)
class MatrixCell:
    """Leads in one fit band × engagement band (A and 1 are the best bands)."""

    fit: str
    engagement: str
    n: int
    won: int
    rate: float | None
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Band:
    """One band of a sub-score: the leads scoring ``low`` to ``high`` points (both included)."""

    name: str
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class Matrix:
    """The fit × engagement matrix: its cells and how each sub-score was cut into bands."""

    cells: list[MatrixCell]
    fit: list[Band]
    engagement: list[Band]


def _part(src: Source, rs: RuleSet, group: str) -> Fragment:
    """The points of the rule set's ``fit`` or ``engagement`` rules (0 without any)."""
    parts = [compose("({p})", p=src.rule(rs, r)) for r in rs.rules if r.group == group]
    return balanced(" + ", parts) if parts else Fragment("0")


def _bands(points: dict[float, int], names: str) -> tuple[list[Band], dict[float, str]]:
    """Cut a sub-score's histogram into bands near thirds (ties kept together), best first."""
    values = sorted(points, reverse=True)
    bands: list[Band] = []
    of: dict[float, str] = {}
    start = 0
    for name, size in zip(names, near_thirds([points[v] for v in values]), strict=False):
        chunk = values[start : start + size]
        start += size
        bands.append(Band(name, chunk[-1], chunk[0], sum(points[v] for v in chunk)))
        of.update(dict.fromkeys(chunk, name))
    return bands, of


def fit_engagement_matrix(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters = NO_FILTERS
) -> Matrix | None:
    """Conversion by fit band × engagement band (A1 … C3), where both kinds of rules exist.

    Each sub-score is cut by its own distribution over the filtered leads
    (:func:`~funnel.stats.near_thirds`): three bands as near to a third of the leads each as
    ties allow, a lead's band set by its points alone. A sub-score with only two values has
    two bands (A and B), one with a single value one band. Like every back-test figure it
    counts the leads whose outcome is decided or mature (:mod:`funnel.population`).
    """
    groups = {rule.group for rule in rs.rules}
    if groups != {"fit", "engagement"}:
        return None
    src = source(store, info, rs)
    sub_scores = compose(
        """s AS (
            SELECT ({fit})::DOUBLE AS f, ({engagement})::DOUBLE AS e, {outcome} = 'won' AS won
            FROM {leads} WHERE ({where}) AND {counted}
        )""",
        fit=_part(src, rs, "fit"),
        engagement=_part(src, rs, "engagement"),
        outcome=quote_ident(OUTCOME_COL),
        leads=src.table,
        where=filters.where(info),
        counted=backtest_population(store, info).condition,
    )
    query = compose(
        """
        {with_}
        SELECT f, e, count(*) AS n, count(*) FILTER (WHERE won) AS won FROM s GROUP BY 1, 2
        """,
        with_=src.with_(sub_scores),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    by_fit: dict[float, int] = {}
    by_eng: dict[float, int] = {}
    for f, e, n, _ in rows:
        by_fit[f] = by_fit.get(f, 0) + int(n)
        by_eng[e] = by_eng.get(e, 0) + int(n)
    fit_bands, fit_of = _bands(by_fit, "ABC")
    eng_bands, eng_of = _bands(by_eng, "123")
    counts: dict[tuple[str, str], list[int]] = {}
    for f, e, n, won in rows:
        cell = counts.setdefault((fit_of[f], eng_of[e]), [0, 0])
        cell[0] += int(n)
        cell[1] += int(won)
    cells = []
    for (fb, eb), (n, won) in sorted(counts.items()):
        low, high = wilson(won, n)
        cells.append(MatrixCell(fb, eb, n, won, won / n if n else None, low, high))
    return Matrix(cells, fit_bands, eng_bands)
