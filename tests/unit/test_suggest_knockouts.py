"""Knock-out gates suggested from the data: a value none of whose many leads ever won becomes a
gate (never hot) with its figures, in English and Japanese; a small or merely unlucky value is
left to the points, and a file without signal gets none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from funnel.i18n import t
from funnel.rules import Gate, ruleset_from_text
from tests.support import cli
from tests.synthetic import awkward_leads


def leads(n: int = 6_000, seed: int = 5) -> pd.DataFrame:
    """``email_type = Competitor`` (4%) never wins; ``plan = legacy`` (12 leads) never wins
    either, too few to say; the rest convert at about 15% by segment and visits."""
    rng = np.random.default_rng(seed)
    email = rng.choice(["Corporate", "Free mail", "Competitor"], n, p=[0.8, 0.16, 0.04])
    plan = np.where(np.arange(n) < 12, "legacy", rng.choice(["basic", "pro"], n))
    segment = rng.choice(["A", "B", "C"], n)
    visits = rng.poisson(2, n)
    p = 0.08 + 0.1 * (segment == "A") + 0.03 * np.minimum(visits, 4)
    won = (rng.random(n) < p) & (email != "Competitor") & (plan != "legacy")
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 400, n), "D"),
            "email_type": email,
            "plan": plan,
            "segment": segment,
            "visits": visits,
            "won": np.where(won, "yes", "no"),
        }
    )


def suggest(db: Path, name: str, lang: str) -> tuple[dict[str, Any], Any]:
    out = db.parent / f"{name}-{lang}.yaml"
    code, stdout, err = cli(
        "--lang", lang, "suggest", "--dataset", name, "--out", out, "--json", "--db", db
    )
    assert code == 0, err
    return json.loads(stdout), ruleset_from_text(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("knockouts")
    db = folder / "funnel.duckdb"
    for name, frame, outcome in (
        ("gated", leads(), "won"),
        ("nosignal", awkward_leads(4000, signal=0.0), "won"),
    ):
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        code, _, err = cli("load", path, "--outcome", outcome, "--dataset", name, "--db", db)
        assert code == 0, err
    return db


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_value_that_never_wins_becomes_a_gate_with_its_figures(db: Path, lang: str) -> None:
    out, rules = suggest(db, "gated", lang)
    assert rules.gates == (Gate("email_type", ("Competitor",)),)
    (found,) = out["knockouts"]
    assert (found["column"], found["value"]) == ("email_type", "Competitor")
    assert found["in_sample"]["measured_on"] == "in_sample" and found["in_sample"]["won"] == 0
    assert found["in_sample"]["n"] > 150 and found["expected_won_at_base_rate"] > 15
    assert found["holdout"]["measured_on"] == "holdout" and found["holdout"]["won"] == 0
    said = t(
        "suggest.knockout",
        lang,
        column="email_type",
        value="Competitor",
        n=f"{found['in_sample']['n']:,}",
        expected=f"{found['expected_won_at_base_rate']:.1f}",
        held_n=f"{found['holdout']['n']:,}",
        held_won="0",
    )
    assert found["sentence"] == said and said in out["notes"]


def test_a_value_too_small_to_judge_is_left_to_the_points(db: Path) -> None:
    _, rules = suggest(db, "gated", "en")
    assert all("legacy" not in g.values for g in rules.gates)  # 12 leads: could be chance


def test_a_file_without_signal_gets_no_gate(db: Path) -> None:
    out, rules = suggest(db, "nosignal", "en")
    assert rules.gates == () and out["knockouts"] == []
