"""Conversion by fit band × engagement band (A1 … C3): each lead's points from fit rules
and from engagement rules, cut into thirds.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, balanced, compose
from funnel.population import backtest_population
from funnel.rules import RuleSet
from funnel.scoring.source import Source, source
from funnel.stats import wilson
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident


@dataclass(frozen=True)
class MatrixCell:
    """Leads in one fit band × engagement band (A = best third, C = worst)."""

    fit: str
    engagement: str
    n: int
    won: int
    rate: float | None
    ci_low: float
    ci_high: float


def _part(src: Source, rs: RuleSet, group: str) -> Fragment:
    """The points of the rule set's ``fit`` or ``engagement`` rules (0 without any)."""
    parts = [compose("({p})", p=src.rule(rs, r)) for r in rs.rules if r.group == group]
    return balanced(" + ", parts) if parts else Fragment("0")


def fit_engagement_matrix(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters = NO_FILTERS
) -> list[MatrixCell] | None:
    """Conversion by fit band × engagement band (A1 … C3), where both kinds of rules exist.

    Each sub-score is cut at its own 1/3 and 2/3 quantiles over the filtered leads: A holds
    the leads scoring at or above the upper cut, C those below the lower cut. Like every
    back-test figure it counts the leads whose outcome is decided or mature
    (:mod:`funnel.population`).
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
        {with_},
        cuts AS (
            SELECT quantile_cont(f, 2 / 3) AS f_hi, quantile_cont(f, 1 / 3) AS f_lo,
                   quantile_cont(e, 2 / 3) AS e_hi, quantile_cont(e, 1 / 3) AS e_lo FROM s
        )
        SELECT CASE WHEN f >= f_hi THEN 'A' WHEN f >= f_lo THEN 'B' ELSE 'C' END AS fb,
               CASE WHEN e >= e_hi THEN '1' WHEN e >= e_lo THEN '2' ELSE '3' END AS eb,
               count(*) AS n, count(*) FILTER (WHERE won) AS won
        FROM s, cuts GROUP BY 1, 2 ORDER BY 1, 2
        """,
        with_=src.with_(sub_scores),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    out = []
    for fb, eb, n, won in rows:
        low, high = wilson(int(won), int(n))
        out.append(MatrixCell(fb, eb, int(n), int(won), won / n if n else None, low, high))
    return out
