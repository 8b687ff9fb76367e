"""Apply a rule set to a dataset and measure what it would have done on past outcomes.

Speed by design: :func:`score_histogram` is the only lead-level work — one DuckDB query that
groups leads by (score, knocked out) and counts them and their wins. Every tuner metric
(tiers, precision, recall, lift, AUC, deciles, the threshold curve) is then computed from that
small histogram by :func:`evaluate`, so moving a threshold never touches the leads again.

Tiers: a lead belongs to the first tier whose minimum it reaches; a lead knocked out by a gate
is never in the first (hot) tier, whatever its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.rules import Rule, RuleSet
from funnel.stats import wilson
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident


@dataclass(frozen=True)
class ScoreHistogram:
    """Leads and wins per (score, knocked out), and the weeks the leads span."""

    score: np.ndarray
    gated: np.ndarray
    n: np.ndarray
    won: np.ndarray
    weeks: float | None

    @property
    def total(self) -> int:
        return int(self.n.sum())

    @property
    def total_won(self) -> int:
        return int(self.won.sum())


def score_histogram(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    extra: tuple[str, list[Any]] | None = None,
) -> ScoreHistogram:
    """Group the (filtered) leads by score and gate; one query.

    ``extra`` is a further trusted SQL condition with its parameters (e.g. a holdout split).
    """
    score, score_params = rs.score_sql()
    gate, gate_params = rs.gate_sql()
    where, where_params = filters.where(info)
    if extra is not None:
        where = f"({where}) AND ({extra[0]})"
        where_params = [*where_params, *extra[1]]
    sql = f"""
        SELECT score, gated, count(*) AS n, count(*) FILTER (WHERE won) AS won
        FROM (
            SELECT ({score})::DOUBLE AS score, ({gate}) AS gated,
                   {quote_ident(OUTCOME_COL)} = 'won' AS won
            FROM {info.table()} WHERE {where}
        ) GROUP BY score, gated ORDER BY score
    """
    created = info.mapping.column("created")
    with store.cursor() as cur:
        rows = cur.execute(sql, [*score_params, *gate_params, *where_params]).fetchall()
        weeks_value = None
        if created:
            c = quote_ident(created)
            span = cur.execute(
                f"SELECT (date_diff('day', min({c}), max({c})) + 1) / 7.0 "
                f"FROM {info.table()} WHERE {where}",
                where_params,
            ).fetchone()
            weeks_value = span[0] if span else None
    if not rows:
        empty = np.array([], dtype=float)
        return ScoreHistogram(empty, empty.astype(bool), empty.astype(int), empty.astype(int), None)
    arr = list(zip(*rows, strict=True))
    return ScoreHistogram(
        score=np.asarray(arr[0], dtype=float),
        gated=np.asarray(arr[1], dtype=bool),
        n=np.asarray(arr[2], dtype=np.int64),
        won=np.asarray(arr[3], dtype=np.int64),
        weeks=None if weeks_value is None else float(weeks_value),
    )


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
    """What a rule set would have done on past outcomes."""

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
    per_week = hot.n / hist.weeks if hist.weeks else None
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
    )


def _ranked(hist: ScoreHistogram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Groups ordered from the best lead to the worst: knocked-out leads rank last."""
    order = np.lexsort((-hist.score, hist.gated))
    return hist.score[order], hist.n[order], hist.won[order]


