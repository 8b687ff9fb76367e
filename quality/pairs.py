"""Where a suggestion's gap to gradient boosting lies, and what readable rules would close it.

Points that add up cannot express an interaction between two columns; a two-column rule
("both A and B: +n") could. Before building one, this measures on the suggestion's own split
what such rules would buy, all fitted on the training leads only and judged on the held-out
ones with the paired DeLong interval:

1. For every pair of scored columns, the full grid of the pair (the suggestion's fine bins of
   one × those of the other, one cell per combination, L2 logistic regression with the
   suggestion's score as a fixed offset): the most any rules on that pair could add.
2. For the pair that adds most, the best ``n`` readable rectangles ("month in {may, jun} and
   6 ≤ day < 11"): a regression tree on the two columns (categories ordered by the training
   leads' residual, so each leaf is a set of values × a range), ``n`` + 1 leaves, one left at
   0 points, the others' points fitted the same way.

The answer is printed by ``make quality`` and written into the README: how many readable
rules closing the gap to within 0.01 of boosting would take, or that it cannot be done.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from funnel.stats import AucInterval, delong_difference, delong_scores
from funnel.suggest.columns import ColumnType
from funnel.suggest.engine import SplitFrames
from funnel.suggest.fit import fit_binners

GRID_C = 0.3  # the grid's L2 regularisation (as strong as the suggestion's usual choice)
RULE_COUNTS = (5, 10, 25, 50)  # readable rectangles tried on the pair that adds most
MIN_LEAF = 200  # training leads a rectangle holds at least
SHOWN = 5  # pairs printed


@dataclass(frozen=True)
class PairGain:
    """What one pair of columns adds on the holdout, as a full grid or as ``rules`` rules."""

    columns: tuple[str, str]
    cells: int  # cells of the grid, or rules
    auc: AucInterval | None
    gain: AucInterval | None  # the paired difference from the suggestion alone


def _offset(scores: np.ndarray, y: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, ...]:
    """The suggestion's points as log-odds (one slope and intercept, fitted on training)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6, max_iter=1000).fit(scores[:, None], y)
    return model.decision_function(scores[:, None]), model.decision_function(other[:, None])


def _one_hot(train: np.ndarray, hold: np.ndarray) -> tuple[sparse.csr_matrix, ...]:
    """Cells as one-hot columns (a held-out cell training never saw gets no column)."""
    codes = {c: i for i, c in enumerate(np.unique(train))}

    def matrix(cells: np.ndarray) -> sparse.csr_matrix:
        col = np.array([codes.get(c, -1) for c in cells])
        rows = np.flatnonzero(col >= 0)
        return sparse.csr_matrix(
            (np.ones(len(rows)), (rows, col[rows])), shape=(len(cells), len(codes))
        )

    return matrix(train), matrix(hold)


def _with_cells(
    cells: tuple[np.ndarray, np.ndarray], offset: tuple[np.ndarray, np.ndarray], y: np.ndarray
) -> np.ndarray:
    """Held-out log-odds: the suggestion's offset plus each cell's L2-shrunk points."""
    from sklearn.linear_model import LogisticRegression

    x_train, x_hold = _one_hot(*cells)
    train = sparse.hstack([x_train, sparse.csr_matrix(offset[0][:, None])]).tocsr()
    hold = sparse.hstack([x_hold, sparse.csr_matrix(offset[1][:, None])]).tocsr()
    model = LogisticRegression(C=GRID_C, max_iter=3000).fit(train, y)
    return np.asarray(model.decision_function(hold), dtype=float)


