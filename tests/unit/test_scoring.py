"""Scoring a stored dataset: every tuner metric equals an independent pandas/sklearn computation
from the raw demo leads, knocked-out leads are never hot, threshold searches are the brute-force
answers, and filters restrict everything. Conversion figures count the leads a back-test counts
(decided, or open past the time to convert: ``counted``, computed by hand); volumes count all."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from funnel.demo import generate_leads
from funnel.filters import NO_FILTERS, Filters
from funnel.ingest import load_demo, load_files
from funnel.readers import SourceFile
from funnel.renderers import label
from funnel.rules import (
    CategoryRule,
    CountRule,
    Gate,
    PerUnitRule,
    RangeRule,
    RuleSet,
    Tier,
    labelled,
)
from funnel.scoring.compare import disagreement, moved
from funnel.scoring.histogram import (
    evaluate,
    moved_between,
    score_histogram,
    threshold_curve,
    threshold_for_capacity,
    threshold_for_target,
)
from funnel.scoring.leads import explain_lead, score_leads
from funnel.store import DatasetInfo, Store
from tests.support import backtest_counted, rule_points

N = 20_000
HOT, WARM, CAP = 45, 20, 70
MIXED = RuleSet(
    name="mixed",
    rules=(
        CategoryRule("timeline", "Within 3 months", 20),
        CategoryRule("budget", "Yes", 15),  # budget is missing for ~30% of leads
        CategoryRule("job_title", "Student", -25),
        RangeRule("employees", 300, None, 10),
        RangeRule("employees", None, 50, -5),
        PerUnitRule("web_visits", 1, cap=10),
        PerUnitRule("email_opens", -1, cap=5),
        CountRule("inquiries", 1, 15),
        CountRule("trial_signups", 1, 25),
    ),
    gates=(Gate("email_type", ("Competitor", "Free mail")),),
    tiers=(Tier("hot", HOT), Tier("warm", WARM), Tier("cold", -math.inf)),
    score_cap=CAP,
)
#: Rewards the leads least likely to buy: conversion rises from the top decile to the next.
UPSIDE_DOWN = RuleSet(
    name="upside down",
    rules=(
        CategoryRule("job_title", "Student", 40),
        CategoryRule("email_type", "Competitor", 40),
        CategoryRule("industry", "Public sector", 30),
    ),
)


@dataclass(frozen=True)
class Demo:
    store: Store
    info: DatasetInfo
    leads: pd.DataFrame  # the raw generated leads, with `won`


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path = tmp_path_factory.mktemp("scoring") / "funnel.duckdb"
    with Store(path) as store:
        info = load_demo(store, "demo", leads=N).dataset
        leads = generate_leads(N, seed=7)
        leads["won"] = leads["outcome"].eq("Won")
        leads["counted"] = backtest_counted(
            leads["created_at"],
            leads["outcome"],
            leads["closed_date"],
            leads["mql_date"],
            leads["sql_date"],
            leads["opportunity_date"],
        )
        yield Demo(store, info, leads)


# --- an independent scorer ------------------------------------------------------------------------


def mixed_by_hand(f: pd.DataFrame) -> pd.DataFrame:
    """MIXED's score, knock-out and tier, spelled out rule by rule in pandas."""
    score = (
        20 * f["timeline"].eq("Within 3 months").astype(int)
        + 15 * f["budget"].eq("Yes").fillna(False).astype(int)
        - 25 * f["job_title"].eq("Student").astype(int)
        + 10 * (f["employees"] >= 300).astype(int)
        - 5 * (f["employees"] < 50).astype(int)
        + np.minimum(f["web_visits"], 10)
        + np.maximum(-f["email_opens"], -5)
        + 15 * (f["inquiries"] >= 1).astype(int)
        + 25 * (f["trial_signups"] >= 1).astype(int)
    )
    score = np.minimum(score, CAP).astype(float)
    gated = f["email_type"].isin(["Competitor", "Free mail"])
    tier = np.where((score >= HOT) & ~gated, "hot", np.where(score >= WARM, "warm", "cold"))
    return pd.DataFrame(
        {
            "id": f["lead_id"].astype(str),
            "score": score,
            "gated": gated,
            "tier": tier,
            "won": f["won"],
            "created": f["created_at"],
            "counted": f["counted"],
        }
    )


