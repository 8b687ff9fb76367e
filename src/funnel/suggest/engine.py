"""Start from the data: the suggestion, fitted on the training leads and judged on the rest.

:func:`suggest_rules` reads the counted leads (decided: won or lost) through the filters,
holds out the latest quarter by creation date (or a seeded quarter), reads every feature
column's type from the training leads (:mod:`funnel.suggest.columns`), fits fine bins and an
L2 logistic regression, merges them into at most 25 readable rules
(:mod:`funnel.suggest.fit`), and says how it does on the held-out leads: AUC with its DeLong
95% interval, "no signal" when that interval includes 0.5, "too little data" below 100 won
training leads, and the columns it leans on (:mod:`funnel.suggest.checks`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from funnel.backtest import (
    Holdout,
    HotChoice,
    Verdict,
    histogram,
    holdout,
    hot_for_capacity,
    hot_for_target,
    verdict,
)
from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose
from funnel.i18n import CodedError, t
from funnel.mapping import FEATURE_ROLES, leaks
from funnel.population import Counted, Population, backtest_population
from funnel.rules import MAX_RULES, Rule, RuleSet, Tier
from funnel.scoring.histogram import ScoreHistogram, auc, rank_key, score_histogram
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident
from funnel.suggest import checks
from funnel.suggest.bins import UNSEEN, Binner
from funnel.suggest.columns import ColumnType, type_column
from funnel.suggest.fit import (
    BUDGET,
    MAX_POINTS,
    PRICE,
    Grouping,
    Plan,
    allocate,
    choose_c,
    design,
    fit_binners,
    fit_shapes,
    group_rule,
    one_thread,
    options,
    plan,
)
from funnel.suggest.knockouts import Knockout, as_gates, find_knockouts

FIT_ROWS = 300_000  # training leads fitted on, at most (a seeded sample beyond)
HOT_SHARE = 0.1  # without a target or capacity: the top tenth of leads is hot ...
WARM_SHARE = 0.4  # ... and the next 30% warm


class SuggestError(CodedError, ValueError):
    """Suggestion impossible (no outcome, no features, no wins); ``code`` says why."""

    prefix = "suggest"


@dataclass(frozen=True)
class LeftOut:
    """A column the suggestion does not score, and why (``reason(lang)``)."""

    column: str
    why: Literal["read", "leak", "role", "excluded"]
    key: str  # the message key of the reason
    params: tuple[tuple[str, Any], ...] = ()
    flag: leaks.LeftOut | None = None  # a leak flag: the mapping's reason, with its evidence

    def reason(self, lang: str = "en") -> str:
        params = dict(self.params)
        if self.flag is not None:
            params["reason"] = self.flag.why(lang)
        return t(self.key, lang, column=self.column, **params)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {"column": self.column, "why": self.why, "reason": self.reason(lang)}
        if self.flag is not None:
            out["flag"] = self.flag.as_dict(lang)
        return out


@dataclass(frozen=True)
class Fitted:
    """What one fit produced: its rules and, per column, the points of each fine bin."""

    rules: tuple[Rule, ...]
    bin_points: dict[str, np.ndarray]
    spread: dict[str, float]  # Σ |points| × training leads, per column

    def score(self, idx: dict[str, np.ndarray]) -> np.ndarray:
        """Each lead's score from its fine bins (a value training never saw earns 0)."""
        total: np.ndarray | None = None
        for column, points in self.bin_points.items():
            i = idx[column]
            part = np.where(i == UNSEEN, 0.0, points[np.where(i == UNSEEN, 0, i)])
            total = part if total is None else total + part
        return np.zeros(len(next(iter(idx.values())))) if total is None else total


