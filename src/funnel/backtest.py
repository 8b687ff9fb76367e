"""Back-tests a meeting can trust: which leads count, the leads held out, honest verdicts.

* :func:`counted` — the leads a back-test figure is computed on: those whose outcome is
  decided (won or lost), or still open but old enough to have converted
  (:mod:`funnel.population`). Younger open leads would count as lost and pull every figure down.
* :func:`holdout` — the leads a suggestion is *not* fitted on and is judged on: the latest
  quarter by creation date (the leads to come look like the latest ones), or a seeded
  quarter of the leads when the data has no dates.
* :func:`verdict` — a rule set's AUC on the holdout with its DeLong 95% interval; when the
  interval includes 0.5 the columns do not predict the outcome, and no hot tier means
  anything.
* :func:`hot_for_target` / :func:`hot_for_capacity` — a hot threshold chosen on the holdout,
  so the target holds on leads the rules were not fitted on: the hot group's Wilson 95%
  lower bound must reach the target (measured in /work/research/suggest, REPORT.md §5: the
  in-sample point estimate met a 50% target on new leads a third of the time, this ~90%).

Every figure says which leads it is on: ``in_sample`` (the leads the rules were fitted or
tuned on) or ``holdout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose, join
from funnel.i18n import t
from funnel.population import backtest_population
from funnel.rules import RuleSet
from funnel.scoring.histogram import ScoreHistogram, auc_interval, score_histogram
from funnel.stats import DEFAULT_MIN_N, AucInterval, wilson
from funnel.store import DatasetInfo, Store, quote_ident

Split = Literal["time", "random"]
#: The share of leads held out.
HOLDOUT_SHARE = 0.25
SEED = 7


def counted(store: Store, info: DatasetInfo) -> Fragment:
    """SQL condition true for the leads a back-test counts: decided, or open and old enough to
    have converted (:func:`funnel.population.backtest_population`)."""
    return backtest_population(store, info).condition


def _and(*parts: Fragment) -> Fragment:
    return join(" AND ", [compose("({p})", p=p) for p in parts])


@dataclass(frozen=True)
class Holdout:
    """The leads held out: the latest quarter by creation date, or a seeded random quarter.

    ``counted`` is the condition of the leads a back-test counts (:func:`counted`), so the
    training and held-out leads are both among them.
    """

    split: Split
    since: date | None  # the first creation date held out (time split)
    held: Fragment
    counted: Fragment

    def describe(self, lang: str = "en") -> str:
        """Which leads, in words ("leads created since 2026-05-21")."""
        if self.split == "time" and self.since is not None:
            return t("backtest.holdout.time", lang, since=f"{self.since:%Y-%m-%d}")
        return t("backtest.holdout.random", lang)

    @property
    def condition(self) -> Fragment:
        """The held-out leads among the counted ones."""
        return _and(self.counted, self.held)

    @property
    def training(self) -> Fragment:
        """The counted leads not held out: what a suggestion is fitted on."""
        return _and(self.counted, compose("NOT ({h})", h=self.held))

    def as_dict(self) -> dict[str, Any]:
        return {"split": self.split, "since": None if self.since is None else f"{self.since}"}


def holdout(
    store: Store, info: DatasetInfo, filters: Filters = NO_FILTERS, *, seed: int = SEED
) -> Holdout:
    """The latest quarter of the counted (filtered) leads by creation date, else a seeded
    quarter of them by a hash of their id."""
    among = counted(store, info)
    created = info.mapping.column("created")
    if created:
        c = quote_ident(created)
        query = compose(
            "SELECT quantile_disc({c}, {q}) FROM {leads} WHERE {where}",
            c=c,
            q=bind(1 - HOLDOUT_SHARE),
            leads=info.table(),
            where=_and(filters.where(info), among),
        )
        with store.cursor() as cur:
            row = cur.execute(query.sql, query.args).fetchone()
        if row and row[0] is not None:
            start = row[0]
            day = start.date() if isinstance(start, datetime) else start
            return Holdout("time", day, compose("{c} >= {s}", c=c, s=bind(start)), among)
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    parts = round(1 / HOLDOUT_SHARE)
    held = compose(
        f"hash(CAST({{id}} AS VARCHAR) || {{seed}}) % {parts} = 0", id=id_col, seed=bind(str(seed))
    )
    return Holdout("random", None, held, among)


def histogram(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters, part: Holdout | None
) -> ScoreHistogram:
    """Scores of the counted leads, of the holdout only when ``part`` is given.

    ``n`` and ``won`` count the leads a back-test counts; ``every`` (volumes) counts every lead
    of the same period, still-open young ones included: sales gets those too.
    """
    if part is None:
        return score_histogram(store, info, rs, filters)
    return score_histogram(store, info, rs, filters, extra=part.held)


@dataclass(frozen=True)
class Verdict:
    """How well a rule set ranks the leads held out: AUC, its interval, and what it means."""

    holdout: Holdout
    n: int
    won: int
    auc: AucInterval | None

    @property
    def no_signal(self) -> bool:
        """The interval includes 0.5: no evidence that the scores rank won leads first."""
        return self.auc is None or self.auc.includes_chance

    def sentence(self, lang: str = "en") -> str:
        """The verdict in words, naming the leads it is measured on."""
        where = self.holdout.describe(lang)
        if self.auc is None:
            return t("backtest.verdict.none", lang, leads=where, n=f"{self.n:,}")
        figures = {
            "leads": where,
            "n": f"{self.n:,}",
            "auc": f"{self.auc.auc:.2f}",
            "low": f"{self.auc.low:.2f}",
            "high": f"{self.auc.high:.2f}",
        }
        key = "backtest.verdict.no_signal" if self.no_signal else "backtest.verdict.signal"
        return t(key, lang, **figures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measured_on": "holdout",
            **self.holdout.as_dict(),
            "n": self.n,
            "won": self.won,
            "auc": None if self.auc is None else self.auc.auc,
            "auc_ci": None if self.auc is None else [self.auc.low, self.auc.high],
            "no_signal": self.no_signal,
        }


def verdict(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    part: Holdout | None = None,
) -> Verdict:
    """The rule set's AUC on the held-out leads, with its DeLong 95% interval."""
    part = part or holdout(store, info, filters)
    hist = histogram(store, info, rs, filters, part)
    return Verdict(part, hist.total, hist.total_won, auc_interval(hist))