def by_hand(rs: RuleSet, f: pd.DataFrame) -> pd.DataFrame:
    """Any rule set's score, knock-out and hot flag, in pandas."""
    score = sum((rule_points(r, f) for r in rs.rules), pd.Series(0.0, index=f.index))
    if rs.score_cap is not None:
        score = np.minimum(score, rs.score_cap)
    gated = pd.Series(False, index=f.index)
    for g in rs.gates:
        gated |= f[g.column].notna() & f[g.column].astype(str).isin(g.values)
    return pd.DataFrame(
        {
            "id": f["lead_id"].astype(str),
            "score": score.astype(float),
            "gated": gated,
            "hot": (score >= rs.hot.min_score) & ~gated,
            "won": f["won"],
            "created": f["created_at"],
            "counted": f["counted"],
        }
    )


def weeks_of(created: pd.Series) -> float:
    return ((created.max() - created.min()).days + 1) / 7


def effective_key(scored: pd.DataFrame) -> pd.Series:
    """The ranking scoring.auc measures (the same as the deciles): knocked-out leads below
    every open lead, each group ordered by score."""
    span = scored["score"].max() - scored["score"].min() + 1
    return scored["score"].where(~scored["gated"], scored["score"] - span)


def deciles_by_hand(scored: pd.DataFrame, parts: int = 10) -> list[tuple[float, float]]:
    """(leads, won) per decile, best first; knocked-out leads last, tied scores split evenly."""
    groups = (
        scored.groupby(["gated", "score"])["won"]
        .agg(n="size", won="sum")
        .reset_index()
        .sort_values(["gated", "score"], ascending=[True, False])
    )
    start = groups["n"].cumsum() - groups["n"]
    end = start + groups["n"]
    total = len(scored)
    out = []
    for d in range(parts):
        lo, hi = total * d / parts, total * (d + 1) / parts
        overlap = (np.minimum(end, hi) - np.maximum(start, lo)).clip(lower=0)
        out.append((float(overlap.sum()), float((overlap / groups["n"] * groups["won"]).sum())))
    return out


# --- the evaluation -------------------------------------------------------------------------------


def test_the_stored_demo_is_the_generated_demo(demo: Demo) -> None:
    stored = demo.store.fetch_frame(
        f"SELECT lead_id, _funnel_outcome AS outcome FROM {demo.info.table()} ORDER BY lead_id"
    )
    assert stored["lead_id"].tolist() == demo.leads["lead_id"].tolist()
    assert stored["outcome"].eq("won").tolist() == demo.leads["won"].tolist()


def test_the_generic_pandas_scorer_agrees_with_the_rule_by_rule_one(demo: Demo) -> None:
    spelled, generic = mixed_by_hand(demo.leads), by_hand(MIXED, demo.leads)
    pd.testing.assert_series_equal(spelled["score"], generic["score"], check_names=False)
    assert (spelled["tier"].eq("hot") == generic["hot"]).all()
    # the data exercise every branch: caps bind, gates hit high scores, missing budgets
    assert (spelled["score"] == CAP).sum() > 0
    assert (spelled["gated"] & (spelled["score"] >= HOT)).sum() > 10
    assert demo.leads["budget"].isna().sum() > 1000


def test_the_demo_leaves_out_its_recent_open_leads(demo: Demo) -> None:
    counted = demo.leads["counted"]
    assert 0 < (~counted).sum() < demo.leads["outcome"].eq("Open").sum()  # old open ones count
    result = evaluate(score_histogram(demo.store, demo.info, MIXED), MIXED)
    assert (result.leads, result.n) == (N, int(counted.sum()))
    assert result.measured_on() == (
        f"Measured on {int(counted.sum()):,} decided or mature leads; "
        f"{N - int(counted.sum()):,} still open or too recent are left out."
    )
    population = result.as_dict()["population"]
    assert (population["leads"], population["counted"]) == (N, int(counted.sum()))
    assert population["text"] == result.measured_on()