def fit_rules(
    binners: dict[str, Binner],
    idx: dict[str, np.ndarray],
    y: np.ndarray,
    the_plan: Plan,
    c: float,
    values: dict[str, np.ndarray],
    max_points: int = MAX_POINTS,
    recent: Mapping[str, np.ndarray] | None = None,
) -> Fitted:
    """Fine fit, optimal merge, budget, whole points: the rules for these columns.

    ``recent``: the fine bins of the latest period's leads, which weigh in the merge as much
    as the training leads (:func:`funnel.suggest.fit.fit_shapes`).
    """
    usable = {col: b for col, b in binners.items() if len(np.unique(idx[col])) > 1}
    if not usable or y.all() or not y.any():
        return Fitted((), {}, {})
    shapes = fit_shapes(usable, idx, y, c, recent)
    choices = {s.column: options(s, the_plan.kmax, the_plan.min_leads) for s in shapes}
    unit = float(shapes[0].weight.sum())  # the total Fisher information (every column's bins)
    chosen = allocate(choices, the_plan.budget, PRICE * unit)
    raw: list[tuple[Grouping, int, float]] = []
    for grouping in chosen.values():
        for g, p in enumerate(grouping.points()):
            if g != grouping.ref:
                raw.append((grouping, g, p))
    largest = max((abs(p) for _, _, p in raw), default=0.0)
    if largest == 0:
        return Fitted((), {}, {})
    scale = max_points / largest
    rules: list[Rule] = []
    bin_points: dict[str, np.ndarray] = {}
    spread: dict[str, float] = {}
    for grouping, g, p in raw:
        points = int(round(p * scale))
        if points == 0:
            continue
        rule = group_rule(grouping, g, points, values.get(grouping.column))
        if rule is None:
            continue
        rules.append(rule)
        b = grouping.shape.binner
        members = list(grouping.groups[g])
        arr = bin_points.setdefault(b.column, np.zeros(b.n_bins))
        arr[members] = points
        leads = float(grouping.shape.n[members].sum())
        spread[b.column] = spread.get(b.column, 0.0) + abs(points) * leads
    return Fitted(tuple(rules), bin_points, spread)


