"""The tuner's two ways to start: the simple template and the suggestion from the data.

Neither throws away the rules on the page for nothing: a template that finds no behaviour
column it knows says so and leaves the rules, and a suggestion no better than the rules it
replaced (on leads it was not fitted on) says so and offers them back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import tuning
from app.ui import escape_md
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import CategoryRule, RuleSet, Tier, encode_ruleset
from funnel.store import DatasetInfo, Store
from funnel.suggest import Suggestion, suggest_rules
from tests.support import tuner_state

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
    return tuner_state(at, "attrs").rules("marketing")


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


def fitted(db_path: Path, **changes: object) -> Suggestion:
    """A real suggestion on the stored leads, with the rules and figures a test needs."""
    with Store(db_path) as store:
        real = suggest_rules(store, store.require("attrs"), baseline=MINE)
    rules = RuleSet(name="suggested", rules=(CategoryRule("region", "East", 7),))
    return replace(real, **{"ruleset": rules, **changes})  # type: ignore[arg-type]


def holdout_line(s: Suggestion, lang: str) -> str:
    """The holdout's sentence, and plain logistic regression's beside it when it was fitted."""
    v = s.verdict
    assert v.auc is not None
    beside = "" if s.logistic is None else " " + s.logistic.sentence(lang)
    return (
        t(
            "suggest.holdout_line" if s.baseline_auc is not None else "suggest.holdout_alone",
            lang,
            leads=s.holdout.describe(lang),
            n=f"{v.n:,}",
            auc=f"{v.auc.auc:.3f}",
            low=f"{v.auc.low:.3f}",
            high=f"{v.auc.high:.3f}",
            base="" if s.baseline_auc is None else f"{s.baseline_auc:.3f}",
            baseline=t("tuner.proposal.marketing", lang),
        )
        + beside
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
    worse = fitted(db_path, baseline_auc=0.99)
    assert worse.no_better
    monkeypatch.setattr(tuning, "suggest", lambda *_a: worse)
    at = open_tuner(lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    assert [r.points for r in marketing(at).rules] == [7]  # loaded, as asked
    loaded = t("suggest.loaded", lang, rules=1) + " " + holdout_line(worse, lang)
    said = [w.value for w in at.warning]
    assert escape_md(loaded + " " + t("suggest.no_better", lang)) in said or (
        worse.no_signal and escape_md(loaded) in said
    )
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
    real = fitted(db_path)
    assert real.verdict.auc is not None
    better = replace(
        real,
        baseline_auc=0.5,
        verdict=replace(real.verdict, auc=replace(real.verdict.auc, auc=0.7, low=0.6, high=0.8)),
    )
    monkeypatch.setattr(tuning, "suggest", lambda *_a: better)
    at = open_tuner("en", checked)

    checked(at.button(key="tuner_suggest").click().run())

    suggested = [s.value for s in at.success if "AUC" in s.value]
    assert suggested == [escape_md(t("suggest.loaded", rules=1) + " " + holdout_line(better, "en"))]
    assert "0.700" in suggested[0].replace("\\", "")
    assert not [b for b in at.button if b.key == "tuner_restore"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_suggestion_replacing_a_proposal_without_rules_says_there_was_nothing_to_compare(
    db_path: Path,
    tmp_path: Path,
    checked: Callable[[AppTest], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    seed_attributes_only(db_path, tmp_path)
    real = fitted(db_path)
    assert real.verdict.auc is not None
    alone = replace(real, baseline_auc=None)
    monkeypatch.setattr(tuning, "suggest", lambda *_a: alone)
    at = open_tuner(lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    start = escape_md(t("suggest.loaded", lang, rules=1))
    said = [m.value for m in (*at.success, *at.warning) if m.value.startswith(start)]
    expected = t(
        "suggest.holdout_alone",
        lang,
        leads=alone.holdout.describe(lang),
        n=f"{alone.verdict.n:,}",
        auc=f"{real.verdict.auc.auc:.3f}",
        low=f"{real.verdict.auc.low:.3f}",
        high=f"{real.verdict.auc.high:.3f}",
        baseline=t("tuner.proposal.marketing", lang),
    )
    assert len(said) == 1 and said[0].startswith(start + " " + escape_md(expected))
