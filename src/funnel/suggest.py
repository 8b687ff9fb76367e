"""Start from the data: fit a regularised logistic regression and turn it into points.

Lead features (never columns flagged as leaking) become indicators that map one-to-one onto
rules: a category value (:class:`CategoryRule`), a numeric quantile range (:class:`RangeRule`)
or "at least N" of a behaviour (:class:`CountRule`, cumulative, so points add up as counts
grow). Coefficients are scaled to whole points. The model is fitted on a training split and
its AUC is reported on a holdout — the latest quarter of leads by creation date where dates
exist, otherwise a seeded hash split — beside the AUC of a comparison rule set, so nobody is
fooled by in-sample fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose, join
from funnel.i18n import CodedError, t
from funnel.population import backtest_population
from funnel.renderers import bound_sql
from funnel.rules import (
    MAX_RULES,
    CategoryRule,
    CountRule,
    RangeRule,
    Rule,
    RuleSet,
    Tier,
    simple_template,
)
from funnel.scoring.histogram import (
    ScoreHistogram,
    evaluate,
    score_histogram,
    threshold_for_capacity,
    threshold_for_target,
)
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident

MAX_VALUES = 15  # category values per column
MIN_LEADS = 30  # a value needs this many leads to earn its own points
FIT_ROWS = 300_000  # training rows sampled for the fit


class SuggestError(CodedError, ValueError):
    """Suggestion impossible (no outcome, no features, no wins); ``code`` says why."""

    prefix = "suggest"


@dataclass(frozen=True)
class Suggestion:
    """A suggested rule set and how it does on leads it was not fitted on."""

    ruleset: RuleSet
    split: str  # "time" or "random"
    holdout_from: str | None
    train_n: int
    holdout_n: int
    holdout_auc: float | None
    baseline_auc: float | None
    baseline_name: str | None

    @property
    def no_better(self) -> bool:
        """On the holdout it does no better than the rules it would replace."""
        if self.holdout_auc is None or self.baseline_auc is None:
            return False
        return self.holdout_auc <= self.baseline_auc

    def as_dict(self) -> dict[str, Any]:
        return {
            "no_better": self.no_better,
            "split": self.split,
            "holdout_from": self.holdout_from,
            "train_n": self.train_n,
            "holdout_n": self.holdout_n,
            "holdout_auc": self.holdout_auc,
            "baseline_auc": self.baseline_auc,
            "baseline": self.baseline_name,
        }


@dataclass(frozen=True)
class _Indicator:
    rule: Rule  # with 1 point (so its SQL is the indicator); real points set after the fit
    sql: Fragment  # true where the rule gives points
    #: One of a column's values or ranges, of which exactly one applies to each lead (a
    #: cumulative "at least N" is not).
    exclusive: bool = True


def _indicators(store: Store, info: DatasetInfo, where: Fragment) -> list[_Indicator]:
    out: list[_Indicator] = []
    for spec in info.mapping.features():
        col = quote_ident(spec.name)
        if spec.role in ("attribute", "source"):
            query = compose(
                "SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {leads} "
                "WHERE {where} AND {col} IS NOT NULL GROUP BY 1 HAVING count(*) >= {min} "
                "ORDER BY n DESC, v LIMIT {max}",
                col=col,
                leads=info.table(),
                where=where,
                min=bind(MIN_LEADS),
                max=bind(MAX_VALUES),
            )
            with store.cursor() as cur:
                rows = cur.execute(query.sql, query.args).fetchall()
            for value, _ in rows:
                rule = CategoryRule(spec.name, str(value), 1)  # 1 point: the indicator
                out.append(_Indicator(rule, compose("(({p}) <> 0)", p=bound_sql(rule))))
            continue
        query = compose(
            "SELECT quantile_disc({col}, [0.25, 0.5, 0.75, 0.9]), min({col}), max({col}) "
            "FROM {leads} WHERE {where} AND {col} IS NOT NULL",
            col=col,
            leads=info.table(),
            where=where,
        )
        with store.cursor() as cur:
            row = cur.execute(query.sql, query.args).fetchone()
        if not row or row[0] is None:
            continue
        qs = sorted({float(q) for q in row[0] if q is not None})
        low = float(row[1])
        if spec.role == "behaviour":
            thresholds = sorted({t for t in [1.0, *qs] if t > max(low, 0.0)})
            for t in thresholds:
                rule_c = CountRule(spec.name, t, 1)
                reached = compose("(coalesce(({p}) <> 0, FALSE))", p=bound_sql(rule_c))
                out.append(_Indicator(rule_c, reached, exclusive=False))
        else:
            edges = [e for e in qs if e > low]
            bounds = [None, *edges, None]
            for lo, hi in zip(bounds, bounds[1:], strict=False):
                rule_r = RangeRule(spec.name, lo, hi, 1)
                out.append(_Indicator(rule_r, compose("(({p}) <> 0)", p=bound_sql(rule_r))))
    return out


def _relative_to_most_common(
    coef: np.ndarray, indicators: list[_Indicator], x: np.ndarray
) -> np.ndarray:
    """Express each column's value and range points relative to its most common one.

    Within a column exactly one value (or range) applies to most leads, so subtracting that
    one's weight from all of them leaves the ranking of those leads unchanged, turns the most
    common case into 0 points (dropped) and keeps noise columns from scattering small points
    over every value. Cumulative counts are left as they are.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, ind in enumerate(indicators):
        if ind.exclusive:
            groups.setdefault((ind.rule.kind, ind.rule.column), []).append(i)
    counts = x.sum(axis=0)
    for members in groups.values():
        ref = max(members, key=lambda i: counts[i])
        coef[members] -= coef[ref]
    return coef


