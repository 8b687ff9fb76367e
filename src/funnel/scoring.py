"""Apply a rule set to a dataset and measure what it would have done on past outcomes.

Speed by design: :func:`score_histogram` is the only lead-level work — one DuckDB query that
groups leads by (score, knocked out) and counts them and their wins. Every tuner metric
(tiers, precision, recall, lift, AUC, deciles, the threshold curve) is then computed from that
small histogram by :func:`evaluate`, so moving a threshold never touches the leads again.

Tiers: a lead belongs to the first tier whose minimum it reaches; a lead knocked out by a gate
is never in the first (hot) tier, whatever its score.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, balanced, bind, compose, join
from funnel.renderers import label
from funnel.rules import Rule, RuleSet
from funnel.rulesql import gate_sql, gates_sql, rule_sql, score_sql
from funnel.stats import wilson
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident

#: Prefix of the lead's own columns in :func:`score_leads`'s query (renamed back after).
_OWN = "__own_"


# --- where leads are read from: the leads table, or it joined with decayed activity counts ------


@dataclass(frozen=True)
class ActivityLog:
    """A dataset's activity log: which lead column counts which activity type, and its end."""

    columns: dict[str, str]  # lead column (activity_<type>) → activity type
    last: datetime | None  # the latest activity: "now" for the decay of historical data


_LOGS: dict[tuple[str, str, str], ActivityLog | None] = {}  # small: one entry per dataset
_LOGS_LOCK = threading.Lock()


def activity_log(store: Store, info: DatasetInfo) -> ActivityLog | None:
    """Describe the dataset's activity log, or None when it was loaded without one.

    The load derives one ``activity_<type>`` count column per activity type, in sorted type
    order, appended last to the mapping; this pairs them back up.
    """
    key = (str(store.path), info.schema, info.fingerprint + info.loaded_at.isoformat())
    with _LOGS_LOCK:
        if key in _LOGS:
            return _LOGS[key]
    with store.cursor() as cur:
        found = cur.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = 'activities'",
            [info.schema],
        ).fetchone()
        log: ActivityLog | None = None
        if found and found[0]:
            table = info.table("activities")
            types = cur.execute(f"SELECT DISTINCT activity_type FROM {table}").fetchall()
            last = cur.execute(f"SELECT max(occurred_at) FROM {table}").fetchone()
            derived = [s.name for s in info.mapping.leads if s.role == "behaviour"]
            kinds = sorted(str(k[0]) for k in types)
            tail = derived[len(derived) - len(kinds) :] if kinds else []
            log = ActivityLog(
                columns=dict(zip(tail, kinds, strict=True)),
                last=last[0] if last else None,
            )
    with _LOGS_LOCK:
        _LOGS[key] = log
    return log


@dataclass(frozen=True)
class Source:
    """Where a query reads leads from: the leads table, or a CTE put first that joins it with
    decayed activity counts."""

    cte: Fragment  # empty, or "name AS (...)"
    table: str
    decayed: dict[float, dict[str, str]]  # half-life → activity column → decayed count SQL

    def with_(self, *more: Fragment) -> Fragment:
        """The query's WITH clause: this source's CTE and ``more``."""
        items = [c for c in (self.cte, *more) if c.sql]
        return compose("WITH {items}", items=join(",\n", items)) if items else Fragment("")

    def score(self, rs: RuleSet) -> Fragment:
        return score_sql(rs, self._decay(rs))

    def rule(self, rs: RuleSet, rule: Rule) -> Fragment:
        return rule_sql(rs, rule, self._decay(rs))

    def _decay(self, rs: RuleSet) -> dict[str, str] | None:
        return None if rs.decay_half_life is None else self.decayed.get(rs.decay_half_life)