# --- hot thresholds chosen on the holdout -------------------------------------------------


@dataclass(frozen=True)
class HotChoice:
    """A hot threshold chosen on the holdout, and how its hot group did there.

    ``threshold`` is None when no threshold qualifies; ``best`` then holds the closest one
    (the highest lower bound for a target), so the page can say what is reachable.
    """

    goal: Literal["target", "capacity"]
    wanted: float  # the target conversion, or the leads sales can take a week
    threshold: float | None
    best: float | None
    n: int  # hot leads of the holdout at ``threshold`` (else at ``best``)
    won: int
    low: float
    high: float
    per_week: float | None
    holdout: Holdout
    holdout_n: int  # held-out leads a back-test counts (decided or mature)
    volume: int  # every held-out lead that would be hot: what ``per_week`` counts
    holdout_won: int  # won among the ``holdout_n`` counted held-out leads

    @property
    def rate(self) -> float | None:
        return self.won / self.n if self.n else None

    @property
    def base_rate(self) -> float | None:
        """How every counted held-out lead converted: what the hot group is measured against."""
        return self.holdout_won / self.holdout_n if self.holdout_n else None

    @property
    def lift(self) -> float | None:
        rate, base = self.rate, self.base_rate
        return rate / base if rate is not None and base else None

    @property
    def no_better(self) -> bool:
        """The hot group's 95% interval includes the base rate: at this threshold the points do
        not pick better leads than taking every held-out lead."""
        base = self.base_rate
        return bool(self.n) and base is not None and self.low <= base <= self.high

    @property
    def few(self) -> bool:
        """Only a handful of held-out leads reach it: too few to trust the rate."""
        return self.n < DEFAULT_MIN_N

    def sentence(self, lang: str = "en") -> str:
        """What the choice means, with the figures and the leads they are measured on."""
        figures = {
            "leads": self.holdout.describe(lang),
            "holdout_n": f"{self.holdout_n:,}",
            "n": f"{self.n:,}",
            "rate": "–" if self.rate is None else f"{self.rate:.0%}",
            "low": f"{self.low:.0%}",
            "high": f"{self.high:.0%}",
            "target": f"{self.wanted:.0%}",
            "capacity": f"{self.wanted:,.0f}",
            "per_week": "–" if self.per_week is None else f"{self.per_week:,.1f}",
            "base": "–" if self.base_rate is None else f"{self.base_rate:.0%}",
            "lift": "–" if self.lift is None else f"{self.lift:.1f}",
        }
        if self.threshold is None:
            if self.best is None:
                return t(f"backtest.{self.goal}.none", lang, **figures)
            score = _num(self.best)
            return t(f"backtest.{self.goal}.unreachable", lang, score=score, **figures)
        text = t(f"backtest.{self.goal}.chosen", lang, score=_num(self.threshold), **figures)
        if self.few:
            text += " " + t("backtest.few", lang, **figures)
        if self.base_rate is not None and self.n:
            key = "backtest.no_better" if self.no_better else "backtest.vs_base"
            text += " " + t(key, lang, **figures)
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "wanted": self.wanted,
            "threshold": self.threshold,
            "reachable": self.threshold is not None,
            "best_threshold": self.best,
            "measured_on": "holdout",
            **self.holdout.as_dict(),
            "holdout_n": self.holdout_n,
            "hot_n": self.n,
            "hot_won": self.won,
            "hot_rate": self.rate,
            "hot_rate_ci": [self.low, self.high],
            "hot_per_week": self.per_week,
            "hot_leads_all": self.volume,
            "holdout_base_rate": self.base_rate,
            "lift": self.lift,
            "no_better_than_base": self.no_better,
            "few": self.few,
        }


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def hot_for_target(hist: ScoreHistogram, target: float, part: Holdout) -> HotChoice:
    """The lowest threshold whose hot group's Wilson 95% lower bound reaches ``target``.

    ``hist`` holds the held-out leads' scores. Without any such threshold, ``best`` is the one
    with the highest lower bound (the most that can be promised, and at what volume).
    """
    rows = _curve(hist)
    ok = [r for r in rows if r[3] >= target]
    if ok:
        chosen = min(ok, key=lambda r: r[0])
        return _choice("target", target, chosen, chosen[0], None, hist, part)
    if not rows:
        return _choice("target", target, None, None, None, hist, part)
    best = max(rows, key=lambda r: (r[3], r[1]))
    return _choice("target", target, best, None, None, hist, part)


