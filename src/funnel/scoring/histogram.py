"""The score histogram and every metric computed from it.

Speed by design: :func:`score_histogram` is the only lead-level work — one DuckDB query that
groups leads by (score, knocked out) and counts them and their wins. Every tuner metric
(tiers, precision, recall, lift, AUC, deciles, the threshold curve) is then computed from that
small histogram by :func:`evaluate`, so moving a threshold never touches the leads again.

Tiers: a lead belongs to the first tier whose minimum it reaches; a lead knocked out by a gate
is never in the first (hot) tier, whatever its score.

Which leads a figure counts: conversion figures (tiers, precision, recall, lift, AUC,
deciles, the threshold curve, missed won deals) count the leads whose outcome is decided or
mature (:mod:`funnel.population`); volumes (hot leads per week, leads entering or leaving hot,
filling sales capacity) count every lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, compose
from funnel.population import Counted, Population, backtest_population
from funnel.rules import RuleSet
from funnel.rulesql import gates_sql
from funnel.scoring.source import source
from funnel.stats import AucInterval, delong, wilson
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident


@dataclass(frozen=True)
class ScoreHistogram:
    """Leads and wins per (score, knocked out), and the weeks the leads span.

    ``n`` counts the leads a back-test counts (decided or mature), ``every`` all leads (None:
    the same as ``n``); ``population`` says which leads ``n`` counts.
    """

    score: np.ndarray
    gated: np.ndarray
    n: np.ndarray
    won: np.ndarray
    weeks: float | None
    every: np.ndarray | None = None
    population: Population | None = None

    @property
    def total(self) -> int:
        return int(self.n.sum())

    @property
    def total_won(self) -> int:
        return int(self.won.sum())

    @property
    def leads(self) -> np.ndarray:
        """Every lead per (score, knocked out): what volumes count."""
        return self.n if self.every is None else self.every

    @property
    def counted(self) -> Counted:
        """The leads filtered and those a back-test counts."""
        return Counted(int(self.leads.sum()), self.total)


def score_histogram(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    extra: Fragment | None = None,
) -> ScoreHistogram:
    """Group the (filtered) leads by score and gate; one query.

    Each group counts every lead and those a back-test counts (decided or mature, see
    :func:`funnel.population.backtest_population`). ``extra`` is a further trusted SQL
    condition with its parameters (e.g. a holdout split).
    """
    src = source(store, info, rs)
    population = backtest_population(store, info)
    where = filters.where(info)
    if extra is not None:
        where = compose("({where}) AND ({extra})", where=where, extra=extra)
    query = compose(
        """
        {with_}
        SELECT score, gated, count(*) FILTER (WHERE counted) AS n,
               count(*) FILTER (WHERE won) AS won, count(*) AS every
        FROM (
            SELECT ({score})::DOUBLE AS score, ({gated}) AS gated, {outcome} = 'won' AS won,
                   ({counted}) AS counted
            FROM {leads} WHERE {where}
        ) GROUP BY score, gated ORDER BY score
        """,
        with_=src.with_(),
        score=src.score(rs),
        gated=gates_sql(rs),
        outcome=quote_ident(OUTCOME_COL),
        counted=population.condition,
        leads=src.table,
        where=where,
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
        weeks_value = weeks_spanned(cur, info, where)
    if not rows:
        empty = np.array([], dtype=float)
        none = empty.astype(int)
        return ScoreHistogram(
            empty, empty.astype(bool), none, none, None, none, population=population
        )
    arr = list(zip(*rows, strict=True))
    return ScoreHistogram(
        score=np.asarray(arr[0], dtype=float),
        gated=np.asarray(arr[1], dtype=bool),
        n=np.asarray(arr[2], dtype=np.int64),
        won=np.asarray(arr[3], dtype=np.int64),
        weeks=weeks_value,
        every=np.asarray(arr[4], dtype=np.int64),
        population=population,
    )


def weeks_spanned(cur: Any, info: DatasetInfo, where: Fragment) -> float | None:
    """The weeks the (filtered) leads' creation dates span; None without dates."""
    created = info.mapping.column("created")
    if not created:
        return None
    span = compose(
        "SELECT (date_diff('day', min({c}), max({c})) + 1) / 7.0 FROM {leads} WHERE {where}",
        c=quote_ident(created),
        leads=info.table(),
        where=where,
    )
    found = cur.execute(span.sql, span.args).fetchone()
    return None if not found or found[0] is None else float(found[0])


def tier_index(score: np.ndarray, gated: np.ndarray, rs: RuleSet) -> np.ndarray:
    """The tier of each score (0 = first/hot); knocked-out leads never get tier 0."""
    out = np.full(score.shape, len(rs.tiers) - 1, dtype=np.int64)
    for i in range(len(rs.tiers) - 2, -1, -1):
        out = np.where(score >= rs.tiers[i].min_score, i, out)
    return np.where(gated & (out == 0), 1, out)