def _rank_key(hist: ScoreHistogram) -> np.ndarray:
    """One number per group ordering leads as the tiers do: knocked-out leads below every
    open lead, each group by score (the same ranking as the decile table)."""
    if hist.score.size == 0:
        return hist.score
    span = float(hist.score.max() - hist.score.min()) + 1.0
    return np.where(hist.gated, hist.score - span, hist.score)


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
    """Precision, recall and volume if the hot threshold were each possible score."""
    open_ = ~hist.gated
    scores = np.unique(hist.score[open_])
    if scores.size == 0:
        return []
    s, n, w = hist.score[open_], hist.n[open_], hist.won[open_]
    order = np.argsort(s)[::-1]
    s, n, w = s[order], n[order], w[order]
    uniq, idx = np.unique(-s, return_index=True)
    cum_n, cum_w = np.cumsum(n), np.cumsum(w)
    last = np.concatenate((idx[1:] - 1, [len(s) - 1]))
    total_won = hist.total_won
    return [
        {
            "threshold": float(-u),
            "hot": int(cum_n[j]),
            "precision": float(cum_w[j] / cum_n[j]) if cum_n[j] else None,
            "recall": float(cum_w[j] / total_won) if total_won else None,
        }
        for u, j in zip(uniq, last, strict=True)
    ]


def threshold_for_capacity(hist: ScoreHistogram, per_week: float) -> float | None:
    """The lowest hot threshold whose weekly hot volume still fits the capacity.

    That fills sales capacity without exceeding it; None when no dates or nothing fits.
    """
    if not hist.weeks:
        return None
    fitting = [c["threshold"] for c in threshold_curve(hist) if c["hot"] / hist.weeks <= per_week]
    return min(fitting) if fitting else None


def threshold_for_target(hist: ScoreHistogram, target: float) -> float | None:
    """The lowest hot threshold whose hot conversion reaches the target (e.g. 0.8)."""
    ok = [
        c["threshold"]
        for c in threshold_curve(hist)
        if c["precision"] is not None and c["precision"] >= target
    ]
    return min(ok) if ok else None


# --- per lead ------------------------------------------------------------------------------------


def score_leads(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    only: str | None = None,
    limit: int | None = None,
    reasons: int = 3,
    lang: str = "en",
) -> pd.DataFrame:
    """One row per lead: id, score, tier, the top reasons, and the knock-out gate if any.

    ``only``: ``"hot"`` for hot leads, ``"missed"`` for won leads that were not hot.
    """
    id_col = info.mapping.column("id") or info.columns[0]
    parts, params = [], []
    for i, rule in enumerate(rs.rules):
        sql, p = rule.sql()
        parts.append(f"({sql}) AS r{i}")
        params += p
    score, score_params = rs.score_sql()
    gate, gate_params = rs.gate_sql()
    where, where_params = filters.where(info)
    rule_cols = ", ".join(parts)
    hot = f"(({score}) >= ? AND NOT ({gate}))"
    hot_params = [*score_params, rs.hot.min_score, *gate_params]
    pick, pick_params = "TRUE", []
    if only == "hot":
        pick, pick_params = hot, hot_params
    elif only == "missed":
        pick = f"NOT {hot} AND {quote_ident(OUTCOME_COL)} = 'won'"
        pick_params = hot_params
    sql = f"""
        SELECT CAST({quote_ident(id_col)} AS VARCHAR) AS id, ({score})::DOUBLE AS score,
               ({gate}) AS gated, {quote_ident(OUTCOME_COL)} AS outcome
               {", " + rule_cols if rule_cols else ""}
        FROM {info.table()} WHERE ({where}) AND {pick}
        ORDER BY score DESC, id {"LIMIT ?" if limit is not None else ""}
    """
    frame: pd.DataFrame = store.fetch_frame(
        sql,
        [
            *score_params,
            *gate_params,
            *params,
            *where_params,
            *pick_params,
            *([limit] if limit is not None else []),
        ],
    )
    idx = tier_index(frame["score"].to_numpy(), frame["gated"].to_numpy(dtype=bool), rs)
    frame["tier"] = [rs.tiers[i].name for i in idx]
    frame["reasons"] = _reasons(frame, rs.rules, reasons, lang)
    frame["knocked_out"] = frame["gated"].astype(bool)
    return frame[["id", "score", "tier", "reasons", "knocked_out", "outcome"]].reset_index(
        drop=True
    )


