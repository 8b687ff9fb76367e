"""The review's judgements on generated histories where the truth is known: a tier is judged by
its lift over the base rate of its own period (a base rate that rises for every lead flags no
tier), a lower tier converting better than a higher one is a point only beyond chance (else a
plain note), and one segment's hot leads rejected far more than the others' is a point only
when the data supports it."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from funnel.feedback import load_feedback
from funnel.ingest import load_files
from funnel.population import Counted
from funnel.readers import SourceFile
from funnel.review import agenda, review
from funnel.review.engine import Review
from funnel.review.evidence import compare_lifts, log_lift
from funnel.rules import CategoryRule, CountRule, RuleSet, Tier
from funnel.store import Store
from funnel.versions.history import save_version
from funnel.versions.signoff import propose, sign
from tests.support import rule_points

RULES = RuleSet(
    name="hot",
    rules=(
        CategoryRule("budget", "Yes", 20),
        CategoryRule("decision_maker", "Yes", 15),
        CountRule("trial_signups", 1, 10),
    ),
    tiers=(Tier("hot", 35), Tier("warm", 15), Tier("cold", -math.inf)),
)
EFFECTIVE = date(2025, 12, 1)
SOURCES = ["Web form", "Ads", "Seminar", "Referral"]


def tiers_of(f: pd.DataFrame) -> pd.Series:
    score = sum(rule_points(r, f) for r in RULES.rules)
    return pd.Series(
        np.where(score >= 35, "hot", np.where(score >= 15, "warm", "cold")), index=f.index
    )


def history(
    before: dict[str, float], after: dict[str, float], n: int = 16_000, seed: int = 3
) -> pd.DataFrame:
    """Leads over 500 days, every outcome decided; each tier converts at ``before[tier]``
    before :data:`EFFECTIVE` and at ``after[tier]`` from it."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D")
    f = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": created,
            "source": rng.choice(SOURCES, n),
            "budget": rng.choice(["Yes", "No"], n),
            "decision_maker": rng.choice(["Yes", "No"], n),
            "trial_signups": rng.integers(0, 4, n),
        }
    )
    tier = tiers_of(f)
    late = f["created_at"] >= pd.Timestamp(EFFECTIVE)
    p = np.where(late, tier.map(after), tier.map(before)).astype(float)
    f["outcome"] = np.where(rng.random(n) < p, "Won", "Lost")
    return f


def agreed_review(tmp_path: Path, frame: pd.DataFrame, feedback: pd.DataFrame | None = None):
    with Store(tmp_path / "x.duckdb") as store:
        load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        info = store.require("crm")
        v = save_version(store, info, RULES, author="Aiko", effective_from=EFFECTIVE)
        propose(store, v.version_id, "Aiko")
        sign(store, v.version_id, "marketing", "Aiko")
        sign(store, v.version_id, "sales", "Ben")
        if feedback is not None:
            load_feedback(store, "crm", SourceFile("sales.csv", feedback, "csv"))
        return review(store, "crm", segment="source")


def kinds(r: Review) -> list[str]:
    return [p.kind for p in agenda(r)]


# --- lift -------------------------------------------------------------------------------------


def test_the_log_lift_and_its_variance_match_a_simulation() -> None:
    """The delta method's variance against the spread of simulated lifts."""
    rng = np.random.default_rng(1)
    n, rest, p_t, p_r = 400, 3600, 0.25, 0.08
    k = rng.binomial(n, p_t, 20_000)
    k_rest = rng.binomial(rest, p_r, 20_000)
    sims = np.log((k / n) / ((k + k_rest) / (n + rest)))
    g = log_lift(int(p_t * n), n, int(p_t * n + p_r * rest), n + rest)
    assert g is not None
    assert g[0] == pytest.approx(math.log(0.25 / ((100 + 288) / 4000)))
    assert g[1] == pytest.approx(sims.var(), rel=0.05)