@dataclass(frozen=True)
class Suggestion:
    """A suggested rule set, how it does on leads it was not fitted on, and why to trust it
    (or not)."""

    ruleset: RuleSet
    verdict: Verdict  # on the holdout
    train_n: int  # training leads fitted on (after sampling)
    train_won: int
    in_sample_auc: float | None  # on every training lead: what it was fitted on
    baseline_name: str | None
    baseline_auc: float | None  # on the holdout
    columns: tuple[ColumnType, ...]
    left_out: tuple[LeftOut, ...]
    plan: Plan
    c: float
    seconds: float
    leaning: tuple[checks.Leaning, ...] = ()
    #: The comparison models on the same columns and split: plain logistic regression always
    #: (cheap), gradient boosting with and without interactions once asked for
    #: (:func:`compare_suggestion`: two more fits, most of the time a suggestion takes).
    models: tuple[checks.ModelFigure, ...] = ()
    hot: HotChoice | None = None
    #: Which leads training and holdout are drawn from (decided or mature) and how many
    #: (filtered) leads are left out.
    population: Population | None = None
    counted: Counted | None = None
    #: What it was fitted with, so that :func:`compare_suggestion` reads the same leads.
    filters: Filters = NO_FILTERS
    seed: int = 7
    #: Leads of the held-out period whose columns weighed in the merge (0: a random split).
    recent_n: int = 0
    #: Values made knock-out gates (never hot), with their figures.
    knockouts: tuple[Knockout, ...] = ()

    def measured_on(self, lang: str = "en") -> str:
        """Which leads training and holdout count, in one sentence ("" when not known)."""
        if self.population is None or self.counted is None:
            return ""
        return self.population.describe(self.counted, lang)

    @property
    def holdout(self) -> Holdout:
        return self.verdict.holdout

    @property
    def split(self) -> str:
        return self.holdout.split

    @property
    def holdout_from(self) -> str | None:
        since = self.holdout.since
        return None if since is None else f"{since:%Y-%m-%d}"

    @property
    def holdout_n(self) -> int:
        return self.verdict.n

    @property
    def holdout_auc(self) -> float | None:
        return None if self.verdict.auc is None else self.verdict.auc.auc

    @property
    def no_signal(self) -> bool:
        """The holdout AUC's interval includes 0.5: these columns do not predict the outcome."""
        return self.verdict.no_signal

    @property
    def small(self) -> bool:
        """Fewer than 100 won training leads: too little data to trust the exact points."""
        return self.plan.small

    @property
    def high_auc(self) -> bool:
        """Implausibly high for lead scoring: check that no column is known only after."""
        return self.holdout_auc is not None and self.holdout_auc >= checks.HIGH_AUC

    @property
    def logistic(self) -> checks.ModelFigure | None:
        """Plain logistic regression on the same columns and split (always fitted)."""
        return next((m for m in self.models if m.model == "logistic_regression"), None)

    @property
    def compared(self) -> bool:
        """Gradient boosting has been fitted beside it (:func:`compare_suggestion`)."""
        return any(m.model in checks.ON_REQUEST for m in self.models)

    @property
    def no_better(self) -> bool:
        """On the holdout it does no better than the rules it would replace."""
        if self.holdout_auc is None or self.baseline_auc is None:
            return False
        return self.holdout_auc <= self.baseline_auc

    def leans_on(self) -> tuple[checks.Leaning, ...]:
        """The columns to ask about: each one the suggestion leans on, and with an
        implausibly high AUC the one it leans on most even below the threshold."""
        flagged = tuple(x for x in self.leaning if x.flagged)
        if not flagged and self.high_auc and self.leaning:
            flagged = (max(self.leaning, key=lambda x: x.drop),)
        return flagged

    def notes(self, lang: str = "en") -> list[tuple[Literal["warning", "info"], str]]:
        """What a reader must know before trusting the suggestion, most important first."""
        out: list[tuple[Literal["warning", "info"], str]] = []
        if self.no_signal:
            out.append(("warning", self.verdict.sentence(lang)))
            out.append(("warning", t("suggest.no_hot_tier", lang)))
        for lean in self.leans_on():
            out.append(("warning", lean.sentence(lang)))
        if self.high_auc and self.holdout_auc is not None:
            out.append(("warning", t("suggest.high_auc", lang, auc=f"{self.holdout_auc:.2f}")))
        lr = self.logistic
        if lr is not None and lr.beats_suggestion and not self.no_signal:
            out.append(("warning", t("suggest.behind_logistic", lang, line=lr.sentence(lang))))
        if self.small:
            out.append(
                (
                    "warning",
                    t(
                        "suggest.small_data",
                        lang,
                        wins=f"{self.plan.wins:,}",
                        groups=self.plan.kmax,
                        leads=f"{self.plan.min_leads:,}",
                    ),
                )
            )
        out += [("info", k.sentence(lang)) for k in self.knockouts]
        if self.recent_n and self.holdout.since is not None:
            out.append(
                (
                    "info",
                    t(
                        "suggest.latest_weighed",
                        lang,
                        n=f"{self.recent_n:,}",
                        since=f"{self.holdout.since:%Y-%m-%d}",
                    ),
                )
            )
        if self.hot is not None and not self.no_signal:
            level: Literal["warning", "info"] = "info"
            if self.hot.threshold is None or self.hot.few:
                level = "warning"
            out.append((level, self.hot.sentence(lang)))
        return out

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The JSON of ``funnel suggest --json``: every figure says the leads it is on."""
        v = self.verdict
        return {
            "rules": len(self.ruleset.rules),
            "population": None
            if self.population is None
            else self.population.as_dict(self.counted),
            "no_signal": self.no_signal,
            "too_little_data": self.small,
            "no_better": self.no_better,
            "holdout": v.as_dict(),
            "in_sample": {
                "measured_on": "in_sample",
                "train_n": self.train_n,
                "train_won": self.train_won,
                "auc": self.in_sample_auc,
            },
            "baseline": {
                "name": self.baseline_name,
                "measured_on": "holdout",
                "auc": self.baseline_auc,
            },
            "models": [m.as_dict() for m in self.models],
            "logistic_regression": None if self.logistic is None else self.logistic.as_dict(),
            "gradient_boosting_compared": self.compared,
            # every column listed here is asked about (with an implausibly high AUC, one whose
            # drop is below the threshold too): its question is the one the notes ask
            "leans_on": [x.as_dict(lang) | {"question": x.sentence(lang)} for x in self.leans_on()],
            "leave_one_column_out": [x.as_dict(lang) for x in self.leaning],
            "knockouts": [k.as_dict(lang) for k in self.knockouts],
            "hot_tier": None if self.hot is None or self.no_signal else self.hot.as_dict(),
            "columns": [c.as_dict(lang) for c in self.columns],
            "left_out": [x.as_dict(lang) for x in self.left_out],
            "notes": [text for _, text in self.notes(lang)],
            "fit": {
                "regularisation_c": self.c,
                "rule_budget": self.plan.budget,
                "groups_per_column": self.plan.kmax,
                "min_group_leads": self.plan.min_leads,
                "latest_period_leads_weighed": self.recent_n,
                "seconds": round(self.seconds, 2),
            },
            # kept from before, for scripts that read them
            "split": self.split,
            "holdout_from": self.holdout_from,
            "train_n": self.train_n,
            "holdout_n": self.holdout_n,
            "holdout_auc": self.holdout_auc,
            "baseline_auc": self.baseline_auc,
        }


# --- reading the leads ----------------------------------------------------------------------


def _column_types(store: Store, info: DatasetInfo) -> dict[str, str]:
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = 'leads'",
            [info.schema],
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def _frame(
    store: Store,
    info: DatasetInfo,
    columns: Sequence[str],
    where: Fragment,
    order: Fragment,
    limit: int | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The columns and the won flag of the leads ``where`` selects, in a fixed order."""
    select = "".join(f"{quote_ident(c)}, " for c in columns)
    query = compose(
        "SELECT {select}{outcome} = 'won' AS __won FROM {leads} WHERE {where} ORDER BY {order}"
        + (f" LIMIT {int(limit)}" if limit is not None else ""),
        select=select,
        outcome=quote_ident(OUTCOME_COL),
        leads=info.table(),
        where=where,
        order=order,
    )
    frame: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    won = frame.pop("__won").to_numpy(dtype=bool)
    return frame.reset_index(drop=True), won


