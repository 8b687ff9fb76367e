"""When a difference is real: exact tests and a multiple-testing correction, from scipy.

A review compares many figures at once (each tier's conversion, each rule's firing share, the
score distribution); some differ by chance alone. Each comparison gets a p-value from a proper
test — Fisher's exact test for two proportions, the two-sample Kolmogorov-Smirnov test for two
score distributions — and the p-values of one family are adjusted together with the
Benjamini-Hochberg procedure (``scipy.stats.false_discovery_control``). A difference is
flagged only when its adjusted p-value is below :data:`ALPHA` *and* it is large enough to
matter (:data:`MIN_RELATIVE`): on a million leads, a share moving from 30.0% to 30.4% is
"significant" and of no interest to a meeting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

#: The false discovery rate a family of comparisons is held to.
ALPHA = 0.05
#: A share must move by at least this fraction of itself to be flagged.
MIN_RELATIVE = 0.2
#: The normal quantile of a two-sided 95% interval.
Z95 = float(stats.norm.ppf(0.975))
#: Two score distributions must differ by at least this KS distance to be flagged.
MIN_KS = 0.1


@dataclass(frozen=True)
class Comparison:
    """Two proportions, now and then, with the test's p-value (adjusted within its family)."""

    k_now: int
    n_now: int
    k_then: int
    n_then: int
    p: float | None
    p_adjusted: float | None = None

    @property
    def now(self) -> float | None:
        return self.k_now / self.n_now if self.n_now else None

    @property
    def then(self) -> float | None:
        return self.k_then / self.n_then if self.n_then else None

    @property
    def real(self) -> bool:
        """Significant after the correction and large enough to matter."""
        if self.p_adjusted is None or self.now is None or self.then is None:
            return False
        if self.p_adjusted >= ALPHA:
            return False
        base = max(self.then, 1e-12)
        return abs(self.now - self.then) >= MIN_RELATIVE * base

    def as_dict(self) -> dict[str, object]:
        return {
            "now": self.now,
            "then": self.then,
            "k_now": self.k_now,
            "n_now": self.n_now,
            "k_then": self.k_then,
            "n_then": self.n_then,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "real": self.real,
        }


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided p-value of Fisher's exact test that ``k1/n1`` and ``k2/n2`` are the same
    proportion (None when either group is empty).

    >>> round(fisher_p(9, 100, 28, 200), 3), fisher_p(1, 0, 3, 4)
    (0.265, None)
    """
    if n1 <= 0 or n2 <= 0:
        return None
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(stats.fisher_exact(table).pvalue)


def compare(k_now: int, n_now: int, k_then: int, n_then: int) -> Comparison:
    """Two proportions and Fisher's exact p-value (adjust with :func:`adjust`)."""
    return Comparison(k_now, n_now, k_then, n_then, fisher_p(k_now, n_now, k_then, n_then))


