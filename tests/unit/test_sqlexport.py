"""Exported SQL: one golden file per dialect, and the DuckDB query tiers every lead as the app.

The raw leads file is loaded twice: through funnel's own ingest (the app's tiers, from
``scoring.score_leads``) and as an all-text DuckDB table that the exported query reads. Every
lead's score and tier must agree. PostgreSQL and Spark run the same checks in
``tests/engines``; Snowflake and BigQuery are checked there structurally.

Rewrite the golden files with ``FUNNEL_UPDATE_GOLDEN=1`` after a deliberate change.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from funnel.dialects import (
    DIALECTS,
    GROUPED_PATTERN,
    SqlExportError,
    clean_text,
    parse_number,
)
from funnel.mapping import ColumnSpec, Mapping
from funnel.parsing import GROUPED_NUMBER, parse_numbers
from funnel.rules import CategoryRule, CountRule, Gate, PerUnitRule, RangeRule, RuleSet, Tier
from funnel.sqlexport import ruleset_sql
from funnel.store import Store, quote_ident
from tests.engines.sqlcases import (
    ACTIVITY_DECAYED_RULES,
    ACTIVITY_RULES,
    CATEGORY_PROBE_RULES,
    CATEGORY_PROBES,
    GOLDEN_DIR,
    GOLDEN_MAPPING,
    GOLDEN_RULES,
    GOLDEN_TABLE,
    NUMBER_PROBE_RULES,
    NUMBER_PROBES,
    NUMBER_PROBES_UNLIKE_APP,
    OLIST_RULES,
    Case,
    assert_same_as_app,
    category_mirror,
    demo_rules,
    duckdb_text_rows,
    load_activity_case,
    load_case,
    number_mirror,
    probe_mapping,
    probe_scores,
    write_demo_leads,
    write_golden_leads,
    write_probe,
)

DEMO_LEADS = 3_000


def golden_path(dialect: str) -> Path:
    return GOLDEN_DIR / f"golden_{dialect}.sql"


def duckdb_rows(sql: str, path: Path, table: str = "leads", **read: Any) -> list[tuple[Any, ...]]:
    """Run an exported query over a raw CSV file loaded as an all-text DuckDB table."""
    con = duckdb.connect()
    try:
        if "." in table:
            con.execute(f'CREATE SCHEMA "{table.split(".")[0]}"')
        options = {"all_varchar": True, "header": True, "delim": ",", "quote": '"', "escape": '"'}
        options.update(read)
        args = ", ".join(f"{k} := ${k}" for k in options)
        name = ".".join(f'"{part}"' for part in table.split("."))
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv($path, {args})",
            {"path": str(path), **options},
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Case]]:
    """The golden file's leads and the demo (English, Japanese), loaded as the app loads them."""
    folder = tmp_path_factory.mktemp("sqlexport")
    with Store(folder / "funnel.duckdb") as store:
        out = {
            "golden": load_case(
                store,
                "golden",
                write_golden_leads(folder / "golden leads.csv"),
                GOLDEN_RULES,
                mapping=GOLDEN_MAPPING,
            )
        }
        for lang in ("en", "ja"):
            path = write_demo_leads(folder / f"demo_{lang}.csv", DEMO_LEADS, lang)
            out[f"demo_{lang}"] = load_case(store, f"demo_{lang}", path, demo_rules(lang))
        yield out