def _training(
    store: Store,
    info: DatasetInfo,
    columns: Sequence[str],
    where: Fragment,
    part: Holdout,
    seed: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The training leads a suggestion is fitted on: a seeded ``FIT_ROWS`` of the counted leads
    not held out (the same leads whichever ``columns`` are read)."""
    return _frame(
        store,
        info,
        columns,
        compose("({where}) AND {training}", where=where, training=part.training),
        _seeded(info, seed),
        FIT_ROWS,
    )


def _seeded(info: DatasetInfo, seed: int) -> Fragment:
    """The order a seeded sample of ``FIT_ROWS`` leads is drawn in (by a hash of the lead id)."""
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    return compose("hash(CAST({id} AS VARCHAR) || {seed}), rowid", id=id_col, seed=bind(str(seed)))


def _latest(
    store: Store,
    info: DatasetInfo,
    columns: Sequence[str],
    where: Fragment,
    part: Holdout,
    seed: int,
) -> pd.DataFrame | None:
    """Every lead of the held-out period, open ones too (a seeded ``FIT_ROWS`` beyond): the
    leads the rules will score next, whose columns (never outcomes) weigh in the merge. None
    on a random split, where no period is later than the training leads."""
    if part.split != "time":
        return None
    frame, _ = _frame(
        store,
        info,
        columns,
        compose("({where}) AND {held}", where=where, held=part.held),
        _seeded(info, seed),
        FIT_ROWS,
    )
    return frame if len(frame) else None


def _held_out(
    store: Store, info: DatasetInfo, columns: Sequence[str], where: Fragment, part: Holdout
) -> tuple[pd.DataFrame, np.ndarray]:
    """The held-out leads, by row (the order :func:`_holdout_scores` reads their scores in)."""
    return _frame(
        store,
        info,
        columns,
        compose("({where}) AND {held}", where=where, held=part.condition),
        Fragment("rowid"),
    )


def _categories_as_text(
    frame: pd.DataFrame, types: dict[str, ColumnType], sql_types: dict[str, str]
) -> None:
    """Each scored category's values as the rules compare them (in place)."""
    for col, kind in types.items():
        if kind.scored and not kind.numeric:
            frame[col] = _as_text(frame[col], sql_types.get(col, ""))


def _as_text(series: pd.Series, sql_type: str) -> pd.Series:
    """A number column's values as the store casts them to text (rules compare that text)."""
    if not pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(object).where(series.notna(), None)
    whole = sql_type.upper() in ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "TINYINT")

    def text(v: Any) -> str | None:
        if pd.isna(v):
            return None
        return str(int(v)) if whole else repr(float(v))

    return series.map(text).astype(object)


