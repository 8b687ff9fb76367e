"""The rows a big file's mapping proposal reads: drawn at random in time that depends on the
sample's size only, never the file's, and seeded so that the same file gets the same proposal.

Only the *proposal* reads a sample (column kinds and roles from the file's first rows, leak
checks from rows drawn here); loading still cleans and validates every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from funnel.i18n import t

#: A file of at most this many rows is read whole by the proposal; a bigger one has its
#: column kinds and roles judged on its first rows, and its leak checks on rows drawn here.
PROPOSAL_ROWS = 50_000
#: Rows whose outcome is read to choose a big file's leak-check rows (a uniform draw).
LEAK_POOL_ROWS = 200_000
#: Of those, at most this many rows of each outcome (won, lost, open, unknown) are checked:
#: a rare outcome keeps every one of its rows in the pool, a common one a random share.
LEAK_CLASS_ROWS = 10_000


def draw_rows(n: int, k: int, seed: int = 0) -> np.ndarray:
    """``k`` distinct row numbers of ``n``, sorted, uniformly drawn; all ``n`` if ``k >= n``.

    The cost grows with ``k`` only: positions are drawn as random integers (the few repeats
    replaced), not by shuffling every row number as ``RandomState.choice`` does.

    >>> draw_rows(5, 10).tolist()
    [0, 1, 2, 3, 4]
    >>> rows = draw_rows(10**9, 1000, seed=1)
    >>> len(rows), bool((np.diff(rows) > 0).all()), bool((rows == draw_rows(10**9, 1000, 1)).all())
    (1000, True, True)
    """
    if k >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if n <= 4 * k:  # dense: shuffling at most 4k row numbers is cheap
        return np.sort(rng.choice(n, k, replace=False))
    picked = _distinct(rng.integers(0, n, k + k // 4 + 16))  # repeats: about k²/2n <= k/8
    while len(picked) < k:
        picked = _distinct(np.concatenate([picked, rng.integers(0, n, k)]))
    # drop the extra ones at random, not the largest (that would lean towards the file's start)
    return np.delete(picked, rng.choice(len(picked), len(picked) - k, replace=False))


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy's ``unique`` hashes, slower on these)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]]


def take_rows(series: pd.Series, rows: np.ndarray) -> pd.Series:
    """``series.iloc[rows]`` for sorted ``rows``, in time that grows with ``len(rows)`` only.

    An Arrow-backed column in several chunks is taken chunk by chunk: pandas' take joins the
    chunks into one array first, a copy of the whole column.

    >>> s = pd.Series(pd.array(pa.chunked_array([["a", "b"], ["c", None]]), dtype="str"))
    >>> take_rows(s, np.array([1, 2, 3])).tolist()
    ['b', 'c', nan]
    """
    data = getattr(series.array, "_pa_array", None)
    if not isinstance(data, pa.ChunkedArray) or data.num_chunks <= 1:
        return series.iloc[rows]
    bounds = np.cumsum([0] + [len(chunk) for chunk in data.chunks])
    cuts = np.searchsorted(rows, bounds)
    pieces = [
        data.chunk(i).take(pa.array(rows[cuts[i] : cuts[i + 1]] - bounds[i]))
        for i in range(data.num_chunks)
        if cuts[i + 1] > cuts[i]
    ]
    taken = pa.chunked_array(pieces, type=data.type)
    return pd.Series(
        pd.array(taken, dtype=series.dtype), index=series.index[rows], name=series.name
    )


def stratify(
    labels: pd.Series, cap: int = LEAK_CLASS_ROWS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None]:
    """Keep at most ``cap`` rows of each outcome label (a random share of the common ones,
    every row of the rare ones); return the kept positions (sorted) and each kept row's
    weight, how many rows it stands for (None when nothing was capped).

    >>> labels = pd.Series(["won"] * 2 + ["lost"] * 8 + [None] * 2, dtype="str")
    >>> kept, weights = stratify(labels, cap=4)
    >>> labels.iloc[kept].value_counts(dropna=False).to_dict(), sorted(set(weights.tolist()))
    ({'lost': 4, 'won': 2, nan: 2}, [1.0, 2.0])
    """
    codes, _ = pd.factorize(labels, use_na_sentinel=False)  # unknown (NaN) is a class too
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []
    weight_of = np.ones(codes.max() + 1 if len(codes) else 0)
    for label in range(len(weight_of)):
        where = np.flatnonzero(codes == label)
        if len(where) > cap:
            weight_of[label] = len(where) / cap
            where = np.sort(where[rng.choice(len(where), cap, replace=False)])
        kept.append(where)
    positions = np.sort(np.concatenate(kept)) if kept else np.arange(0)
    if (weight_of == 1.0).all():
        return positions, None
    weights = weight_of[codes[positions]]
    return positions, weights


@dataclass(frozen=True)
class ProposalSample:
    """How much of a big file the mapping proposal read (loading reads every row)."""

    rows: int  # the file's
    first_rows: int  # column kinds and roles
    pool: int  # rows whose outcome was read for the leak checks
    per_outcome: int  # at most this many of them of each outcome were checked

    def sentence(self, lang: str = "en") -> str:
        """The proposal's sample, in the reader's words.

        >>> print(proposal_sample(1_000_000).sentence())  # doctest: +NORMALIZE_WHITESPACE
        Proposed from a sample of this file's 1,000,000 rows: column kinds and roles from its
        first 50,000 rows, leak checks on up to 10,000 rows of each outcome drawn at random
        from 200,000. Loading still validates every row.
        """
        return t(
            "sample.proposal",
            lang,
            rows=f"{self.rows:,}",
            sample=f"{self.first_rows:,}",
            pool=f"{self.pool:,}",
            per_outcome=f"{self.per_outcome:,}",
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON record (``funnel load --json``'s ``proposal_sample``)."""
        return {
            "rows": self.rows,
            "first_rows": self.first_rows,
            "leak_pool_rows": self.pool,
            "leak_rows_per_outcome": self.per_outcome,
        }


def proposal_sample(rows: int) -> ProposalSample | None:
    """What the proposal reads of a leads file of ``rows`` rows; None when it reads it whole.

    >>> proposal_sample(50_000) is None, proposal_sample(60_000).pool
    (True, 60000)
    """
    if rows <= PROPOSAL_ROWS:
        return None
    return ProposalSample(rows, PROPOSAL_ROWS, min(rows, LEAK_POOL_ROWS), LEAK_CLASS_ROWS)