def _split(
    info: DatasetInfo, store: Store, where: Fragment, seed: int
) -> tuple[Fragment, str, str | None]:
    """The SQL condition selecting the holdout, the split kind and its start date.

    The time split's holdout is the latest quarter of the leads a back-test counts (younger
    open leads are left out of both sides).
    """
    created = info.mapping.column("created")
    if created:
        c = quote_ident(created)
        query = compose(
            "SELECT quantile_disc({c}, 0.75) FROM {leads} WHERE ({where}) AND {counted}",
            c=c,
            leads=info.table(),
            where=where,
            counted=backtest_population(store, info).condition,
        )
        with store.cursor() as cur:
            row = cur.execute(query.sql, query.args).fetchone()
        if row and row[0] is not None:
            since = compose("{c} >= {start}", c=c, start=bind(row[0]))
            return since, "time", f"{row[0]:%Y-%m-%d}"
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    hashed = compose(
        "hash(CAST({id} AS VARCHAR) || {seed}) % 4 = 0", id=id_col, seed=bind(str(seed))
    )
    return hashed, "random", None


def suggest_rules(
    store: Store,
    info: DatasetInfo,
    *,
    filters: Filters = NO_FILTERS,
    target_conversion: float | None = None,
    capacity_per_week: float | None = None,
    max_points: int = 30,
    baseline: RuleSet | None = None,
    seed: int = 7,
    c: float = 0.3,
) -> Suggestion:
    """Fit, convert to points, choose the hot threshold, and measure on the holdout."""
    from sklearn.linear_model import LogisticRegression

    if info.mapping.outcome is None:
        raise SuggestError("no_outcome")
    where = filters.where(info)
    indicators = _indicators(store, info, where)
    if not indicators:
        raise SuggestError("no_features")
    holdout, split, hold_from = _split(info, store, where, seed)
    query = compose(  # trained, like every back-test, on leads decided or mature
        "SELECT {columns}, {outcome} = 'won' AS y FROM {leads} "
        "WHERE ({where}) AND NOT ({holdout}) AND {counted} "
        "USING SAMPLE {rows} ROWS (reservoir, {seed})",
        columns=join(", ", [compose(f"{{x}} AS x{i}", x=d.sql) for i, d in enumerate(indicators)]),
        outcome=quote_ident(OUTCOME_COL),
        leads=info.table(),
        where=where,
        holdout=holdout,
        counted=backtest_population(store, info).condition,
        rows=str(FIT_ROWS),
        seed=str(int(seed)),
    )
    train: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    if train.empty or train["y"].nunique() < 2:
        raise SuggestError("no_wins")
    x = train.drop(columns="y").to_numpy(dtype=float)
    y = train["y"].to_numpy(dtype=bool)
    model = LogisticRegression(C=c, max_iter=500)
    model.fit(x, y)
    coef = _relative_to_most_common(model.coef_[0].copy(), indicators, x)
    scale = max_points / max(float(np.abs(coef).max()), 1e-9)
    rules: list[Rule] = []
    for ind, w in zip(indicators, coef, strict=True):
        points = int(round(w * scale))
        if points != 0:
            rules.append(ind.rule.with_points(points))
    if len(rules) > MAX_RULES:  # keep the strongest, in their order
        keep = set(sorted(range(len(rules)), key=lambda i: -abs(rules[i].points))[:MAX_RULES])
        rules = [r for i, r in enumerate(rules) if i in keep]
    draft = RuleSet(
        name=t("rules.name.suggested"),
        description=f"logistic regression on {len(train):,} training leads ({split} split)",
        rules=tuple(rules),
        tiers=(Tier("hot", 1e9), Tier("warm", 1e8), Tier("cold", -math.inf)),  # set below
    )
    hist = score_histogram(store, info, draft, filters)
    hot = None
    if target_conversion is not None:
        hot = threshold_for_target(hist, target_conversion)
    elif capacity_per_week is not None:
        if not hist.weeks:
            raise SuggestError("no_dates_for_capacity")
        hot = threshold_for_capacity(hist, capacity_per_week)
    if hot is None:
        hot = _lead_quantile(hist, 0.9) if hist.total else 0.0
    warm = _lead_quantile(hist, 0.6) if hist.total else hot - 1
    warm = min(warm, hot - 1)
    ruleset = replace(draft, tiers=(Tier("hot", hot), Tier("warm", warm), Tier("cold", -math.inf)))
    hold_auc, hold_n = _holdout_auc(store, info, ruleset, filters, holdout)
    base_auc = None
    if baseline is not None and baseline.rules:
        base_auc, _ = _holdout_auc(store, info, baseline, filters, holdout)
    return Suggestion(
        ruleset=ruleset,
        split=split,
        holdout_from=hold_from,
        train_n=len(train),
        holdout_n=hold_n,
        holdout_auc=hold_auc,
        baseline_auc=base_auc,
        baseline_name=None if baseline is None else baseline.name,
    )