def source(store: Store, info: DatasetInfo, *rulesets: RuleSet) -> Source:
    """Read the leads table, joined with decayed activity counts where a rule set decays.

    A decayed count is the sum over a lead's activities of ``0.5 ** (age / half-life)``, the
    age in days counted back from the log's last activity (future-dated activities count 1).
    """
    plain = Source(Fragment(""), info.table(), {})
    lives = sorted({rs.decay_half_life for rs in rulesets if rs.decay_half_life is not None})
    if not lives:
        return plain
    log = activity_log(store, info)
    used = {r.column for rs in rulesets for r in rs.rules if r.group == "engagement"}
    columns = [c for c in (log.columns if log else {}) if c in used]
    if log is None or log.last is None or not columns:
        return plain
    sums: list[Fragment] = []
    decayed: dict[float, dict[str, str]] = {}
    for i, life in enumerate(lives):
        decayed[life] = {}
        for j, column in enumerate(columns):
            alias = f"__decay_{i}_{j}"
            sums.append(
                compose(
                    "sum(pow(0.5, greatest(epoch(CAST({last} AS TIMESTAMP)) - epoch(occurred_at),"
                    " 0) / 86400.0 / {life})) FILTER (WHERE activity_type = {type}) AS {alias}",
                    last=bind(log.last),
                    life=bind(life),
                    type=bind(log.columns[column]),
                    alias=alias,
                )
            )
            decayed[life][column] = f"coalesce({alias}, 0)"
    cte = compose(
        """__leads AS (
        SELECT l.*, d.* EXCLUDE (lead_id) FROM {leads} AS l
        LEFT JOIN (
            SELECT lead_id, {sums} FROM {activities} GROUP BY lead_id
        ) AS d ON CAST(l.{id} AS VARCHAR) = d.lead_id
    )""",
        leads=info.table(),
        sums=join(", ", sums),
        activities=info.table("activities"),
        id=quote_ident(info.mapping.column("id") or info.columns[0]),
    )
    return Source(cte, "__leads", decayed)


def hot_sql(rs: RuleSet, score: Fragment | str, gated: Fragment | str) -> Fragment:
    """True where a lead with this score and gate is in the rule set's first (hot) tier.

    >>> from funnel.rules import Tier
    >>> hot_sql(RuleSet(tiers=(Tier("hot", 10), Tier("cold", float("-inf")))), "s", "g")
    Fragment(sql='((s) >= ? AND NOT (g))', params=(10,))
    """
    return compose(
        "(({score}) >= {min} AND NOT ({gated}))",
        score=score,
        min=bind(rs.hot.min_score),
        gated=gated,
    )


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
    extra: Fragment | None = None,
) -> ScoreHistogram:
    """Group the (filtered) leads by score and gate; one query.

    ``extra`` is a further trusted SQL condition with its parameters (e.g. a holdout split).
    """
    src = source(store, info, rs)
    where = filters.where(info)
    if extra is not None:
        where = compose("({where}) AND ({extra})", where=where, extra=extra)
    query = compose(
        """
        {with_}
        SELECT score, gated, count(*) AS n, count(*) FILTER (WHERE won) AS won
        FROM (
            SELECT ({score})::DOUBLE AS score, ({gated}) AS gated, {outcome} = 'won' AS won
            FROM {leads} WHERE {where}
        ) GROUP BY score, gated ORDER BY score
        """,
        with_=src.with_(),
        score=src.score(rs),
        gated=gates_sql(rs),
        outcome=quote_ident(OUTCOME_COL),
        leads=src.table,
        where=where,
    )
    created = info.mapping.column("created")
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
        weeks_value = None
        if created:
            span = compose(
                "SELECT (date_diff('day', min({c}), max({c})) + 1) / 7.0 "
                "FROM {leads} WHERE {where}",
                c=quote_ident(created),
                leads=info.table(),
                where=where,
            )
            found = cur.execute(span.sql, span.args).fetchone()
            weeks_value = found[0] if found else None
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