def _reasons(frame: pd.DataFrame, rules: Sequence[Rule], k: int, lang: str) -> list[str]:
    if not rules or frame.empty:
        return [""] * len(frame)
    points = frame[[f"r{i}" for i in range(len(rules))]].to_numpy(dtype=float)
    labels = [r.label(lang) for r in rules]
    order = np.argsort(-np.abs(points), axis=1)[:, :k]
    out = []
    for row, picks in zip(points, order, strict=True):
        out.append("; ".join(f"{labels[j]} ({row[j]:+.0f})" for j in picks if row[j] != 0))
    return out


def moved(
    store: Store, info: DatasetInfo, before: RuleSet, after: RuleSet, filters: Filters = NO_FILTERS
) -> dict[str, int]:
    """How many leads entered and left the hot tier between two rule sets."""
    sb, pb = before.score_sql()
    gb, gpb = before.gate_sql()
    sa, pa = after.score_sql()
    ga, gpa = after.gate_sql()
    where, wp = filters.where(info)
    hot_b, hot_a = before.hot.min_score, after.hot.min_score
    sql = f"""
        SELECT count(*) FILTER (WHERE a AND NOT b), count(*) FILTER (WHERE b AND NOT a)
        FROM (SELECT (({sb}) >= ? AND NOT ({gb})) AS b, (({sa}) >= ? AND NOT ({ga})) AS a
              FROM {info.table()} WHERE {where})
    """
    with store.cursor() as cur:
        row = cur.execute(sql, [*pb, hot_b, *gpb, *pa, hot_a, *gpa, *wp]).fetchone()
    entered, left = (int(row[0]), int(row[1])) if row else (0, 0)
    return {"entered": entered, "left": left}


@dataclass(frozen=True)
class Explanation:
    """One lead's score, rule by rule."""

    lead_id: str
    score: float
    tier: str
    outcome: str | None
    points: list[tuple[str, float]]  # (rule sentence, points), in rule order
    gates: list[str]  # sentences of the gates that apply


def explain_lead(
    store: Store, info: DatasetInfo, rs: RuleSet, lead_id: str, lang: str = "en"
) -> Explanation | None:
    """Explain a lead's score and tier (None when the id is unknown)."""
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    cols, params = [], []
    for i, rule in enumerate(rs.rules):
        sql, p = rule.sql()
        cols.append(f"({sql})::DOUBLE AS r{i}")
        params += p
    for j, gate in enumerate(rs.gates):
        sql, p = gate.sql()
        cols.append(f"coalesce({sql}, FALSE) AS g{j}")
        params += p
    select = ", ".join([f"{quote_ident(OUTCOME_COL)} AS outcome", *cols])
    with store.cursor() as cur:
        row = cur.execute(
            f"SELECT {select} FROM {info.table()} WHERE CAST({id_col} AS VARCHAR) = ? LIMIT 1",
            [*params, lead_id],
        ).fetchone()
    if row is None:
        return None
    values = [float(v or 0) for v in row[1 : 1 + len(rs.rules)]]
    total = sum(values)
    if rs.score_cap is not None:
        total = min(total, rs.score_cap)
    gated = [bool(v) for v in row[1 + len(rs.rules) :]]
    idx = tier_index(np.array([total]), np.array([any(gated)]), rs)[0]
    return Explanation(
        lead_id=lead_id,
        score=total,
        tier=rs.tiers[int(idx)].name,
        outcome=row[0],
        points=[(r.describe(lang), v) for r, v in zip(rs.rules, values, strict=True)],
        gates=[g.describe(lang) for g, hit in zip(rs.gates, gated, strict=True) if hit],
    )


@dataclass(frozen=True)
class Disagreement:
    """Where two rule sets disagree on who is hot: counts, conversion and example leads."""

    both: tuple[int, int]  # (leads, won)
    only_a: tuple[int, int]
    only_b: tuple[int, int]
    neither: tuple[int, int]
    examples: dict[str, list[str]]


