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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: The false discovery rate a family of comparisons is held to.
ALPHA = 0.05
#: A share must move by at least this fraction of itself to be flagged.
MIN_RELATIVE = 0.2
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
