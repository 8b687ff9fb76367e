"""Leads grouped by what each rule reads of them: a weight move without touching the leads.

A weight move changes one rule's points, and every lead's score moves by what that rule gives
it at the new points minus the old. So :func:`lead_patterns` reads the (filtered) leads once
per rule *structure* (the rules without their points, the gates, the filters): each rule's
*unit* for the lead — 1 or 0 for a rule that fires or not, the count for a per-unit rule —
grouped into patterns with their leads, wins and knock-out. On the 1M-lead demo, the 37-rule
set suggested from the data gives about 330,000 patterns. :meth:`Patterns.histogram` then
scores the patterns in numpy (from the last scores it computed, changing only the rules whose
points changed) and counts leads per score with one ``bincount``: the same
:class:`~funnel.scoring.histogram.ScoreHistogram` as :func:`score_histogram`, exactly, since
every score here is a whole number (float sums of whole numbers are exact in any order).

Rule sets this cannot score exactly get None from :func:`lead_patterns`, and their callers
use :func:`score_histogram`: a rule set whose points decay (decayed counts are rounded to 0.1,
so their float sums depend on the order they are added in), a per-unit rule on a column that
holds fractions, and a rule kind without a numpy form (:data:`funnel.renderers.UNITS`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import compose, join
from funnel.population import Population, backtest_population
from funnel.renderers import UNITS
from funnel.rules import DEFAULT_TIERS, Rule, RuleSet, encode_ruleset
from funnel.rulesql import gates_sql
from funnel.scoring.histogram import ScoreHistogram, weeks_spanned
from funnel.scoring.source import source
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident

#: Scores kept per patterns (each one float per pattern), to move from the nearest.
KEPT_SCORES = 4


def structure_key(rs: RuleSet) -> str:
    """What decides the patterns: the rules without their points, the gates and the decay.

    >>> from funnel.rules import CategoryRule
    >>> a = RuleSet(rules=(CategoryRule("industry", "SaaS", 15),))
    >>> structure_key(a) == structure_key(a.with_points(0, -3).with_threshold("hot", 70))
    True
    """
    bare = replace(
        rs,
        rules=tuple(r.with_points(0) for r in rs.rules),
        tiers=DEFAULT_TIERS,
        score_cap=None,
        name="",
        description="",
    )
    return encode_ruleset(bare)


def _points(rule: Rule) -> Callable[[np.ndarray], np.ndarray]:
    """A rule's points per pattern from its units, as its SQL computes them."""
    units = UNITS[rule.kind]
    return lambda values: units.points(rule, values)