def disagreement(
    store: Store,
    info: DatasetInfo,
    a: RuleSet,
    b: RuleSet,
    filters: Filters = NO_FILTERS,
    examples: int = 50,
) -> Disagreement:
    """The hot-in-A-only / B-only / both matrix, with example lead ids per cell."""
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    sa, pa = a.score_sql()
    ga, gpa = a.gate_sql()
    sb, pb = b.score_sql()
    gb, gpb = b.gate_sql()
    where, wp = filters.where(info)
    sql = f"""
        WITH hot AS (
            SELECT CAST({id_col} AS VARCHAR) AS id, {quote_ident(OUTCOME_COL)} = 'won' AS won,
                   (({sa}) >= ? AND NOT ({ga})) AS a, (({sb}) >= ? AND NOT ({gb})) AS b
            FROM {info.table()} WHERE {where}
        )
        SELECT a, b, count(*), count(*) FILTER (WHERE won),
               list(id ORDER BY id) FILTER (WHERE a <> b)[1:{int(examples)}]
        FROM hot GROUP BY a, b
    """
    params = [*pa, a.hot.min_score, *gpa, *pb, b.hot.min_score, *gpb, *wp]
    with store.cursor() as cur:
        rows = cur.execute(sql, params).fetchall()
    cells = {(bool(r[0]), bool(r[1])): (int(r[2]), int(r[3]), list(r[4] or [])) for r in rows}
    empty: tuple[int, int, list[str]] = (0, 0, [])

    def pair(key: tuple[bool, bool]) -> tuple[int, int]:
        n, w, _ = cells.get(key, empty)
        return n, w

    return Disagreement(
        both=pair((True, True)),
        only_a=pair((True, False)),
        only_b=pair((False, True)),
        neither=pair((False, False)),
        examples={
            "only_a": cells.get((True, False), empty)[2],
            "only_b": cells.get((False, True), empty)[2],
        },
    )


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


def _part(rs: RuleSet, group: str) -> tuple[str, list[Any]]:
    parts, params = [], []
    for rule in rs.rules:
        if rule.group == group:
            sql, p = rule.sql()
            parts.append(f"({sql})")
            params += p
    return (" + ".join(parts) if parts else "0"), params


def fit_engagement_matrix(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters = NO_FILTERS
) -> list[MatrixCell] | None:
    """Conversion by fit band × engagement band (A1 … C3), where both kinds of rules exist.

    Each sub-score is cut at its own 1/3 and 2/3 quantiles over the filtered leads: A holds
    the leads scoring at or above the upper cut, C those below the lower cut.
    """
    groups = {rule.group for rule in rs.rules}
    if groups != {"fit", "engagement"}:
        return None
    fit, fit_params = _part(rs, "fit")
    eng, eng_params = _part(rs, "engagement")
    where, wp = filters.where(info)
    sql = f"""
        WITH s AS (
            SELECT ({fit})::DOUBLE AS f, ({eng})::DOUBLE AS e,
                   {quote_ident(OUTCOME_COL)} = 'won' AS won
            FROM {info.table()} WHERE {where}
        ),
        cuts AS (
            SELECT quantile_cont(f, 2 / 3) AS f_hi, quantile_cont(f, 1 / 3) AS f_lo,
                   quantile_cont(e, 2 / 3) AS e_hi, quantile_cont(e, 1 / 3) AS e_lo FROM s
        )
        SELECT CASE WHEN f >= f_hi THEN 'A' WHEN f >= f_lo THEN 'B' ELSE 'C' END AS fb,
               CASE WHEN e >= e_hi THEN '1' WHEN e >= e_lo THEN '2' ELSE '3' END AS eb,
               count(*) AS n, count(*) FILTER (WHERE won) AS won
        FROM s, cuts GROUP BY 1, 2 ORDER BY 1, 2
    """
    with store.cursor() as cur:
        rows = cur.execute(sql, [*fit_params, *eng_params, *wp]).fetchall()
    out = []
    for fb, eb, n, won in rows:
        low, high = wilson(int(won), int(n))
        out.append(MatrixCell(fb, eb, int(n), int(won), won / n if n else None, low, high))
    return out