def test_a_rising_base_rate_with_the_ranking_kept_flags_no_tier(tmp_path: Path) -> None:
    before = {"hot": 0.20, "warm": 0.08, "cold": 0.03}
    after = {k: 1.6 * v for k, v in before.items()}  # every lead converts better, alike
    frame = history(before, after)
    r = agreed_review(tmp_path, frame)

    new = frame[frame["created_at"] >= pd.Timestamp(EFFECTIVE)]
    old = frame[frame["created_at"] < pd.Timestamp(EFFECTIVE)]
    won_new, won_old = new["outcome"].eq("Won"), old["outcome"].eq("Won")
    assert (r.base.k_now, r.base.n_now) == (won_new.sum(), len(new))
    assert (r.base.k_then, r.base.n_then) == (won_old.sum(), len(old))
    assert r.base.real and r.base.now > r.base.then
    # each tier's lift, by hand: its rate over the base rate of its own period
    for x in r.tiers:
        mine_new, mine_old = tiers_of(new) == x.name, tiers_of(old) == x.name
        lift_now = won_new[mine_new].mean() / won_new.mean()
        lift_then = won_old[mine_old].mean() / won_old.mean()
        assert x.comparison is not None
        assert (x.comparison.now, x.comparison.then) == pytest.approx((lift_now, lift_then))
        assert not x.comparison.real
        # the rate alone did rise beyond chance: the old judgement flagged every tier
        assert stats.fisher_exact(
            [
                [won_new[mine_new].sum(), (~won_new[mine_new]).sum()],
                [won_old[mine_old].sum(), (~won_old[mine_old]).sum()],
            ]
        ).pvalue < (0.05 if x.name != "cold" else 1.0)
    assert "base_up" in kinds(r)
    assert not [k for k in kinds(r) if k.startswith("lift_") or k == "tier_order"]
    said = next(p for p in agenda(r) if p.kind == "base_up")
    hot = r.hot.comparison
    assert hot is not None
    assert said.sentence("en").startswith(
        f"All new leads converted better since 2025-12-01: base rate "
        f"{said.params['then']} → {said.params['now']}"
    )
    assert f"hot's lift is {hot.now:.1f}× against {hot.then:.1f}× promised" in said.sentence("en")
    assert "ベースレート" in said.sentence("ja") and "{" not in said.sentence("ja")


def test_a_broken_ranking_is_a_lift_point_and_a_tier_order_point(tmp_path: Path) -> None:
    before = {"hot": 0.20, "warm": 0.08, "cold": 0.03}
    after = {"hot": 0.08, "warm": 0.16, "cold": 0.03}
    r = agreed_review(tmp_path, history(before, after))
    points = {p.kind: p for p in agenda(r)}
    hot = r.hot.comparison
    assert hot is not None and hot.real and hot.now < hot.then
    assert points["lift_below"].params["tier"] == "hot"
    order = r.order[0]
    assert (order.higher.name, order.lower.name) == ("hot", "warm")
    assert order.real
    expected = stats.fisher_exact(
        [
            [r.hot.won, r.hot.counted - r.hot.won],
            [r.tiers[1].won, r.tiers[1].counted - r.tiers[1].won],
        ]
    ).pvalue
    assert order.p == pytest.approx(expected)
    text = points["tier_order"].sentence("en")
    assert text.startswith("warm leads converted better than hot leads since 2025-12-01: ")
    assert f"{r.tiers[1].counted:,} leads" in text
    assert "Fisher" in points["tier_order"].sentence("ja")
    assert not [k for k, _ in r.notes if k == "review.note.order_unclear"]


def test_a_lower_tier_a_little_ahead_is_a_note_that_the_data_cannot_tell(tmp_path: Path) -> None:
    before = {"hot": 0.15, "warm": 0.08, "cold": 0.03}
    after = {"hot": 0.15, "warm": 0.16, "cold": 0.03}
    r = agreed_review(tmp_path, history(before, after, n=6000, seed=8))
    order = r.order[0]
    assert order.inverted and not order.real, "16% against 15% on a few hundred leads"
    assert "tier_order" not in kinds(r)
    note = dict(r.notes)["review.note.order_unclear"]
    assert (note["lower"], note["higher"]) == ("warm", "hot")
    text = next(x["text"] for x in r.as_dict()["notes"] if x["key"].endswith("order_unclear"))
    assert "the data cannot tell which of the two converts better" in text


def test_the_lift_test_is_a_z_test_of_the_log_lifts() -> None:
    now, then = (60, 300, 400, 4000), (90, 300, 400, 4000)
    c = compare_lifts(now, then)
    a, b = log_lift(*now), log_lift(*then)
    assert a is not None and b is not None
    z = (a[0] - b[0]) / math.sqrt(a[1] + b[1])
    assert c.p == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert c.low is not None and c.high is not None and c.low < c.now < c.high


# --- maturity sentence ------------------------------------------------------------------------