# --- golden files ----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_exported_sql_matches_its_golden_file(dialect: str) -> None:
    sql = ruleset_sql(GOLDEN_RULES, GOLDEN_MAPPING, dialect=dialect, table=GOLDEN_TABLE)
    path = golden_path(dialect)
    if os.environ.get("FUNNEL_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with FUNNEL_UPDATE_GOLDEN=1"
    assert sql == path.read_text(encoding="utf-8"), (
        f"{path.name} is out of date: review the change, then run with FUNNEL_UPDATE_GOLDEN=1"
    )


def test_the_golden_duckdb_file_tiers_every_lead_as_the_app_does(cases: dict[str, Case]) -> None:
    case = cases["golden"]
    sql = golden_path("duckdb").read_text(encoding="utf-8")

    assert_same_as_app(case, duckdb_rows(sql, case.csv, GOLDEN_TABLE))


def test_the_golden_leads_exercise_every_kind_of_rule_gate_and_tier(
    cases: dict[str, Case],
) -> None:
    app = cases["golden"].expected

    assert set(app["tier"]) == {"hot", "warm", "cold"}
    assert app["score"].max() == 60  # the cap
    assert app["score"].min() < 0
    assert (app["score"] % 1 != 0).any()  # per-unit points on fractional numbers
    assert ((app["score"] >= 45) & (app["tier"] == "warm")).any()  # knocked out, not hot
    on_the_edge = app[app["id"].str.startswith("B")].set_index("id")
    assert on_the_edge.to_dict("index") == {
        "B20.5": {"score": 20.5, "tier": "warm"},
        "B20.25": {"score": 20.25, "tier": "cold"},
        "B45": {"score": 45.0, "tier": "hot"},
        "B45-gated": {"score": 45.0, "tier": "warm"},
    }


def test_the_stored_mapping_gives_the_same_sql_as_the_hand_written_one(
    cases: dict[str, Case],
) -> None:
    stored = cases["golden"].mapping

    for dialect in DIALECTS:
        assert ruleset_sql(GOLDEN_RULES, stored, dialect=dialect, table=GOLDEN_TABLE) == (
            ruleset_sql(GOLDEN_RULES, GOLDEN_MAPPING, dialect=dialect, table=GOLDEN_TABLE)
        )


# --- DuckDB agrees with the app, lead by lead --------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_duckdb_tiers_every_demo_lead_as_the_app_does(cases: dict[str, Case], lang: str) -> None:
    case = cases[f"demo_{lang}"]
    sql = ruleset_sql(case.rules, case.mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_rows(sql, case.csv))
    assert case.expected["tier"].nunique() == 4


def test_typed_number_and_date_columns_tier_the_same_as_text_ones(cases: dict[str, Case]) -> None:
    # (a yes/no column typed BOOLEAN would read true/false: the SQL compares text)
    case = cases["demo_en"]
    sql = ruleset_sql(case.rules, case.mapping, dialect="duckdb")
    types = ["BIGINT", "DOUBLE", "DATE", "VARCHAR"]

    rows = duckdb_rows(sql, case.csv, all_varchar=False, auto_type_candidates=types)

    assert_same_as_app(case, rows)


def test_placeholders_in_raw_text_count_as_missing_like_the_app(tmp_path: Path) -> None:
    rows = [
        ("L1", "N/A", " unknown ", "Corporate"),
        ("L2", "12", "SaaS", " N/A "),
        ("L3", " unknown ", "Select", "unknown"),
        ("L4", "-", "不明", "Competitor"),
        ("L5", "3", "saas", "Corporate"),
    ]
    path = tmp_path / "placeholders.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([("id", "visits", "industry", "email"), *rows])
    rules = RuleSet(
        rules=(PerUnitRule("visits", 1), CategoryRule("industry", "SaaS", 10)),
        gates=(Gate("email", ("Competitor",)),),
        tiers=(Tier("hot", 10), Tier("cold", -math.inf)),
    )
    mapping = Mapping(
        leads=(
            ColumnSpec("id", "id"),
            ColumnSpec("visits", "behaviour"),
            ColumnSpec("industry", "attribute"),
            ColumnSpec("email", "attribute"),
        )
    )
    with Store(tmp_path / "f.duckdb") as store:
        case = load_case(store, "placeholders", path, rules, mapping=mapping)
    sql = ruleset_sql(rules, mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_rows(sql, path))
    assert case.expected["score"].tolist() == [0.0, 22.0, 0.0, 0.0, 13.0]


def test_case_and_space_variants_of_categories_tier_like_the_merged_spelling(
    tmp_path: Path,
) -> None:
    spellings = ["Free mail"] * 4 + [
        " free  mail",
        "FREE MAIL",
        "Free mail ",
        "ＦＲＥＥ\u3000ＭＡＩＬ",
    ]
    path = tmp_path / "variants.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "email", "title"])
        for i, email in enumerate(spellings):
            writer.writerow([f"V{i}", email, "Manager" if i % 2 else " manager"])
    rules = RuleSet(
        rules=(CategoryRule("title", "Manager", 50),),
        gates=(Gate("email", ("Free mail",)),),
        tiers=(Tier("hot", 40), Tier("warm", 10), Tier("cold", -math.inf)),
    )
    mapping = Mapping(
        leads=(
            ColumnSpec("id", "id"),
            ColumnSpec("email", "attribute"),
            ColumnSpec("title", "attribute"),
        )
    )
    with Store(tmp_path / "f.duckdb") as store:
        case = load_case(store, "variants", path, rules, mapping=mapping)
    sql = ruleset_sql(rules, mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_rows(sql, path))
    assert set(case.expected["tier"]) == {"warm"}  # every spelling knocked out, none hot


def test_duckdb_tiers_real_olist_leads_as_the_app_does(
    olist: tuple[Path, Path], tmp_path: Path
) -> None:
    leads, deals = olist
    with Store(tmp_path / "f.duckdb") as store:
        case = load_case(store, "olist", leads, OLIST_RULES, outcomes=deals)
    sql = ruleset_sql(OLIST_RULES, case.mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_rows(sql, leads))
    assert set(case.expected["tier"]) == {"hot", "warm", "cold"}


def test_duckdb_tiers_real_bank_marketing_leads_as_the_app_does(bank: Path, tmp_path: Path) -> None:
    # The file has no id column: a row number is added, as a CRM export would carry one.
    path = tmp_path / "bank with id.csv"
    with bank.open(encoding="utf-8", newline="") as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        for i, row in enumerate(csv.reader(src, delimiter=";")):
            writer.writerow(["id" if i == 0 else f"B{i:05d}", *row])
    rules = RuleSet(
        name="bank",
        rules=(
            CategoryRule("poutcome", "success", 30),
            CategoryRule("job", "student", 8),
            CategoryRule("job", "blue-collar", -6),
            CategoryRule("housing", "yes", -8),
            CategoryRule("loan", "yes", -5),
            CategoryRule("contact", "cellular", 5),
            RangeRule("balance", 1000, None, 6),
            RangeRule("balance", None, 0, -6),
            RangeRule("age", 60, None, 10),
            PerUnitRule("campaign", -1, cap=6),
            CountRule("previous", 1, 6),
        ),
        gates=(Gate("default", ("yes",)),),
        tiers=(Tier("hot", 20), Tier("warm", 5), Tier("cold", -math.inf)),
        score_cap=40,
    )
    with Store(tmp_path / "f.duckdb") as store:
        case = load_case(store, "bank", path, rules)
    sql = ruleset_sql(rules, case.mapping, dialect="duckdb")

    assert_same_as_app(case, duckdb_rows(sql, path))
    assert len(case.expected) == 45_211


# --- single values: the query's cleaning and its Python mirror -------------------------------


def test_duckdb_parses_every_probe_number_as_the_python_mirror(tmp_path: Path) -> None:
    path = write_probe(tmp_path / "numbers.csv", NUMBER_PROBES)
    sql = ruleset_sql(NUMBER_PROBE_RULES, probe_mapping("number"), dialect="duckdb")

    got = probe_scores(NUMBER_PROBES, duckdb_rows(sql, path))

    assert got == number_mirror(NUMBER_PROBES)


def test_the_number_mirror_reads_what_the_app_reads_except_where_documented() -> None:
    values = [v for v in NUMBER_PROBES if v.strip() not in ("N/A", "unknown", "")]
    app = parse_numbers(pd.Series(values, dtype="str"))

    for value, number in zip(values, app, strict=True):
        mirror = parse_number(value)
        if value in NUMBER_PROBES_UNLIKE_APP:
            assert mirror is None and not np.isnan(number)
        elif mirror is None:
            assert np.isnan(number), f"the app reads {value!r}, the SQL does not"
        else:
            assert mirror == number, value


GROUPED = ["1,200", "-12,345.6", "+1,000,000", "1,234.", "１，２００", "999,999,999.25"]
NOT_GROUPED = ["1,5", "12,34,567", "1,2345", ",123", "1.234,5", "1,,000", "1,000,0", "x1,000"]


@pytest.mark.parametrize("value", GROUPED + NOT_GROUPED)
def test_loading_and_the_sql_read_commas_between_thousands_by_one_rule(value: str) -> None:
    app = float(parse_numbers(pd.Series([value], dtype="str"))[0])
    sql = parse_number(value)  # the exported query's reading, mirrored in Python

    assert GROUPED_PATTERN == f"^{GROUPED_NUMBER}$"  # one definition
    if value in GROUPED:
        assert sql == app == float(clean_text(value).replace(",", ""))
    else:
        assert sql is None and math.isnan(app)


def test_duckdb_compares_every_probe_category_as_the_python_mirror(tmp_path: Path) -> None:
    path = write_probe(tmp_path / "categories.csv", CATEGORY_PROBES)
    sql = ruleset_sql(CATEGORY_PROBE_RULES, probe_mapping("attribute"), dialect="duckdb")

    got = probe_scores(CATEGORY_PROBES, duckdb_rows(sql, path))

    assert got == category_mirror(CATEGORY_PROBES)
    assert got["ＦＲＥＥ　ＭＡＩＬ"] == 1 and got["ÉLAN"] == 2 and got["O'REILLY"] == 8
    assert got["N/A"] == 0 and got["O’Reilly"] == 0


# --- rule sets the SQL must handle -------------------------------------------------------------


def test_a_gated_lead_falls_to_the_second_tier_even_with_two_tiers(tmp_path: Path) -> None:
    path = write_probe(tmp_path / "two.csv", ["5", "5", "0"])
    mapping = Mapping(leads=(ColumnSpec("id", "id"), ColumnSpec("x", "number")))
    rules = RuleSet(
        rules=(PerUnitRule("x", 10),),
        gates=(Gate("x", ("5",)),),
        tiers=(Tier("hot", 10), Tier("cold", -math.inf)),
    )
    rows = duckdb_rows(ruleset_sql(rules, mapping, dialect="duckdb"), path)

    assert sorted(r[2] for r in rows) == ["cold", "cold", "cold"]


def test_a_rule_set_without_rules_or_gates_puts_every_lead_in_one_tier(tmp_path: Path) -> None:
    path = write_probe(tmp_path / "empty.csv", ["1", "2"])
    rules = RuleSet(tiers=(Tier("hot", 1), Tier("warm", -math.inf), Tier("cold", -math.inf)))
    sql = ruleset_sql(rules, probe_mapping("number"), dialect="duckdb")

    assert sorted(duckdb_rows(sql, path)) == [("p000", 0.0, "warm"), ("p001", 0.0, "warm")]


def test_values_and_names_that_look_like_sql_stay_values() -> None:
    name = 'x"); DROP TABLE leads; --\nnext'
    value = "'; DROP TABLE leads; --\n\\'"
    mapping = Mapping(leads=(ColumnSpec("id", "id"), ColumnSpec(name, "attribute")))
    rules = RuleSet(
        name="--\n; DROP",
        rules=(CategoryRule(name, value, 5),),
        tiers=(Tier("it's hot\n", 5), Tier("cold", -math.inf)),
    )
    con = duckdb.connect()
    con.execute(f"CREATE TABLE leads (id VARCHAR, {quote_ident(name)} VARCHAR)")
    con.executemany("INSERT INTO leads VALUES (?, ?)", [("E1", value), ("E2", "other")])

    rows = con.execute(ruleset_sql(rules, mapping, dialect="duckdb")).fetchall()

    assert sorted(rows) == [("E1", 5.0, "it's hot\n"), ("E2", 0.0, "cold")]
    assert con.execute("SELECT count(*) FROM leads").fetchone() == (2,)


def test_a_category_rule_on_a_number_column_compares_numbers(tmp_path: Path) -> None:
    path = write_probe(tmp_path / "n.csv", ["3", "3.0", "1,000", "4"])
    rules = RuleSet(
        rules=(CategoryRule("x", "3", 1), CategoryRule("x", "1000", 2), CategoryRule("x", "z", 4)),
        tiers=(Tier("hot", 1), Tier("cold", -math.inf)),
    )
    sql = ruleset_sql(rules, probe_mapping("number"), dialect="duckdb")

    assert sorted(r[1] for r in duckdb_rows(sql, path)) == [0.0, 1.0, 1.0, 2.0]


# --- what cannot be exported ---------------------------------------------------------------


def test_an_unknown_dialect_is_refused_with_the_dialects_to_choose_from() -> None:
    with pytest.raises(SqlExportError, match="unknown SQL dialect 'oracle'; use one of duckdb"):
        ruleset_sql(GOLDEN_RULES, GOLDEN_MAPPING, dialect="oracle")


@pytest.mark.parametrize("decay", [False, True])
def test_rules_on_activity_log_counts_tier_every_lead_as_the_app_does(
    tmp_path: Path, decay: bool
) -> None:
    """The exported SQL counts each lead's activities per type from the activity log table
    (and decays them with age, with a half-life) and scores them as the app scores its
    counted columns."""
    rules = ACTIVITY_DECAYED_RULES if decay else ACTIVITY_RULES
    with Store(tmp_path / "funnel.duckdb") as store:
        found = load_activity_case(store, tmp_path, rules)
    case = found.case
    assert {"activity_webinar", "activity_inquiry", "activity_download"} <= set(found.types)
    sql = ruleset_sql(case.rules, case.mapping, dialect="duckdb", activity_types=found.types)
    assert "activity_counts AS (" in sql and '"activities"' in sql
    assert ("activity_end AS (" in sql) == decay
    rows = duckdb_text_rows(sql, {"leads": case.csv, "activities": found.log})
    assert_same_as_app(case, rows)
    tiers = {str(r[2]) for r in rows}
    assert tiers == {"hot", "warm", "cold"}
    assert sum(1 for r in rows if r[1] == 0) >= 10  # leads without activities count zero
    if decay:  # decayed points are not whole: the decay is really applied
        assert any(float(r[1]) != round(float(r[1])) for r in rows)


def test_rules_on_outcomes_file_columns_are_refused_naming_them() -> None:
    mapping = replace(
        GOLDEN_MAPPING,
        leads=(
            *GOLDEN_MAPPING.leads,
            ColumnSpec("seller", "attribute", leak=True, reason="leak.outcomes_file"),
        ),
    )
    rules = RuleSet(rules=(CategoryRule("seller", "A", 5),))

    with pytest.raises(
        SqlExportError, match="uses seller, which funnel joined in from the outcomes"
    ):
        ruleset_sql(rules, mapping, dialect="postgres")


def test_a_column_named_like_an_activity_in_the_leads_file_is_exported() -> None:
    mapping = replace(
        GOLDEN_MAPPING, leads=(*GOLDEN_MAPPING.leads, ColumnSpec("activity_webinar", "behaviour"))
    )
    rules = RuleSet(rules=(CountRule("activity_webinar", 1, 5),))

    assert '"activity_webinar"' in ruleset_sql(rules, mapping, dialect="duckdb")


def test_columns_the_mapping_does_not_have_are_refused_naming_them() -> None:
    rules = RuleSet(rules=(CountRule("nope", 1, 5),))

    with pytest.raises(SqlExportError, match="column.s. nope that the mapping does not have"):
        ruleset_sql(rules, GOLDEN_MAPPING, dialect="duckdb")


def test_a_mapping_without_an_id_column_is_refused() -> None:
    mapping = Mapping(leads=(ColumnSpec("x", "number"),))

    with pytest.raises(SqlExportError, match="no id column; map the leads file's id column"):
        ruleset_sql(RuleSet(), mapping, dialect="duckdb")


def test_an_empty_part_of_a_table_name_is_refused() -> None:
    with pytest.raises(SqlExportError, match="table name 'crm..leads' is not usable"):
        ruleset_sql(GOLDEN_RULES, GOLDEN_MAPPING, dialect="spark", table="crm..leads")


def test_rules_on_date_columns_are_refused() -> None:
    rules = RuleSet(rules=(CategoryRule("作成日", "2025-01-01", 5),))

    with pytest.raises(SqlExportError, match="date column.s. 作成日"):
        ruleset_sql(rules, GOLDEN_MAPPING, dialect="duckdb")
