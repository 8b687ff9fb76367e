"""The tuner's "Start from the data" on a file where one value never wins: the suggested
knock-out gate appears among the proposal's gates with the note giving its figures, in English
and Japanese."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.ui import escape_md
from funnel.rules import Gate
from tests.app.test_issue12_tuner import open_tuner, store_frame, suggest, tuner_state
from tests.unit.test_suggest_knockouts import leads


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_value_that_never_wins_is_suggested_as_a_gate_with_its_figures(
    db_path: Path, checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    fitted = store_frame(db_path, "gated", leads(), outcome_column="won")
    assert fitted.ruleset.gates == (Gate("email_type", ("Competitor",)),)
    at = suggest(open_tuner("gated", lang, checked), checked)

    assert tuner_state(at, "gated").rules("marketing").gates == fitted.ruleset.gates
    shown = [x.value for x in at.text]
    assert fitted.ruleset.gates[0].describe(lang) in shown  # in the gate editor
    (found,) = fitted.knockouts
    said = [m.value for m in at.info]
    assert escape_md(found.sentence(lang)) in said