def _left_out(
    info: DatasetInfo, types: dict[str, ColumnType], exclude: Sequence[str]
) -> list[LeftOut]:
    out: list[LeftOut] = []
    seen: set[str] = set()
    flags = {x.column: x for x in leaks.left_out(info.mapping) if not x.scored}
    for spec in (*info.mapping.leads, *info.mapping.outcomes):
        if spec.name in seen or spec.name not in info.columns:
            continue
        seen.add(spec.name)
        if spec.name in exclude:
            out.append(LeftOut(spec.name, "excluded", "suggest.out.excluded"))
        elif spec.leak:
            flag = flags.get(spec.name) or leaks.LeftOut(spec.name, spec.reason or "leak.user")
            out.append(LeftOut(spec.name, "leak", "suggest.out.leak", flag=flag))
        elif spec.role not in FEATURE_ROLES:
            out.append(LeftOut(spec.name, "role", f"suggest.out.role.{spec.role}"))
        elif spec.name in types and not types[spec.name].scored:
            kind = types[spec.name]
            key = f"suggest.type.{kind.message or kind.kind}"
            out.append(LeftOut(spec.name, "read", key, tuple(kind.params.items())))
    return out


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
    frac = at - lo
    return b - (b - a) * (1 - frac) if frac >= 0.5 else a + (b - a) * frac  # as numpy does


# --- the suggestion -------------------------------------------------------------------------


@one_thread
def suggest_rules(
    store: Store,
    info: DatasetInfo,
    *,
    filters: Filters = NO_FILTERS,
    target_conversion: float | None = None,
    capacity_per_week: float | None = None,
    max_points: int = MAX_POINTS,
    baseline: RuleSet | None = None,
    exclude: Sequence[str] = (),
    seed: int = 7,
    c: float | None = None,
    lang: str = "en",
) -> Suggestion:
    """Fit, turn into points, choose the hot threshold on the holdout, and judge it there.

    ``exclude`` leaves columns out (a column the suggestion leans on that the user says is
    known only after the sale). Comparison models are fitted only when asked for
    (:func:`compare_suggestion`). The rule set's name, description and tier names are
    written in ``lang``.
    """
    started = time.perf_counter()
    if info.mapping.outcome is None:
        raise SuggestError("no_outcome")
    part = holdout(store, info, filters, seed=seed)
    where = filters.where(info)
    features = [s.name for s in info.mapping.features() if s.name not in exclude]
    if not features:
        raise SuggestError("no_features")
    train, y = _training(store, info, features, where, part, seed)
    if len(y) == 0 or y.all() or not y.any():
        raise SuggestError("no_wins")
    sql_types = _column_types(store, info)
    types = {col: type_column(col, train[col]) for col in features}
    _categories_as_text(train, types, sql_types)
    scored = {col: kind for col, kind in types.items() if kind.scored}
    if not scored:
        raise SuggestError("no_features")
    hold, y_hold = _held_out(store, info, list(scored), where, part)
    _categories_as_text(hold, scored, sql_types)
    the_plan = plan(y, min(BUDGET, MAX_RULES))  # never more than a rule set may hold
    binners = fit_binners(train, scored)
    idx = {col: b.transform(train[col]) for col, b in binners.items()}
    values = {
        col: pd.to_numeric(train[col], errors="coerce").dropna().to_numpy(dtype=float)
        for col, kind in scored.items()
        if kind.numeric
    }
    chosen_c = c if c is not None else choose_c(design(binners, idx), y, seed)
    latest = _latest(store, info, list(scored), where, part, seed)
    recent: dict[str, np.ndarray] | None = None
    if latest is not None:
        _categories_as_text(latest, scored, sql_types)
        recent = {col: b.transform(latest[col]) for col, b in binners.items()}
    refit = functools.partial(fit_rules, recent=recent)
    fitted = refit(binners, idx, y, the_plan, chosen_c, values, max_points)
    knocked = find_knockouts(train, y, hold, y_hold, scored)
    draft = RuleSet(
        name=t("rules.name.suggested", lang),
        description=t(
            "suggest.description",
            lang,
            n=f"{len(y):,}",
            split=part.describe(lang),
        ),
        rules=fitted.rules,
        gates=as_gates(knocked),
        tiers=(Tier("hot", 1e9), Tier("warm", 1e8), Tier("cold", -math.inf)),  # set below
    )
    result = verdict(store, info, draft, filters, part=part)
    hot_choice: HotChoice | None = None
    everyone = histogram(store, info, draft, filters, None)
    if result.no_signal or not everyone.total:
        top = float(everyone.score.max()) if everyone.total else 0.0
        hot = top + 1  # no hot tier: these columns do not tell won leads apart
    else:
        held = histogram(store, info, draft, filters, part)
        if target_conversion is not None:
            hot_choice = hot_for_target(held, target_conversion, part)
        elif capacity_per_week is not None:
            if not held.weeks:
                raise SuggestError("no_dates_for_capacity")
            hot_choice = hot_for_capacity(held, capacity_per_week, part)
        chosen = None if hot_choice is None else hot_choice.threshold
        if chosen is None and hot_choice is not None:
            chosen = hot_choice.best  # the most that can be promised (said in the notes)
        if chosen is not None:
            hot = chosen
        elif hot_choice is not None:
            hot = float(everyone.score.max()) + 1  # nothing fits: nobody is hot
        else:
            hot = _lead_quantile(everyone, 1 - HOT_SHARE)
    warm = _lead_quantile(everyone, 1 - WARM_SHARE) if everyone.total else hot - 1
    warm = min(warm, hot - 1)
    names = [t(f"tier.default.{tier}", lang) for tier in ("hot", "warm", "cold")]
    ruleset = replace(
        draft, tiers=(Tier(names[0], hot), Tier(names[1], warm), Tier(names[2], -math.inf))
    )
    training = score_histogram(store, info, ruleset, filters, extra=part.training)
    base_auc = None
    if baseline is not None and baseline.rules:
        base_auc = verdict(store, info, baseline, filters, part=part).auc
    per_lead = _holdout_scores(store, info, ruleset, filters, part)
    models = checks.compare_models(
        train, y, hold, y_hold, scored, per_lead, seed, names=checks.ALWAYS
    )
    hold_idx = {col: b.transform(hold[col]) for col, b in binners.items()}
    leaning: tuple[checks.Leaning, ...] = ()
    if fitted.rules and not result.no_signal:
        leaning = checks.leaning(
            fitted, binners, idx, y, hold_idx, y_hold, the_plan, chosen_c, values, max_points,
            refit,
        )  # fmt: skip
    return Suggestion(
        ruleset=ruleset,
        verdict=result,
        train_n=len(y),
        train_won=int(y.sum()),
        in_sample_auc=auc(training),
        baseline_name=None if baseline is None else baseline.name,
        baseline_auc=None if base_auc is None else base_auc.auc,
        columns=tuple(types.values()),
        left_out=tuple(_left_out(info, types, exclude)),
        plan=the_plan,
        c=chosen_c,
        seconds=time.perf_counter() - started,
        leaning=leaning,
        models=models,
        hot=hot_choice,
        population=backtest_population(store, info),
        counted=backtest_population(store, info).count(store, info, where),
        filters=filters,
        seed=seed,
        recent_n=0 if latest is None else len(latest),
        knockouts=knocked,
    )


