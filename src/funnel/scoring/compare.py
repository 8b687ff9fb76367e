"""Two rule sets on the same leads: who enters and leaves the hot tier, where they disagree,
and every lead whose tier differs.

Every comparison reads :func:`scored_pair`, the leads scored by both rule sets in one CTE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose
from funnel.population import Counted, Population, backtest_population
from funnel.rules import RuleSet
from funnel.rulesql import gates_sql, tier_case_sql
from funnel.scoring.source import hot_sql, source
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident


def scored_pair(
    store: Store, info: DatasetInfo, a: RuleSet, b: RuleSet, filters: Filters = NO_FILTERS
) -> Fragment:
    """A WITH clause ending in ``pair``: every (filtered) lead scored by two rule sets.

    ``pair`` has ``id`` (as stored), ``outcome``, ``counted`` (a back-test counts the lead:
    decided or mature, :mod:`funnel.population`), ``score_a``, ``gated_a``, ``hot_a`` and the
    same for ``b``; each query comparing two rule sets reads it.
    """
    src = source(store, info, a, b)
    pair = compose(
        """pair AS (
            SELECT *, {hot_a} AS hot_a, {hot_b} AS hot_b
            FROM (
                SELECT {id} AS id, {outcome} AS outcome, ({counted}) AS counted,
                       ({score_a})::DOUBLE AS score_a, ({gated_a}) AS gated_a,
                       ({score_b})::DOUBLE AS score_b, ({gated_b}) AS gated_b
                FROM {leads} WHERE {where}
            )
        )""",
        hot_a=hot_sql(a, "score_a", "gated_a"),
        hot_b=hot_sql(b, "score_b", "gated_b"),
        id=quote_ident(info.mapping.column("id") or info.columns[0]),
        outcome=quote_ident(OUTCOME_COL),
        counted=backtest_population(store, info).condition,
        score_a=src.score(a),
        gated_a=gates_sql(a),
        score_b=src.score(b),
        gated_b=gates_sql(b),
        leads=src.table,
        where=filters.where(info),
    )
    return src.with_(pair)


def moved(
    store: Store, info: DatasetInfo, before: RuleSet, after: RuleSet, filters: Filters = NO_FILTERS
) -> dict[str, int]:
    """How many leads entered and left the hot tier between two rule sets."""
    query = compose(
        "{pair} SELECT count(*) FILTER (WHERE hot_b AND NOT hot_a), "
        "count(*) FILTER (WHERE hot_a AND NOT hot_b) FROM pair",
        pair=scored_pair(store, info, before, after, filters),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    entered, left = (int(row[0]), int(row[1])) if row else (0, 0)
    return {"entered": entered, "left": left}


class Cell(NamedTuple):
    """One cell of the disagreement matrix: every lead in it (a volume), the won ones, and
    the leads a back-test counts (decided or mature) — conversion's denominator."""

    leads: int
    won: int
    counted: int

    @property
    def rate(self) -> float | None:
        """Conversion among the counted leads (None when none is counted)."""
        return self.won / self.counted if self.counted else None


@dataclass(frozen=True)
class Disagreement:
    """Where two rule sets disagree on who is hot: counts, conversion and example leads."""

    both: Cell
    only_a: Cell
    only_b: Cell
    neither: Cell
    examples: dict[str, list[str]]
    population: Population | None = None

    @property
    def counted(self) -> Counted:
        """Every lead compared, and those the conversion figures count."""
        cells = (self.both, self.only_a, self.only_b, self.neither)
        return Counted(sum(c.leads for c in cells), sum(c.counted for c in cells))

    def measured_on(self, lang: str = "en") -> str:
        """Which leads the cells' conversion counts, in one sentence ("" when not known)."""
        return "" if self.population is None else self.population.describe(self.counted, lang)


def disagreement(
    store: Store,
    info: DatasetInfo,
    a: RuleSet,
    b: RuleSet,
    filters: Filters = NO_FILTERS,
    examples: int = 50,
) -> Disagreement:
    """The hot-in-A-only / B-only / both matrix, with example lead ids per cell.

    Each cell counts every lead (a volume) and, for its conversion, the won leads among those
    a back-test counts (won leads always count).
    """
    # the id is cast to text only where A and B disagree, and min(x, n) keeps the n smallest
    # without sorting the whole cell
    query = compose(
        """
        {pair}
        SELECT hot_a, hot_b, count(*), count(*) FILTER (WHERE outcome = 'won'),
               count(*) FILTER (WHERE counted),
               min(CAST(id AS VARCHAR), {examples}) FILTER (WHERE hot_a <> hot_b)
        FROM pair GROUP BY hot_a, hot_b
        """,
        pair=scored_pair(store, info, a, b, filters),
        examples=str(int(examples)),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    cells = {
        (bool(r[0]), bool(r[1])): (Cell(int(r[2]), int(r[3]), int(r[4])), list(r[5] or []))
        for r in rows
    }
    empty: tuple[Cell, list[str]] = (Cell(0, 0, 0), [])
    return Disagreement(
        both=cells.get((True, True), empty)[0],
        only_a=cells.get((True, False), empty)[0],
        only_b=cells.get((False, True), empty)[0],
        neither=cells.get((False, False), empty)[0],
        examples={
            "only_a": cells.get((True, False), empty)[1],
            "only_b": cells.get((False, True), empty)[1],
        },
        population=backtest_population(store, info),
    )


def tier_moves(
    store: Store,
    info: DatasetInfo,
    a: RuleSet,
    b: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    limit: int = 500,
) -> tuple[list[tuple[str, str, int]], pd.DataFrame]:
    """Leads whose tier differs between two rule sets: counts per (from, to) and a list."""
    head = compose(
        """
        {pair},
        tiered AS (
            SELECT CAST(id AS VARCHAR) AS id, score_a, score_b, outcome,
                   {tier_a} AS tier_a, {tier_b} AS tier_b
            FROM pair
        )""",
        pair=scored_pair(store, info, a, b, filters),
        tier_a=tier_case_sql(a, "score_a", "gated_a"),
        tier_b=tier_case_sql(b, "score_b", "gated_b"),
    )
    counts = compose(
        "{head} SELECT tier_a, tier_b, count(*) FROM tiered WHERE tier_a <> tier_b "
        "GROUP BY ALL ORDER BY 3 DESC",
        head=head,
    )
    listed = compose(
        "{head} SELECT id, tier_a, tier_b, score_a, score_b, outcome FROM tiered "
        "WHERE tier_a <> tier_b ORDER BY score_b DESC, id LIMIT {limit}",
        head=head,
        limit=bind(limit),
    )
    with store.cursor() as cur:
        rows = cur.execute(counts.sql, counts.args).fetchall()
        leads = cur.execute(listed.sql, listed.args).df()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows], leads
