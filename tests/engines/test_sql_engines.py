"""The exported SQL runs on a real PostgreSQL server and on Spark, and tiers every lead as the app.

Each engine loads the raw leads file as an all-text table and runs the exported query; every
lead's score and tier must equal ``scoring.score_leads`` on the same file loaded by funnel. The
golden files run verbatim. Snowflake and BigQuery cannot run here: their SQL is parsed by
sqlglot in its own dialect (every name and value must come back intact) and, translated by
sqlglot to DuckDB, must still tier every lead as the app does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from funnel.dialects import DIALECTS
from funnel.mapping import Mapping
from funnel.sqlexport import ruleset_sql
from funnel.store import Store
from tests.engines.conftest import Postgres
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
    OLIST_RULES,
    ActivityCase,
    Case,
    assert_same_as_app,
    category_mirror,
    demo_rules,
    duckdb_text_rows,
    large_rules,
    load_activity_case,
    load_case,
    number_mirror,
    probe_mapping,
    probe_scores,
    write_demo_leads,
    write_golden_leads,
    write_probe,
)

DEMO_LEADS = 2_000
CASES = ("golden", "demo_en", "demo_ja", "large", "olist")


@pytest.fixture(scope="module")
def demo_cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Case]]:
    """The golden file's leads and the demo (English, Japanese), loaded as the app loads them."""
    folder = tmp_path_factory.mktemp("engines")
    with Store(folder / "funnel.duckdb") as store:
        golden = write_golden_leads(folder / "golden leads.csv")
        out = {"golden": load_case(store, "golden", golden, GOLDEN_RULES, mapping=GOLDEN_MAPPING)}
        for lang in ("en", "ja"):
            path = write_demo_leads(folder / f"demo_{lang}.csv", DEMO_LEADS, lang)
            out[f"demo_{lang}"] = load_case(store, f"demo_{lang}", path, demo_rules(lang))
        # the most rules a rule set may hold: its SQL stays shallow enough for every engine
        out["large"] = load_case(store, "large", folder / "demo_en.csv", large_rules())
        yield out


@pytest.fixture(scope="module")
def olist_case(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Iterator[Case]:
    """Olist's real marketing-qualified leads and won deals, loaded as the app loads them."""
    base = shared_datasets / "olist_marketing_funnel"
    with Store(tmp_path_factory.mktemp("olist") / "funnel.duckdb") as store:
        yield load_case(
            store,
            "olist",
            base / "olist_marketing_qualified_leads_dataset.csv",
            OLIST_RULES,
            outcomes=base / "olist_closed_deals_dataset.csv",
        )


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> Case:
    """Each case in turn (the real dataset only where ../shared is present)."""
    if request.param == "olist":
        return request.getfixturevalue("olist_case")  # type: ignore[no-any-return]
    return request.getfixturevalue("demo_cases")[request.param]  # type: ignore[no-any-return]


def sql_for(case: Case, dialect: str, table: str) -> str:
    """The golden file itself for the golden case, a fresh export otherwise."""
    if case.name == "golden":
        return (GOLDEN_DIR / f"golden_{dialect}.sql").read_text(encoding="utf-8")
    return ruleset_sql(case.rules, case.mapping, dialect=dialect, table=table)


def table_for(case: Case) -> str:
    return GOLDEN_TABLE if case.name == "golden" else f"leads_{case.name}"


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_load(pg: Postgres, table: str, path: Path, header: list[str]) -> None:
    """Create an all-text table for a raw CSV file and COPY the file into it."""
    from psycopg import sql

    parts = table.split(".")
    name = sql.SQL(".").join(sql.Identifier(p) for p in parts)
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in header)
    with pg.connect() as conn:
        if len(parts) == 2:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(parts[0])))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(name, columns))
        copy = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(name)
        with conn.cursor() as cur, cur.copy(copy) as stream:
            stream.write(path.read_bytes())


def pg_rows(pg: Postgres, query: str, *settings: str) -> list[tuple[Any, ...]]:
    with pg.connect() as conn:
        for setting in settings:
            conn.execute(setting)
        return list(conn.execute(query).fetchall())


def test_postgres_tiers_every_lead_as_the_app_does(postgres: Postgres, case: Case) -> None:
    table = table_for(case)
    pg_load(postgres, table, case.csv, case.header)

    assert_same_as_app(case, pg_rows(postgres, sql_for(case, "postgres", table)))


