"""From fine bins to at most 25 readable rules: a shape per column, an optimal merge, a budget.

1. One-hot the fine bins of every column (a column's missing bin is its fixed 0, so columns
   missing on the same leads cannot trade an effect between them) and fit an L2 logistic
   regression (scikit-learn): each bin's coefficient is the column's *shape*.
2. Merge each shape into k = 1 … 6 groups (2 with fewer than 100 won training leads),
   optimally, minimising the loss of the fit's log-likelihood (squared error weighted by each
   bin's Fisher information p(1 − p)); numbers stay contiguous, categories are grouped in
   score order, and every group holds at least 30 leads and either 5 expected or 5 observed
   wins. When the leads are split by date, the latest period's leads (their columns only,
   never their outcomes) weigh as much as the training leads in that information: a value
   rare in the past but common now (a previous campaign's success, on bank marketing with
   its call dates) is not merged away for being rare in the past.
3. A knapsack picks k for every column: at most ``budget`` rules in all, each rule paying a
   small price, so a rule must earn its place.
4. A group's points are its shrunk mean score minus its column's reference group (the one
   holding missing values, else the most common), scaled so the largest is ``max_points``,
   rounded. No refit: the L2 shrinkage keeps small data's points small and stable.

Measured in /work/research/suggest (REPORT.md §1, §4): on bank, Olist and the demo the
result is at least as good as plain logistic regression on the same split, with ≤ 25 rules.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from funnel.rules import CategoryRule, CompareRule, RangeRule, Rule, SetRule
from funnel.suggest.bins import UNSEEN, Binner, Interval, fit_category, fit_numeric, nice_between
from funnel.suggest.columns import ColumnType

BUDGET = 25  # rules at most
KMAX = 6  # groups per column at most
KMAX_SMALL = 2  # ... with fewer than SMALL_WINS won training leads
SMALL_WINS = 100
MIN_GROUP_LEADS = 30  # a group never holds fewer leads
MIN_GROUP_WINS = 5  # ... and holds 5 expected wins at the base rate, or 5 observed wins
PRICE = 0.001  # a rule must win back this share of the total Fisher information
MAX_POINTS = 30
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CV_ROWS = 50_000  # C is chosen by 3-fold cross-validation on at most this many leads
MISSING_SHARE_NAMED = 0.01  # missing values this common can be a reference group of their own


P = ParamSpec("P")
R = TypeVar("R")


def one_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with scikit-learn's BLAS and OpenMP on one thread.

    On a server whose cores the sessions share, those threads fighting for them made a fit
    10 to 60 times slower than one thread alone (measured on the 2-core development machine:
    a logistic regression 1.1 s against 0.03 s, gradient boosting 15 s against 0.2 s).
    """

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return run


@dataclass(frozen=True)
class Plan:
    """How coarse the suggestion may be, from the won training leads."""

    wins: int
    leads: int
    budget: int
    min_leads: int
    kmax: int

    @property
    def small(self) -> bool:
        return self.wins < SMALL_WINS


def plan(won: np.ndarray, budget: int = BUDGET) -> Plan:
    """The rule budget, the smallest group and the groups per column for these leads.

    >>> plan(np.array([True] * 40 + [False] * 360))
    Plan(wins=40, leads=400, budget=25, min_leads=50, kmax=2)
    """
    wins, n = int(won.sum()), len(won)
    base = wins / max(n, 1)
    return Plan(
        wins=wins,
        leads=n,
        budget=max(1, min(budget, wins)),
        min_leads=max(MIN_GROUP_LEADS, math.ceil(MIN_GROUP_WINS / max(base, 1e-9))),
        kmax=KMAX_SMALL if wins < SMALL_WINS else KMAX,
    )


@dataclass(frozen=True)
class Shape:
    """One column's fine-bin coefficients with the training counts behind them."""

    binner: Binner
    score: np.ndarray
    n: np.ndarray  # training leads per bin
    wins: np.ndarray
    weight: np.ndarray  # Fisher information per bin: the merge's loss weights

    @property
    def column(self) -> str:
        return self.binner.column


def fit_binners(frame: pd.DataFrame, types: Mapping[str, ColumnType]) -> dict[str, Binner]:
    """Each scored column's fine bins, from the training leads."""
    out: dict[str, Binner] = {}
    for column, kind in types.items():
        if not kind.scored:
            continue
        series = frame[column]
        if kind.numeric:
            out[column] = fit_numeric(column, series, kind.spikes)
        else:
            out[column] = fit_category(column, series)
    return out


def bin_frame(frame: pd.DataFrame, binners: Mapping[str, Binner]) -> dict[str, np.ndarray]:
    return {c: b.transform(frame[c]) for c, b in binners.items()}