def test_evaluation_tiers_match_pandas_counts_wins_rates_and_wilson_intervals(
    demo: Demo,
) -> None:
    scored = mixed_by_hand(demo.leads)
    scored = scored[scored["counted"]]
    result = evaluate(score_histogram(demo.store, demo.info, MIXED), MIXED)
    assert [t.name for t in result.tiers] == ["hot", "warm", "cold"]
    for stat in result.tiers:
        members = scored[scored["tier"] == stat.name]
        n, won = len(members), int(members["won"].sum())
        assert (stat.n, stat.won) == (n, won)
        assert stat.rate == pytest.approx(won / n, abs=1e-12)
        assert stat.share == pytest.approx(n / len(scored), abs=1e-12)
        ci = binomtest(won, n).proportion_ci(method="wilson")
        assert (stat.ci_low, stat.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert sum(t.n for t in result.tiers) == len(scored)


def test_evaluation_headline_metrics_match_pandas(demo: Demo) -> None:
    every = mixed_by_hand(demo.leads)
    scored = every[every["counted"]]
    hot = scored[scored["tier"] == "hot"]
    total_won = int(scored["won"].sum())
    base = total_won / len(scored)
    precision = hot["won"].mean()
    result = evaluate(score_histogram(demo.store, demo.info, MIXED), MIXED)
    assert (result.n, result.won, result.hot_n) == (len(scored), total_won, len(hot))
    assert result.base_rate == pytest.approx(base, abs=1e-12)
    assert result.precision == pytest.approx(precision, abs=1e-12)
    assert result.recall == pytest.approx(hot["won"].sum() / total_won, abs=1e-12)
    assert result.lift == pytest.approx(precision / base, abs=1e-12)
    assert result.missed_won == total_won - int(hot["won"].sum())
    # a volume: every hot lead, decided or not
    every_hot = int(every["tier"].eq("hot").sum())
    assert every_hot > len(hot)
    assert result.hot_per_week == pytest.approx(every_hot / weeks_of(every["created"]), abs=1e-9)


def test_auc_is_sklearns_on_the_ranking_with_knocked_out_leads_last(demo: Demo) -> None:
    scored = mixed_by_hand(demo.leads)
    scored = scored[scored["counted"]]
    result = evaluate(score_histogram(demo.store, demo.info, MIXED), MIXED)
    expected = roc_auc_score(scored["won"], effective_key(scored))
    assert result.auc == pytest.approx(expected, abs=1e-9)
    # without gates the ranking is the plain score
    plain = RuleSet(rules=MIXED.rules, score_cap=CAP)
    plain_auc = evaluate(score_histogram(demo.store, demo.info, plain), plain).auc
    assert plain_auc == pytest.approx(roc_auc_score(scored["won"], scored["score"]), abs=1e-9)
    assert plain_auc != pytest.approx(expected, abs=1e-4)  # the gate really changed the ranking


def test_auc_is_none_without_wins_or_without_losses(demo: Demo) -> None:
    nobody = Filters(equals=(("email_type", ("Competitor",)),))  # 205 leads, none won
    assert evaluate(score_histogram(demo.store, demo.info, MIXED, nobody), MIXED).auc is None


@pytest.mark.parametrize("rs", [MIXED, UPSIDE_DOWN], ids=["mixed", "upside-down"])
def test_deciles_sum_to_the_totals_and_match_a_pandas_split(demo: Demo, rs: RuleSet) -> None:
    scored = by_hand(rs, demo.leads)
    scored = scored[scored["counted"]]
    result = evaluate(score_histogram(demo.store, demo.info, rs), rs)
    assert [d["decile"] for d in result.deciles] == list(range(1, 11))
    assert sum(d["n"] for d in result.deciles) == pytest.approx(len(scored), abs=1e-6)
    assert sum(d["won"] for d in result.deciles) == pytest.approx(scored["won"].sum(), abs=1e-6)
    expected = deciles_by_hand(scored)
    for got, (n, won) in zip(result.deciles, expected, strict=True):
        assert got["n"] == pytest.approx(n, abs=1e-6)
        assert got["won"] == pytest.approx(won, abs=1e-6)
        assert got["rate"] == pytest.approx(won / n, abs=1e-9)


def test_monotonic_flag_is_false_for_a_rule_set_that_rewards_the_worst_leads(
    demo: Demo,
) -> None:
    scored = by_hand(UPSIDE_DOWN, demo.leads)
    rates = [won / n for n, won in deciles_by_hand(scored[scored["counted"]])]
    assert any(b > a + 1e-9 for a, b in zip(rates, rates[1:], strict=False))
    result = evaluate(score_histogram(demo.store, demo.info, UPSIDE_DOWN), UPSIDE_DOWN)
    assert result.monotonic is False
    assert result.as_dict()["deciles_monotonic"] is False


def test_monotonic_flag_is_true_when_conversion_never_rises_down_the_deciles(demo: Demo) -> None:
    # one strong rule: two score levels, ties split evenly, so rates step down exactly once
    rs = RuleSet(rules=(CountRule("trial_signups", 1, 50),))
    scored = by_hand(rs, demo.leads)
    rates = [won / n for n, won in deciles_by_hand(scored[scored["counted"]])]
    assert all(b <= a + 1e-9 for a, b in zip(rates, rates[1:], strict=False))
    assert evaluate(score_histogram(demo.store, demo.info, rs), rs).monotonic is True


def test_knocked_out_leads_are_never_in_the_first_tier_whatever_their_score(demo: Demo) -> None:
    frame = score_leads(demo.store, demo.info, MIXED)
    assert len(frame) == N
    knocked = frame[frame["knocked_out"]]
    assert (knocked["score"] >= HOT).sum() > 10
    assert not knocked["tier"].eq("hot").any()
    assert knocked.loc[knocked["score"] >= HOT, "tier"].eq("warm").all()
    hist = score_histogram(demo.store, demo.info, MIXED)
    counted = frame["id"].map(demo.leads.set_index("lead_id")["counted"]).astype(bool)
    assert evaluate(hist, MIXED).tiers[0].n == int(
        ((frame["score"] >= HOT) & ~frame["knocked_out"] & counted).sum()
    )


def test_threshold_curve_points_equal_direct_counts(demo: Demo) -> None:
    scored = by_hand(MIXED, demo.leads)
    open_ = scored[~scored["gated"]]
    total_won = scored["won"].sum()
    curve = threshold_curve(score_histogram(demo.store, demo.info, MIXED))
    assert sorted(p["threshold"] for p in curve) == sorted(open_["score"].unique())
    for point in curve:
        every = open_[open_["score"] >= point["threshold"]]
        hot = every[every["counted"]]
        assert (point["volume"], point["hot"]) == (len(every), len(hot))
        assert point["precision"] == pytest.approx(hot["won"].mean(), abs=1e-12)
        assert point["recall"] == pytest.approx(hot["won"].sum() / total_won, abs=1e-12)


def brute_force(scored: pd.DataFrame) -> pd.DataFrame:
    """Hot leads, precision (among the leads a back-test counts) and weekly volume (every hot
    lead) at every candidate threshold."""
    open_ = scored[~scored["gated"]]
    weeks = weeks_of(scored["created"])
    rows = []
    for threshold in sorted(open_["score"].unique()):
        hot = open_[open_["score"] >= threshold]
        counted = hot[hot["counted"]]
        rows.append((threshold, len(counted), counted["won"].mean(), len(hot) / weeks))
    return pd.DataFrame(rows, columns=["threshold", "hot", "precision", "per_week"])


@pytest.mark.parametrize("target", [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.999])
def test_threshold_for_target_is_the_lowest_threshold_reaching_the_precision(
    demo: Demo, target: float
) -> None:
    table = brute_force(by_hand(MIXED, demo.leads))
    ok = table.loc[table["precision"] >= target, "threshold"]
    expected = None if ok.empty else float(ok.min())
    got = threshold_for_target(score_histogram(demo.store, demo.info, MIXED), target)
    assert got == expected


@pytest.mark.parametrize("capacity", [0.5, 3, 10, 25, 60, 150, 10_000])
def test_threshold_for_capacity_is_the_lowest_threshold_whose_weekly_volume_fits(
    demo: Demo, capacity: float
) -> None:
    table = brute_force(by_hand(MIXED, demo.leads))
    fits = table.loc[table["per_week"] <= capacity, "threshold"]
    expected = None if fits.empty else float(fits.min())
    got = threshold_for_capacity(score_histogram(demo.store, demo.info, MIXED), capacity)
    assert got == expected


# --- per lead -------------------------------------------------------------------------------------


def ranked(scored: pd.DataFrame) -> pd.DataFrame:
    return scored.sort_values(["score", "id"], ascending=[False, True])


def test_score_leads_gives_every_lead_the_pandas_score_and_tier(demo: Demo) -> None:
    scored = mixed_by_hand(demo.leads).set_index("id")
    frame = score_leads(demo.store, demo.info, MIXED).set_index("id")
    assert list(frame.columns) == ["score", "tier", "reasons", "knocked_out", "outcome"]
    frame = frame.loc[scored.index]
    assert frame["score"].tolist() == scored["score"].tolist()
    assert frame["tier"].tolist() == scored["tier"].tolist()
    assert frame["knocked_out"].tolist() == scored["gated"].tolist()
    assert frame["outcome"].eq("won").tolist() == scored["won"].tolist()


def test_score_leads_only_hot_returns_exactly_the_hot_leads_best_first(demo: Demo) -> None:
    scored = mixed_by_hand(demo.leads)
    hot = ranked(scored[scored["tier"] == "hot"])
    frame = score_leads(demo.store, demo.info, MIXED, only="hot")
    assert set(frame["id"]) == set(hot["id"])
    assert frame["id"].tolist() == hot["id"].tolist()
    assert frame["tier"].eq("hot").all()
    top = score_leads(demo.store, demo.info, MIXED, only="hot", limit=25)
    assert top["id"].tolist() == hot["id"].head(25).tolist()


def test_score_leads_only_missed_returns_the_won_leads_that_were_not_hot(demo: Demo) -> None:
    scored = mixed_by_hand(demo.leads)
    missed = ranked(scored[scored["won"] & (scored["tier"] != "hot")])
    assert len(missed) > 100
    frame = score_leads(demo.store, demo.info, MIXED, only="missed")
    assert frame["id"].tolist() == missed["id"].tolist()
    assert frame["outcome"].eq("won").all() and not frame["tier"].eq("hot").any()
    top = score_leads(demo.store, demo.info, MIXED, only="missed", limit=7)
    assert top["id"].tolist() == missed["id"].head(7).tolist()


REASON = re.compile(r"^(?P<label>.+) \((?P<points>[+-]\d+)\)$")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_reasons_name_the_rules_with_the_biggest_points_first(demo: Demo, lang: str) -> None:
    labels = {label(r, lang): i for i, r in enumerate(MIXED.rules)}
    per_rule = pd.DataFrame(
        {i: rule_points(r, demo.leads) for i, r in enumerate(MIXED.rules)}
    ).set_index(demo.leads["lead_id"].astype(str))
    frame = score_leads(demo.store, demo.info, MIXED, lang=lang, limit=300)
    assert len(frame) == 300
    for lead, text in zip(frame["id"], frame["reasons"], strict=True):
        points = per_rule.loc[lead]
        nonzero = points[points != 0]
        parts = [REASON.match(p) for p in text.split("; ")] if text else []
        assert all(parts), text
        named = [(labels[m["label"]], int(m["points"])) for m in parts if m]
        assert len(named) == min(3, len(nonzero))
        for index, value in named:
            assert points[index] == value  # each reason quotes its rule's points for this lead
        biggest = sorted(nonzero.abs(), reverse=True)[: len(named)]
        assert [abs(v) for _, v in named] == biggest


def test_explain_lead_points_add_up_to_the_score_and_the_tier_matches(demo: Demo) -> None:
    scored = mixed_by_hand(demo.leads).set_index("id")
    uncapped = by_hand(RuleSet(rules=MIXED.rules), demo.leads).set_index("id")["score"]
    outcomes = demo.leads.set_index("lead_id")["outcome"].str.lower()
    picks = {
        "best": scored["score"].idxmax(),
        "capped": uncapped[uncapped > CAP].index[0],
        "knocked out but high": scored[scored["gated"] & (scored["score"] >= HOT)].index[0],
        "worst": scored["score"].idxmin(),
        "no budget": demo.leads.loc[demo.leads["budget"].isna(), "lead_id"].iloc[0],
    }
    for why, lead in picks.items():
        explained = explain_lead(demo.store, demo.info, MIXED, lead)
        assert explained is not None, why
        total = sum(points for _, points in explained.points)
        assert total == pytest.approx(uncapped[lead]), why
        assert explained.score == pytest.approx(min(total, CAP)), why
        assert explained.score == scored.loc[lead, "score"], why
        assert explained.tier == scored.loc[lead, "tier"], why
        units = demo.info.mapping.labels()  # a rule counting units names them by their label
        said = [labelled(r, units).describe() for r in MIXED.rules]
        assert [s for s, _ in explained.points] == said
        assert bool(explained.gates) == bool(scored.loc[lead, "gated"]), why
        assert explained.outcome == outcomes[lead], why
    gated = explain_lead(demo.store, demo.info, MIXED, picks["knocked out but high"])
    assert gated is not None and gated.tier == "warm"
    assert gated.gates == [MIXED.gates[0].describe()]
    assert explain_lead(demo.store, demo.info, MIXED, "NO-SUCH-LEAD") is None


RIVAL = RuleSet(
    name="rival",
    rules=(
        CountRule("trial_signups", 1, 30),
        CountRule("inquiries", 1, 20),
        PerUnitRule("web_visits", 1, cap=15),
    ),
    gates=(Gate("job_title", ("Student",)),),
    tiers=(Tier("hot", 35), Tier("cold", -math.inf)),
)


@pytest.mark.parametrize(
    "filters",
    [NO_FILTERS, Filters(equals=(("source", ("Ads", "Referral")),))],
    ids=["all", "filtered"],
)
def test_disagreement_counts_equal_a_pandas_crosstab_of_the_two_hot_flags(
    demo: Demo, filters: Filters
) -> None:
    leads = demo.leads
    if filters.active:
        leads = leads[leads["source"].isin(["Ads", "Referral"])]
    a, b = by_hand(MIXED, leads), by_hand(RIVAL, leads)
    cells = pd.DataFrame(
        {"a": a["hot"], "b": b["hot"], "won": a["won"], "id": a["id"], "counted": a["counted"]}
    )
    table = cells.groupby(["a", "b"]).agg(
        n=("won", "size"), won=("won", "sum"), counted=("counted", "sum")
    )
    got = disagreement(demo.store, demo.info, MIXED, RIVAL, filters, examples=50)
    for name, key in {
        "both": (True, True),
        "only_a": (True, False),
        "only_b": (False, True),
        "neither": (False, False),
    }.items():
        n, won, counted = table.loc[key] if key in table.index else (0, 0, 0)
        assert getattr(got, name) == (int(n), int(won), int(counted)), name
        # conversion among the leads a back-test counts, not among every lead
        assert getattr(got, name).rate == (won / counted if counted else None), name
    assert got.counted.left_out == int((~cells["counted"]).sum()) > 0
    assert got.measured_on().endswith("still open or too recent are left out.")
    only_a = sorted(cells.loc[cells["a"] & ~cells["b"], "id"])
    only_b = sorted(cells.loc[~cells["a"] & cells["b"], "id"])
    assert got.examples == {"only_a": only_a[:50], "only_b": only_b[:50]}
    assert min(len(only_a), len(only_b)) > 50


def test_moved_counts_the_leads_entering_and_leaving_the_hot_tier(demo: Demo) -> None:
    after = MIXED.with_threshold("hot", 38).with_points(7, 0).with_points(0, 28)
    before_hot = by_hand(MIXED, demo.leads)["hot"]
    after_hot = by_hand(after, demo.leads)["hot"]
    expected = {
        "entered": int((after_hot & ~before_hot).sum()),
        "left": int((before_hot & ~after_hot).sum()),
    }
    assert min(expected.values()) > 0
    assert moved(demo.store, demo.info, MIXED, after) == expected
    assert moved(demo.store, demo.info, MIXED, MIXED) == {"entered": 0, "left": 0}
    filters = Filters(equals=(("region", ("Kanto",)),))
    kanto = demo.leads["region"].eq("Kanto")
    assert moved(demo.store, demo.info, MIXED, after, filters) == {
        "entered": int((after_hot & ~before_hot & kanto).sum()),
        "left": int((before_hot & ~after_hot & kanto).sum()),
    }


@pytest.mark.parametrize("hot", [36, 38, 60])
def test_a_threshold_move_reads_the_same_moved_leads_from_the_histogram(
    demo: Demo, hot: float
) -> None:
    """Only the thresholds differ: the histogram gives what the leads give (gates included)."""
    after = MIXED.with_threshold("hot", hot)
    hist = score_histogram(demo.store, demo.info, MIXED)
    assert moved_between(hist, MIXED, after) == moved(demo.store, demo.info, MIXED, after)
    assert moved_between(hist, after, MIXED) == moved(demo.store, demo.info, after, MIXED)


# --- filters --------------------------------------------------------------------------------------

FILTERED = Filters(
    date_from=date(2025, 7, 1),
    date_to=date(2026, 3, 31),
    equals=(("source", ("Ads", "Web form", "Referral")),),
)


def filtered_leads(leads: pd.DataFrame) -> pd.DataFrame:
    created = leads["created_at"]
    keep = (created >= "2025-07-01") & (created < "2026-04-01")
    return leads[keep & leads["source"].isin(["Ads", "Web form", "Referral"])]


def test_filters_restrict_every_evaluation_metric(demo: Demo) -> None:
    subset = filtered_leads(demo.leads)
    scored = mixed_by_hand(subset)
    assert 0 < len(scored) < N / 2
    hist = score_histogram(demo.store, demo.info, MIXED, FILTERED)
    result = evaluate(hist, MIXED)
    hot = scored[scored["tier"] == "hot"]
    assert (result.n, result.won, result.hot_n) == (len(scored), scored["won"].sum(), len(hot))
    assert [(t.n, t.won) for t in result.tiers] == [
        (int((scored["tier"] == name).sum()), int(scored.loc[scored["tier"] == name, "won"].sum()))
        for name in ("hot", "warm", "cold")
    ]
    assert result.precision == pytest.approx(hot["won"].mean(), abs=1e-12)
    assert result.hot_per_week == pytest.approx(len(hot) / weeks_of(scored["created"]), abs=1e-9)
    assert hist.weeks == pytest.approx(weeks_of(scored["created"]), abs=1e-12)
    assert result.auc == pytest.approx(
        roc_auc_score(scored["won"], effective_key(scored)), abs=1e-9
    )
    table = brute_force(scored)
    ok = table.loc[table["precision"] >= 0.2, "threshold"]
    assert threshold_for_target(hist, 0.2) == (None if ok.empty else float(ok.min()))
    fits = table.loc[table["per_week"] <= 20, "threshold"]
    assert threshold_for_capacity(hist, 20) == (None if fits.empty else float(fits.min()))


def test_filters_restrict_the_scored_leads(demo: Demo) -> None:
    scored = mixed_by_hand(filtered_leads(demo.leads))
    frame = score_leads(demo.store, demo.info, MIXED, FILTERED)
    assert sorted(frame["id"]) == sorted(scored["id"])
    hot = score_leads(demo.store, demo.info, MIXED, FILTERED, only="hot")
    assert hot["id"].tolist() == ranked(scored[scored["tier"] == "hot"])["id"].tolist()
    missed = score_leads(demo.store, demo.info, MIXED, FILTERED, only="missed", limit=10)
    expected = ranked(scored[scored["won"] & (scored["tier"] != "hot")])
    assert missed["id"].tolist() == expected["id"].head(10).tolist()


def test_a_filter_matching_no_lead_gives_an_empty_evaluation(demo: Demo) -> None:
    nobody = Filters(equals=(("source", ("No such source",)),))
    hist = score_histogram(demo.store, demo.info, MIXED, nobody)
    result = evaluate(hist, MIXED)
    assert (result.n, result.won, result.hot_n) == (0, 0, 0)
    assert result.precision is None and result.base_rate is None and result.auc is None
    assert result.hot_per_week is None and result.deciles == [] and result.curve == []
    assert threshold_for_target(hist, 0.1) is None
    assert threshold_for_capacity(hist, 10) is None
    assert score_leads(demo.store, demo.info, MIXED, nobody).empty


# --- a small stored dataset with awkward values ---------------------------------------------------

AWKWARD = ["https://example.com/a?b=c", "O'Reilly: 株式会社", "'; DROP TABLE x; --", None]


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DatasetInfo]]:
    rows = 80
    frame = pd.DataFrame(
        {
            "lead id": [f"A{i:03d}" for i in range(rows)],
            "created": pd.date_range("2025-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "landing page": [AWKWARD[i % 4] for i in range(rows)],
            "visits": [i % 7 for i in range(rows)],
            "result": ["won" if i % 3 == 0 else "lost" for i in range(rows)],
        }
    )
    path = tmp_path_factory.mktemp("awkward") / "funnel.duckdb"
    with Store(path) as store:
        info = load_files(
            store, "awkward", SourceFile("awkward.csv", frame, "csv"), outcome_column="result"
        ).dataset
        yield store, info


def test_category_points_on_awkward_stored_values_match_by_hand(
    awkward: tuple[Store, DatasetInfo],
) -> None:
    store, info = awkward
    for value in AWKWARD[:3]:
        rs = RuleSet(
            rules=(CategoryRule("landing page", value, 50),),
            tiers=(Tier("hot", 50), Tier("cold", -math.inf)),
        )
        frame = score_leads(store, info, rs, only="hot")
        expected = {f"A{i:03d}" for i in range(80) if AWKWARD[i % 4] == value}
        assert set(frame["id"]) == expected


def test_a_reason_names_the_whole_value_even_when_it_contains_a_colon(
    awkward: tuple[Store, DatasetInfo],
) -> None:
    rs = RuleSet(
        rules=(CategoryRule("landing page", AWKWARD[0], 50), PerUnitRule("visits", 1, 5)),
    )
    frame = score_leads(awkward[0], awkward[1], rs)
    reasons = frame.set_index("id").loc["A000", "reasons"]
    assert reasons.startswith(f"landing page = {AWKWARD[0]} (+50)"), reasons
    japanese = score_leads(awkward[0], awkward[1], RuleSet(rules=(rs.rules[0],)), lang="ja")
    assert AWKWARD[0] in japanese.set_index("id").loc["A000", "reasons"]


def test_scored_leads_have_whole_scores_when_no_points_decay(demo: Demo) -> None:
    """Every reader (the app's missed-deals table, the CLI, the hand-off list) gets 4, not 4.0."""
    frame = score_leads(demo.store, demo.info, MIXED, only="missed", limit=20)
    assert str(frame["score"].dtype) == "int64" and len(frame) == 20
