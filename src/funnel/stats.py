"""Honest statistics: Wilson score intervals, lift, sample-size rules, and AUC intervals.

The SQL builders compute intervals inside DuckDB next to the counts; :func:`wilson` is the
same formula in Python, used by doctests and as the reference in tests. :func:`delong` gives
an AUC's 95% interval (and :func:`delong_difference` two rankings' paired difference).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054
#: Below this many leads a segment is marked small and never ranked best or worst.
DEFAULT_MIN_N = 30


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (0, 0 when n is 0).

    >>> [round(x, 4) for x in wilson(842, 8000)]
    [0.0987, 0.1122]
    >>> wilson(0, 0), wilson(0, 7)[0], wilson(10, 10)[1]
    ((0.0, 0.0), 0.0, 1.0)
    """
    if n <= 0:
        return 0.0, 0.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if k <= 0 else max(0.0, centre - half)  # exact at the edges, no rounding dust
    high = 1.0 if k >= n else min(1.0, centre + half)
    return low, high


def wilson_sql(k: str, n: str, z: float = Z95) -> tuple[str, str]:
    """SQL expressions for the Wilson interval of two numeric SQL expressions ``k`` and ``n``.

    ``z`` is a trusted constant (never user input) and is inlined as a literal.
    """
    zz = f"{z * z!r}"
    p = f"(({k})::DOUBLE / NULLIF({n}, 0))"
    centre = f"(({p} + {zz} / (2.0 * ({n}))) / (1 + {zz} / ({n})))"
    half = (
        f"({z!r} * sqrt({p} * (1 - {p}) / ({n}) + {zz} / (4.0 * ({n}) * ({n}))) "
        f"/ (1 + {zz} / ({n})))"
    )
    low = f"CASE WHEN ({n}) <= 0 OR ({k}) <= 0 THEN 0.0 ELSE greatest(0.0, {centre} - {half}) END"
    high = (
        f"CASE WHEN ({n}) <= 0 THEN 0.0 WHEN ({k}) >= ({n}) THEN 1.0 "
        f"ELSE least(1.0, {centre} + {half}) END"
    )
    return low, high


def rate(k: int, n: int) -> float | None:
    """Conversion rate, or None for an empty group.

    >>> rate(1, 4), rate(0, 0)
    (0.25, None)
    """
    return k / n if n else None


# --- AUC with a confidence interval ---------------------------------------------------------------


@dataclass(frozen=True)
class AucInterval:
    """An AUC, its 95% confidence interval and standard error."""

    auc: float
    low: float
    high: float
    se: float

    @property
    def includes_chance(self) -> bool:
        """Whether the interval does not rule out 0.5 (no evidence of any ranking)."""
        return not self.low > 0.5

    def as_dict(self) -> dict[str, float]:
        return {"auc": self.auc, "ci_low": self.low, "ci_high": self.high}