@pytest.fixture(scope="module", params=["counts", "decayed"])
def activity_case(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> ActivityCase:
    """The activity case, its counts read as they are or decayed with age."""
    folder = tmp_path_factory.mktemp("activities")
    rules = ACTIVITY_DECAYED_RULES if request.param == "decayed" else ACTIVITY_RULES
    with Store(folder / "funnel.duckdb") as store:
        return load_activity_case(store, folder, rules)


def activity_sql(found: ActivityCase, dialect: str) -> str:
    case = found.case
    return ruleset_sql(
        case.rules,
        case.mapping,
        dialect=dialect,
        table="act_leads",
        activities_table="act_log",
        activity_types=found.types,
    )


def test_postgres_counts_activity_log_rows_as_the_app_does(
    postgres: Postgres, activity_case: ActivityCase
) -> None:
    case = activity_case.case
    pg_load(postgres, "act_leads", case.csv, case.header)
    pg_load(postgres, "act_log", activity_case.log, ["lead_id", "occurred_at", "activity"])

    assert_same_as_app(case, pg_rows(postgres, activity_sql(activity_case, "postgres")))


def test_postgres_reads_the_golden_sql_alike_whatever_standard_conforming_strings_says(
    postgres: Postgres, demo_cases: dict[str, Case]
) -> None:
    case = demo_cases["golden"]
    pg_load(postgres, GOLDEN_TABLE, case.csv, case.header)
    query = sql_for(case, "postgres", GOLDEN_TABLE)

    rows = pg_rows(postgres, query, "SET standard_conforming_strings = off")

    assert_same_as_app(case, rows)


def test_postgres_parses_every_probe_number_as_the_python_mirror(
    postgres: Postgres, tmp_path: Path
) -> None:
    path = write_probe(tmp_path / "numbers.csv", NUMBER_PROBES)
    pg_load(postgres, "number_probe", path, ["id", "x"])
    query = ruleset_sql(
        NUMBER_PROBE_RULES, probe_mapping("number"), dialect="postgres", table="number_probe"
    )

    got = probe_scores(NUMBER_PROBES, pg_rows(postgres, query))

    assert got == number_mirror(NUMBER_PROBES)


def test_postgres_compares_every_probe_category_as_the_python_mirror(
    postgres: Postgres, tmp_path: Path
) -> None:
    path = write_probe(tmp_path / "categories.csv", CATEGORY_PROBES)
    pg_load(postgres, "category_probe", path, ["id", "x"])
    query = ruleset_sql(
        CATEGORY_PROBE_RULES, probe_mapping("attribute"), dialect="postgres", table="category_probe"
    )

    got = probe_scores(CATEGORY_PROBES, pg_rows(postgres, query))

    assert got == category_mirror(CATEGORY_PROBES)


# --- Spark -------------------------------------------------------------------------------------


def spark_load(spark: Any, table: str, path: Path) -> None:
    """Register a raw CSV file, every column read as a string, under a (qualified) name."""
    from pyspark.sql.types import StringType

    frame = (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("multiLine", True)
        .option("escape", '"')
        .option("encoding", "UTF-8")
        .csv(str(path))
    )
    assert all(isinstance(f.dataType, StringType) for f in frame.schema.fields)
    if "." not in table:
        frame.createOrReplaceTempView(table)
        return
    # a temporary view cannot live in a database: a table over the same file, read the same way
    database, name = table.split(".")
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(f"DROP TABLE IF EXISTS `{database}`.`{name}`")
    spark.sql(
        f"CREATE TABLE `{database}`.`{name}` USING csv OPTIONS (path '{path}', header 'true', "
        "inferSchema 'false', multiLine 'true', escape '\"', encoding 'UTF-8')"
    )
    schema = spark.table(table).schema
    assert schema.names == frame.schema.names
    assert all(isinstance(f.dataType, StringType) for f in schema.fields)


def spark_rows(spark: Any, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in spark.sql(query).collect()]


def test_spark_tiers_every_lead_as_the_app_does(spark: Any, case: Case) -> None:
    table = table_for(case)
    spark_load(spark, table, case.csv)

    assert_same_as_app(case, spark_rows(spark, sql_for(case, "spark", table)))


def test_spark_counts_activity_log_rows_as_the_app_does(
    spark: Any, activity_case: ActivityCase
) -> None:
    spark_load(spark, "act_leads", activity_case.case.csv)
    spark_load(spark, "act_log", activity_case.log)

    rows = spark_rows(spark, activity_sql(activity_case, "spark"))
    assert_same_as_app(activity_case.case, rows)


def test_spark_parses_every_probe_number_as_the_python_mirror(spark: Any, tmp_path: Path) -> None:
    path = write_probe(tmp_path / "numbers.csv", NUMBER_PROBES)
    spark_load(spark, "number_probe", path)
    query = ruleset_sql(
        NUMBER_PROBE_RULES, probe_mapping("number"), dialect="spark", table="number_probe"
    )

    got = probe_scores(NUMBER_PROBES, spark_rows(spark, query))

    assert got == number_mirror(NUMBER_PROBES)


def test_spark_compares_every_probe_category_as_the_python_mirror(
    spark: Any, tmp_path: Path
) -> None:
    path = write_probe(tmp_path / "categories.csv", CATEGORY_PROBES)
    spark_load(spark, "category_probe", path)
    query = ruleset_sql(
        CATEGORY_PROBE_RULES, probe_mapping("attribute"), dialect="spark", table="category_probe"
    )

    got = probe_scores(CATEGORY_PROBES, spark_rows(spark, query))

    assert got == category_mirror(CATEGORY_PROBES)


# --- Snowflake and BigQuery: parsed, not run ---------------------------------------------------


def parsed(dialect: str, query: str) -> Any:
    import sqlglot

    return sqlglot.parse_one(query, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_golden_file_parses_in_its_dialect_with_names_and_values_intact(
    dialect: str,
) -> None:
    from sqlglot import exp

    tree = parsed(dialect, (GOLDEN_DIR / f"golden_{dialect}.sql").read_text(encoding="utf-8"))

    assert [s.alias_or_name for s in tree.selects] == ["id", "score", "tier"]
    tables = {(t.db, t.name) for t in tree.find_all(exp.Table)}
    assert ("crm", "leads") in tables
    columns = {c.name for c in tree.find_all(exp.Column)}
    assert {s.name for s in GOLDEN_MAPPING.leads} - {"作成日", "outcome"} <= columns
    if dialect != "postgres":  # sqlglot keeps PostgreSQL's E'' strings undecoded
        strings = {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}
        assert {"o'reilly", "competitor", "free mail", "corporate", "hot", "warm"} <= strings
        assert {"it・ソフトウェア", "不明", "n/a", "#n/a"} <= strings


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_snowflake_and_bigquery_sql_translated_to_duckdb_tiers_as_the_app_does(
    case: Case, dialect: str
) -> None:
    import sqlglot

    table = table_for(case)
    query = sqlglot.transpile(sql_for(case, dialect, table), read=dialect, write="duckdb")[0]
    con = duckdb.connect()
    try:
        if "." in table:
            con.execute(f"CREATE SCHEMA {table.split('.')[0]}")
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv($path, all_varchar := true, "
            "header := true, delim := ',', quote := '\"', escape := '\"')",
            {"path": str(case.csv)},
        )
        rows = con.execute(query).fetchall()
    finally:
        con.close()

    assert_same_as_app(case, rows)


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_snowflake_and_bigquery_activity_counts_translated_to_duckdb_tier_as_the_app_does(
    activity_case: ActivityCase, dialect: str
) -> None:
    import sqlglot

    query = sqlglot.transpile(activity_sql(activity_case, dialect), read=dialect, write="duckdb")[0]
    tables = {"act_leads": activity_case.case.csv, "act_log": activity_case.log}
    rows = duckdb_text_rows(query, tables)

    assert_same_as_app(activity_case.case, rows)


def test_every_dialect_reads_an_empty_placeholder_list_and_infinite_thresholds() -> None:
    from funnel.mapping import ColumnSpec
    from funnel.rules import RuleSet, Tier

    rules = RuleSet(tiers=(Tier("a", math.inf), Tier("b", -math.inf), Tier("c", -math.inf)))
    mapping = Mapping(leads=(ColumnSpec("id", "id"), ColumnSpec("x", "number")), placeholders=())

    for dialect in DIALECTS:
        assert parsed(dialect, ruleset_sql(rules, mapping, dialect=dialect)) is not None
