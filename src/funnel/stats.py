"""Honest statistics: Wilson score intervals, lift, and sample-size rules.

The SQL builders compute intervals inside DuckDB next to the counts; :func:`wilson` is the
same formula in Python, used by doctests and as the reference in tests.
"""

from __future__ import annotations

import math

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