def test_the_measured_sentence_names_maturing_leads_only_when_there_are_some(
    tmp_path: Path,
) -> None:
    frame = history(
        {"hot": 0.2, "warm": 0.1, "cold": 0.05}, {"hot": 0.2, "warm": 0.1, "cold": 0.05}
    )
    r = agreed_review(tmp_path, frame)
    r = replace(r, aged=True, population=replace(r.population, mature_before=date(2026, 5, 1)))
    none_out = replace(r, counted=Counted(r.leads, r.leads))
    some_out = replace(r, counted=Counted(r.leads, r.leads - 7))
    for lang in ("en", "ja"):
        assert "7" in some_out.measured_on(lang)
        assert none_out.measured_on(lang) != some_out.measured_on(lang)
    assert "newer leads" not in none_out.measured_on("en")
    assert "the 7 newer leads are still maturing" in some_out.measured_on("en")
    assert "成熟中" not in none_out.measured_on("ja")


# --- acceptance by segment --------------------------------------------------------------------


def sales(frame: pd.DataFrame, reject: dict[str, float], seed: int = 4) -> pd.DataFrame:
    """Verdicts on every lead since the effective date: rejected with ``reject[source]``."""
    rng = np.random.default_rng(seed)
    new = frame[frame["created_at"] >= pd.Timestamp(EFFECTIVE)]
    rejected = rng.random(len(new)) < new["source"].map(reject).to_numpy()
    return pd.DataFrame(
        {
            "Lead ID": new["lead_id"].to_numpy(),
            "Status": np.where(rejected, "Rejected", "Accepted"),
            "Rejection reason": np.where(rejected, "Not a fit", None),
        }
    )


def test_one_segment_rejected_far_more_is_a_point_with_its_test(tmp_path: Path) -> None:
    frame = history(
        {"hot": 0.2, "warm": 0.1, "cold": 0.05}, {"hot": 0.2, "warm": 0.1, "cold": 0.05}
    )
    reject = {"Web form": 0.2, "Ads": 0.6, "Seminar": 0.2, "Referral": 0.2}
    r = agreed_review(tmp_path, frame, sales(frame, reject))
    fb = r.feedback
    assert fb is not None and fb.segment == "source"
    # by hand: the hot leads of each source against the other hot leads
    new = frame[frame["created_at"] >= pd.Timestamp(EFFECTIVE)]
    verdict = sales(frame, reject).set_index("Lead ID")["Status"]
    hot = new[tiers_of(new) == "hot"].assign(status=lambda d: d["lead_id"].map(verdict))
    p = {}
    for value in SOURCES:
        mine = hot["source"] == value
        table = [
            [
                (hot.loc[mine, "status"] == "Accepted").sum(),
                (hot.loc[mine, "status"] == "Rejected").sum(),
            ],
            [
                (hot.loc[~mine, "status"] == "Accepted").sum(),
                (hot.loc[~mine, "status"] == "Rejected").sum(),
            ],
        ]
        p[value] = stats.fisher_exact(table).pvalue
    found = {s.value: s for s in fb.hot_segments}
    assert set(found) == set(SOURCES)
    for value in SOURCES:
        assert found[value].p == pytest.approx(p[value])
    adjusted = stats.false_discovery_control([p[v] for v in SOURCES], method="bh")
    for value, padj in zip(SOURCES, adjusted, strict=True):
        assert found[value].p_adjusted == pytest.approx(padj)
    points = [pt for pt in agenda(r) if pt.kind == "segment_rejected"]
    assert [pt.params["value"] for pt in points] == ["Ads"]
    text = points[0].sentence("en")
    ads = found["Ads"]
    assert text.startswith(
        f"Sales rejected {points[0].params['rate']} of the hot leads with source = 'Ads' "
        f"({ads.rejected:,} of {ads.decided:,} verdicts)"
    )
    assert "Fisher" in points[0].sentence("ja") and "「Ads」" in points[0].sentence("ja")


def test_segments_rejected_alike_raise_no_segment_point(tmp_path: Path) -> None:
    frame = history(
        {"hot": 0.2, "warm": 0.1, "cold": 0.05}, {"hot": 0.2, "warm": 0.1, "cold": 0.05}
    )
    reject = dict.fromkeys(SOURCES, 0.3)
    r = agreed_review(tmp_path, frame, sales(frame, reject))
    assert r.feedback is not None and r.feedback.hot_segments
    assert "segment_rejected" not in kinds(r)