def _lead_quantile(hist: ScoreHistogram, q: float) -> float:
    """Return the ``q`` quantile of all leads' scores without repeating each score ``n`` times.

    Equals ``np.quantile(np.repeat(score, n), q)`` exactly (linear interpolation, numpy's
    rounding), so it is safe for any number of leads.

    >>> hist = ScoreHistogram(np.array([5.0, 0.0, 2.0]), np.zeros(3, bool), np.array([1, 6, 3]),
    ...                       np.zeros(3, int), None)
    >>> repeated, qs = np.repeat(hist.score, hist.n), (0.0, 0.1, 0.5, 0.6, 0.9, 1.0)
    >>> [_lead_quantile(hist, q) for q in qs] == [np.quantile(repeated, q) for q in qs]
    True
    """
    order = np.argsort(hist.score, kind="stable")
    scores, ends = hist.score[order], np.cumsum(hist.n[order])
    total = int(ends[-1])
    at = (total - 1) * q
    lo = math.floor(at)
    a, b = (
        float(scores[np.searchsorted(ends, i, side="right")]) for i in (lo, min(lo + 1, total - 1))
    )
    t = at - lo
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t  # as numpy interpolates


_TEMPLATE_HINTS = {
    "visit": ("visit", "訪問", "pageview", "session"),
    "document": ("document", "download", "資料", "whitepaper"),
    "newsletter": ("newsletter", "メルマガ", "subscri"),
    "inquiry": ("inquir", "問い合わせ", "contact", "demo request"),
}


def template_for(info: DatasetInfo) -> RuleSet:
    """The simple template fitted to a dataset's behaviour columns (by their names)."""
    behaviours = [s.name for s in info.mapping.features() if s.role == "behaviour"]
    found: dict[str, str] = {}
    for role, hints in _TEMPLATE_HINTS.items():
        for col in behaviours:
            if col not in found.values() and any(h in col.lower() for h in hints):
                found[role] = col
                break
    return simple_template(info.columns, found)


def _holdout_auc(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters,
    holdout: Fragment,
) -> tuple[float | None, int]:
    hist = score_histogram(store, info, rs, filters, extra=holdout)
    return evaluate(hist, rs).auc, hist.total
