"""Issue 12's synthetic cases through the command line in English and Japanese, where the
other tests cover one language only: an innocent ``*_Status`` column is scored and a status
that follows the outcome is left out, with its evidence, by ``load`` and ``suggest``; a numeric
leak never becomes a rule and ``suggest`` says why; mostly-zero, code and identifier columns
are read and said in the reader's language; an opportunity export with open stages says which
leads its figures count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from funnel.i18n import t
from funnel.rules import ruleset_from_text
from funnel.store import Store
from tests.issue12_files import (
    OPEN_STAGES,
    a_rare_sure_value,
    five_strong_columns,
    leads_and_deals,
    leads_with_leaks,
    opportunities,
)
from tests.support import cli
from tests.synthetic import awkward_leads

EVIDENCE = {
    "basket_value": {
        "en": "won 100% above 0, lost 0%",
        "ja": "受注の 100% が 0 より大きい（失注は 0%）",
    },
}


def suggest(db: Path, name: str, lang: str, folder: Path) -> tuple[dict[str, Any], set[str], str]:
    """``suggest --json``: the record, the columns its rules use, and the text report."""
    out = folder / f"{name}-{lang}.yaml"
    code, stdout, err = cli(
        "--lang", lang, "suggest", "--dataset", name, "--out", out, "--json", "--db", db
    )
    assert code == 0, err
    rules = {r.column for r in ruleset_from_text(out.read_text(encoding="utf-8")).rules}
    code, text, err = cli("--lang", lang, "suggest", "--dataset", name, "--out", out, "--db", db)
    assert code == 0, err
    return json.loads(stdout), rules, text


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("leaky")
    path = folder / "leaky.csv"
    leads_with_leaks().to_csv(path, index=False)
    db = folder / "funnel.duckdb"
    assert cli("load", path, "--db", db)[0] == 0
    return db, folder


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_load_says_why_leaks_are_left_out_and_keeps_an_innocent_status_column(
    tmp_path: Path, lang: str
) -> None:
    path = tmp_path / "leads.csv"
    leads_with_leaks().to_csv(path, index=False)

    code, out, _ = cli("--lang", lang, "load", path, "--db", tmp_path / "f.duckdb", "--json")

    assert code == 0
    listed = {x["column"]: x for x in json.loads(out)["left_out"]}
    assert "Marital_Status" not in listed
    assert listed["basket_value"]["why"] == EVIDENCE["basket_value"][lang]
    assert listed["lead_status"]["reason"] == "leak.named"
    assert "Converted" in listed["lead_status"]["why"]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_suggest_never_scores_a_leak_says_why_and_reads_the_innocent_status(
    leaky: tuple[Path, Path], lang: str
) -> None:
    db, folder = leaky

    out, rules, text = suggest(db, "leaky", lang, folder)

    assert not rules & {"basket_value", "lead_status"}
    left_out = {x["column"]: x for x in out["left_out"]}
    assert EVIDENCE["basket_value"][lang] in left_out["basket_value"]["reason"]
    assert "Converted" in left_out["lead_status"]["reason"]
    read = {c["column"]: c for c in out["columns"]}
    assert read["Marital_Status"]["scored"] and read["Marital_Status"]["read_as"] == "category"
    assert "Marital_Status" not in left_out
    assert "  " + left_out["basket_value"]["reason"] in text.splitlines()


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("awkward")
    frame = awkward_leads(n=4000, seed=21)
    refs = np.random.default_rng(2).permutation(len(frame))
    frame.insert(2, "contact_ref", [f"C-{i:07d}" for i in refs])
    path = folder / "awkward.csv"
    frame.to_csv(path, index=False)
    db = folder / "funnel.duckdb"
    assert cli("load", path, "--outcome", "won", "--db", db)[0] == 0
    return db, folder


def test_zeros_codes_and_identifiers_are_read_alike_and_said_in_japanese(
    awkward: tuple[Path, Path],
) -> None:
    db, folder = awkward
    en, rules, _ = suggest(db, "awkward", "en", folder)
    ja, rules_ja, text = suggest(db, "awkward", "ja", folder)

    assert rules_ja == rules
    assert not rules & {"lead_id", "customer_id", "session_hash", "contact_ref"}
    kinds = {c["column"]: c["read_as"] for c in ja["columns"]}
    assert kinds == {c["column"]: c["read_as"] for c in en["columns"]}
    assert (kinds["pricing_visits"], kinds["basket_value"]) == ("mostly_zero", "mostly_zero")
    assert (kinds["region_code"], kinds["device_code"]) == ("code", "code")
    lines = text.splitlines()
    for c in ja["columns"]:
        assert f"  {c['evidence']}" in lines, c["column"]
    left_out = {x["column"]: x["reason"] for x in ja["left_out"]}
    assert {"contact_ref", "session_hash", "customer_id"} <= set(left_out)
    assert "識別子" in left_out["contact_ref"] and "contact_ref" in left_out["contact_ref"]
    for column in ("contact_ref", "session_hash"):
        assert "  " + left_out[column] in lines


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_open_stages_are_not_counted_as_lost_and_suggest_says_which_leads_it_counts(
    tmp_path: Path, lang: str
) -> None:
    frame = opportunities()
    path = tmp_path / "opps.csv"
    frame.to_csv(path, index=False)
    db = tmp_path / "funnel.duckdb"
    code, out, _ = cli("--lang", lang, "load", path, "--db", db, "--json")
    assert code == 0
    loaded = json.loads(out)
    still_open = int(frame["Stage"].isin(OPEN_STAGES).sum())
    assert loaded["open"] == still_open

    record, _, text = suggest(db, "opps", lang, tmp_path)

    population = record["population"]
    assert population["rule"] != "all_decided" and population["left_out"] > 0
    assert population["counted"] + population["left_out"] == len(frame)
    assert population["counted"] >= loaded["won"] + loaded["lost"]  # decided, and mature open
    assert population["rule"] == "mature"  # created dates tell an old open deal from a new one
    sentence = t(
        "population.left_out_mature",
        lang,
        n=f"{population['counted']:,}",
        out=f"{population['left_out']:,}",
    )
    assert text.splitlines()[2] == "  " + sentence


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_implausibly_high_auc_is_said_and_the_column_it_leans_on_most_is_asked_about(
    tmp_path: Path, lang: str
) -> None:
    path = tmp_path / "high.csv"
    five_strong_columns().to_csv(path, index=False)
    db = tmp_path / "funnel.duckdb"
    code, out, _ = cli("load", path, "--db", db, "--json")
    assert code == 0 and [x["column"] for x in json.loads(out)["left_out"]] == ["lead_id"]

    record, rules, text = suggest(db, "high", lang, tmp_path)

    auc = record["holdout"]["auc"]
    assert auc >= 0.9
    assert t("suggest.high_auc", lang, auc=f"{auc:.2f}") in record["notes"]
    drops = {x["column"]: x["drop"] for x in record["leave_one_column_out"]}
    assert max(drops.values()) <= 0.05  # no column crosses the leaning threshold by itself
    (asked,) = record["leans_on"]
    assert asked["column"] == max(drops, key=lambda c: drops[c])
    question = t(
        "suggest.leans_on",
        lang,
        column=asked["column"],
        auc=f"{asked['auc_with']:.2f}",
        without=f"{asked['auc_without']:.2f}",
    )
    assert question in record["notes"]
    assert asked["question"] == question  # the JSON asks what the report asks
    assert asked["column"] in rules  # asked about, never left out by itself


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_target_only_a_handful_of_held_out_leads_meet_says_so(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "rare.csv"
    a_rare_sure_value().to_csv(path, index=False)
    db = tmp_path / "funnel.duckdb"
    assert cli("load", path, "--db", db, "--dataset", "rare")[0] == 0
    out = tmp_path / "rare.yaml"

    code, stdout, err = cli(
        "--lang", lang, "suggest", "--dataset", "rare", "--out", out, "--json", "--db", db,
        "--target-conversion", "0.7",
    )  # fmt: skip

    assert code == 0, err
    hot = json.loads(stdout)["hot_tier"]
    assert hot["reachable"] and hot["measured_on"] == "holdout" and hot["hot_rate_ci"][0] >= 0.7
    assert hot["few"] is True and 0 < hot["hot_n"] < 30
    assert t("backtest.few", lang, n=f"{hot['hot_n']:,}") in err


@pytest.mark.parametrize(
    ("lang", "category", "date"),
    [
        (
            "en",
            "handover: won 100% in {Account team, Onboarding}, lost 0%",
            "last_touch: won 100% after 2024-01-15, lost 0%",
        ),
        (
            "ja",
            "handover: 受注の 100% が {Account team, Onboarding}（失注は 0%）",
            "last_touch: 受注の 100% が 2024-01-15 より後（失注は 0%）",
        ),
    ],
)
def test_a_category_and_a_date_known_only_after_the_sale_are_left_out_with_their_figures(
    tmp_path: Path, lang: str, category: str, date: str
) -> None:
    """Neither name hints at a sale: the data alone flag them (issue 12: "a column (number,
    category or date) that alone separates won from lost")."""
    rng = np.random.default_rng(2)
    n = 800
    won = rng.random(n) < 0.3
    path = tmp_path / "leads.csv"
    pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "industry": rng.choice(["IT", "Retail"], n),
            "handover": np.where(
                won,
                rng.choice(["Onboarding", "Account team"], n),
                rng.choice(["None", "Nurture"], n),
            ),
            "last_touch": np.where(won, "2026-06-30", "2024-01-15"),
            "outcome": np.where(won, "Won", "Lost"),
        }
    ).to_csv(path, index=False)

    code, out, _ = cli("--lang", lang, "load", path, "--db", tmp_path / "f.duckdb")

    assert code == 0
    lines = out.splitlines()
    assert "  " + category in lines and "  " + date in lines
    assert not [x for x in lines if x.startswith("  industry")]


