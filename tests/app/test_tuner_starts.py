"""The tuner's two ways to start: the simple template and the suggestion from the data.

Neither throws away the rules on the page for nothing: a template that finds no behaviour
column it knows says so and leaves the rules, and a suggestion no better than the rules it
replaced (on leads it was not fitted on) says so and offers them back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import tuning
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import CategoryRule, RuleSet, Tier, encode_ruleset, ruleset_from_dict
from funnel.store import DatasetInfo, Store
from funnel.suggest import Suggestion

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
# No behaviour column at all: the template (visits, downloads, inquiries ...) has nothing to use.
LEADS = "lead_id,created_at,industry,region,Converted\n" + "\n".join(
    f"L{i},2024-01-{i % 28 + 1:02d},{'IT' if i % 2 else 'Retail'},{'East' if i % 3 else 'West'},"
    f"{1 if i % 4 == 0 else 0}"
    for i in range(1, 81)
)
MINE = RuleSet(
    name="mine",
    rules=(CategoryRule("industry", "IT", 10),),
    tiers=(Tier("hot", 10), Tier("cold", float("-inf"))),
)


def seed_attributes_only(db_path: Path, tmp_path: Path) -> DatasetInfo:
    (tmp_path / "leads.csv").write_text(LEADS + "\n", encoding="utf-8")
    with Store(db_path) as store:
        return load_files(store, "attrs", *read_inputs(tmp_path / "leads.csv")).dataset


def open_tuner(lang: str, checked: Callable[[AppTest], AppTest]) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params["dataset"] = "attrs"
    at.query_params["rules"] = encode_ruleset(MINE)
    at.query_params["lang"] = lang
    checked(at.run())
    return checked(at.switch_page("../pages/tuner.py").run())


def marketing(at: AppTest) -> RuleSet:
    return ruleset_from_dict(at.session_state["_tuner"]["attrs"]["proposals"]["marketing"])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_template_that_finds_nothing_says_so_and_keeps_the_rules(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    seed_attributes_only(db_path, tmp_path)
    at = open_tuner(lang, checked)
    assert marketing(at).rules == MINE.rules

    checked(at.button(key="tuner_template").click().run())

    assert [w.value for w in at.warning] == [t("tuner.template_empty", lang)]
    assert marketing(at).rules == MINE.rules  # not replaced by an empty rule set


def no_better(*_args: object) -> Suggestion:
    return Suggestion(
        ruleset=RuleSet(name="suggested", rules=(CategoryRule("region", "East", 7),)),
        split="time",
        holdout_from="2024-01-20",
        train_n=60,
        holdout_n=20,
        holdout_auc=0.55,
        baseline_auc=0.62,
        baseline_name="marketing",
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_suggestion_no_better_than_the_rules_it_replaced_is_flagged_and_can_be_undone(
    db_path: Path,
    tmp_path: Path,
    checked: Callable[[AppTest], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    seed_attributes_only(db_path, tmp_path)
    monkeypatch.setattr(tuning, "suggest", no_better)
    at = open_tuner(lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    assert [r.points for r in marketing(at).rules] == [7]  # loaded, as asked
    warning = t(
        "tuner.suggested_no_better",
        lang,
        auc="0.550",
        base="0.620",
        baseline=t("tuner.proposal.marketing", lang),
        split=t("tuner.split.time", lang, since="2024-01-20"),
        n="20",
    )
    assert [w.value for w in at.warning] == [warning]
    assert not [s for s in at.success if "AUC" in s.value]  # not reported as a success

    checked(at.button(key="tuner_restore").click().run())

    assert marketing(at).rules == MINE.rules
    assert not at.warning  # the note went with the suggestion


def test_a_better_suggestion_is_reported_as_a_success(
    db_path: Path,
    tmp_path: Path,
    checked: Callable[[AppTest], AppTest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_attributes_only(db_path, tmp_path)
    better = no_better()
    monkeypatch.setattr(
        tuning,
        "suggest",
        lambda *_a: Suggestion(**{**better.__dict__, "holdout_auc": 0.7}),
    )
    at = open_tuner("en", checked)

    checked(at.button(key="tuner_suggest").click().run())

    suggested = [s.value for s in at.success if "AUC" in s.value]
    assert len(suggested) == 1 and "0.700" in suggested[0]
    assert not [b for b in at.button if b.key == "tuner_restore"]