def _ordinal(
    train: np.ndarray, hold: np.ndarray, residual: np.ndarray, numeric: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Fine-bin indices as numbers a tree can cut: numbers keep their order, categories are
    ordered by the training leads' mean residual (so a cut is a set of values)."""
    if numeric:
        return train.astype(float), hold.astype(float)
    means = pd.Series(residual).groupby(train).mean().sort_values()
    rank = {v: float(i) for i, v in enumerate(means.index)}
    return (
        np.array([rank[v] for v in train]),
        np.array([rank.get(v, -1.0) for v in hold]),
    )


def measure(
    frames: SplitFrames, types: Mapping[str, ColumnType]
) -> tuple[list[PairGain], list[PairGain]]:
    """Every pair's full-grid gain (largest first) and, for the first, the gain of the best
    ``n`` rectangles for each ``n`` in :data:`RULE_COUNTS`."""
    from sklearn.tree import DecisionTreeRegressor

    with threadpool_limits(limits=1):
        y, y_hold = frames.y, frames.y_hold
        binners = fit_binners(frames.train, types)
        columns = list(binners)
        idx = {c: b.transform(frames.train[c]) for c, b in binners.items()}
        hold_idx = {c: b.transform(frames.hold[c]) for c, b in binners.items()}
        offset = _offset(frames.train_scores, y, frames.hold_scores)
        alone = offset[1]
        grids: list[PairGain] = []
        for a, b in itertools.combinations(columns, 2):
            cells = (
                idx[a].astype(np.int64) * 100_000 + idx[b],
                hold_idx[a].astype(np.int64) * 100_000 + hold_idx[b],
            )
            score = _with_cells(cells, offset, y)
            grids.append(
                PairGain(
                    (a, b),
                    len(np.unique(cells[0])),
                    delong_scores(score, y_hold),
                    delong_difference(score, alone, y_hold),
                )
            )
        grids.sort(key=lambda g: -(g.gain.auc if g.gain is not None else 0.0))
        rules: list[PairGain] = []
        if grids:
            a, b = grids[0].columns
            residual = y - 1 / (1 + np.exp(-offset[0]))
            pa = _ordinal(idx[a], hold_idx[a], residual, binners[a].numeric)
            pb = _ordinal(idx[b], hold_idx[b], residual, binners[b].numeric)
            x_train = np.column_stack([pa[0], pb[0]])
            x_hold = np.column_stack([pa[1], pb[1]])
            for n in RULE_COUNTS:
                tree = DecisionTreeRegressor(
                    max_leaf_nodes=n + 1, min_samples_leaf=MIN_LEAF, random_state=0
                ).fit(x_train, residual)
                leaves = (tree.apply(x_train), tree.apply(x_hold))
                score = _with_cells(leaves, offset, y)
                rules.append(
                    PairGain(
                        (a, b),
                        len(np.unique(leaves[0])) - 1,
                        delong_scores(score, y_hold),
                        delong_difference(score, alone, y_hold),
                    )
                )
    return grids, rules


def _ci(x: AucInterval | None, signed: bool = False) -> str:
    if x is None:
        return "–"
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(x.auc)} [{f.format(x.low)}, {f.format(x.high)}]"


def lines(
    grids: Sequence[PairGain], rules: Sequence[PairGain], suggestion: float, boosting: float
) -> list[str]:
    """What ``make quality`` prints about the gap: the pairs, the rules, the conclusion."""
    goal = boosting - 0.01
    out = [
        "  where the gap to gradient boosting is (pairs of columns, fitted on the training "
        "leads, on top of the suggestion; holdout AUC, then the gain with its paired interval):"
    ]
    for g in grids[:SHOWN]:
        out.append(
            f"    {g.columns[0]} × {g.columns[1]}, every combination ({g.cells} cells): "
            f"{_ci(g.auc)}, gain {_ci(g.gain, True)}"
        )
    if not rules:
        return out
    a, b = rules[0].columns
    out.append(f"    {a} × {b} as readable rules (a set of values × a range each):")
    for r in rules:
        out.append(f"      {r.cells} rules: {_ci(r.auc)}, gain {_ci(r.gain, True)}")
    enough = [r for r in rules if r.auc is not None and r.auc.auc >= goal]
    if enough:
        need = min(r.cells for r in enough)
        out.append(
            f"    within 0.01 of boosting ({boosting:.3f}) takes {need} more rules on "
            f"{a} × {b}, beside the suggestion's own"
        )
    else:
        best = max((r.auc.auc for r in rules if r.auc is not None), default=suggestion)
        out.append(
            f"    within 0.01 of boosting ({boosting:.3f}) is not reached with up to "
            f"{max(RULE_COUNTS)} more rules on {a} × {b} (best {best:.3f})"
        )
    return out
