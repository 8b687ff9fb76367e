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


def test_cells_match_pandas_bands_by_thirds(store: Store) -> None:
    info = load_demo(store, "demo", leads=4000).dataset
    leads = generate_leads(4000, seed=7)
    # like every back-test figure, the leads decided or mature
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
    assert len(leads) < 4000
    fit = np.where(leads["budget"] == "Yes", 10, 0) + np.where(
        leads["industry"] == "IT / Software", 5, 0
    )
    eng = np.minimum(leads["web_visits"], 10) + np.where(leads["inquiries"] >= 1, 8, 0)
    f = pd.Series(fit, dtype=float)
    e = pd.Series(eng, dtype=float)
    fb = np.where(f >= f.quantile(2 / 3), "A", np.where(f >= f.quantile(1 / 3), "B", "C"))
    eb = np.where(e >= e.quantile(2 / 3), "1", np.where(e >= e.quantile(1 / 3), "2", "3"))
    won = (leads["outcome"] == "Won").to_numpy()
    expected = (
        pd.DataFrame({"f": fb, "e": eb, "won": won}).groupby(["f", "e"])["won"].agg(["size", "sum"])
    )

    cells = fit_engagement_matrix(store, info, RULES)

    assert cells is not None
    got = {(c.fit, c.engagement): (c.n, c.won) for c in cells}
    assert got == {k: (int(r["size"]), int(r["sum"])) for k, r in expected.iterrows()}
    assert sum(c.n for c in cells) == len(leads)
    for c in cells:
        assert (c.ci_low, c.ci_high) == pytest.approx(wilson(c.won, c.n))


def test_the_matrix_needs_both_kinds_of_rules(store: Store) -> None:
    info = load_demo(store, "demo", leads=500).dataset
    only_fit = RuleSet(rules=(CategoryRule("budget", "Yes", 10),))
    assert fit_engagement_matrix(store, info, only_fit) is None
