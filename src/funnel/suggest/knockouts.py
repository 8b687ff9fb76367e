"""Knock-out gates from the data: a value whose leads never won where many would have.

Points cannot say "never": an L2 fit shrinks a value whose leads all lost towards the others,
and the merge into 25 rules weighs it by its Fisher information Σ p(1 − p), which is smallest
exactly where the fit is surest that nobody wins. On the demo, ``email_type = Competitor`` (0
of 177 training leads won, 9.7 expected at the base rate) got no rule at all. Such a value is
what the rule set's knock-out gates are for: a lead holding it is never hot.

A value of a category (or code) column becomes a gate when none of its training leads won, it
holds at least ``MIN_LEADS`` of them, and winning none is implausible at the training base rate
— the chance (1 − base)^n is below ``ALPHA`` divided by the number of values tested (Bonferroni)
— so a value that is merely small or unlucky is left to the points. Chosen on the training
leads only; the held-out leads say how it did after (every figure labelled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from funnel.i18n import t
from funnel.rules import Gate
from funnel.suggest.columns import ColumnType

ALPHA = 0.01  # family-wise: the chance that any gate is a value merely unlucky in training
MIN_LEADS = 30  # training leads a value holds at least to be judged


@dataclass(frozen=True)
class Knockout:
    """One value made a gate, with the figures that made it one."""

    column: str
    value: str
    train_n: int
    expected: float  # won leads the training base rate would give it
    chance: float  # (1 − base)^n: the chance of no win at the base rate
    holdout_n: int = 0
    holdout_won: int = 0

    def sentence(self, lang: str = "en") -> str:
        return t(
            "suggest.knockout",
            lang,
            column=self.column,
            value=self.value,
            n=f"{self.train_n:,}",
            expected=f"{self.expected:.1f}",
            held_n=f"{self.holdout_n:,}",
            held_won=f"{self.holdout_won:,}",
        )

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "column": self.column,
            "value": self.value,
            "in_sample": {"measured_on": "in_sample", "n": self.train_n, "won": 0},
            "expected_won_at_base_rate": round(self.expected, 2),
            "chance_of_no_win": self.chance,
            "holdout": {"measured_on": "holdout", "n": self.holdout_n, "won": self.holdout_won},
            "sentence": self.sentence(lang),
        }


def _counts(series: pd.Series, y: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"value": series.astype(object).to_numpy(), "won": y})
    frame = frame[frame["value"].notna()]
    return frame.groupby("value", sort=True)["won"].agg(["size", "sum"])


def find_knockouts(
    train: pd.DataFrame,
    y: np.ndarray,
    hold: pd.DataFrame,
    y_hold: np.ndarray,
    types: Mapping[str, ColumnType],
) -> tuple[Knockout, ...]:
    """The values to knock out, column by column in ``types``' order, values sorted.

    >>> from funnel.suggest.columns import ColumnType
    >>> rng = np.random.default_rng(0)
    >>> kind = pd.Series(["a"] * 900 + ["never"] * 100)
    >>> won = np.r_[rng.random(900) < 0.2, np.zeros(100, bool)]
    >>> found = find_knockouts(pd.DataFrame({"k": kind}), won, pd.DataFrame({"k": kind[:5]}),
    ...                        won[:5], {"k": ColumnType("k", "category")})
    >>> [(k.value, k.train_n, k.holdout_n) for k in found]
    [('never', 100, 0)]
    """
    base = float(y.mean()) if len(y) else 0.0
    if base <= 0.0 or base >= 1.0:
        return ()
    judged: list[tuple[str, str, int]] = []
    tested = 0
    for column, kind in types.items():
        if not kind.scored or kind.numeric or column not in train:
            continue
        counts = _counts(train[column], y)
        big = counts[counts["size"] >= MIN_LEADS]
        tested += len(big)
        for value, row in big[big["sum"] == 0].iterrows():
            judged.append((column, str(value), int(row["size"])))
    out = []
    for column, value, n in judged:
        chance = float((1.0 - base) ** n)
        if chance >= ALPHA / max(tested, 1):
            continue
        held = hold[column].astype(object) == value if column in hold else None
        held_n = 0 if held is None else int(held.sum())
        held_won = 0 if held is None else int(y_hold[held.to_numpy(dtype=bool)].sum())
        out.append(Knockout(column, value, n, n * base, chance, held_n, held_won))
    return tuple(out)


def as_gates(found: tuple[Knockout, ...]) -> tuple[Gate, ...]:
    """One gate per column, holding its knocked-out values."""
    columns: dict[str, list[str]] = {}
    for k in found:
        columns.setdefault(k.column, []).append(k.value)
    return tuple(Gate(column, tuple(values)) for column, values in columns.items())
