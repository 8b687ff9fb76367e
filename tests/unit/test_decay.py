"""Behaviour points from an activity log can decay with the activity's age (a half-life)."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.ingest import load_files, read_inputs
from funnel.rules import (
    CategoryRule,
    CountRule,
    PerUnitRule,
    RuleSet,
    RuleSetError,
    Tier,
    ruleset_from_text,
    ruleset_to_json,
    ruleset_to_yaml,
)
from funnel.scoring.compare import disagreement, moved
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.leads import explain_lead, score_leads
from funnel.scoring.matrix import fit_engagement_matrix
from funnel.scoring.source import activity_log
from funnel.store import DatasetInfo, Store

LEADS = "lead_id,created_at,industry,Converted\n" + "\n".join(
    f"L{i},2024-01-{i:02d},{'IT' if i % 2 else 'Retail'},{1 if i % 3 == 0 else 0}"
    for i in range(1, 13)
)
# The log ends on 2024-03-01. L1: two visits that day (fresh); L2: two visits 10 days earlier
# (one half-life); L3: one visit 20 days earlier (two half-lives) and an inquiry that day.
LOG = """lead_id,occurred_at,activity
L1,2024-03-01 00:00,web_visit
L1,2024-03-01 00:00,web_visit
L2,2024-02-20 00:00,web_visit
L2,2024-02-20 00:00,web_visit
L3,2024-02-10 00:00,web_visit
L3,2024-03-01 00:00,inquiry
"""


@pytest.fixture
def acts(tmp_path: Path, store: Store) -> DatasetInfo:
    (tmp_path / "leads.csv").write_text(LEADS + "\n", encoding="utf-8")
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    files = read_inputs(tmp_path / "leads.csv", None, tmp_path / "log.csv")
    return load_files(store, "acts", *files).dataset


def rules(half_life: float | None) -> RuleSet:
    return RuleSet(
        rules=(
            PerUnitRule("activity_web_visit", 10, cap=100),
            CountRule("activity_inquiry", 1, 5),
            CategoryRule("industry", "IT", 1),
        ),
        tiers=(Tier("hot", 10), Tier("warm", 4), Tier("cold", float("-inf"))),
        decay_half_life=half_life,
    )


def scores(store: Store, info: DatasetInfo, rs: RuleSet) -> dict[str, float]:
    frame = score_leads(store, info, rs)
    return dict(zip(frame["id"], frame["score"], strict=True))


def test_activity_log_pairs_each_count_column_with_its_type(
    store: Store, acts: DatasetInfo
) -> None:
    log = activity_log(store, acts)
    assert log is not None
    assert log.columns == {"activity_inquiry": "inquiry", "activity_web_visit": "web_visit"}
    assert str(log.last) == "2024-03-01 00:00:00"


def test_points_halve_every_half_life_counted_back_from_the_last_activity(
    store: Store, acts: DatasetInfo
) -> None:
    plain = scores(store, acts, rules(None))
    decayed = scores(store, acts, rules(10))
    assert plain["L1"] == 20 + 1 and decayed["L1"] == 20 + 1  # fresh: no decay
    assert plain["L2"] == 20 and decayed["L2"] == pytest.approx(10)  # one half-life
    # two half-lives: 10 * 0.25 = 2.5 points, plus the fresh inquiry's 5 and IT's 1
    assert plain["L3"] == 10 + 5 + 1 and decayed["L3"] == pytest.approx(2.5 + 5 + 1)
    assert decayed["L4"] == plain["L4"] == 0


def test_a_count_rule_compares_the_decayed_count(store: Store, acts: DatasetInfo) -> None:
    rs = RuleSet(
        rules=(CountRule("activity_web_visit", 2, 7),),
        tiers=(Tier("hot", 7), Tier("cold", float("-inf"))),
        decay_half_life=10,
    )
    got = scores(store, acts, rs)
    assert got["L1"] == 7  # two fresh visits still count two
    assert got["L2"] == 0  # two visits one half-life ago count as one


def test_every_metric_uses_the_decayed_score(store: Store, acts: DatasetInfo) -> None:
    rs = rules(10)
    frame = score_leads(store, acts, rs)
    hist = score_histogram(store, acts, rs)
    ev = evaluate(hist, rs)
    hot = set(frame.loc[frame["tier"] == "hot", "id"])
    assert hot == {"L1", "L2"}
    assert ev.tiers[0].n == len(hot)
    # L2 is hot without decay too (20 points); with decay it scores exactly 10, still hot
    explanation = explain_lead(store, acts, rs, "L3")
    assert explanation is not None and explanation.score == pytest.approx(8.5)
    assert explanation.tier == "warm"
    stricter = rs.with_threshold("hot", 15)
    assert moved(store, acts, rs, stricter) == {"entered": 0, "left": 1}
    cells = disagreement(store, acts, rules(None), rs)
    assert cells.only_a == (1, 1, 1)  # L3 is hot only without decay (and it was won)
    assert fit_engagement_matrix(store, acts, rs) is not None


def test_decay_changes_nothing_where_no_activity_log_exists(tmp_path: Path, store: Store) -> None:
    text = LEADS + "\n" + "\n".join(f"L{i},2024-02-01,IT,0" for i in range(20, 23))
    (tmp_path / "plain.csv").write_text(text.replace("industry", "industry,visits") + "\n")
    frame = "lead_id,created_at,industry,visits,Converted\n" + "\n".join(
        f"L{i},2024-01-{i:02d},IT,{i % 4},{i % 2}" for i in range(1, 13)
    )
    (tmp_path / "plain.csv").write_text(frame + "\n", encoding="utf-8")
    info = load_files(store, "plain", *read_inputs(tmp_path / "plain.csv", None, None)).dataset
    assert activity_log(store, info) is None
    base = RuleSet(rules=(PerUnitRule("visits", 3, cap=9),), tiers=rules(None).tiers)
    decayed = RuleSet(rules=base.rules, tiers=base.tiers, decay_half_life=7)
    assert scores(store, info, decayed) == scores(store, info, base)


def test_half_life_round_trips_and_is_described() -> None:
    rs = rules(14)
    assert ruleset_from_text(ruleset_to_yaml(rs)) == rs
    assert ruleset_from_text(ruleset_to_json(rs)) == rs
    assert "decay" not in ruleset_to_yaml(rules(None))
    assert any("14 days" in line for line in rs.describe("en"))
    assert any("14 日" in line for line in rs.describe("ja"))


@pytest.mark.parametrize("bad", ["0", "-3", "5000", "abc", ".nan"])
def test_a_bad_half_life_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(RuleSetError, match="decay_half_life_days"):
        ruleset_from_text(f"rules: []\ndecay_half_life_days: {bad}\n", source="r.yaml")
