"""A suggestion fitted on the past keeps the rules the leads coming in now need.

On an export split by date, a value can be rare in the training period and common in the
latest one (bank marketing's previous-campaign success is: a few calls in 2008, many in 2010).
Merging fine values into at most 25 rules weighed each value by the training leads alone, so
such a value was merged away for being rare in the past, and the suggestion fell behind plain
logistic regression on the leads that came after (bank with its call dates: 0.717 against
0.736). The latest period's leads — their columns, never their outcomes — now weigh as much as
the training leads in that merge, and the suggestion says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from funnel.i18n import t
from funnel.rules import CategoryRule, ruleset_from_text
from tests.support import cli


def shifted_leads(n: int = 12_000, seed: int = 3) -> pd.DataFrame:
    """Leads over two years: ``previous_result = success`` (+1.3 log-odds) is 0.6% of the
    first three quarters and 15% of the last; ten numbers with wavy effects compete for the
    rule budget."""
    rng = np.random.default_rng(seed)
    day = np.sort(rng.integers(0, 720, n))
    late = day >= np.quantile(day, 0.75)
    share = np.where(late, 0.15, 0.006)
    r = rng.random(n)
    prev = np.where(r < share, "success", np.where(r < share + 0.10, "failure", None))
    logit = -2.6 + np.where(prev == "success", 1.3, 0.0) + np.where(prev == "failure", -0.3, 0.0)
    numbers = {}
    for k in range(10):
        v = rng.normal(0, 1, n)
        numbers[f"score_{k}"] = np.round(v * 10 + 50, 1)
        logit = logit + 0.7 * np.sin(2.2 * v + k)
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(n)],
            "created": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, "D"),
            **numbers,
            "previous_result": prev,
            "won": np.where(won, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("latest")
    path = folder / "shifted.csv"
    shifted_leads().to_csv(path, index=False)
    db = folder / "funnel.duckdb"
    for name, dated in (("dated", ("--created", "created")), ("undated", ("--id", "lead_id"))):
        args = ("load", path, "--outcome", "won", *dated, "--dataset", name, "--db", db)
        if name == "undated":
            args = (*args, "--mapping", _undated_mapping(folder, path, db))
        code, _, err = cli(*args)
        assert code == 0, err
    return db


def _undated_mapping(folder: Path, path: Path, db: Path) -> Path:
    """The proposed mapping with the creation date set to ignore: a file without dates."""
    code, text, err = cli("mapping", path, "--outcome", "won", "--db", db)
    assert code == 0, err
    lines = [
        "  created: ignore" if line.startswith("  created:") else line for line in text.splitlines()
    ]
    out = folder / "undated.yaml"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def suggest(db: Path, name: str, lang: str) -> tuple[dict[str, Any], list[Any], str]:
    out = db.parent / f"{name}-{lang}.yaml"
    code, stdout, err = cli(
        "--lang", lang, "suggest", "--dataset", name, "--out", out, "--json", "--db", db
    )
    assert code == 0, err
    rules = list(ruleset_from_text(out.read_text(encoding="utf-8")).rules)
    return json.loads(stdout), rules, err


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_value_rare_before_and_common_now_keeps_its_rule(db: Path, lang: str) -> None:
    out, rules, _ = suggest(db, "dated", lang)
    success = [
        r for r in rules
        if isinstance(r, CategoryRule) and r.column == "previous_result" and r.value == "success"
    ]  # fmt: skip
    assert success and success[0].points > 0
    weighed = out["fit"]["latest_period_leads_weighed"]
    since = out["holdout"]["since"]
    assert out["holdout"]["split"] == "time" and weighed > 2_000
    note = t("suggest.latest_weighed", lang, n=f"{weighed:,}", since=since)
    assert note in out["notes"]
    # and it is no worse than plain logistic regression on the leads that came after
    assert out["logistic_regression"]["difference_ci"][1] > 0


def test_a_random_split_weighs_only_the_training_leads(db: Path) -> None:
    out, _, _ = suggest(db, "undated", "en")
    assert out["holdout"]["split"] == "random"
    assert out["fit"]["latest_period_leads_weighed"] == 0
    assert not any("counted as much as the training leads" in n for n in out["notes"])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_column_the_proposal_ignores_is_listed_with_why_and_how_to_score_it(
    tmp_path: Path, lang: str
) -> None:
    frame = shifted_leads(n=3_000)
    frame["last_visit"] = frame["created"] + pd.to_timedelta(5, "D")  # a second date
    path = tmp_path / "two_dates.csv"
    frame.to_csv(path, index=False)
    db = tmp_path / "funnel.duckdb"
    code, _, err = cli("load", path, "--outcome", "won", "--created", "created", "--db", db)
    assert code == 0, err
    code, stdout, err = cli(
        "--lang", lang, "suggest", "--dataset", "two_dates", "--out", tmp_path / "r.yaml",
        "--json", "--db", db,
    )  # fmt: skip
    assert code == 0, err
    left = {x["column"]: x for x in json.loads(stdout)["left_out"]}
    assert left["last_visit"]["why"] == "role"
    assert left["last_visit"]["reason"] == t("suggest.out.role.ignore", lang, column="last_visit")
    code, text, err = cli(
        "--lang", lang, "suggest", "--dataset", "two_dates", "--out", tmp_path / "r.yaml",
        "--db", db,
    )  # fmt: skip
    assert code == 0, err
    assert t("suggest.out.role.ignore", lang, column="last_visit") in text + err