def test_a_persons_word_either_way_is_said_back_in_japanese(tmp_path: Path) -> None:
    """--not-leak scores a flagged column, --leak leaves an honest one out; the load says so
    in the reader's language (the English is checked in test_evidence)."""
    path = tmp_path / "leads.csv"
    leads_with_leaks().to_csv(path, index=False)
    db = tmp_path / "f.duckdb"

    code, out, _ = cli(
        "--lang", "ja", "load", path, "--db", db, "--not-leak", "basket_value", "--leak",
        "industry",
    )  # fmt: skip

    assert code == 0
    lines = out.splitlines()
    kept = t("leak.kept", "ja", why=EVIDENCE["basket_value"]["ja"])
    assert t("left.kept_header", "ja") in lines
    assert lines[lines.index(t("left.kept_header", "ja")) + 1] == f"  basket_value: {kept}"
    assert f"  industry: {t('leak.user', 'ja')}" in lines
    with Store(db, read_only=True) as store:
        features = [s.name for s in store.require("leads").mapping.features()]
    assert "basket_value" in features and "industry" not in features


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_outcomes_files_deal_columns_are_never_called_best_by_segments(
    tmp_path: Path, lang: str
) -> None:
    leads, deals = leads_and_deals()
    leads.to_csv(tmp_path / "leads.csv", index=False)
    deals.to_csv(tmp_path / "deals.csv", index=False)
    db = tmp_path / "f.duckdb"
    code, out, _ = cli(
        "load", tmp_path / "leads.csv", "--outcomes", tmp_path / "deals.csv", "--db", db,
        "--dataset", "mql", "--json",
    )  # fmt: skip
    assert code == 0
    listed = {x["column"]: x["reason"] for x in json.loads(out)["left_out"]}
    assert listed["business_segment"] == listed["lead_type"] == "leak.outcomes_file"

    code, out, err = cli(
        "--lang", lang, "segments", "--dataset", "mql", "--by", "business_segment", "--db", db,
        "--json",
    )  # fmt: skip

    assert code == 0, err
    record = json.loads(out)
    assert (record["best"], record["worst"]) == (None, None)
    assert record["ranking"]["verdict"] == "after_sale"
    assert all(
        row["after_sale"] and not (row["best"] or row["worst"]) for row in record["segments"]
    )
    code, out, err = cli(
        "--lang", lang, "segments", "--dataset", "mql", "--by", "business_segment", "--db", db
    )
    assert code == 0
    assert t("segments.after_sale", lang, columns="business_segment") in err


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("a date other than the creation date", "a record number", "another role")),
        ("ja", ("作成日以外の日付", "連番", "別の役割")),
    ],
)
def test_columns_the_proposal_set_aside_say_why_not_as_if_the_user_had(
    tmp_path: Path, lang: str, words: tuple[str, ...]
) -> None:
    """A unique whole-number ``customer_id`` and a second date are proposed as 'ignore'; the
    load said "set to ignore: not used", as if the user had set it, with no reason."""
    frame = leads_with_leaks(n=600)
    frame.insert(1, "customer_id", np.random.default_rng(1).permutation(len(frame)) + 10_000)
    frame["signup_ts"] = pd.date_range("2024-01-01", periods=len(frame), freq="7h").strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)

    code, out, _ = cli("--lang", lang, "load", path, "--db", tmp_path / "f.duckdb", "--json")

    assert code == 0
    listed = {x["column"]: x for x in json.loads(out)["left_out"]}
    for column in ("customer_id", "signup_ts"):
        assert listed[column]["reason"] == "left.ignore"
        assert all(w in listed[column]["why"] for w in words), listed[column]["why"]
