"""``make quality``'s gap analysis finds the pair of columns whose interaction the suggestion's
points miss, measures it on leads it was not fitted on, and says how many readable rules
closing it would take — or that they would not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.suggest.columns import type_column
from funnel.suggest.engine import SplitFrames
from quality.pairs import PairGain, lines, measure


def frames(n: int = 6000, seed: int = 3) -> SplitFrames:
    """Two columns acting only together (an early month with a late day, or a late month with
    an early day: neither alone says anything) and one acting alone; the suggestion's score is
    the additive part."""
    rng = np.random.default_rng(seed)
    month = rng.choice(["jan", "feb", "mar", "apr"], n)
    day = rng.integers(1, 29, n)
    visits = rng.poisson(2, n)
    both = np.isin(month, ["jan", "feb"]) ^ (day > 14)
    additive = 0.4 * visits
    p = 1 / (1 + np.exp(-(-2.5 + additive + 1.5 * both)))
    won = rng.random(n) < p
    frame = pd.DataFrame({"month": month, "day": day, "visits": visits})
    cut = n * 3 // 4
    return SplitFrames(
        frame.iloc[:cut].reset_index(drop=True),
        won[:cut],
        frame.iloc[cut:].reset_index(drop=True),
        won[cut:],
        np.round(additive[:cut] * 10),
        np.round(additive[cut:] * 10),
    )


def test_the_pair_acting_together_comes_first_with_its_gain_on_the_holdout() -> None:
    f = frames()
    types = {c: type_column(c, f.train[c]) for c in f.train.columns}
    grids, rules = measure(f, types)
    assert len(grids) == 3  # every pair of the three columns
    first = grids[0]
    assert set(first.columns) == {"month", "day"}
    assert first.gain is not None and first.gain.low > 0.02  # beyond the noise
    others = [g.gain.auc for g in grids[1:] if g.gain is not None]
    assert max(others) < first.gain.auc / 4
    assert [r.columns for r in rules] == [first.columns] * len(rules)
    best = max(r.gain.auc for r in rules if r.gain is not None)
    assert best > first.gain.auc / 2  # a few rectangles say most of it
    assert all(r.cells <= n for r, n in zip(rules, (5, 10, 25, 50), strict=True))


def _gain(columns: tuple[str, str], cells: int, auc: float, gain: float) -> PairGain:
    from funnel.stats import AucInterval

    return PairGain(
        columns, cells, AucInterval(auc, auc - 0.01, auc + 0.01, 0.005),
        AucInterval(gain, gain - 0.004, gain + 0.004, 0.002),
    )  # fmt: skip


def test_it_says_how_many_rules_reach_boosting_or_that_none_do() -> None:
    grids = [_gain(("day", "month"), 205, 0.786, 0.018)]
    short = [_gain(("day", "month"), n, 0.77 + n / 5000, n / 5000) for n in (5, 10, 25, 50)]
    said = lines(grids, short, 0.769, 0.795)
    assert (
        "    day × month, every combination (205 cells): 0.786 [0.776, 0.796], gain "
        in (said[1][: said[1].index("gain ") + 5])
    )
    assert said[-1] == (
        "    within 0.01 of boosting (0.795) is not reached with up to 50 more rules on "
        "day × month (best 0.780)"
    )
    enough = [_gain(("day", "month"), n, 0.77 + n / 1000, n / 1000) for n in (5, 10, 25, 50)]
    assert lines(grids, enough, 0.769, 0.795)[-1] == (
        "    within 0.01 of boosting (0.795) takes 25 more rules on day × month, beside the "
        "suggestion's own"
    )