def moved_between(hist: ScoreHistogram, before: RuleSet, after: RuleSet) -> dict[str, int]:
    """:func:`moved` for two rule sets that score alike (only their thresholds differ), read
    from the histogram of those scores instead of the leads."""
    hot_before = (hist.score >= before.hot.min_score) & ~hist.gated
    hot_after = (hist.score >= after.hot.min_score) & ~hist.gated
    return {
        "entered": int(hist.n[hot_after & ~hot_before].sum()),
        "left": int(hist.n[hot_before & ~hot_after].sum()),
    }


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
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per lead: id, score, tier, the top reasons, the knock-out gate if any, the
    outcome, then the lead's own ``columns`` (stored name → name in the result, which must
    not be one of those), read in the same query.

    ``only``: ``"hot"`` for hot leads, ``"missed"`` for won leads that were not hot. Leads
    come best first (score descending, then id).
    """
    id_col = info.mapping.column("id") or info.columns[0]
    src = source(store, info, rs)
    score, gated = src.score(rs), gates_sql(rs)
    outcome = quote_ident(OUTCOME_COL)
    hot = hot_sql(rs, score, gated)
    picks = {
        None: Fragment("TRUE"),
        "hot": hot,
        "missed": compose("NOT {hot} AND {outcome} = 'won'", hot=hot, outcome=outcome),
    }
    points = [compose(f", ({{p}}) AS r{i}", p=src.rule(rs, r)) for i, r in enumerate(rs.rules)]
    columns = columns or {}
    own = [f", {quote_ident(c)} AS {quote_ident(f'{_OWN}{j}')}" for j, c in enumerate(columns)]
    query = compose(
        """
        {with_}
        SELECT CAST({id} AS VARCHAR) AS id, ({score})::DOUBLE AS score, ({gated}) AS gated,
               {outcome} AS outcome{points}{own}
        FROM {leads} WHERE ({where}) AND {pick}
        ORDER BY score DESC, id{limit}
        """,
        with_=src.with_(),
        id=quote_ident(id_col),
        score=score,
        gated=gated,
        outcome=outcome,
        points=join("", points),
        own="".join(own),
        leads=src.table,
        where=filters.where(info),
        pick=picks[only],
        limit=Fragment("") if limit is None else compose(" LIMIT {n}", n=bind(limit)),
    )
    frame: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    idx = tier_index(frame["score"].to_numpy(), frame["gated"].to_numpy(dtype=bool), rs)
    frame["tier"] = [rs.tiers[i].name for i in idx]
    frame["reasons"] = _reasons(frame, rs.rules, reasons, lang)
    frame["knocked_out"] = frame["gated"].astype(bool)
    frame = frame.rename(columns={f"{_OWN}{j}": name for j, name in enumerate(columns.values())})
    kept = ["id", "score", "tier", "reasons", "knocked_out", "outcome", *columns.values()]
    return whole_scores(frame[kept].reset_index(drop=True))


def whole_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``score`` column as whole numbers when every score is one.

    Scores are sums of whole points unless activity points decay (rounded to 0.1): a list
    of whole scores then prints ``4``, not ``4.0``, in CSV, JSON and Excel alike.

    >>> whole_scores(pd.DataFrame({"score": [4.0, -2.0]}))["score"].tolist()
    [4, -2]
    >>> whole_scores(pd.DataFrame({"score": [4.0, 2.5]}))["score"].tolist()
    [4.0, 2.5]
    """
    score = frame["score"]
    if not pd.api.types.is_float_dtype(score.dtype):
        return frame
    values = score.to_numpy(dtype=float)
    if not (np.isfinite(values).all() and (values % 1 == 0).all()):
        return frame
    out = frame.copy()
    out["score"] = score.astype("int64")
    return out


def _reasons(frame: pd.DataFrame, rules: Sequence[Rule], k: int, lang: str) -> list[str]:
    if not rules or frame.empty:
        return [""] * len(frame)
    points = frame[[f"r{i}" for i in range(len(rules))]].to_numpy(dtype=float)
    labels = [label(r, lang) for r in rules]
    order = np.argsort(-np.abs(points), axis=1)[:, :k]
    out = []
    for row, picks in zip(points, order, strict=True):
        out.append("; ".join(f"{labels[j]} ({row[j]:+.0f})" for j in picks if row[j] != 0))
    return out


