"""``funnel evaluate``, ``score``, ``suggest`` and ``template``: the same numbers as the library
(the app's evaluation), files one row per lead, and bad rule files answered with exit 2 and a
plain sentence on stderr (never a traceback), leaving stored data untouched."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import generate_leads
from funnel.filters import NO_FILTERS, Filters
from funnel.formats import shown_in
from funnel.i18n import t
from funnel.ingest import load_demo, load_files, read_inputs
from funnel.rules import (
    CategoryRule,
    CountRule,
    Gate,
    PerUnitRule,
    RangeRule,
    RuleSet,
    Tier,
    ruleset_from_text,
    ruleset_to_json,
    ruleset_to_yaml,
)
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.leads import score_leads
from funnel.store import Store
from funnel.suggest import template_for
from tests.support import Snapshot, backtest_counted, snapshot

T = TypeVar("T")
N = 20_000
TIER_KEYS = {"tier", "n", "won", "rate", "ci_low", "ci_high"}
HEADLINE_KEYS = {"tiers", "precision", "recall", "lift", "auc", "base_rate"}
WEIRD_COLUMN = '会社 "規模"'
WEIRD_VALUES = ("O'Reilly", "株式会社 テスト", "'; DROP TABLE x; --", "a: b")
RULES = RuleSet(
    name="ルール: cli",
    rules=(
        CategoryRule("timeline", "Within 3 months", 20),
        CategoryRule("budget", "Yes", 15),
        RangeRule("employees", 300, None, 10),
        PerUnitRule("web_visits", 1, cap=10),
        PerUnitRule("email_opens", -1, cap=5),
        CountRule("inquiries", 1, 15),
        CountRule("trial_signups", 1, 25),
    ),
    gates=(Gate("email_type", ("Competitor", "Free mail")),),
    tiers=(Tier("hot", 45), Tier("warm", 20), Tier("cold", -math.inf)),
    score_cap=70,
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the demo and a small dataset with awkward names, then closed."""
    folder = tmp_path_factory.mktemp("cli_scoring")
    path = folder / "funnel.duckdb"
    weird = folder / "weird.csv"
    with weird.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["lead id", "作成日", WEIRD_COLUMN, "訪問 回数", "result"])
        for i in range(60):
            writer.writerow(
                [
                    f"X{i:03d}",
                    f"2025-0{1 + i % 3}-{10 + i % 9}",
                    WEIRD_VALUES[i % 4],
                    i % 5,
                    "won" if i % 3 else "lost",
                ]
            )
    with Store(path) as store:
        load_demo(store, "demo", leads=N)
        leads, _, _ = read_inputs(weird)
        load_files(store, "weird", leads, outcome_column="result")
    return path


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "hot leads.yaml"
    path.write_text(ruleset_to_yaml(RULES), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNEL_DEBUG", raising=False)
    monkeypatch.delenv("FUNNEL_LANG", raising=False)


def library(db: Path, compute: Callable[[Store], T]) -> T:
    """Compute with the library on the same database (closed again before the CLI runs)."""
    with Store(db) as store:
        return compute(store)


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*(str(a) for a in argv), "--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> Any:
    code, out, err = run(capsys, db, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def app_evaluation(db: Path, rs: RuleSet, filters: Filters = NO_FILTERS) -> dict[str, Any]:
    def compute(store: Store) -> dict[str, Any]:
        info = store.require("demo")
        return evaluate(score_histogram(store, info, rs, filters), rs).as_dict()

    return library(db, compute)


def counted(frame: pd.DataFrame) -> pd.Series:
    """The demo leads a back-test counts (decided, or open past the time to convert)."""
    return backtest_counted(
        frame["created_at"],
        frame["outcome"],
        frame["closed_date"],
        frame["mql_date"],
        frame["sql_date"],
        frame["opportunity_date"],
    )


def by_hand(frame: pd.DataFrame) -> pd.DataFrame:
    """RULES' score and tier for the raw demo leads, in pandas."""
    f = frame
    score = (
        20 * f["timeline"].eq("Within 3 months").astype(int)
        + 15 * f["budget"].eq("Yes").fillna(False).astype(int)
        + 10 * (f["employees"] >= 300).astype(int)
        + f["web_visits"].clip(upper=10)
        - f["email_opens"].clip(upper=5)
        + 15 * (f["inquiries"] >= 1).astype(int)
        + 25 * (f["trial_signups"] >= 1).astype(int)
    ).clip(upper=70)
    gated = f["email_type"].isin(["Competitor", "Free mail"])
    tier = pd.Series("cold", index=f.index).mask(score >= 20, "warm")
    tier = tier.mask((score >= 45) & ~gated, "hot")
    return pd.DataFrame({"id": f["lead_id"], "score": score.astype(float), "tier": tier})


# --- evaluate -------------------------------------------------------------------------------------


def test_evaluate_json_has_tiers_and_headline_metrics_equal_to_the_apps_evaluation(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path
) -> None:
    payload = run_json(capsys, db, "evaluate", "--dataset", "demo", "--rules", rules_file)
    assert HEADLINE_KEYS <= set(payload)
    assert isinstance(payload["tiers"], list) and len(payload["tiers"]) == 3
    for tier in payload["tiers"]:
        assert TIER_KEYS <= set(tier)
    assert [t["tier"] for t in payload["tiers"]] == ["hot", "warm", "cold"]
    expected = app_evaluation(db, RULES) | {"capacity_per_week": None}
    assert payload == json.loads(json.dumps(expected))
    leads = generate_leads(N, seed=7)
    scored = by_hand(leads)[counted(leads)]
    assert [t["n"] for t in payload["tiers"]] == [
        int(scored["tier"].eq(name).sum()) for name in ("hot", "warm", "cold")
    ]
    assert payload["population"]["counted"] == len(scored) < N
    assert 0 < payload["precision"] <= 1 and 0.5 < payload["auc"] < 1


def test_evaluate_honours_filters_and_capacity(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path
) -> None:
    payload = run_json(
        capsys, db, "evaluate", "--dataset", "demo", "--rules", rules_file,
        "--where", "source=Ads", "--where", "source=Referral", "--from", "2025-07-01",
        "--capacity", "12.5",
    )  # fmt: skip
    filters = Filters(
        date_from=pd.Timestamp("2025-07-01").date(), equals=(("source", ("Ads", "Referral")),)
    )
    expected = app_evaluation(db, RULES, filters) | {"capacity_per_week": 12.5}
    assert payload == json.loads(json.dumps(expected))
    assert payload["n"] < N


def test_evaluate_text_names_the_dataset_rule_set_tiers_and_metrics(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path
) -> None:
    code, out, err = run(
        capsys, db, "evaluate", "--dataset", "demo", "--rules", rules_file, "--capacity", "1"
    )
    assert code == 0, err
    assert out.startswith(f"demo: {RULES.name} — 20,000 leads")
    kept = int(counted(generate_leads(N, seed=7)).sum())
    assert f"Measured on {kept:,} decided or mature leads; {N - kept:,} still open" in out
    for word in ("hot", "warm", "cold", "per week"):
        assert word in out
    for m in shown_in("evaluate"):  # one line per metric: its label, then its value
        assert f"  {m.label('en')}" in out
    assert "Hot conversion (precision)" in out and "Ranking quality (AUC)" in out
    assert "(over capacity)" in out


def test_evaluate_reads_json_rule_files_and_awkward_names_pass_through(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rs = RuleSet(
        rules=(
            CategoryRule(WEIRD_COLUMN, "O'Reilly", 50),
            CategoryRule(WEIRD_COLUMN, "'; DROP TABLE x; --", 50),
            CountRule("訪問 回数", 4, 1),
        ),
        gates=(Gate(WEIRD_COLUMN, ("a: b",)),),
        tiers=(Tier("熱い", 50), Tier("冷たい", -math.inf)),
    )
    path = tmp_path / "規則.json"
    path.write_text(ruleset_to_json(rs), encoding="utf-8")
    payload = run_json(capsys, db, "evaluate", "--dataset", "weird", "--rules", path)
    hot = [i for i in range(60) if i % 4 in (0, 2)]
    assert payload["tiers"][0] == payload["tiers"][0] | {
        "tier": "熱い",
        "n": len(hot),
        "won": sum(1 for i in hot if i % 3),
    }
    assert payload["n"] == 60


# --- score ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_writes_one_row_per_lead_identical_to_the_librarys_scores(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"scored leads{suffix}"
    code, stdout, err = run(
        capsys, db, "score", "--dataset", "demo", "--rules", rules_file, "--out", out
    )
    assert code == 0, err
    assert stdout == "" and "20,000 scored leads" in err
    if suffix == ".csv":
        written = pd.read_csv(out, dtype={"id": str, "tier": str}, keep_default_na=False)
    else:
        written = pd.read_parquet(out)
    assert list(written.columns)[:4] == ["id", "score", "tier", "reasons"]
    assert len(written) == N and written["id"].is_unique
    assert "outcome" not in written.columns

    def compute(store: Store) -> tuple[pd.DataFrame, dict[str, Any]]:
        info = store.require("demo")
        hist = score_histogram(store, info, RULES)
        return score_leads(store, info, RULES), evaluate(hist, RULES).as_dict()

    library_scores, evaluation = library(db, compute)
    written = written.set_index("id").sort_index()
    library_scores = library_scores.set_index("id").sort_index()
    assert written.index.tolist() == library_scores.index.tolist()
    assert written["score"].astype(float).tolist() == library_scores["score"].tolist()
    assert written["tier"].tolist() == library_scores["tier"].tolist()
    assert written["reasons"].tolist() == library_scores["reasons"].tolist()
    leads = generate_leads(N, seed=7)
    decided = written.index.isin(leads.loc[counted(leads), "lead_id"])
    counts = written.loc[decided, "tier"].value_counts()  # what the evaluation counts
    assert [counts.get(t["tier"], 0) for t in evaluation["tiers"]] == [
        t["n"] for t in evaluation["tiers"]
    ]
    scored = by_hand(leads).set_index("id").sort_index()
    assert written["score"].astype(float).tolist() == scored["score"].tolist()
    assert written["tier"].tolist() == scored["tier"].tolist()


def test_score_honours_filters(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kanto.csv"
    code, _, err = run(
        capsys, db, "score", "--dataset", "demo", "--rules", rules_file, "--out", out,
        "--where", "region=Kanto",
    )  # fmt: skip
    assert code == 0, err
    written = pd.read_csv(out, dtype={"id": str})
    leads = generate_leads(N, seed=7)
    assert sorted(written["id"]) == sorted(leads.loc[leads["region"].eq("Kanto"), "lead_id"])


# --- suggest and template -------------------------------------------------------------------------


def test_suggest_writes_a_rule_file_that_evaluate_reads(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "suggested.yaml"
    code, stdout, err = run(
        capsys, db, "suggest", "--dataset", "demo", "--out", out, "--target-conversion", "0.3"
    )
    assert code == 0, err
    rs = ruleset_from_text(out.read_text(encoding="utf-8"))
    lines = stdout.splitlines()
    assert lines[0] == t("cli.suggest.wrote", file=out, rules=len(rs.rules))
    assert lines[1].startswith("On leads it was not fitted on (holdout: leads created since ")
    assert any(x.startswith("  simple template: AUC 0.") for x in lines)
    payload = run_json(capsys, db, "evaluate", "--dataset", "demo", "--rules", out)
    assert payload == json.loads(json.dumps(app_evaluation(db, rs) | {"capacity_per_week": None}))
    assert payload["tiers"][0]["tier"] == "hot"
    # the threshold was chosen on the holdout, where its lower bound reaches the target
    assert t("backtest.target.chosen", score=f"{rs.hot.min_score:g}").split(":")[0] in err


def test_suggest_json_reports_the_holdout_against_the_template(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.yaml"
    payload = run_json(
        capsys, db, "suggest", "--dataset", "demo", "--out", out, "--max-points", "10"
    )
    kept = int(counted(generate_leads(N, seed=7)).sum())  # decided or mature leads
    assert payload["split"] == "time" and payload["train_n"] + payload["holdout_n"] == kept
    assert payload["baseline"]["name"] == "simple template"
    assert payload["holdout_auc"] > payload["baseline_auc"]
    assert payload["holdout"]["auc"] == payload["holdout_auc"]
    rs = ruleset_from_text(out.read_text(encoding="utf-8"))
    assert max(abs(r.points) for r in rs.rules) == 10


def test_template_writes_the_simple_template_for_the_dataset(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "template.yaml"
    code, stdout, err = run(capsys, db, "template", "--dataset", "demo", "--out", out)
    assert code == 0, err
    assert stdout == "" and f"wrote {out}" in err
    rs = ruleset_from_text(out.read_text(encoding="utf-8"))
    assert rs == library(db, lambda s: template_for(s.require("demo")))
    assert [(r.column, r.points) for r in rs.rules] == [
        ("web_visits", 1),
        ("document_requests", 2),
        ("newsletter_signups", 2),
        ("inquiries", 3),
    ]
    payload = run_json(capsys, db, "evaluate", "--dataset", "demo", "--rules", out)
    assert [t["tier"] for t in payload["tiers"]] == ["A", "B", "C"]


# --- bad rule files -------------------------------------------------------------------------------


def _missing(path: Path) -> Path:
    return path.parent / "no such rules.yaml"


def _unknown_column(path: Path) -> Path:
    path.write_text(
        "rules:\n  - {kind: category, column: nope, value: x, points: 5}\n"
        "gates:\n  - {column: 業種なし, values: [x]}\n",
        encoding="utf-8",
    )
    return path


def _malformed(path: Path) -> Path:
    path.write_text("rules: [kind: category\n  column: : x\n", encoding="utf-8")
    return path


def _newer(path: Path) -> Path:
    path.write_text("schema_version: 99\nrules: []\n", encoding="utf-8")
    return path


def _python_tag(path: Path) -> Path:
    marker = path.parent / "pwned"
    path.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    return path


def _bad_points(path: Path) -> Path:
    path.write_text(
        "rules:\n  - {kind: per_unit, column: web_visits, points: 1.0e+9}\n", encoding="utf-8"
    )
    return path


def _a_list(path: Path) -> Path:
    path.write_text("- web_visits\n- inquiries\n", encoding="utf-8")
    return path


BAD_RULES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "missing-file": (_missing, ("no such rules.yaml", "does not exist")),
    "unknown-column": (_unknown_column, ("unknown column(s) nope, 業種なし", "lead_id")),
    "malformed-yaml": (_malformed, ("R.yaml", "not valid YAML or JSON")),
    "newer-schema": (_newer, ("schema_version 99 is newer", "upgrade funnel")),
    "python-tag": (_python_tag, ("not valid YAML or JSON",)),
    "points-too-big": (_bad_points, ("rule 1", "whole number between -1000 and 1000")),
    "not-a-mapping": (_a_list, ("expected a mapping",)),
}


def stored(db: Path) -> list[Snapshot]:
    return library(db, lambda s: [snapshot(s, d.name) for d in s.datasets()])


@pytest.fixture(scope="module")
def stored_before(db: Path) -> list[Snapshot]:
    return stored(db)


@pytest.mark.parametrize("command", ["evaluate", "score"])
@pytest.mark.parametrize(("make", "fragments"), BAD_RULES.values(), ids=BAD_RULES.keys())
def test_a_bad_rule_file_exits_2_with_one_plain_sentence_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    db: Path,
    stored_before: list[Snapshot],
    tmp_path: Path,
    make: Callable[[Path], Path],
    fragments: tuple[str, ...],
    command: str,
) -> None:
    rules = make(tmp_path / "R.yaml")
    out = tmp_path / "scored.csv"
    extra = ["--out", out] if command == "score" else ["--json"]
    code, stdout, err = run(capsys, db, command, "--dataset", "demo", "--rules", rules, *extra)
    assert code == 2, err
    assert stdout == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} missing from {err!r}"
    assert not out.exists()
    assert not (tmp_path / "pwned").exists()
    assert stored(db) == stored_before


def test_an_unknown_dataset_exits_2_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str], db: Path, rules_file: Path
) -> None:
    code, stdout, err = run(capsys, db, "evaluate", "--dataset", "nope", "--rules", rules_file)
    assert code == 2 and stdout == ""
    assert "nope" in err and "demo" in err and "weird" in err
