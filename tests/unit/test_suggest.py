"""Suggesting a rule set from the demo data: only lead features, at most 25 readable rules of
whole points, fitted on the leads a back-test counts (decided or mature) before the latest
quarter and judged on that quarter —
AUC and its DeLong interval checked against sklearn and a pandas scoring of the raw leads —, a
hot threshold chosen on the holdout whose Wilson lower bound reaches the target, determinism,
and the plain refusals."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from funnel.demo import BEHAVIOURS, generate_leads
from funnel.filters import Filters
from funnel.i18n import t
from funnel.ingest import load_demo, load_files
from funnel.readers import SourceFile
from funnel.rules import RuleSet, ruleset_from_text, ruleset_to_yaml
from funnel.scoring.histogram import ScoreHistogram, evaluate, score_histogram
from funnel.stats import delong_scores, wilson
from funnel.store import DatasetInfo, Store
from funnel.suggest import SuggestError, Suggestion, _lead_quantile, suggest_rules, template_for
from tests.support import backtest_counted, rule_points

N = 20_000
NOT_FEATURES = {
    "lead_id",
    "created_at",
    "mql_date",
    "sql_date",
    "opportunity_date",
    "closed_date",
    "outcome",
    "amount",
    "lost_reason",  # known only after the sale: flagged as a leak
}
FEATURES = {
    "source",
    "industry",
    "company_size",
    "employees",
    "region",
    "job_title",
    "email_type",
    "budget",
    "decision_maker",
    "timeline",
    *BEHAVIOURS,
}


@dataclass(frozen=True)
class Demo:
    store: Store
    info: DatasetInfo
    leads: pd.DataFrame  # the generated leads, with ``won`` and ``counted``
    suggestion: Suggestion  # default settings, seed 7, the simple template as baseline


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path = tmp_path_factory.mktemp("suggest") / "funnel.duckdb"
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
        suggestion = suggest_rules(store, info, baseline=template_for(info))
        yield Demo(store, info, leads, suggestion)


def score_by_hand(rs: RuleSet, f: pd.DataFrame) -> pd.Series:
    assert not rs.gates
    score = sum((rule_points(r, f) for r in rs.rules), pd.Series(0.0, index=f.index))
    return score if rs.score_cap is None else np.minimum(score, rs.score_cap)


def holdout_of(leads: pd.DataFrame) -> pd.DataFrame:
    """The counted leads created on or after the 75% quantile of their creation dates."""
    counted = leads[leads["counted"]]
    start = counted["created_at"].quantile(0.75, interpolation="lower")
    return counted[counted["created_at"] >= start]


def test_suggested_rules_use_only_lead_features_never_leaks_ids_or_dates(demo: Demo) -> None:
    rs = demo.suggestion.ruleset
    used = {r.column for r in rs.rules}
    assert used and used <= FEATURES
    assert not used & NOT_FEATURES
    assert not rs.gates
    assert {"lost_reason"} == {s.name for s in demo.info.mapping.leads if s.leak}
    left_out = {x.column: x.why for x in demo.suggestion.left_out}
    assert left_out["lost_reason"] == "leak" and left_out["lead_id"] == "role"


def test_at_most_25_readable_rules_of_whole_points_up_to_30(demo: Demo) -> None:
    rules = demo.suggestion.ruleset.rules
    assert 5 <= len(rules) <= 25
    assert all(isinstance(r.points, int) and r.points != 0 for r in rules)
    assert max(abs(r.points) for r in rules) == 30
    assert {r.kind for r in rules} <= {"category", "in", "range", "compare"}
    small = suggest_rules(demo.store, demo.info, max_points=8)
    assert max(abs(r.points) for r in small.ruleset.rules) == 8


def test_numbers_mostly_zero_are_scored_as_zero_or_above_and_counts_readably(demo: Demo) -> None:
    sentences = demo.suggestion.ruleset.describe()
    trial = [s for s in sentences if s.startswith("trial_signups")]
    # 91% of leads never start a trial: the one split that matters is 0 against above 0
    assert trial and all(s.startswith(("trial_signups > 0", "trial_signups = 0")) for s in trial)
    reading = {c.column: c.kind for c in demo.suggestion.columns}
    assert reading["trial_signups"] == "mostly_zero" and reading["industry"] == "category"


def test_the_holdout_is_the_latest_quarter_of_counted_leads_by_creation_date(demo: Demo) -> None:
    s = demo.suggestion
    held = holdout_of(demo.leads)
    counted = demo.leads[demo.leads["counted"]]
    assert s.split == "time"
    assert s.holdout_from == f"{held['created_at'].min():%Y-%m-%d}"
    assert s.holdout_n == len(held) and s.verdict.won == int(held["won"].sum())
    assert s.train_n == len(counted) - len(held)  # fewer than FIT_ROWS: no sampling
    assert s.train_won == int(counted["won"].sum() - held["won"].sum())


def test_the_holdout_auc_and_its_delong_interval_match_the_raw_leads(demo: Demo) -> None:
    s = demo.suggestion
    held = holdout_of(demo.leads)
    scores = score_by_hand(s.ruleset, held)
    assert s.holdout_auc == pytest.approx(roc_auc_score(held["won"], scores), abs=1e-9)
    by_hand = delong_scores(scores.to_numpy(), held["won"].to_numpy())
    assert by_hand is not None and s.verdict.auc is not None
    assert (s.verdict.auc.low, s.verdict.auc.high) == pytest.approx((by_hand.low, by_hand.high))
    assert s.verdict.auc.low > 0.5 and not s.no_signal
    template = template_for(demo.info)
    assert s.baseline_auc == pytest.approx(
        roc_auc_score(held["won"], score_by_hand(template, held)), abs=1e-9
    )
    assert s.holdout_auc > s.baseline_auc + 0.05 and not s.no_better


def test_every_figure_in_the_json_says_which_leads_it_is_measured_on(demo: Demo) -> None:
    out = demo.suggestion.as_dict()
    assert out["holdout"]["measured_on"] == "holdout"
    assert out["in_sample"]["measured_on"] == "in_sample"
    assert out["baseline"]["measured_on"] == "holdout"
    assert all(x["measured_on"] == "holdout" for x in out["leave_one_column_out"])
    assert out["no_signal"] is False and out["too_little_data"] is False
    assert out["holdout"]["auc_ci"][0] < out["holdout"]["auc"] < out["holdout"]["auc_ci"][1]
    assert out["in_sample"]["auc"] > out["holdout"]["auc"] - 0.1


def test_a_target_threshold_is_the_lowest_whose_holdout_lower_bound_reaches_it(
    demo: Demo,
) -> None:
    target = 0.3
    s = suggest_rules(demo.store, demo.info, target_conversion=target)
    rs, hot = s.ruleset, s.hot
    assert hot is not None and hot.threshold is not None and hot.threshold == rs.hot.min_score
    held = holdout_of(demo.leads)
    score = score_by_hand(rs, held)
    ok = []
    for x in sorted(score.unique()):
        top = held.loc[score >= x, "won"]
        if wilson(int(top.sum()), len(top))[0] >= target:
            ok.append(x)
    assert rs.hot.min_score == min(ok)
    top = held.loc[score >= min(ok), "won"]
    assert (hot.n, hot.won) == (len(top), int(top.sum()))
    assert hot.low >= target and (hot.low, hot.high) == wilson(hot.won, hot.n)
    sentence = hot.sentence()
    assert sentence.startswith(f"Hot from score {min(ok):g}: on the holdout (leads created since")
    assert s.as_dict()["hot_tier"]["measured_on"] == "holdout"


def test_an_unreachable_target_says_what_can_be_promised_and_at_what_volume(demo: Demo) -> None:
    s = suggest_rules(demo.store, demo.info, target_conversion=0.95)
    hot = s.hot
    assert hot is not None and hot.threshold is None and hot.best is not None
    assert s.ruleset.hot.min_score == hot.best  # the closest there is, said as such
    assert hot.sentence().startswith("No threshold reaches 95% with confidence on the holdout")
    assert f"{hot.n:,} leads" in hot.sentence()
    assert ("warning", hot.sentence()) in s.notes()
    assert hot.sentence("ja").startswith("検証用")


def test_with_a_capacity_the_holdouts_hot_leads_per_week_fit_it(demo: Demo) -> None:
    s = suggest_rules(demo.store, demo.info, capacity_per_week=15)
    hot = s.hot
    assert hot is not None and hot.threshold is not None and hot.per_week is not None
    assert 0 < hot.per_week <= 15
    held = holdout_of(demo.leads)
    # a volume counts every lead of the held-out period, still-open young ones too
    every = demo.leads[demo.leads["created_at"] >= held["created_at"].min()]
    assert len(every) > len(held)
    weeks = ((every["created_at"].max() - every["created_at"].min()).days + 1) / 7
    assert hot.n == int((score_by_hand(s.ruleset, held) >= hot.threshold).sum())
    score = score_by_hand(s.ruleset, every)
    assert hot.volume == int((score >= hot.threshold).sum())
    assert hot.per_week == pytest.approx(hot.volume / weeks)
    lower = score[score < hot.threshold]
    if len(lower):  # the next lower threshold would not fit
        assert int((score >= lower.max()).sum()) / weeks > 15


def test_suggested_tiers_are_hot_warm_cold_and_the_file_round_trips(demo: Demo) -> None:
    rs = demo.suggestion.ruleset
    assert [x.name for x in rs.tiers] == ["hot", "warm", "cold"]
    assert rs.tiers[0].min_score > rs.tiers[1].min_score
    assert ruleset_from_text(ruleset_to_yaml(rs)) == rs


def test_the_same_seed_gives_the_same_suggestion(demo: Demo) -> None:
    again = suggest_rules(demo.store, demo.info, baseline=template_for(demo.info))
    assert again.ruleset == demo.suggestion.ruleset
    assert again.verdict == demo.suggestion.verdict
    assert again.leaning == demo.suggestion.leaning


def test_a_column_the_user_flags_as_a_leak_is_never_suggested(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    frame = generate_leads(4000, seed=11)
    path = tmp_path_factory.mktemp("leak") / "funnel.duckdb"
    with Store(path) as store:
        proposed = load_demo(store, "plain", leads=4000, seed=11).dataset.mapping
        plain = suggest_rules(store, store.require("plain")).ruleset.rules
        assert "timeline" in {r.column for r in plain}
        flagged = replace(
            proposed,
            leads=tuple(
                replace(s, leak=True, reason="leak.user")
                if s.name in ("timeline", "trial_signups")
                else s
                for s in proposed.leads
            ),
        )
        info = load_files(
            store, "flagged", SourceFile("flagged.csv", frame, "csv"), mapping=flagged
        ).dataset
        s = suggest_rules(store, info)
    assert not {r.column for r in s.ruleset.rules} & {"timeline", "trial_signups"}
    reasons = {x.column: x.reason() for x in s.left_out}
    assert reasons["timeline"] == t("suggest.out.leak", column="timeline", reason=t("leak.user"))


def test_a_dataset_without_an_outcome_cannot_be_suggested_for(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    frame = generate_leads(500, seed=5).drop(
        columns=[
            "outcome",
            "closed_date",
            "amount",
            "lost_reason",
            "mql_date",
            "sql_date",
            "opportunity_date",
        ]
    )
    path = tmp_path_factory.mktemp("no_outcome") / "funnel.duckdb"
    with Store(path) as store:
        info = load_files(store, "no outcome", SourceFile("x.csv", frame, "csv")).dataset
        assert info.mapping.outcome is None
        with pytest.raises(SuggestError) as raised:
            suggest_rules(store, info)
    assert raised.value.code == "no_outcome"
    assert "no outcome" in t("suggest.no_outcome")


def test_leads_without_a_single_win_cannot_be_suggested_for(demo: Demo) -> None:
    nobody_won = Filters(equals=(("email_type", ("Competitor",)),))
    assert not demo.leads.loc[demo.leads["email_type"].eq("Competitor"), "won"].any()
    with pytest.raises(SuggestError) as raised:
        suggest_rules(demo.store, demo.info, filters=nobody_won)
    assert raised.value.code == "no_wins"
    assert "no won" in t("suggest.no_wins")


def test_wins_only_in_the_holdout_leave_nothing_to_learn_from(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    frame = generate_leads(3000, seed=3)
    frame.loc[frame["created_at"] < frame["created_at"].quantile(0.75), "outcome"] = "Lost"
    path = tmp_path_factory.mktemp("late_wins") / "funnel.duckdb"
    with Store(path) as store:
        info = load_files(store, "late", SourceFile("late.csv", frame, "csv")).dataset
        assert info.won > 0
        with pytest.raises(SuggestError) as raised:
            suggest_rules(store, info)
    assert raised.value.code == "no_wins"


def test_default_thresholds_are_quantiles_of_leads_not_of_distinct_scores() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        size = int(rng.integers(1, 12))
        hist = ScoreHistogram(
            rng.integers(-20, 40, size).astype(float),
            rng.random(size) < 0.2,
            rng.integers(0, 50, size),
            np.zeros(size, dtype=int),
            None,
        )
        if not hist.total:
            continue
        repeated = np.repeat(hist.score, hist.n)
        for q in (0.0, 0.6, 0.9, 1.0):
            assert _lead_quantile(hist, q) == np.quantile(repeated, q)
    # Past 5 million leads the hot threshold used to be a quantile of the distinct scores (9.0
    # here): one lead in six million hot instead of the top tenth.
    many = ScoreHistogram(
        np.array([0.0, 10.0]), np.zeros(2, bool), np.array([6_000_000, 1]), np.zeros(2, int), None
    )
    assert _lead_quantile(many, 0.9) == 0.0


def test_the_in_sample_auc_is_measured_on_the_training_leads(demo: Demo) -> None:
    s = demo.suggestion
    held = holdout_of(demo.leads)
    counted = demo.leads[demo.leads["counted"]]
    training = counted.drop(index=held.index)
    in_sample = roc_auc_score(training["won"], score_by_hand(s.ruleset, training))
    assert s.in_sample_auc == pytest.approx(in_sample, abs=1e-9)
    everyone = evaluate(score_histogram(demo.store, demo.info, s.ruleset), s.ruleset)
    # the tuner's figures: every lead a back-test counts, labelled in-sample there
    assert everyone.n == len(counted) < N
