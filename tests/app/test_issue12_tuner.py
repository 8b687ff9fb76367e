"""The tuner's "Start from the data" on the synthetic files of issue 12's "Done when", in
English and Japanese, as a user sees it: a 400-row file says it is too little data to trust;
mostly-zero and code columns are read as such and identifiers are left out with why; flagged
leaks never become rules and are listed with their evidence; an opportunity export with open
stages says which leads its holdout and its tiles count, each figure labelled holdout or
in-sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.ui import escape_md
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import Store
from funnel.suggest import Suggestion, suggest_rules
from tests.issue12_files import (
    a_rare_sure_value,
    five_strong_columns,
    leads_with_leaks,
    opportunities,
)
from tests.support import tuner_prefix, tuner_state
from tests.synthetic import awkward_leads

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"


def store_frame(db_path: Path, name: str, frame: pd.DataFrame, **kw: Any) -> Suggestion:
    """Store ``frame`` as ``name`` (mapping proposed from the file) and return what
    "Start from the data" should load, fitted by the library."""
    source = read_bytes(frame.to_csv(index=False).encode(), f"{name}.csv")
    with Store(db_path) as store:
        load_files(store, name, source, **kw)
        return suggest_rules(store, store.require(name))


def open_tuner(name: str, lang: str, checked: Callable[[AppTest], AppTest]) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.query_params["dataset"] = name
    at.query_params["lang"] = lang
    checked(at.run())
    return checked(at.switch_page("../pages/tuner.py").run())


def suggest(at: AppTest, checked: Callable[[AppTest], AppTest]) -> AppTest:
    return checked(at.button(key="tuner_suggest").click().run())


def columns_read(at: AppTest, lang: str) -> dict[str, str]:
    (table,) = [
        df.value for df in at.dataframe if t("suggest.columns_title", lang) in df.value.columns
    ]
    pairs = zip(
        table[t("tuner.column", lang)], table[t("suggest.columns_title", lang)], strict=True
    )
    return {str(c): str(why) for c, why in pairs}


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def marketing_columns(at: AppTest, name: str) -> set[str]:
    return {r.column for r in tuner_state(at, name).rules("marketing").rules}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_400_row_file_says_it_is_too_little_data_to_trust(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    expected = store_frame(db_path, "tiny", awkward_leads(n=400, seed=12), outcome_column="won")
    assert expected.small
    at = open_tuner("tiny", lang, checked)

    suggest(at, checked)

    note = t(
        "suggest.small_data",
        lang,
        wins=f"{expected.plan.wins:,}",
        groups=2,
        leads=f"{expected.plan.min_leads:,}",
    )
    assert escape_md(note) in [w.value for w in at.warning]
    per_column: dict[str, int] = {}
    for r in tuner_state(at, "tiny").rules("marketing").rules:
        per_column[r.column] = per_column.get(r.column, 0) + 1
    assert per_column and max(per_column.values()) <= 2  # coarse: at most one split a column


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_zeros_codes_and_identifiers_are_read_as_such_and_said_in_the_users_language(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    frame = awkward_leads(n=3000, seed=5)
    refs = np.random.default_rng(1).permutation(len(frame))
    frame.insert(2, "contact_ref", [f"C-{i:07d}" for i in refs])
    expected = store_frame(db_path, "awkward", frame, outcome_column="won")
    at = open_tuner("awkward", lang, checked)

    suggest(at, checked)

    reasons = columns_read(at, lang)
    said = {c.column: c.evidence(lang) for c in expected.columns if c.scored}
    said |= {x.column: x.reason(lang) for x in expected.left_out}
    for column in ("pricing_visits", "basket_value", "region_code", "session_hash", "contact_ref"):
        assert reasons[column] == said[column], column
    kinds = {c.column: c.kind for c in expected.columns}
    assert (kinds["pricing_visits"], kinds["basket_value"]) == ("mostly_zero", "mostly_zero")
    assert (kinds["region_code"], kinds["device_code"]) == ("code", "code")
    rules = marketing_columns(at, "awkward")
    assert not rules & {"lead_id", "customer_id", "session_hash", "contact_ref"}
    assert {"pricing_visits", "region_code"} <= rules


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_flagged_leaks_never_become_rules_and_are_listed_with_their_evidence(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    frame = leads_with_leaks()
    store_frame(db_path, "leaky", frame)
    at = open_tuner("leaky", lang, checked)

    suggest(at, checked)

    assert not {"basket_value", "lead_status"} & marketing_columns(at, "leaky")
    reasons = columns_read(at, lang)
    evidence = {"en": "won 100% above 0, lost 0%", "ja": "受注の 100% が 0 より大きい（失注は 0%）"}
    assert evidence[lang] in reasons["basket_value"]
    assert "Marital_Status" in reasons  # read, not left out: an innocent *_Status column
    assert evidence[lang] not in reasons["Marital_Status"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_open_stages_the_holdout_and_the_tiles_say_which_leads_they_count(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    frame = opportunities()
    expected = store_frame(db_path, "opps", frame)
    assert expected.counted is not None and expected.counted.left_out > 0
    at = open_tuner("opps", lang, checked)

    suggest(at, checked)

    shown = captions(at)
    assert escape_md(expected.measured_on(lang)) in shown  # the holdout's leads
    with Store(db_path) as store:
        info = store.require("opps")
        rs = tuner_state(at, "opps").rules("marketing")
        tiles = evaluate(score_histogram(store, info, rs), rs)
    assert tiles.n < len(frame)  # the still-open deals are not counted as lost
    assert t("suggest.in_sample_caption", lang, n=f"{tiles.n:,}") in shown
    assert tiles.measured_on(lang) in shown


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_implausibly_high_auc_is_said_and_the_column_it_leans_on_most_can_be_left_out(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    expected = store_frame(db_path, "high", five_strong_columns())
    assert expected.high_auc and not [x for x in expected.leaning if x.flagged]
    (asked,) = expected.leans_on()
    at = open_tuner("high", lang, checked)

    suggest(at, checked)

    warned = [w.value for w in at.warning]
    auc = f"{expected.holdout_auc:.2f}"
    assert escape_md(t("suggest.high_auc", lang, auc=auc)) in warned
    assert escape_md(asked.sentence(lang)) in warned
    button = at.button(key=f"tuner_exclude:{asked.column}")
    assert button.label == t("suggest.exclude_button", lang, column=asked.column)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_target_only_a_handful_of_held_out_leads_meet_says_so_on_the_tuner(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    store_frame(db_path, "rare", a_rare_sure_value())
    at = open_tuner("rare", lang, checked)
    suggest(at, checked)
    with Store(db_path) as store:
        info = store.require("rare")
    key = f"tuner_target:{tuner_prefix(at, info)}"
    checked(at.number_input(key=key).set_value(70.0).run())

    checked(at.button(key="reach_target").click().run())

    (said,) = [w.value for w in at.warning if "70%" in w.value]
    start, end = t("backtest.few", lang).split("{n}")
    assert escape_md(start) in said and escape_md(end) in said
    n = int(said.split(escape_md(start))[1].split(" ")[0].replace(",", ""))
    assert 0 < n < 30