@dataclass(frozen=True)
class TierStat:
    name: str
    n: int
    won: int
    share: float | None
    rate: float | None
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.name,
            "n": self.n,
            "won": self.won,
            "share": self.share,
            "rate": self.rate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


@dataclass(frozen=True)
class Evaluation:
    """What a rule set would have done on past outcomes.

    Conversion figures count ``n`` leads (decided or mature); ``leads`` is every filtered lead
    and ``hot_per_week`` counts every hot lead (a volume).
    """

    tiers: list[TierStat]
    n: int
    won: int
    base_rate: float | None
    precision: float | None
    recall: float | None
    lift: float | None
    auc: float | None
    hot_n: int
    missed_won: int
    hot_per_week: float | None
    deciles: list[dict[str, Any]] = field(default_factory=list)
    monotonic: bool = True
    curve: list[dict[str, Any]] = field(default_factory=list)
    leads: int | None = None
    population: Population | None = None

    @property
    def counted(self) -> Counted:
        return Counted(self.n if self.leads is None else self.leads, self.n)

    def measured_on(self, lang: str = "en") -> str:
        """Which leads these figures count, in one sentence ("" when not known)."""
        if self.population is None:
            return ""
        return self.population.describe(self.counted, lang)

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON (``funnel evaluate --json``)."""
        return {
            "tiers": [t.as_dict() for t in self.tiers],
            "n": self.n,
            "won": self.won,
            "base_rate": self.base_rate,
            "precision": self.precision,
            "recall": self.recall,
            "lift": self.lift,
            "auc": self.auc,
            "hot": self.hot_n,
            "missed_won": self.missed_won,
            "hot_per_week": self.hot_per_week,
            "deciles": self.deciles,
            "deciles_monotonic": self.monotonic,
            "population": None
            if self.population is None
            else self.population.as_dict(self.counted) | {"text": self.measured_on()},
        }


def evaluate(hist: ScoreHistogram, rs: RuleSet) -> Evaluation:
    """Every tuner metric from a score histogram (no database access)."""
    n_total, won_total = hist.total, hist.total_won
    base = won_total / n_total if n_total else None
    tiers_idx = tier_index(hist.score, hist.gated, rs)
    tiers: list[TierStat] = []
    for i, tier in enumerate(rs.tiers):
        mask = tiers_idx == i
        n, won = int(hist.n[mask].sum()), int(hist.won[mask].sum())
        low, high = wilson(won, n)
        tiers.append(
            TierStat(
                tier.name,
                n,
                won,
                n / n_total if n_total else None,
                won / n if n else None,
                low,
                high,
            )
        )
    hot = tiers[0]
    precision = hot.rate
    recall = hot.won / won_total if won_total else None
    lift = precision / base if (precision is not None and base) else None
    hot_leads = int(hist.leads[tiers_idx == 0].sum())  # every hot lead: a volume
    per_week = hot_leads / hist.weeks if hist.weeks else None
    return Evaluation(
        tiers=tiers,
        n=n_total,
        won=won_total,
        base_rate=base,
        precision=precision,
        recall=recall,
        lift=lift,
        auc=auc(hist),
        hot_n=hot.n,
        missed_won=won_total - hot.won,
        hot_per_week=per_week,
        deciles=(deciles := decile_table(hist)),
        monotonic=is_monotonic([d["rate"] for d in deciles]),
        curve=threshold_curve(hist),
        leads=int(hist.leads.sum()),
        population=hist.population,
    )


def _ranked(hist: ScoreHistogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups ordered from the best lead to the worst: knocked-out leads rank last."""
    order = np.lexsort((-hist.score, hist.gated))
    return hist.score[order], hist.n[order], hist.won[order]


def rank_key(score: np.ndarray, gated: np.ndarray) -> np.ndarray:
    """One number per lead (or group) ordering leads as the tiers do: knocked-out leads below
    every open lead, each by score (the ranking every AUC of a rule set is taken on).

    >>> rank_key(np.array([5.0, 9.0, 1.0]), np.array([False, True, False])).tolist()
    [5.0, 0.0, 1.0]
    """
    if score.size == 0:
        return score
    span = float(score.max() - score.min()) + 1.0
    return np.where(gated, score - span, score)


def _rank_key(hist: ScoreHistogram) -> np.ndarray:
    """:func:`rank_key` of the histogram's groups (the same ranking as the decile table)."""
    return rank_key(hist.score, hist.gated)


def auc(hist: ScoreHistogram) -> float | None:
    """ROC AUC of the ranking (knocked-out leads below open ones), ties counted as half.

    >>> h = ScoreHistogram(np.array([0., 1.]), np.array([False, False]),
    ...                    np.array([10, 10]), np.array([0, 10]), None)
    >>> auc(h)
    1.0
    """
    pos = hist.won.astype(float)
    neg = (hist.n - hist.won).astype(float)
    p_total, n_total = pos.sum(), neg.sum()
    if p_total == 0 or n_total == 0:
        return None
    key = _rank_key(hist)
    order = np.argsort(key, kind="stable")
    key, pos, neg = key[order], pos[order], neg[order]
    # merge equal keys (a knocked-out and an open group never tie, see _rank_key)
    uniq, inverse = np.unique(key, return_inverse=True)
    pos_u = np.bincount(inverse, weights=pos, minlength=len(uniq))
    neg_u = np.bincount(inverse, weights=neg, minlength=len(uniq))
    neg_below = np.concatenate(([0.0], np.cumsum(neg_u)[:-1]))
    return float(((neg_below + 0.5 * neg_u) * pos_u).sum() / (p_total * n_total))


