"""The tuner offers a decay half-life where the dataset has an activity log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import PerUnitRule, RuleSet, Tier, encode_ruleset
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import DatasetInfo, Store
from tests.support import tuner_prefix, tuner_state

LEADS = "lead_id,created_at,industry,Converted\n" + "\n".join(
    f"L{i},2024-01-{i:02d},IT,{1 if i % 3 == 0 else 0}" for i in range(1, 21)
)
# Even leads were active long ago, odd leads recently; the log ends on 2024-03-01.
LOG = "lead_id,occurred_at,activity\n" + "\n".join(
    f"L{i},{'2023-12-01' if i % 2 == 0 else '2024-03-01'},web_visit"
    for i in range(1, 21)
    for _ in range(3)
)
RULES = RuleSet(
    name="visits",
    rules=(PerUnitRule("activity_web_visit", 10, cap=50),),
    tiers=(Tier("hot", 25), Tier("cold", float("-inf"))),
)


def seed_with_log(db_path: Path, tmp_path: Path) -> DatasetInfo:
    (tmp_path / "leads.csv").write_text(LEADS + "\n", encoding="utf-8")
    (tmp_path / "log.csv").write_text(LOG + "\n", encoding="utf-8")
    with Store(db_path) as store:
        files = read_inputs(tmp_path / "leads.csv", None, tmp_path / "log.csv")
        return load_files(store, "acts", *files).dataset


def hot_count(db_path: Path, info: DatasetInfo, rs: RuleSet) -> int:
    with Store(db_path) as store:
        return evaluate(score_histogram(store, info, rs), rs).tiers[0].n


def test_half_life_input_rescores_with_decayed_activity_points(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest]
) -> None:
    info = seed_with_log(db_path, tmp_path)
    decayed = RuleSet(rules=RULES.rules, tiers=RULES.tiers, name="visits", decay_half_life=14)
    expected = hot_count(db_path, info, RULES), hot_count(db_path, info, decayed)
    assert expected == (20, 10)  # the old visits fade below the hot threshold
    at = AppTest.from_file(str(Path(__file__).parents[2] / "app" / "main.py"), default_timeout=60)
    at.query_params["dataset"] = "acts"
    at.query_params["rules"] = encode_ruleset(RULES)
    checked(at.run())
    checked(at.switch_page("../pages/tuner.py").run())
    hot_label = t("metric.hot", "en")
    before = next(m.value for m in at.metric if m.label == hot_label)
    assert before == f"{expected[0]:,}"

    key = f"decay:{tuner_prefix(at, info)}"
    checked(at.number_input(key=key).set_value(14).run())

    after = next(m.value for m in at.metric if m.label == hot_label)
    assert after == f"{expected[1]:,}"
    kept = tuner_state(at, "acts").rules("marketing")
    assert kept.decay_half_life == 14


def test_no_half_life_input_without_an_activity_log(
    open_app: Callable[..., AppTest], seed: Callable[..., DatasetInfo]
) -> None:
    seed("demo")
    at = open_app("tuner")
    assert not [n for n in at.number_input if str(n.key).startswith("decay:")]
