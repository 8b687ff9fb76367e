"""The suggestion on synthetic files built for each awkward case, through the command line as
a user runs it, in English and Japanese: mostly-zero numbers and integer codes, identifiers
and hash columns, a file with no signal at all, a 400-row file, and an honest column so strong
the suggestion leans on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import RuleSet, ruleset_from_text
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import Store
from tests.support import cli, rule_points
from tests.synthetic import awkward_leads

IDENTIFIERS = {"lead_id", "customer_id", "session_hash", "contact_ref"}


@dataclass(frozen=True)
class Case:
    db: Path
    name: str
    folder: Path

    def suggest(self, *extra: str, lang: str = "en") -> tuple[dict[str, Any], RuleSet, str]:
        """``funnel suggest --json``, the rules it wrote, and its warnings (stderr)."""
        out = self.folder / f"rules-{lang}-{'-'.join(extra) or 'plain'}.yaml"
        code, stdout, err = cli(
            "--lang", lang, "suggest", "--dataset", self.name, "--out", out, "--json",
            "--db", self.db, *extra,
        )  # fmt: skip
        assert code == 0, err
        return json.loads(stdout), ruleset_from_text(out.read_text(encoding="utf-8")), err

    def report(self, *extra: str, lang: str = "en") -> tuple[str, str]:
        out = self.folder / "report.yaml"
        code, stdout, err = cli(
            "--lang", lang, "suggest", "--dataset", self.name, "--out", out, "--db", self.db,
            *extra,
        )  # fmt: skip
        assert code == 0, err
        return stdout, err


def stored(tmp_path_factory: pytest.TempPathFactory, name: str, **spec: Any) -> Case:
    folder = tmp_path_factory.mktemp(name)
    frame = awkward_leads(**spec)
    refs = np.random.default_rng(1).permutation(len(frame))
    frame.insert(2, "contact_ref", [f"C-{i:07d}" for i in refs])
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    db = folder / "funnel.duckdb"
    with Store(db) as store:
        load_files(store, name, *read_inputs(path), outcome_column="won")
    return Case(db, name, folder)


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return stored(tmp_path_factory, "awkward", n=12_000)


@pytest.fixture(scope="module")
def nothing(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return stored(tmp_path_factory, "nothing", n=8000, seed=13, signal=0.0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return stored(tmp_path_factory, "tiny", n=400, seed=12)


@pytest.fixture(scope="module")
def strong(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return stored(tmp_path_factory, "strong", n=8000, seed=14, strong=3.0)


# --- mostly-zero numbers, codes and identifiers -----------------------------------------------


def test_identifiers_and_hash_columns_never_become_rules_and_say_why(awkward: Case) -> None:
    out, rs, _ = awkward.suggest()
    assert not {r.column for r in rs.rules} & IDENTIFIERS
    left_out = {x["column"]: x["reason"] for x in out["left_out"]}
    assert set(left_out) >= {"customer_id", "session_hash", "contact_ref"}
    assert "look like generated keys (e.g. " in left_out["session_hash"]
    n = f"{out['in_sample']['train_n']:,}"  # read on the training leads, each one different
    assert left_out["contact_ref"] == (
        f"contact_ref: {n} different values for {n} leads (100% unique) — an identifier, "
        "never scored"
    )


def test_mostly_zero_numbers_get_zero_and_above_zero_and_codes_are_categories(
    awkward: Case,
) -> None:
    out, rs, _ = awkward.suggest()
    reading = {c["column"]: c for c in out["columns"]}
    assert reading["pricing_visits"]["read_as"] == "mostly_zero"
    assert reading["basket_value"]["read_as"] == "mostly_zero"
    assert reading["region_code"]["read_as"] == "code"
    assert reading["region_code"]["evidence"] == (
        "region_code: whole numbers with only 9 different values (1–9) — read as codes "
        "(categories), not amounts"
    )
    # '0' is a group of its own (the reference, 0 points) and every lead above 0 earns points
    visits = pd.DataFrame({"pricing_visits": [0, 1, 2, 3, 5, 8, 13]})
    points = sum(rule_points(r, visits) for r in rs.rules if r.column == "pricing_visits")
    assert points.iloc[0] == 0 and (points.iloc[1:] > 0).all(), points.tolist()
    basket = [r.describe() for r in rs.rules if r.column == "basket_value"]
    assert basket == [basket[0]] and basket[0].startswith("basket_value > 0: +"), basket
    regions = [r for r in rs.rules if r.column == "region_code"]
    assert regions and {r.kind for r in regions} <= {"category", "in"}
    assert all(set(r.values()) <= {str(v) for v in range(1, 10)} for r in regions)


def test_the_suggestion_is_at_least_as_good_as_logistic_regression_here(awkward: Case) -> None:
    out, _, _ = awkward.suggest("--compare")
    lr = next(m for m in out["models"] if m["model"] == "logistic_regression")
    hgb = next(m for m in out["models"] if m["model"] == "gradient_boosting")
    assert out["holdout"]["auc"] >= lr["auc"]  # codes and zeros cost plain LR 0.04-0.06
    assert lr["measured_on"] == hgb["measured_on"] == "holdout"
    assert lr["suggestion_minus_model"] == pytest.approx(out["holdout"]["auc"] - lr["auc"])
    low, high = lr["difference_ci"]
    assert low < lr["suggestion_minus_model"] < high


def test_the_report_names_every_figures_leads_in_both_languages(awkward: Case) -> None:
    population = awkward.suggest()[0]["population"]
    assert population["rule"] == "all_decided" and population["left_out"] == 0
    for lang in ("en", "ja"):
        stdout, _ = awkward.report("--compare", lang=lang)
        lines = stdout.splitlines()
        assert lines[1].startswith(t("cli.suggest.holdout", lang).split("{")[0])
        assert lines[2] == "  " + t("population.all_decided", lang, n=f"{population['counted']:,}")
        assert t("cli.suggest.name.logistic_regression", lang) in lines[4]
        assert t("cli.suggest.name.gradient_boosting", lang) in lines[5]
        assert t("cli.suggest.name.gradient_boosting_additive", lang) in lines[6]
        assert any(x.startswith(t("cli.suggest.in_sample", lang).split("{")[0]) for x in lines)
        assert t("cli.suggest.left_out", lang) in lines


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_logistic_regression_is_always_beside_it_and_boosting_only_when_asked(
    awkward: Case, lang: str
) -> None:
    plain, rules, _ = awkward.suggest(lang=lang)
    compared, rules_compared, _ = awkward.suggest("--compare", lang=lang)
    assert [m["model"] for m in plain["models"]] == ["logistic_regression"]
    assert plain["gradient_boosting_compared"] is False
    assert compared["gradient_boosting_compared"] is True
    assert [m["model"] for m in compared["models"]] == [
        "logistic_regression",
        "gradient_boosting",
        "gradient_boosting_additive",
    ]
    lr = plain["logistic_regression"]
    assert lr == plain["models"][0] == compared["models"][0] == compared["logistic_regression"]
    assert lr["measured_on"] == "holdout" and lr["auc_ci"][0] < lr["auc"] < lr["auc_ci"][1]
    assert lr["suggestion_minus_model"] == pytest.approx(plain["holdout"]["auc"] - lr["auc"])
    assert rules_compared == rules
    relied_on = ("holdout", "no_signal", "leans_on", "leave_one_column_out", "in_sample")
    assert {k: compared[k] for k in relied_on} == {k: plain[k] for k in relied_on}
    lines = awkward.report(lang=lang)[0].splitlines()
    assert t("cli.suggest.not_compared", lang) in lines
    named = t("cli.suggest.name.logistic_regression", lang)
    (line,) = [x for x in lines if x.strip().startswith(named)]
    assert f"{lr['auc']:.3f}" in line and f"{lr['suggestion_minus_model']:+.3f}" in line
    boosting = t("cli.suggest.name.gradient_boosting", lang)
    assert not [x for x in lines if x.strip().startswith(boosting)]


# --- no signal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_with_no_signal_it_says_so_plainly_and_offers_no_hot_tier(nothing: Case, lang: str) -> None:
    out, rs, err = nothing.suggest("--target-conversion", "0.3", lang=lang)
    assert out["no_signal"] is True and out["holdout"]["no_signal"] is True
    low, high = out["holdout"]["auc_ci"]
    assert low <= 0.5 <= high
    assert out["hot_tier"] is None
    assert t("suggest.no_hot_tier", lang) in out["notes"]
    start = t("backtest.verdict.no_signal", lang).split("{")[0]
    sentence = next(n for n in out["notes"] if n.startswith(start))
    assert f"{low:.2f}" in sentence and "0.50" in sentence
    assert t("suggest.no_hot_tier", lang) in err
    with Store(nothing.db, read_only=True) as store:
        result = evaluate(score_histogram(store, store.require("nothing"), rs), rs)
    assert result.hot_n == 0  # nobody is called hot


# --- small data --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_400_row_file_gets_coarse_rules_and_a_too_little_data_note(tiny: Case, lang: str) -> None:
    out, rs, err = tiny.suggest(lang=lang)
    assert out["too_little_data"] is True
    wins = out["in_sample"]["train_won"]
    assert wins < 100
    note = t(
        "suggest.small_data",
        lang,
        wins=f"{wins:,}",
        groups=2,
        leads=f"{out['fit']['min_group_leads']:,}",
    )
    assert note in out["notes"] and note in err
    assert out["fit"]["groups_per_column"] == 2 and len(rs.rules) <= min(25, wins)
    per_column: dict[str, int] = {}
    for r in rs.rules:
        per_column[r.column] = per_column.get(r.column, 0) + 1
    assert all(n <= 2 for n in per_column.values())  # two groups: at most one split each


# --- a column it leans on ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_column_it_leans_on_is_named_with_both_figures_and_a_question(
    strong: Case, lang: str
) -> None:
    out, rs, err = strong.suggest(lang=lang)
    leaning = {x["column"]: x for x in out["leans_on"]}
    assert "pricing_visits" in leaning
    x = leaning["pricing_visits"]
    assert x["drop"] > 0.05 and x["auc_with"] - x["auc_without"] == pytest.approx(x["drop"])
    question = t(
        "suggest.leans_on",
        lang,
        column="pricing_visits",
        auc=f"{x['auc_with']:.2f}",
        without=f"{x['auc_without']:.2f}",
    )
    assert x["question"] == question and question in err
    assert "pricing_visits" in {r.column for r in rs.rules}  # a question, never an exclusion


def test_a_column_it_leans_on_can_be_left_out_with_one_flag(strong: Case) -> None:
    out, rs, _ = strong.suggest("--exclude", "pricing_visits")
    assert "pricing_visits" not in {r.column for r in rs.rules}
    left_out = {x["column"]: x for x in out["left_out"]}
    assert left_out["pricing_visits"]["why"] == "excluded"
    assert left_out["pricing_visits"]["reason"] == "pricing_visits: left out at your request"


def test_excluding_a_column_the_dataset_lacks_names_it(strong: Case) -> None:
    code, stdout, err = cli(
        "suggest", "--dataset", "strong", "--out", strong.folder / "x.yaml", "--db", strong.db,
        "--exclude", "duration",
    )  # fmt: skip
    assert code == 2 and stdout == "" and "duration" in err
    assert not (strong.folder / "x.yaml").exists()


# --- a file of a few dozen leads, with no behaviour column ------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sixty_leads_keep_every_interval_between_0_and_1_and_the_template_says_why_it_has_no_auc(
    tmp_path: Path, lang: str
) -> None:
    """A few dozen leads gave 'AUC 0.500 (95% CI -0.153–1.153)' and 'simple template: AUC –'."""
    rng = np.random.default_rng(1)
    n = 60
    path = tmp_path / "tiny.csv"
    pd.DataFrame(
        {
            "Lead ID": range(1, n + 1),
            "Created": pd.date_range("2026-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "Industry": rng.choice(["SaaS", "Retail", "Bank"], n),
            "Employees": rng.integers(5, 900, n),
            "Status": rng.choice(["Closed Won", "Closed Lost"], n, p=[0.25, 0.75]),
        }
    ).to_csv(path, index=False)
    db = tmp_path / "funnel.duckdb"
    assert cli("load", path, "--db", db)[0] == 0
    case = Case(db, "tiny", tmp_path)

    out, _, _ = case.suggest(lang=lang)
    low, high = out["holdout"]["auc_ci"]
    assert 0.0 <= low <= high <= 1.0
    text, _ = case.report(lang=lang)
    name = t("rules.name.template", lang)
    assert t("cli.suggest.baseline_none", lang, name=name, auc="–") in text