@dataclass(frozen=True)
class SplitFrames:
    """A suggestion's training and held-out leads (its scored columns, categories as text),
    their outcomes, and the suggestion's score of each, in the same order."""

    train: pd.DataFrame
    y: np.ndarray
    hold: pd.DataFrame
    y_hold: np.ndarray
    train_scores: np.ndarray
    hold_scores: np.ndarray


def split_frames(store: Store, info: DatasetInfo, suggestion: Suggestion) -> SplitFrames:
    """The leads ``suggestion`` was fitted on and judged on, read again with its scores: what
    a model set beside it is fitted and judged on."""
    scored = {c.column: c for c in suggestion.columns if c.scored}
    where = suggestion.filters.where(info)
    part = suggestion.holdout
    train, y = _training(store, info, list(scored), where, part, suggestion.seed)
    hold, y_hold = _held_out(store, info, list(scored), where, part)
    sql_types = _column_types(store, info)
    _categories_as_text(train, scored, sql_types)
    _categories_as_text(hold, scored, sql_types)
    rs, filters = suggestion.ruleset, suggestion.filters
    return SplitFrames(
        train,
        y,
        hold,
        y_hold,
        _training_scores(store, info, rs, filters, part, suggestion.seed),
        _holdout_scores(store, info, rs, filters, part),
    )


