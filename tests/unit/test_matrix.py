"""The fit × engagement matrix (A1–C3) against an independent pandas computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.ingest import load_demo
from funnel.rules import CategoryRule, CountRule, PerUnitRule, RuleSet, Tier
from funnel.scoring.matrix import fit_engagement_matrix
from funnel.stats import wilson
from funnel.store import Store
from tests.support import backtest_counted

RULES = RuleSet(
    rules=(
        CategoryRule("budget", "Yes", 10),
        CategoryRule("industry", "IT / Software", 5),
        PerUnitRule("web_visits", 1, 10),
        CountRule("inquiries", 1, 8),
    ),
    tiers=(Tier("hot", 20), Tier("cold", -math.inf)),
)


def counted_leads(n: int) -> pd.DataFrame:
    """The demo's leads a back-test counts (decided or mature), like every back-test figure."""
    leads = generate_leads(n, seed=7)
    leads = leads[
        backtest_counted(
            leads["created_at"],
            leads["outcome"],
            leads["closed_date"],
            leads["mql_date"],
            leads["sql_date"],
            leads["opportunity_date"],
        )
    ].reset_index(drop=True)
    assert len(leads) < n
    return leads


def demo_scores() -> tuple[pd.Series, pd.Series, np.ndarray]:
    leads = counted_leads(4000)
    fit = np.where(leads["budget"] == "Yes", 10, 0) + np.where(
        leads["industry"] == "IT / Software", 5, 0
    )
    eng = np.minimum(leads["web_visits"], 10) + np.where(leads["inquiries"] >= 1, 8, 0)
    won = (leads["outcome"] == "Won").to_numpy()
    return pd.Series(fit, dtype=float), pd.Series(eng, dtype=float), won


def best_cut(points: pd.Series) -> list[float]:
    """By brute force: the lowest points of bands A and B (or 1 and 2) that make the three
    bands nearest to thirds, ties never split."""
    values = sorted(points.unique(), reverse=True)
    third = len(points) / 3
    best: tuple[float, list[float]] | None = None
    for i in range(1, len(values) - 1):
        for j in range(i + 1, len(values)):
            a, b = values[i - 1], values[j - 1]
            sizes = [(points >= a).sum(), ((points < a) & (points >= b)).sum(), (points < b).sum()]
            cost = sum((s - third) ** 2 for s in sizes)
            if best is None or cost < best[0]:
                best = (cost, [a, b])
    assert best is not None
    return best[1]


def test_cells_match_pandas_bands_cut_nearest_to_thirds_without_splitting_ties(
    store: Store,
) -> None:
    info = load_demo(store, "demo", leads=4000).dataset
    f, e, won = demo_scores()
    fa, fb = best_cut(f)
    ea, eb = best_cut(e)
    fit_band = np.where(f >= fa, "A", np.where(f >= fb, "B", "C"))
    eng_band = np.where(e >= ea, "1", np.where(e >= eb, "2", "3"))
    expected = (
        pd.DataFrame({"f": fit_band, "e": eng_band, "won": won})
        .groupby(["f", "e"])["won"]
        .agg(["size", "sum"])
    )

    matrix = fit_engagement_matrix(store, info, RULES)

    assert matrix is not None
    got = {(c.fit, c.engagement): (c.n, c.won) for c in matrix.cells}
    assert got == {k: (int(r["size"]), int(r["sum"])) for k, r in expected.iterrows()}
    assert sum(c.n for c in matrix.cells) == len(f)
    for c in matrix.cells:
        assert (c.ci_low, c.ci_high) == pytest.approx(wilson(c.won, c.n))
    # the bands say where they were cut, for the caption
    assert [(b.name, b.low, b.high) for b in matrix.fit] == [
        ("A", fa, f.max()),
        ("B", fb, max(v for v in f if v < fa)),
        ("C", f.min(), max(v for v in f if v < fb)),
    ]
    assert [b.n for b in matrix.fit] == [int((fit_band == x).sum()) for x in "ABC"]


def test_a_fit_score_with_two_values_gives_two_bands_not_one(store: Store) -> None:
    """Only "budget = Yes" scores fit: 0 or 10 points. Cut at quantiles every lead was A."""
    info = load_demo(store, "demo", leads=3000).dataset
    leads = counted_leads(3000)
    yes = leads["budget"] == "Yes"
    assert 0 < yes.mean() < 1 / 3  # the 2/3 quantile is 0: "A = top third" held everyone
    rules = RuleSet(
        rules=(CategoryRule("budget", "Yes", 10), PerUnitRule("web_visits", 1, 10)),
        tiers=(Tier("hot", 10), Tier("cold", -math.inf)),
    )

    matrix = fit_engagement_matrix(store, info, rules)

    assert matrix is not None
    assert [(b.name, b.low, b.high, b.n) for b in matrix.fit] == [
        ("A", 10, 10, int(yes.sum())),
        ("B", 0, 0, int((~yes).sum())),
    ]
    assert {c.fit for c in matrix.cells} == {"A", "B"}
    won = leads["outcome"] == "Won"
    a = [c for c in matrix.cells if c.fit == "A"]
    assert sum(c.n for c in a) == int(yes.sum()) and sum(c.won for c in a) == int((won & yes).sum())


def test_the_matrix_needs_both_kinds_of_rules(store: Store) -> None:
    info = load_demo(store, "demo", leads=500).dataset
    only_fit = RuleSet(rules=(CategoryRule("budget", "Yes", 10),))
    assert fit_engagement_matrix(store, info, only_fit) is None