class Patterns:
    """The (filtered) leads of one rule structure, grouped by their rules' units.

    Shared between sessions and threads: nothing here changes after it is built except the
    few scores kept to move from, which a lock guards.
    """

    def __init__(
        self,
        key: str,
        units: list[np.ndarray],
        gated: np.ndarray,
        n: np.ndarray,
        won: np.ndarray,
        every: np.ndarray,
        weeks: float | None,
        population: Population,
    ) -> None:
        self.key = key
        self.units = units
        self.gated = gated
        self.n = n  # the leads a back-test counts (funnel.population)
        self.won = won
        self.every = every  # every lead
        self.weeks = weeks
        self.population = population
        self._scores: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.every.size)

    @property
    def nbytes(self) -> int:
        """Memory held, the kept scores included."""
        counts = self.gated.nbytes + self.n.nbytes + self.won.nbytes + self.every.nbytes
        with self._lock:
            kept = sum(s.nbytes for s in self._scores.values())
        return sum(u.nbytes for u in self.units) + counts + kept

    def fits(self, rs: RuleSet) -> bool:
        return structure_key(rs) == self.key

    def scores(self, rs: RuleSet) -> np.ndarray:
        """Each pattern's score (capped), moved from the kept scores nearest in points."""
        if not self.fits(rs):
            raise ValueError("the rule set's structure differs from the patterns'")
        points = tuple(r.points for r in rs.rules)
        with self._lock:
            kept = self._scores.get(points)
            if kept is not None:
                self._scores.move_to_end(points)
            nearest = min(
                self._scores.items(),
                key=lambda item: sum(a != b for a, b in zip(item[0], points, strict=True)),
                default=None,
            )
        if kept is None:
            kept = self._moved(rs, nearest)
            with self._lock:
                self._scores[points] = kept
                while len(self._scores) > KEPT_SCORES:
                    self._scores.popitem(last=False)
        if rs.score_cap is not None:
            capped: np.ndarray = np.minimum(kept, float(rs.score_cap))
            return capped
        return kept

    def _moved(self, rs: RuleSet, nearest: tuple[tuple[int, ...], np.ndarray] | None) -> np.ndarray:
        """The uncapped scores: the nearest kept ones moved by the rules whose points differ,
        or every rule's points added up when most differ."""
        if nearest is not None:
            before, start = nearest
            changed = [
                i for i, (a, r) in enumerate(zip(before, rs.rules, strict=True)) if a != r.points
            ]
            if 2 * len(changed) <= len(before):
                total = start.copy()
                for i in changed:
                    rule = rs.rules[i]
                    total += _points(rule)(self.units[i])
                    total -= _points(rule.with_points(before[i]))(self.units[i])
                return total
        total = np.zeros(len(self), dtype=np.float64)
        for rule, units in zip(rs.rules, self.units, strict=True):
            total += _points(rule)(units)
        return total

    def histogram(self, rs: RuleSet) -> ScoreHistogram:
        """Leads and wins per (score, knocked out): :func:`score_histogram`'s answer."""
        score = self.scores(rs)
        if score.size == 0:
            empty = np.array([], dtype=float)
            none = empty.astype(int)
            return ScoreHistogram(
                empty, empty.astype(bool), none, none, None, none, population=self.population
            )
        low = float(score.min())
        key = (score - low).astype(np.int64) * 2 + self.gated
        span = int(key.max()) + 1
        weights = (self.n, self.won, self.every)
        if span <= max(4 * key.size, 1 << 16):  # few possible scores: count them directly
            n, won, every = (np.bincount(key, weights=w, minlength=span) for w in weights)
            found = np.flatnonzero(every)
            n, won, every = n[found], won[found], every[found]
        else:
            found, inverse = np.unique(key, return_inverse=True)
            n, won, every = (np.bincount(inverse, weights=w) for w in weights)
        return ScoreHistogram(
            score=low + (found // 2).astype(np.float64),
            gated=(found % 2).astype(bool),
            n=n.astype(np.int64),
            won=won.astype(np.int64),
            weeks=self.weeks,
            every=every.astype(np.int64),
            population=self.population,
        )

    def moved(self, before: RuleSet, after: RuleSet) -> dict[str, int]:
        """Leads that entered and left the hot tier between two rule sets of this structure
        (:func:`funnel.scoring.compare.moved`'s answer)."""
        open_ = ~self.gated
        hot_before = (self.scores(before) >= before.hot.min_score) & open_
        hot_after = (self.scores(after) >= after.hot.min_score) & open_
        return {
            "entered": int(self.every[hot_after & ~hot_before].sum()),
            "left": int(self.every[hot_before & ~hot_after].sum()),
        }


def lead_patterns(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
) -> Patterns | None:
    """Group the (filtered) leads by their rules' units; one query. None when the rule set
    cannot be scored exactly from patterns (see the module's docstring)."""
    src = source(store, info, rs)
    if src.cte.sql:  # points decay: rounded fractions
        return None
    if any(rule.kind not in UNITS for rule in rs.rules):  # a kind without a numpy form
        return None
    units = [UNITS[rule.kind].sql(rule) for rule in rs.rules]
    where = filters.where(info)
    names = [f"u{i}" for i in range(len(units))]
    selected = [compose(f"{{u}} AS {name}", u=u) for name, u in zip(names, units, strict=True)]
    selected.append(compose("({gated}) AS gated", gated=gates_sql(rs)))
    population = backtest_population(store, info)
    query = compose(
        """
        SELECT {selected}, count(*) FILTER (WHERE {counted}) AS n,
               count(*) FILTER (WHERE {outcome} = 'won') AS won, count(*) AS every
        FROM {leads} WHERE {where} GROUP BY ALL
        """,
        selected=join(", ", selected),
        counted=population.condition,
        outcome=quote_ident(OUTCOME_COL),
        leads=src.table,
        where=where,
    )
    with store.cursor() as cur:
        found = cur.execute(query.sql, query.args).fetchnumpy()
        weeks = weeks_spanned(cur, info, where)
    columns: list[np.ndarray] = []
    for name in names:
        values = np.asarray(found[name])
        if values.dtype.kind == "f":
            whole = np.isfinite(values).all() and bool((values == np.floor(values)).all())
            if not whole or (values.size and float(np.abs(values).max()) >= 2**31):
                return None  # fractions: their float sums depend on the order
            values = values.astype(np.int32)
        columns.append(values)
    every = np.asarray(found["every"], dtype=np.int64)
    return Patterns(
        key=structure_key(rs),
        units=columns,
        gated=np.asarray(found["gated"], dtype=bool),
        n=np.asarray(found["n"], dtype=np.int64),
        won=np.asarray(found["won"], dtype=np.int64),
        every=every,
        weeks=weeks if every.size else None,
        population=population,
    )