def scored_pair(
    store: Store, info: DatasetInfo, a: RuleSet, b: RuleSet, filters: Filters = NO_FILTERS
) -> Fragment:
    """A WITH clause ending in ``pair``: every (filtered) lead scored by two rule sets.

    ``pair`` has ``id`` (as stored), ``outcome``, ``score_a``, ``gated_a``, ``hot_a`` and
    the same for ``b``; each query comparing two rule sets reads it.
    """
    src = source(store, info, a, b)
    pair = compose(
        """pair AS (
            SELECT *, {hot_a} AS hot_a, {hot_b} AS hot_b
            FROM (
                SELECT {id} AS id, {outcome} AS outcome,
                       ({score_a})::DOUBLE AS score_a, ({gated_a}) AS gated_a,
                       ({score_b})::DOUBLE AS score_b, ({gated_b}) AS gated_b
                FROM {leads} WHERE {where}
            )
        )""",
        hot_a=hot_sql(a, "score_a", "gated_a"),
        hot_b=hot_sql(b, "score_b", "gated_b"),
        id=quote_ident(info.mapping.column("id") or info.columns[0]),
        outcome=quote_ident(OUTCOME_COL),
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
    src = source(store, info, rs)
    points = [
        compose(f", ({{p}})::DOUBLE AS r{i}", p=src.rule(rs, r)) for i, r in enumerate(rs.rules)
    ]
    gates = [
        compose(f", coalesce({{g}}, FALSE) AS g{j}", g=gate_sql(g)) for j, g in enumerate(rs.gates)
    ]
    query = compose(
        "{with_} SELECT {outcome} AS outcome, ({score})::DOUBLE AS score, ({gated}) AS gated"
        "{points}{gates} FROM {leads} WHERE CAST({id} AS VARCHAR) = {lead} LIMIT 1",
        with_=src.with_(),
        outcome=quote_ident(OUTCOME_COL),
        score=src.score(rs),
        gated=gates_sql(rs),
        points=join("", points),
        gates=join("", gates),
        leads=src.table,
        id=id_col,
        lead=bind(lead_id),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    if row is None:
        return None
    outcome, total, gated = row[0], float(row[1]), bool(row[2])
    values = [float(v or 0) for v in row[3 : 3 + len(rs.rules)]]
    hits = [bool(v) for v in row[3 + len(rs.rules) :]]
    idx = tier_index(np.array([total]), np.array([gated]), rs)[0]
    return Explanation(
        lead_id=lead_id,
        score=total,
        tier=rs.tiers[int(idx)].name,
        outcome=outcome,
        points=[(r.describe(lang), v) for r, v in zip(rs.rules, values, strict=True)],
        gates=[g.describe(lang) for g, hit in zip(rs.gates, hits, strict=True) if hit],
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
    # the id is cast to text only where A and B disagree, and min(x, n) keeps the n smallest
    # without sorting the whole cell
    query = compose(
        """
        {pair}
        SELECT hot_a, hot_b, count(*), count(*) FILTER (WHERE outcome = 'won'),
               min(CAST(id AS VARCHAR), {examples}) FILTER (WHERE hot_a <> hot_b)
        FROM pair GROUP BY hot_a, hot_b
        """,
        pair=scored_pair(store, info, a, b, filters),
        examples=str(int(examples)),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
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


def _part(src: Source, rs: RuleSet, group: str) -> Fragment:
    """The points of the rule set's ``fit`` or ``engagement`` rules (0 without any)."""
    parts = [compose("({p})", p=src.rule(rs, r)) for r in rs.rules if r.group == group]
    return balanced(" + ", parts) if parts else Fragment("0")


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
    src = source(store, info, rs)
    sub_scores = compose(
        """s AS (
            SELECT ({fit})::DOUBLE AS f, ({engagement})::DOUBLE AS e, {outcome} = 'won' AS won
            FROM {leads} WHERE {where}
        )""",
        fit=_part(src, rs, "fit"),
        engagement=_part(src, rs, "engagement"),
        outcome=quote_ident(OUTCOME_COL),
        leads=src.table,
        where=filters.where(info),
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