def adjusted(pvalues: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values of one family (None stays None).

    >>> [round(p, 3) for p in adjusted([0.01, 0.04, 0.03])]
    [0.03, 0.04, 0.04]
    >>> adjusted([None, 0.5])
    [None, 0.5]
    """
    present = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not present:
        return out
    values = np.asarray([pvalues[i] for i in present], dtype=float)
    fixed = stats.false_discovery_control(np.clip(values, 0.0, 1.0), method="bh")
    for i, p in zip(present, fixed, strict=True):
        out[i] = float(p)
    return out


@dataclass(frozen=True)
class Distributions:
    """Two score distributions (from histograms), their medians and the KS test."""

    median_now: float | None
    median_then: float | None
    distance: float | None
    p: float | None
    p_adjusted: float | None = None

    @property
    def real(self) -> bool:
        return (
            self.p_adjusted is not None
            and self.distance is not None
            and self.p_adjusted < ALPHA
            and self.distance >= MIN_KS
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "median_now": self.median_now,
            "median_then": self.median_then,
            "ks_distance": self.distance,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "real": self.real,
        }


def weighted_median(values: np.ndarray, counts: np.ndarray) -> float | None:
    """The lower median of ``values`` each held ``counts`` times.

    >>> weighted_median(np.array([1.0, 5.0, 9.0]), np.array([1, 1, 5]))
    9.0
    """
    total = int(counts.sum())
    if total == 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(counts[order])
    return float(values[order][np.searchsorted(cum, (total + 1) // 2)])


def ks(now: tuple[np.ndarray, np.ndarray], then: tuple[np.ndarray, np.ndarray]) -> Distributions:
    """Two-sample Kolmogorov-Smirnov test between two score histograms (values, counts).

    The leads are expanded from the histograms (one float per lead) for scipy's ``ks_2samp``;
    with scores tied in whole points the asymptotic p-value is conservative.
    """
    a = np.repeat(now[0], now[1].astype(np.int64))
    b = np.repeat(then[0], then[1].astype(np.int64))
    med_a, med_b = weighted_median(*now), weighted_median(*then)
    if a.size == 0 or b.size == 0:
        return Distributions(med_a, med_b, None, None)
    result = stats.ks_2samp(a, b, method="asymp")
    return Distributions(med_a, med_b, float(result.statistic), float(result.pvalue))


def log_lift(k: int, n: int, k_all: int, n_all: int) -> tuple[float, float] | None:
    """The log of a group's lift (its conversion ``k/n`` over the base rate ``k_all/n_all``
    of every lead of the same period, the group among them) and its variance by the delta
    method, the group's and the other leads' rates varying independently; None when the
    group or the base has no conversion to divide by.

    >>> g = log_lift(30, 100, 100, 1000)
    >>> round(math.exp(g[0]), 2), round(g[1], 4)
    (3.0, 0.0179)
    """
    if n <= 0 or k <= 0 or k_all <= 0 or n_all < n or k_all < k:
        return None
    p_t, p_all, w = k / n, k_all / n_all, n / n_all
    rest = n_all - n
    d_t = 1 / p_t - w / p_all
    var = d_t * d_t * p_t * (1 - p_t) / n
    if rest > 0:
        p_r = (k_all - k) / rest
        d_r = -(1 - w) / p_all
        var += d_r * d_r * p_r * (1 - p_r) / rest
    return math.log(p_t / p_all), var


@dataclass(frozen=True)
class Lift:
    """A group's lift now against its lift when promised (each over the base rate of its own
    period, so a base rate that moves for every lead moves no lift), with 95% intervals and
    the z-test of the two log lifts (p adjusted within its family)."""

    now: float | None
    low: float | None
    high: float | None
    then: float | None
    then_low: float | None
    then_high: float | None
    p: float | None
    p_adjusted: float | None = None

    @property
    def real(self) -> bool:
        """Significant after the correction and large enough to matter."""
        if self.p_adjusted is None or self.now is None or not self.then:
            return False
        return self.p_adjusted < ALPHA and abs(self.now - self.then) >= MIN_RELATIVE * self.then

    def as_dict(self) -> dict[str, object]:
        return {
            "lift": self.now,
            "ci_low": self.low,
            "ci_high": self.high,
            "promised_lift": self.then,
            "promised_ci_low": self.then_low,
            "promised_ci_high": self.then_high,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "real": self.real,
        }


def _interval(g: tuple[float, float] | None) -> tuple[float | None, float | None, float | None]:
    if g is None:
        return None, None, None
    half = Z95 * math.sqrt(g[1])
    return math.exp(g[0]), math.exp(g[0] - half), math.exp(g[0] + half)


def compare_lifts(now: tuple[int, int, int, int], then: tuple[int, int, int, int]) -> Lift:
    """A group's lift now against then, each given as (won, leads, won in all, all leads).

    >>> c = compare_lifts((30, 100, 100, 1000), (30, 100, 100, 1000))
    >>> round(c.now, 2), round(c.p, 3)
    (3.0, 1.0)
    >>> compare_lifts((0, 100, 100, 1000), (30, 100, 100, 1000)).p is None
    True
    """
    g_now, g_then = log_lift(*now), log_lift(*then)
    lift_now = now[0] / now[1] / (now[2] / now[3]) if now[1] and now[2] else None
    _, low, high = _interval(g_now)
    lift_then, then_low, then_high = _interval(g_then)
    if lift_then is None and then[1] and then[2]:
        lift_then = then[0] / then[1] / (then[2] / then[3])
    p = None
    if g_now is not None and g_then is not None and g_now[1] + g_then[1] > 0:
        z = (g_now[0] - g_then[0]) / math.sqrt(g_now[1] + g_then[1])
        p = float(2 * stats.norm.sf(abs(z)))
    return Lift(lift_now, low, high, lift_then, then_low, then_high, p)


def with_adjusted(lifts: Sequence[Lift | None]) -> list[Lift | None]:
    """The lifts of one family with their p-values adjusted together (Benjamini-Hochberg)."""
    fixed = adjusted([None if x is None else x.p for x in lifts])
    return [
        None if x is None else replace(x, p_adjusted=p) for x, p in zip(lifts, fixed, strict=True)
    ]