def design(binners: Mapping[str, Binner], idx: Mapping[str, np.ndarray]) -> sparse.csr_matrix:
    """The one-hot fine bins, every column's missing bin left out (its fixed 0)."""
    blocks = []
    for column, b in binners.items():
        i = idx[column]
        keep = (i != b.missing) & (i != UNSEEN)
        rows = np.flatnonzero(keep)
        blocks.append(
            sparse.csr_matrix(
                (np.ones(len(rows)), (rows, i[keep])), shape=(len(i), b.n_bins), dtype=np.float64
            )
        )
    return sparse.hstack(blocks, format="csr")


def choose_c(x: sparse.csr_matrix, y: np.ndarray, seed: int) -> float:
    """The regularisation with the best 3-fold cross-validated log-loss (on ≤ 50k leads)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    if len(y) > CV_ROWS:
        pick = np.sort(rng.choice(len(y), CV_ROWS, replace=False))
        x, y = x[pick], y[pick]
    if min(int(y.sum()), int((~y).sum())) < 6:
        return 0.1
    folds = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    best, best_c = math.inf, 0.1
    for c in C_GRID:
        loss = 0.0
        for train, test in folds:
            model = LogisticRegression(C=c, max_iter=2000).fit(x[train], y[train])
            loss += log_loss(y[test], model.predict_proba(x[test])[:, 1], labels=[False, True])
        if loss < best - 1e-9:
            best, best_c = loss, c
    return best_c


def _fisher(i: np.ndarray, prob: np.ndarray, n_bins: int) -> np.ndarray:
    """Each fine bin's Fisher information Σ p(1 − p) over the leads ``i`` places in it."""
    seen = i != UNSEEN
    return np.bincount(i[seen], weights=(prob * (1 - prob))[seen], minlength=n_bins)


def fit_shapes(
    binners: Mapping[str, Binner],
    idx: Mapping[str, np.ndarray],
    y: np.ndarray,
    c: float,
    recent: Mapping[str, np.ndarray] | None = None,
) -> list[Shape]:
    """The L2 logistic regression on the fine bins, read as one shape per column.

    ``recent``: the fine bins of the leads the rules will score next (the latest period's, on
    a split by date). Their Fisher information, scaled to the training leads' number, is
    averaged with the training leads' own, so the merge keeps apart what matters for them too.
    """
    from sklearn.linear_model import LogisticRegression

    x = design(binners, idx)
    model = LogisticRegression(C=c, max_iter=2000).fit(x, y)
    coef = model.coef_[0]
    prob = model.predict_proba(x)[:, 1]
    later: np.ndarray | None = None
    n_recent = len(next(iter(recent.values()))) if recent else 0
    if recent and n_recent:
        later = model.predict_proba(design(binners, recent))[:, 1]
    shapes, offset = [], 0
    for column, b in binners.items():
        i = idx[column]
        seen = i != UNSEEN
        n = np.bincount(i[seen], minlength=b.n_bins).astype(float)
        wins = np.bincount(i[seen], weights=y[seen].astype(float), minlength=b.n_bins)
        fisher = _fisher(i, prob, b.n_bins)
        if recent and later is not None:
            now = _fisher(recent[column], later, b.n_bins) * (len(y) / n_recent)
            fisher = (fisher + now) / 2
        score = coef[offset : offset + b.n_bins].copy()
        score[b.missing] = 0.0
        shapes.append(Shape(b, score, n, wins, fisher))
        offset += b.n_bins
    return shapes


# --- optimal merging --------------------------------------------------------------------------


