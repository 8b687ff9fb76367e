"""The tuner's "Start from the data" says plainly what the suggestion is worth, in English and
Japanese: no signal when the holdout AUC's interval includes 0.5 (and no hot tier offered as
meaningful), the column it leans on with both figures — left out with one click —, and the
columns it read and left out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app.ui import escape_md
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import RuleSet
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import Store
from funnel.suggest import compare_suggestion, suggest_rules
from tests.support import tuner_state
from tests.synthetic import awkward_leads

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"


def seed(db_path: Path, tmp_path: Path, name: str, **spec: Any) -> None:
    path = tmp_path / f"{name}.csv"
    awkward_leads(**spec).to_csv(path, index=False)
    with Store(db_path) as store:
        load_files(store, name, *read_inputs(path), outcome_column="won")


def open_tuner(name: str, lang: str, checked: Callable[[AppTest], AppTest]) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.query_params["dataset"] = name
    at.query_params["lang"] = lang
    checked(at.run())
    return checked(at.switch_page("../pages/tuner.py").run())


def marketing(at: AppTest, name: str) -> RuleSet:
    return tuner_state(at, name).rules("marketing")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_signal_is_said_plainly_and_nobody_is_hot(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    seed(db_path, tmp_path, "nothing", n=6000, seed=13, signal=0.0)
    with Store(db_path) as store:
        info = store.require("nothing")
        expected = suggest_rules(store, info)
    assert expected.no_signal
    at = open_tuner("nothing", lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    said = [w.value for w in at.warning]
    assert escape_md(expected.verdict.sentence(lang)) in said
    assert escape_md(t("suggest.no_hot_tier", lang)) in said
    assert not [s for s in at.success if "AUC" in s.value]
    rs = marketing(at, "nothing")
    with Store(db_path) as store:
        result = evaluate(score_histogram(store, store.require("nothing"), rs), rs)
    assert result.hot_n == 0


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_column_it_leans_on_is_asked_about_and_left_out_with_one_click(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    seed(db_path, tmp_path, "strong", n=6000, seed=14, strong=3.0)
    with Store(db_path) as store:
        expected = suggest_rules(store, store.require("strong"))
    at = open_tuner("strong", lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    leaning = {x.column: x for x in expected.leans_on()}
    assert "pricing_visits" in leaning
    note = tuner_state(at, "strong").proposal("marketing").suggestion
    assert note is not None and note.leans_on == tuple(leaning)
    question = leaning["pricing_visits"].sentence(lang)
    assert f"{leaning['pricing_visits'].auc_with:.2f}" in question
    assert escape_md(question) in [w.value for w in at.warning]
    assert "pricing_visits" in {r.column for r in marketing(at, "strong").rules}
    # the note is kept with the proposal: a new tab shows the question and its button too
    other_tab = open_tuner("strong", lang, checked)
    assert escape_md(question) in [w.value for w in other_tab.warning]
    button = at.button(key="tuner_exclude:pricing_visits")
    assert button.label == t("suggest.exclude_button", lang, column="pricing_visits")

    checked(button.click().run())

    assert "pricing_visits" not in {r.column for r in marketing(at, "strong").rules}
    again = tuner_state(at, "strong").proposal("marketing").suggestion
    assert again is not None and again.exclude == ("pricing_visits",)
    read = dict(again.said(lang).columns)
    assert read["pricing_visits"] == t("suggest.out.excluded", lang, column="pricing_visits")


def test_the_columns_read_and_left_out_are_listed_with_their_evidence(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest]
) -> None:
    seed(db_path, tmp_path, "awkward", n=6000)
    at = open_tuner("awkward", "en", checked)

    checked(at.button(key="tuner_suggest").click().run())

    table = next(
        df.value for df in at.dataframe if t("suggest.columns_title", "en") in df.value.columns
    )
    columns = table[t("tuner.column", "en")], table[t("suggest.columns_title", "en")]
    reasons = dict(zip(*columns, strict=True))
    assert reasons["region_code"].startswith("region_code: whole numbers with only 9")
    assert "look like generated keys" in reasons["session_hash"]
    assert reasons["lead_id"] == t("suggest.out.role.id", "en", column="lead_id")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_logistic_regression_is_said_with_it_and_boosting_fitted_only_when_turned_on(
    db_path: Path, tmp_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    seed(db_path, tmp_path, "awkward", n=6000)
    with Store(db_path) as store:
        info = store.require("awkward")
        plain = suggest_rules(store, info)
        expected = compare_suggestion(store, info, plain)
    assert plain.logistic is not None and not plain.compared and expected.compared
    at = open_tuner("awkward", lang, checked)

    checked(at.button(key="tuner_suggest").click().run())

    (line,) = [s.value for s in at.success if "AUC" in s.value]
    assert escape_md(plain.logistic.sentence(lang)) in line
    assert escape_md(f"{plain.logistic.auc.auc:.3f}") in line  # type: ignore[union-attr]
    model_column = t("suggest.models.model", lang)
    assert not [df for df in at.dataframe if model_column in df.value.columns]
    assert tuner_state(at, "awkward").proposal("marketing").suggestion is not None  # loaded
    toggle = at.toggle(key="tuner_compare")
    assert toggle.label == t("suggest.models_toggle", lang)

    checked(toggle.set_value(True).run())

    table = next(df.value for df in at.dataframe if model_column in df.value.columns)
    names = [t(f"cli.suggest.name.{m.model}", lang) for m in expected.models]
    assert list(table[model_column]) == [t("cli.suggest.name.suggestion", lang), *names]
    aucs = list(table[t("suggest.models.auc", lang)])
    assert aucs == [f"{x.auc.auc:.3f}" for x in (expected.verdict, *expected.models) if x.auc]
    diffs = list(table[t("suggest.models.diff", lang)])[1:]
    assert diffs == [f"{m.difference.auc:+.3f}" for m in expected.models if m.difference]
