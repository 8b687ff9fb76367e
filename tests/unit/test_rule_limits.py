"""A rule set of the most rules allowed (1,000) scores, explains, compares, saves and exports
like any other; one rule more is refused in one sentence wherever a rule set comes in: a file,
a shared link, an import, the command line and a suggestion from the data."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from funnel import suggest
from funnel.cli import main
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import (
    MAX_RULES,
    RuleSet,
    RuleSetError,
    decode_ruleset,
    ruleset_from_text,
    ruleset_to_dict,
)
from funnel.scoring.compare import disagreement, moved, tier_moves
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.leads import explain_lead, score_leads
from funnel.sqlexport import ruleset_sql
from funnel.store import DatasetInfo, Store
from funnel.versions.files import import_version
from funnel.versions.history import list_versions, save_version
from tests.engines.sqlcases import (
    Case,
    assert_same_as_app,
    duckdb_text_rows,
    large_rules,
    load_case,
    many_rules,
    write_demo_leads,
)
from tests.support import rule_points

LEADS = 400


def large(n: int = MAX_RULES) -> RuleSet:
    return large_rules(n)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("limits")
    write_demo_leads(path / "leads.csv", LEADS)
    return path


@pytest.fixture(scope="module")
def loaded(folder: Path) -> Iterator[tuple[Store, DatasetInfo, Case]]:
    with Store(folder / "funnel.duckdb") as store:
        case = load_case(store, "demo", folder / "leads.csv", large())
        yield store, store.require("demo"), case


def test_the_most_rules_allowed_score_every_lead_as_computed_by_hand(
    loaded: tuple[Store, DatasetInfo, Case],
) -> None:
    store, info, _ = loaded
    rs = large()
    scored = score_leads(store, info, rs).set_index("id")
    frame = store.fetch_frame(f"SELECT * FROM {info.table()}").set_index("lead_id")
    by_hand = sum((rule_points(r, frame) for r in rs.rules), pd.Series(0.0, index=frame.index))

    assert len(rs.rules) == MAX_RULES == 1000
    assert scored["score"].astype(float).sort_index().tolist() == by_hand.sort_index().tolist()
    assert by_hand.nunique() > 20  # the points really vary
    hist = score_histogram(store, info, rs)
    assert hist.counted.total == LEADS  # every lead scored; the back-test counts the mature
    assert evaluate(hist, rs).counted == hist.counted


def test_the_most_rules_allowed_explain_compare_and_save(
    loaded: tuple[Store, DatasetInfo, Case],
) -> None:
    store, info, _ = loaded
    rs = large()
    small = RuleSet(rules=many_rules(8), tiers=rs.tiers)
    scored = score_leads(store, info, rs).set_index("id")
    lead = str(scored.index[0])

    explained = explain_lead(store, info, rs, lead)
    assert explained is not None
    assert explained.score == float(scored.loc[lead, "score"])
    assert sum(p for _, p in explained.points) == explained.score

    change = moved(store, info, small, rs)
    matrix = disagreement(store, info, small, rs)
    moves, _ = tier_moves(store, info, small, rs)
    hot_small = int((score_leads(store, info, small)["tier"] == "hot").sum())
    hot_large = int((scored["tier"] == "hot").sum())
    assert hot_small - change["left"] + change["entered"] == hot_large
    assert matrix.both[0] + matrix.only_b[0] == hot_large
    assert sum(n for _, to, n in moves if to == "hot") == change["entered"]

    saved = save_version(store, info, rs, author="Aiko")
    assert saved.ruleset == rs
    assert list_versions(store, "demo")[0].ruleset == rs


def test_the_most_rules_allowed_export_as_sql_that_tiers_every_lead_as_the_app(
    loaded: tuple[Store, DatasetInfo, Case], folder: Path
) -> None:
    _, info, case = loaded
    sql = ruleset_sql(case.rules, info.mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_text_rows(sql, {"leads": folder / "leads.csv"}))


def test_one_rule_more_is_refused_naming_the_limit_and_the_count() -> None:
    with pytest.raises(RuleSetError) as err:
        large(MAX_RULES + 1)

    assert err.value.code == "too_many_rules"
    assert err.value.message("en") == t(
        "ruleset.too_many_rules", "en", limit="1,000", count="1,001"
    )
    assert "1,000" in err.value.message("ja") and "1,001" in err.value.message("ja")


def test_a_file_or_a_shared_link_with_one_rule_more_is_refused_naming_it() -> None:
    data = ruleset_to_dict(large())
    data["rules"].append(data["rules"][0])
    text = json.dumps(data)

    with pytest.raises(RuleSetError) as err:
        ruleset_from_text(text, source="big.json")
    assert str(err.value).startswith("big.json: A rule set can hold at most 1,000 rules")

    link = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    with pytest.raises(RuleSetError) as err:
        decode_ruleset(link)
    assert err.value.code == "too_many_rules"
    assert err.value.message("ja").startswith("共有リンク: ")


def _big_file(folder: Path) -> Path:
    data = ruleset_to_dict(large())
    data["rules"].append(data["rules"][1])
    path = folder / "big.yaml"  # JSON is YAML too
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def test_importing_one_rule_more_is_refused_and_stores_nothing(folder: Path) -> None:
    path = _big_file(folder)
    with Store(folder / "import.duckdb") as store:
        info = load_files(store, "demo", *read_inputs(folder / "leads.csv")).dataset
        with pytest.raises(RuleSetError) as err:
            import_version(store, info, path.read_text("utf-8"), source="big.yaml", author="A")
        assert err.value.code == "too_many_rules"
        assert list_versions(store) == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_cli_refuses_one_rule_more_in_one_sentence(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    path = _big_file(folder)
    db = tmp_path / "funnel.duckdb"
    with Store(db) as store:
        load_files(store, "demo", *read_inputs(folder / "leads.csv"))
    expected = t("ruleset.too_many_rules", lang, limit="1,000", count="1,001")
    for argv in (
        ["evaluate", "--dataset", "demo", "--rules", str(path)],
        ["rules", "import", str(path), "--dataset", "demo", "--author", "A"],
    ):
        capsys.readouterr()
        code = main([*argv, "--db", str(db), "--lang", lang])
        _, err = capsys.readouterr()
        assert code == 2
        assert expected in err and "Traceback" not in err
    with Store(db) as store:
        assert list_versions(store) == []


def test_a_suggestion_stays_within_the_rule_limit(
    loaded: tuple[Store, DatasetInfo, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suggestion's rule budget (at most 25) also respects the rule-set limit."""
    store, info, _ = loaded
    full = suggest.suggest_rules(store, info).ruleset
    monkeypatch.setattr(suggest.engine, "MAX_RULES", 5)
    capped = suggest.suggest_rules(store, info).ruleset

    assert len(full.rules) > 5 and 0 < len(capped.rules) <= 5
    assert {r.column for r in capped.rules} <= {r.column for r in full.rules}