@one_thread
def compare_suggestion(store: Store, info: DatasetInfo, suggestion: Suggestion) -> Suggestion:
    """``suggestion`` beside gradient boosting (with and without interactions) too, fitted on
    its training leads and judged on its held-out ones (plain logistic regression is already
    there: :func:`suggest_rules` fits it every time).

    Asked for apart from :func:`suggest_rules` (``funnel suggest --compare``, the tuner's
    comparison toggle): the two fits take most of a suggestion's time, and none of the
    verdicts (holdout AUC, no signal, the column it leans on) needs them.
    """
    if suggestion.compared:
        return suggestion
    found = split_frames(store, info, suggestion)
    scored = {c.column: c for c in suggestion.columns if c.scored}
    have = {m.model for m in suggestion.models}
    missing = tuple(name for name in checks.MODEL_NAMES if name not in have)
    models = checks.compare_models(
        found.train, found.y, found.hold, found.y_hold, scored, found.hold_scores,
        suggestion.seed, names=missing,
    )  # fmt: skip
    ordered = sorted((*suggestion.models, *models), key=lambda m: checks.MODEL_NAMES.index(m.model))
    return replace(suggestion, models=tuple(ordered))


@one_thread
def logistic_beside(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    part: Holdout | None = None,
    seed: int = 7,
) -> checks.ModelFigure | None:
    """Plain logistic regression on the columns ``rs`` reads, fitted on the training leads and
    judged on the held-out ones beside ``rs`` (the report's comparison for any rule set).

    None when the rules read no column a model can use, or training holds no won or no lost
    lead: there is nothing to compare with.
    """
    part = part or holdout(store, info, filters, seed=seed)
    where = filters.where(info)
    columns = [c for c in info.columns if c in rs.columns() and c != OUTCOME_COL]
    if not columns:
        return None
    train, y = _training(store, info, columns, where, part, seed)
    if len(y) == 0 or y.all() or not y.any():
        return None
    types = {col: type_column(col, train[col]) for col in columns}
    scored = {col: kind for col, kind in types.items() if kind.scored}
    if not scored:
        return None
    sql_types = _column_types(store, info)
    hold, y_hold = _held_out(store, info, list(scored), where, part)
    if len(y_hold) == 0:
        return None
    _categories_as_text(train, scored, sql_types)
    _categories_as_text(hold, scored, sql_types)
    per_lead = _holdout_scores(store, info, rs, filters, part)
    found = checks.compare_models(
        train, y, hold, y_hold, scored, per_lead, seed, names=checks.ALWAYS
    )
    return found[0] if found else None


def _training_scores(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters, part: Holdout, seed: int
) -> np.ndarray:
    """Each training lead's ranking by ``rs`` (:func:`_ranked`), in the order :func:`_training`
    reads them."""
    query = compose(
        "SELECT {ranked} FROM {leads} WHERE ({where}) AND {training} "
        f"ORDER BY {{order}} LIMIT {FIT_ROWS}",
        ranked=_ranked_columns(rs),
        leads=info.table(),
        where=filters.where(info),
        training=part.training,
        order=_seeded(info, seed),
    )
    return _ranked(store.fetch_frame(query.sql, query.args))


def _holdout_scores(
    store: Store, info: DatasetInfo, rs: RuleSet, filters: Filters, part: Holdout
) -> np.ndarray:
    """Each held-out lead's ranking by ``rs`` (:func:`_ranked`), in the order the holdout frame
    was read (by row)."""
    query = compose(
        "SELECT {ranked} FROM {leads} WHERE ({where}) AND {held} ORDER BY rowid",
        ranked=_ranked_columns(rs),
        leads=info.table(),
        where=filters.where(info),
        held=part.condition,
    )
    return _ranked(store.fetch_frame(query.sql, query.args))


def _ranked_columns(rs: RuleSet) -> Fragment:
    """Each lead's score and whether a gate knocks it out."""
    from funnel.rulesql import gates_sql, score_sql

    return compose(
        "({score})::DOUBLE AS s, ({gated}) AS g", score=score_sql(rs), gated=gates_sql(rs)
    )


def _ranked(frame: pd.DataFrame) -> np.ndarray:
    """The leads' ranking as the tiers and the holdout AUC rank them: a lead a gate knocks out
    below every open one (:func:`funnel.scoring.histogram.rank_key`), so a comparison model's
    paired difference is taken on the ranking whose AUC is shown."""
    return rank_key(frame["s"].to_numpy(dtype=float), frame["g"].to_numpy(dtype=bool))


__all__ = [
    "FIT_ROWS",
    "LeftOut",
    "SuggestError",
    "Suggestion",
    "compare_suggestion",
    "SplitFrames",
    "logistic_beside",
    "split_frames",
    "suggest_rules",
]