def hot_for_capacity(hist: ScoreHistogram, per_week: float, part: Holdout) -> HotChoice:
    """The lowest threshold whose hot leads per week of the holdout fit ``per_week``.

    The volume counts every held-out lead that would be hot, still-open young ones included:
    sales must take them all, though only decided or mature ones can say how they convert.
    """
    weeks = hist.weeks
    rows = _curve(hist)
    fits = [r for r in rows if weeks and r[5] / weeks <= per_week]
    if fits:
        chosen = min(fits, key=lambda r: r[0])
        return _choice("capacity", per_week, chosen, chosen[0], weeks, hist, part)
    return _choice("capacity", per_week, None, None, weeks, hist, part)


Row = tuple[float, int, int, float, float, int]


def _curve(hist: ScoreHistogram) -> list[Row]:
    """For each possible hot threshold: the hot leads a back-test counts, their wins and Wilson
    interval, and every hot lead (decided, mature or still young: the volume sales gets).

    Knocked-out leads are never hot, as in the tiers.

    >>> h = ScoreHistogram(np.array([0.0, 5.0, 9.0]), np.array([False, False, True]),
    ...                    np.array([50, 20, 5]), np.array([5, 10, 5]), None,
    ...                    np.array([80, 30, 5]))
    >>> [(t, n, w, v) for t, n, w, _, _, v in _curve(h)]
    [(5.0, 20, 10, 30), (0.0, 70, 15, 110)]
    """
    open_ = ~hist.gated
    scores = hist.score[open_]
    order = np.argsort(-scores, kind="stable")
    s, n, w = scores[order], hist.n[open_][order], hist.won[open_][order]
    v = hist.leads[open_][order]
    uniq, start = np.unique(-s, return_index=True)
    cum_n, cum_w, cum_v = np.cumsum(n), np.cumsum(w), np.cumsum(v)
    last = np.r_[start[1:] - 1, len(s) - 1] if len(s) else np.zeros(0, dtype=np.int64)
    rows: list[Row] = []
    for u, j in zip(uniq, last, strict=True):
        leads, won = int(cum_n[j]), int(cum_w[j])
        rows.append((float(-u), leads, won, *wilson(won, leads), int(cum_v[j])))
    return rows


def _choice(
    goal: Literal["target", "capacity"],
    wanted: float,
    row: Row | None,
    threshold: float | None,
    weeks: float | None,
    hist: ScoreHistogram,
    part: Holdout,
) -> HotChoice:
    if row is None:
        return HotChoice(
            goal, wanted, None, None, 0, 0, 0.0, 0.0, None, part, hist.total, 0, hist.total_won
        )
    score, n, won, low, high, volume = row
    return HotChoice(
        goal,
        wanted,
        threshold,
        None if threshold is not None else score,
        n,
        won,
        low,
        high,
        volume / weeks if weeks else None,
        part,
        hist.total,
        volume,
        hist.total_won,
    )