def _placements(
    key: np.ndarray, pos: np.ndarray, neg: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """AUC and each group's DeLong placements, from leads grouped by a ranking key.

    ``pos``/``neg`` count the won and not-won leads holding each key. A won lead's placement is
    the share of not-won leads it outranks (ties count half), a not-won lead's the share of won
    leads that outrank it; their means are the AUC. Returns the placements per distinct key
    with the won and not-won counts there, or None when either side is empty.
    """
    order = np.argsort(key, kind="stable")
    uniq, inverse = np.unique(key[order], return_inverse=True)
    p = np.bincount(inverse, weights=pos[order].astype(float), minlength=len(uniq))
    q = np.bincount(inverse, weights=neg[order].astype(float), minlength=len(uniq))
    m, n = p.sum(), q.sum()
    if m == 0 or n == 0:
        return None
    below_q = np.concatenate(([0.0], np.cumsum(q)[:-1]))
    above_p = m - np.cumsum(p)
    v10 = (below_q + 0.5 * q) / n
    v01 = (above_p + 0.5 * p) / m
    auc = float((p * v10).sum() / m)
    return auc, v10, v01, p, q


def delong(key: np.ndarray, pos: np.ndarray, neg: np.ndarray, z: float = Z95) -> AucInterval | None:
    """AUC of a ranking and its DeLong 95% confidence interval, from grouped counts.

    DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under two or more correlated
    receiver operating characteristic curves: a nonparametric approach", *Biometrics* 44(3):
    837-845. The variance of the Mann-Whitney AUC is estimated from each lead's placement
    (ties count half, so whole-point scores with many ties are handled exactly), with no
    resampling: the interval is deterministic and costs one sort. ``key`` orders the leads
    (higher = ranked better), ``pos``/``neg`` are how many won and not-won leads hold it (one
    lead each, or a score histogram's groups). None when there are no won or no other leads.

    A constant score has AUC 0.5 and no spread of placements: its interval uses the
    Mann-Whitney standard error under the null, so it is never narrower than chance allows.

    >>> ci = delong(np.array([0.0, 1.0]), np.array([10, 30]), np.array([30, 10]))
    >>> round(ci.auc, 4), round(ci.low, 3), round(ci.high, 3)
    (0.75, 0.654, 0.846)
    >>> delong(np.zeros(1), np.array([5]), np.array([9])).includes_chance
    True

    An AUC lies between 0 and 1, and so does its interval (a dozen leads would otherwise
    give "0.50, 95% CI -0.15–1.15"):

    >>> ci = delong(np.zeros(1), np.array([3]), np.array([9]))
    >>> ci.low, ci.high
    (0.0, 1.0)
    """
    found = _placements(np.asarray(key, float), np.asarray(pos), np.asarray(neg))
    if found is None:
        return None
    auc, v10, v01, p, q = found
    m, n = p.sum(), q.sum()
    s10 = float((p * (v10 - auc) ** 2).sum() / (m - 1)) if m > 1 else 0.0
    s01 = float((q * (v01 - auc) ** 2).sum() / (n - 1)) if n > 1 else 0.0
    se = math.sqrt(max(s10 / m + s01 / n, 0.0))
    if se == 0.0:
        se = 0.5 * math.sqrt(1 / m + 1 / n)
    return AucInterval(auc, max(auc - z * se, 0.0), min(auc + z * se, 1.0), se)


def delong_scores(score: np.ndarray, won: np.ndarray, z: float = Z95) -> AucInterval | None:
    """:func:`delong` for one score per lead.

    >>> ci = delong_scores(np.array([3.0, 1.0, 2.0, 0.0]), np.array([True, False, True, False]))
    >>> ci.auc
    1.0
    """
    won = np.asarray(won, bool)
    return delong(np.asarray(score, float), won.astype(int), (~won).astype(int), z)


def delong_difference(
    a: np.ndarray, b: np.ndarray, won: np.ndarray, z: float = Z95
) -> AucInterval | None:
    """AUC(a) − AUC(b) on the same leads, with DeLong's paired 95% interval.

    The two rankings' placements are correlated (the same leads), which DeLong et al. (1988)
    account for with their covariance: far narrower than two separate intervals.

    >>> won = np.array([True, True, False, False, True, False])
    >>> d = delong_difference(np.array([5, 4, 1, 0, 3, 2.0]), np.array([5, 1, 4, 0, 3, 2.0]), won)
    >>> round(d.auc, 4)
    0.3333
    """
    won = np.asarray(won, bool)
    m, n = int(won.sum()), int((~won).sum())
    if m < 2 or n < 2:
        return None
    placed = []
    for score in (np.asarray(a, float), np.asarray(b, float)):
        uniq, inverse = np.unique(score, return_inverse=True)
        found = _placements(uniq, np.bincount(inverse, won), np.bincount(inverse, ~won))
        assert found is not None
        auc, v10, v01, _, _ = found
        placed.append((auc, v10[inverse[won]], v01[inverse[~won]]))
    (a1, x1, y1), (a2, x2, y2) = placed
    var = np.var(x1 - x2, ddof=1) / m + np.var(y1 - y2, ddof=1) / n
    se = math.sqrt(max(float(var), 0.0))
    d = a1 - a2
    return AucInterval(d, max(d - z * se, -1.0), min(d + z * se, 1.0), se)  # a difference of AUCs


def near_thirds(counts: Sequence[int]) -> list[int]:
    """Cut a histogram (counts per distinct value, best value first) into at most three bands
    of whole values, as near to a third of the total each as ties allow; return each band's
    number of values, best band first.

    Values that tie are never split, so a score with two values gives two bands and one with
    a single value one; with three or more values every band holds at least one.

    >>> near_thirds([300, 700])  # two distinct scores: two bands, not "all in the top third"
    [1, 1]
    >>> near_thirds([10, 10, 10, 10, 10, 10])
    [2, 2, 2]
    >>> near_thirds([5, 90, 3, 1, 1])  # one value holds most leads: it is a band of its own
    [1, 1, 3]
    """
    k = len(counts)
    if k <= 3:
        return [1] * k
    total = sum(counts)
    third = total / 3
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)
    best: tuple[float, int, int] | None = None
    for i in range(1, k - 1):  # band 1 takes values [0, i)
        # band 2 takes [i, j): for a fixed band 1 the cost is least where bands 2 and 3 split
        # what is left evenly, so try the two ends either side of that
        start = bisect.bisect_left(prefix, (prefix[i] + total) / 2, i + 1, k)
        for j in {max(i + 1, min(k - 1, x)) for x in (start - 1, start)}:
            sizes = (prefix[i], prefix[j] - prefix[i], total - prefix[j])
            cost = sum((s - third) ** 2 for s in sizes)
            if best is None or cost < best[0]:
                best = (cost, i, j)
    assert best is not None
    _, i, j = best
    return [i, j - i, k - j]