def auc_interval(hist: ScoreHistogram) -> AucInterval | None:
    """:func:`auc` with its DeLong 95% confidence interval (None without won or other leads).

    >>> h = ScoreHistogram(np.array([0., 1.]), np.array([False, False]),
    ...                    np.array([40, 40]), np.array([10, 30]), None)
    >>> ci = auc_interval(h)
    >>> round(ci.auc, 2), ci.includes_chance
    (0.75, False)
    """
    return delong(_rank_key(hist), hist.won, hist.n - hist.won)


def decile_table(hist: ScoreHistogram, parts: int = 10) -> list[dict[str, Any]]:
    """Conversion by score decile (1 = best), splitting tied scores evenly across deciles."""
    _, n, won = _ranked(hist)
    total = n.sum()
    if total == 0:
        return []
    edges = np.linspace(0, total, parts + 1)
    start = np.concatenate(([0], np.cumsum(n)[:-1])).astype(float)
    end = start + n
    out = []
    for d in range(parts):
        lo, hi = edges[d], edges[d + 1]
        overlap = np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0, None)
        share = np.divide(overlap, n, out=np.zeros_like(overlap), where=n > 0)
        leads = float(overlap.sum())
        wins = float((share * won).sum())
        out.append(
            {"decile": d + 1, "n": leads, "won": wins, "rate": wins / leads if leads else None}
        )
    return out


def is_monotonic(rates: Sequence[float | None], tolerance: float = 1e-9) -> bool:
    """Whether conversion never rises from a better decile to a worse one.

    >>> is_monotonic([0.3, 0.2, 0.2, 0.1]), is_monotonic([0.3, 0.1, 0.2])
    (True, False)
    """
    values = [r for r in rates if r is not None]
    return all(b <= a + tolerance for a, b in zip(values, values[1:], strict=False))


def threshold_curve(hist: ScoreHistogram) -> list[dict[str, Any]]:
    """Precision, recall and volume if the hot threshold were each possible score.

    ``hot`` counts the hot leads a back-test counts (precision's denominator), ``volume``
    every hot lead.
    """
    open_ = ~hist.gated
    scores = np.unique(hist.score[open_])
    if scores.size == 0:
        return []
    s, n, w, v = hist.score[open_], hist.n[open_], hist.won[open_], hist.leads[open_]
    order = np.argsort(s)[::-1]
    s, n, w, v = s[order], n[order], w[order], v[order]
    uniq, idx = np.unique(-s, return_index=True)
    cum_n, cum_w, cum_v = np.cumsum(n), np.cumsum(w), np.cumsum(v)
    last = np.concatenate((idx[1:] - 1, [len(s) - 1]))
    total_won = hist.total_won
    return [
        {
            "threshold": float(-u),
            "volume": int(cum_v[j]),
            "hot": int(cum_n[j]),
            "precision": float(cum_w[j] / cum_n[j]) if cum_n[j] else None,
            "recall": float(cum_w[j] / total_won) if total_won else None,
        }
        for u, j in zip(uniq, last, strict=True)
    ]


def moved_between(hist: ScoreHistogram, before: RuleSet, after: RuleSet) -> dict[str, int]:
    """:func:`moved` for two rule sets that score alike (only their thresholds differ), read
    from the histogram of those scores instead of the leads."""
    hot_before = (hist.score >= before.hot.min_score) & ~hist.gated
    hot_after = (hist.score >= after.hot.min_score) & ~hist.gated
    return {
        "entered": int(hist.leads[hot_after & ~hot_before].sum()),
        "left": int(hist.leads[hot_before & ~hot_after].sum()),
    }


def threshold_for_capacity(hist: ScoreHistogram, per_week: float) -> float | None:
    """The lowest hot threshold whose weekly hot volume still fits the capacity.

    That fills sales capacity without exceeding it; None when no dates or nothing fits.
    """
    if not hist.weeks:
        return None
    curve = threshold_curve(hist)
    fitting = [c["threshold"] for c in curve if c["volume"] / hist.weeks <= per_week]
    return min(fitting) if fitting else None


def threshold_for_target(hist: ScoreHistogram, target: float) -> float | None:
    """The lowest hot threshold whose hot conversion reaches the target (e.g. 0.8)."""
    ok = [
        c["threshold"]
        for c in threshold_curve(hist)
        if c["precision"] is not None and c["precision"] >= target
    ]
    return min(ok) if ok else None