def _segments(
    n: np.ndarray, s: np.ndarray, w: np.ndarray, wins: np.ndarray, kmax: int, min_leads: float
) -> dict[int, list[tuple[int, int]]]:
    """Optimal contiguous segmentations of the bins into k = 1 … kmax segments.

    Minimises the Fisher-weighted squared error of the scores around each segment's mean;
    every segment holds ``min_leads`` leads, or at least 30 leads and 5 won ones. Returns
    ``{k: [(start, end), …]}`` for every k that is possible.
    """
    m = len(n)
    cn, cwin = np.r_[0, np.cumsum(n)], np.r_[0, np.cumsum(wins)]
    cw, cs, css = np.r_[0, np.cumsum(w)], np.r_[0, np.cumsum(w * s)], np.r_[0, np.cumsum(w * s * s)]

    def cost(i: np.ndarray, j: int) -> np.ndarray:
        leads, weight = cn[j] - cn[i], cw[j] - cw[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            sse = (css[j] - css[i]) - np.where(weight > 0, (cs[j] - cs[i]) ** 2 / weight, 0.0)
        ok = (leads >= min_leads) | (
            (leads >= MIN_GROUP_LEADS) & (cwin[j] - cwin[i] >= MIN_GROUP_WINS)
        )
        return np.where(ok, sse, np.inf)

    dp = np.full((kmax + 1, m + 1), np.inf)
    arg = np.zeros((kmax + 1, m + 1), dtype=np.int64)
    dp[0, 0] = 0.0
    for k in range(1, kmax + 1):
        for j in range(1, m + 1):
            total = dp[k - 1, :j] + cost(np.arange(j), j)
            best = int(np.argmin(total))
            dp[k, j], arg[k, j] = total[best], best
    out: dict[int, list[tuple[int, int]]] = {}
    for k in range(1, kmax + 1):
        if not np.isfinite(dp[k, m]):
            continue
        segs, j = [], m
        for kk in range(k, 0, -1):
            i = int(arg[kk, j])
            segs.append((i, j))
            j = i
        out[k] = segs[::-1]
    return out


@dataclass(frozen=True)
class Grouping:
    """A column's fine bins merged into groups; ``ref`` is the 0-point group."""

    shape: Shape
    groups: tuple[tuple[int, ...], ...]
    ref: int
    sse: float
    rules: int  # rules it costs

    @property
    def column(self) -> str:
        return self.shape.column

    def mean(self, g: int) -> float:
        members = list(self.groups[g])
        w = self.shape.weight[members]
        return float((w * self.shape.score[members]).sum() / max(float(w.sum()), 1e-12))

    def points(self) -> list[float]:
        """Each group's log-odds relative to the reference group."""
        ref = self.mean(self.ref)
        return [self.mean(g) - ref for g in range(len(self.groups))]


def _sse(shape: Shape, groups: list[list[int]]) -> float:
    total = 0.0
    for g in groups:
        w, s = shape.weight[g], shape.score[g]
        if w.sum() > 0:
            mu = (w * s).sum() / w.sum()
            total += float((w * (s - mu) ** 2).sum())
    return total


def _grouping(shape: Shape, groups: list[list[int]], ref: int) -> Grouping:
    frozen = tuple(tuple(sorted(g)) for g in groups)
    return Grouping(shape, frozen, ref, _sse(shape, groups), len(groups) - 1)


def options(shape: Shape, kmax: int, min_leads: float) -> list[Grouping]:
    """Every reasonable grouping of a column (k = 1 … kmax) with its loss and rule cost."""
    b = shape.binner
    miss = b.missing
    n_miss = shape.n[miss]
    total = shape.n.sum()
    out: list[Grouping] = []
    if b.numeric:
        filled = [i for i in range(b.n_bins) if i != miss and shape.n[i] > 0]
        empty = [i for i in range(b.n_bins) if i != miss and shape.n[i] == 0]
        found = _segments(
            shape.n[filled], shape.score[filled], shape.weight[filled], shape.wins[filled],
            kmax, min_leads,
        )  # fmt: skip
        for k, segs in found.items():
            groups = [[filled[t] for t in range(a, e)] for a, e in segs]
            for i in empty:  # an empty bin goes with the group just below it (or above)
                below = [g for g in groups if min(g) < i]
                (max(below, key=min) if below else groups[0]).append(i)
            big_missing = n_miss >= max(min_leads, MISSING_SHARE_NAMED * total)
            if n_miss > 0 and big_missing:
                # missing values their own reference group, every other group a rule
                out.append(_grouping(shape, [*groups, [miss]], k))
                near = min(range(k), key=lambda g: abs(_wmean(shape, groups[g])))
                joined = [list(g) for g in groups]
                joined[near].append(miss)
                out.append(_grouping(shape, joined, near))
            else:
                ref = max(range(k), key=lambda g: shape.n[groups[g]].sum())
                joined = [list(g) for g in groups]
                joined[ref].append(miss)
                out.append(_grouping(shape, joined, ref))
        return out
    # a category: grouped in score order; missing and pooled values sit in the reference
    # group (no rule can name them)
    items = [i for i in range(b.n_bins) if shape.n[i] > 0]
    order = sorted(items, key=lambda i: (shape.score[i], i))
    found = _segments(
        shape.n[order], shape.score[order], shape.weight[order], shape.wins[order],
        kmax, min_leads,
    )  # fmt: skip
    unnamed = [i for i in (b.other, miss) if i is not None]
    for _, segs in found.items():
        groups = [[order[t] for t in range(a, e)] for a, e in segs]
        present = [i for i in unnamed if shape.n[i] > 0]
        if present:
            anchor = max(present, key=lambda i: shape.n[i])
            ref_group = next(g for g in groups if anchor in g)
            for g in groups:
                for i in unnamed:
                    if i in g and g is not ref_group:
                        g.remove(i)
            for i in unnamed:
                if i not in ref_group:
                    ref_group.append(i)
            groups = [g for g in groups if g]
            ref = next(k for k, g in enumerate(groups) if anchor in g)
        else:
            ref = max(range(len(groups)), key=lambda g: (len(groups[g]), shape.n[groups[g]].sum()))
            groups[ref] += unnamed
        out.append(_grouping(shape, groups, ref))
    return out


def _wmean(shape: Shape, members: list[int]) -> float:
    w = shape.weight[members]
    return float((w * shape.score[members]).sum() / max(float(w.sum()), 1e-12))


def allocate(
    choices: Mapping[str, list[Grouping]], budget: int, price: float
) -> dict[str, Grouping]:
    """One grouping per column: the least total loss plus ``price`` per rule, within budget."""
    columns = list(choices)
    best = [0.0] + [math.inf] * budget  # best[b]: the least objective using b rules so far
    picks: list[list[tuple[Grouping | None, int]]] = []
    for column in columns:
        new = [math.inf] * (budget + 1)
        pick: list[tuple[Grouping | None, int]] = [(None, 0)] * (budget + 1)
        for g in choices[column]:
            value = g.sse + price * g.rules
            for b0 in range(budget + 1 - g.rules):
                if best[b0] < math.inf and best[b0] + value < new[b0 + g.rules]:
                    new[b0 + g.rules] = best[b0] + value
                    pick[b0 + g.rules] = (g, b0)
        best = new
        picks.append(pick)
    b = int(np.argmin(best))
    out: dict[str, Grouping] = {}
    for column, pick in zip(reversed(columns), reversed(picks), strict=True):
        found, b0 = pick[b]
        if found is not None and found.rules > 0:
            out[column] = found
        b = b0
    return {c: out[c] for c in columns if c in out}


# --- groups as rules ------------------------------------------------------------------------


def _span(b: Binner, members: tuple[int, ...]) -> Interval | None:
    """The numbers a group of contiguous bins holds (None: only missing values)."""
    bins = sorted(i for i in members if i != b.missing)
    if not bins:
        return None
    first, last = b.intervals[bins[0]], b.intervals[bins[-1]]
    return Interval(first.low, first.low_closed, last.high, last.high_closed)


def _above(b: Binner, value: float, values: np.ndarray) -> float:
    """The number a rule starts at to hold what lies just above ``value`` (closed form)."""
    if b.whole:
        return value + 1
    higher = values[values > value]
    return nice_between(value, float(higher.min())) if len(higher) else value


def _below(b: Binner, value: float, values: np.ndarray) -> float:
    """The number a rule stops before to hold ``value`` and what lies just below it."""
    if b.whole:
        return value + 1
    higher = values[values > value]
    return nice_between(value, float(higher.min())) if len(higher) else value + 1


def group_rule(
    grouping: Grouping, g: int, points: int, values: np.ndarray | None = None
) -> Rule | None:
    """The rule giving a group its points (None for a group no rule can name)."""
    b = grouping.shape.binner
    members = grouping.groups[g]
    if not b.numeric:
        named = [b.values[i] for i in sorted(members) if i < len(b.values)]
        if not named:
            return None
        if len(named) == 1:
            return CategoryRule(b.column, named[0], points)
        return SetRule(b.column, tuple(named), points)
    span = _span(b, members)
    if span is None:
        return None
    vals = np.zeros(0) if values is None else values
    if span.point:
        return CompareRule(b.column, "=", float(span.low), points)  # type: ignore[arg-type]
    low, high = span.low, span.high
    if low is not None and not span.low_closed:  # just above a spike
        if high is None:
            return CompareRule(b.column, ">", low, points)
        low = _above(b, low, vals)
    if high is not None and span.high_closed:  # up to and including a spike
        if low is None:
            return CompareRule(b.column, "<=", high, points)
        high = _below(b, high, vals)
    return readable_range(b.column, low, high, points, whole=b.whole)


def readable_range(
    column: str, low: float | None, high: float | None, points: int, *, whole: bool = False
) -> Rule:
    """A range ``[low, high)`` as its most readable rule: a comparison when one end is open
    (``≥ 8``, ``< 51``), ``= 3`` for ``[3, 4)`` of whole numbers, else the range itself.

    >>> readable_range("visits", 8, None, 5).describe()
    'visits ≥ 8: +5 points'
    >>> readable_range("inquiries", 1, 2, 9, whole=True).describe()
    'inquiries = 1: +9 points'
    """
    if low is None and high is not None:
        return CompareRule(column, "<", high, points)
    if high is None and low is not None:
        return CompareRule(column, ">=", low, points)
    if whole and low is not None and high is not None and high - low == 1:
        return CompareRule(column, "=", low, points)
    return RangeRule(column, low, high, points)
