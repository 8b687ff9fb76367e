"""Data read where it lives: leads, outcomes and an activity log from a real PostgreSQL server and
from Spark become the same stored dataset as the same data from files; an activity log is counted
in the engine (10M rows generated there); every failure names the source and the fix, stores
nothing and never shows the password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from funnel import sources
from funnel.cli import main
from funnel.ingest import load_files
from funnel.ingest import read_inputs as read_files
from funnel.problems import LoadError
from funnel.sources import (
    ActivityCounts,
    Source,
    SourceError,
    count_activities,
    load,
    read_inputs,
)
from funnel.store import Store
from tests.engines.conftest import Postgres

LEADS = 240
PASSWORD = "Tr0ub4dor&3-sources"  # noqa: S105 — a test role's password, looked for everywhere
ROLE = "analyst"


def leads_csv() -> str:
    rows = ["lead_id,created_at,source,industry,employees"]
    for i in range(1, LEADS + 1):
        source = ("Web", "Event", "Referral", "Ads")[i % 4]
        industry = ("IT", "Retail", "Finance")[i % 3]
        rows.append(f"L{i:04d},2024-{1 + i % 12:02d}-{1 + i % 27:02d},{source},{industry},{i * 7}")
    return "\n".join(rows) + "\n"


def outcomes_csv() -> str:
    rows = ["lead_id,status,closed_at,amount"]
    for i in range(1, LEADS + 1, 2):
        status = "Won" if i % 3 == 0 else "Lost"
        rows.append(f"L{i:04d},{status},2025-{1 + i % 12:02d}-28,{i * 100}")
    return "\n".join(rows) + "\n"


def activities_csv() -> str:
    rows = ["lead_id,occurred_at,activity"]
    for i in range(1, LEADS + 1):
        for j in range(i % 5):
            kind = ("web_visit", "email_click", "form_fill")[(i + j) % 3]
            rows.append(f"L{i:04d},2024-{1 + i % 12:02d}-{1 + j:02d} 10:{j:02d}:00,{kind}")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exports")
    out = {}
    for name, text in (
        ("leads", leads_csv()),
        ("outcomes", outcomes_csv()),
        ("activities", activities_csv()),
    ):
        out[name] = folder / f"{name}.csv"
        out[name].write_text(text, encoding="utf-8")
    return out


def stored(store: Store, name: str) -> dict[str, Any]:
    """What a load stored, comparable across sources (the leads, the outcomes, the mapping)."""
    info = store.require(name)
    id_col = info.mapping.column("id")
    leads = store.fetch_frame(f"SELECT * FROM {info.table()}").sort_values(id_col)
    leads = leads[[c for c in leads.columns if not c.startswith("_funnel_")]]  # when loaded
    outcomes = store.fetch_frame(f"SELECT * FROM {info.table('outcomes')}").sort_values("lead_id")
    return {
        "leads": leads.reset_index(drop=True),
        "outcomes": outcomes.reset_index(drop=True),
        "roles": [(s.name, s.role, s.leak) for s in info.mapping.leads],
        "outcome": info.mapping.outcome,
        "counts": (info.leads, info.won, info.lost, info.open),
    }


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    pd.testing.assert_frame_equal(a["leads"], b["leads"])
    pd.testing.assert_frame_equal(a["outcomes"], b["outcomes"])
    assert a["roles"] == b["roles"]
    assert a["outcome"] == b["outcome"]
    assert a["counts"] == b["counts"]


@pytest.fixture(scope="module")
def from_files(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = Store(tmp_path_factory.mktemp("files") / "funnel.duckdb")
    load_files(store, "crm", *read_files(files["leads"], files["outcomes"], files["activities"]))
    yield stored(store, "crm")
    store.close()


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg(postgres: Postgres, files: dict[str, Path]) -> Iterator[Postgres]:
    """The CRM schema, as an all-text copy of the exports, and a role that logs in with a
    password (every other user of this throwaway server is trusted)."""
    with postgres.connect() as conn:
        conn.execute("DROP SCHEMA IF EXISTS sales CASCADE")
        conn.execute("CREATE SCHEMA sales")
        for name in ("leads", "outcomes", "activities"):
            header = files[name].read_text().splitlines()[0].split(",")
            cols = ", ".join(f'"{c}" text' for c in header)
            conn.execute(f"CREATE TABLE sales.{name} ({cols})")
            with conn.cursor().copy(
                f"COPY sales.{name} FROM STDIN WITH (FORMAT csv, HEADER)"
            ) as cp:
                cp.write(files[name].read_bytes())
        conn.execute(
            "CREATE TABLE sales.typed_leads AS SELECT lead_id, CAST(created_at AS date) AS "
            "created_at, source, industry, CAST(employees AS integer) AS employees FROM sales.leads"
        )
        conn.execute(
            "CREATE TABLE sales.typed_activities AS SELECT lead_id, "
            "CAST(occurred_at AS timestamp) AS occurred_at, activity FROM sales.activities"
        )
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        conn.execute(f"GRANT USAGE ON SCHEMA sales TO {ROLE}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA sales TO {ROLE}")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        rules = hba.read_text()
        line = f"host all {ROLE} 127.0.0.1/32 scram-sha-256\n"
        if line not in rules:
            hba.write_text(line + rules)
        conn.execute("SELECT pg_reload_conf()")
    yield postgres


def url(pg: Postgres, user: str = "funnel", password: str | None = None) -> str:
    secret = f":{password}" if password else ""
    return f"postgresql://{user}{secret}@127.0.0.1:{pg.port}/{pg.dbname}"


def pg_load(store: Store, origin: str, name: str = "crm", **tables: str) -> Any:
    leads = Source(origin, table=tables.get("leads", "sales.leads"))
    outcomes = Source(origin, table=tables.get("outcomes", "sales.outcomes"))
    activities = Source(origin, table=tables.get("activities", "sales.activities"))
    return load(store, name, read_inputs(leads, outcomes, activities))


def test_postgresql_tables_store_the_same_dataset_as_the_files(
    pg: Postgres, store: Store, from_files: dict[str, Any]
) -> None:
    result = pg_load(store, url(pg))
    assert_same(stored(store, "crm"), from_files)
    # the log stayed in the database: only its per-lead counts were stored
    tables = store.fetch_frame(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
        [result.dataset.schema],
    )
    assert "activities" not in set(tables["table_name"])
    entry = store.load_history("crm")[-1].files[-1]
    assert entry["role"] == "activities" and entry["rows"] == activities_csv().count("\n") - 1
    assert entry["name"] == f"sales.activities (postgresql://funnel@127.0.0.1:{pg.port}/postgres)"


def test_typed_postgresql_columns_store_the_same_dataset(
    pg: Postgres, store: Store, from_files: dict[str, Any]
) -> None:
    pg_load(store, url(pg), leads="sales.typed_leads", activities="sales.typed_activities")
    assert_same(stored(store, "crm"), from_files)


def test_postgresql_queries_read_like_tables(
    pg: Postgres, store: Store, from_files: dict[str, Any]
) -> None:
    origin = url(pg)
    inputs = read_inputs(
        Source(origin, query="SELECT * FROM sales.leads;"),
        Source(origin, query="SELECT lead_id, status, closed_at, amount FROM sales.outcomes"),
        Source(origin, query="SELECT * FROM sales.activities WHERE activity IS NOT NULL"),
    )
    load(store, "crm", inputs)
    assert_same(stored(store, "crm"), from_files)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[ActivityCounts]:
    """Keep what each count of an activity log brought back from the engine."""
    seen: list[ActivityCounts] = []

    def spy(source: Source, mapping: Any) -> ActivityCounts:
        seen.append(count_activities(source, mapping))
        return seen[-1]

    monkeypatch.setattr(sources, "count_activities", spy)
    return seen


def test_ten_million_activities_are_counted_in_postgresql(
    pg: Postgres, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = url(pg)
    leads = Source(
        origin,
        query="SELECT 'L' || g AS lead_id, DATE '2024-01-01' + g % 300 AS created_at, "
        "CASE WHEN g % 7 = 0 THEN 'Won' ELSE 'Open' END AS stage FROM generate_series(1, 1000) g",
    )
    log = Source(
        origin,
        query="SELECT 'L' || (g % 1000 + 1) AS lead_id, TIMESTAMP '2024-01-01' + g * INTERVAL "
        "'1 second' AS occurred_at, CASE WHEN g % 3 = 0 THEN 'visit' WHEN g % 3 = 1 THEN 'click' "
        "ELSE 'form' END AS activity FROM generate_series(1, 10000000) g",
    )
    inputs = read_inputs(leads, None, log)
    assert inputs.activities is not None and len(inputs.activities.frame) == 1000  # a sample
    counted = counting(monkeypatch)
    result = load(store, "big", inputs)
    assert counted[0].total == 10_000_000
    assert len(counted[0].counts) == 3000  # per lead and type: that is all that came back
    info = result.dataset
    total = store.fetch_frame(
        f"SELECT sum(activity_visit + activity_click + activity_form) AS n FROM {info.table()}"
    )
    assert int(total["n"].iloc[0]) == 10_000_000


def failure(store: Store, run: Any) -> str:
    """The message a failing load gives; the store must be left empty."""
    with pytest.raises((SourceError, LoadError)) as caught:
        run()
    exc = caught.value
    text = (
        exc.message("en") + "\n" + exc.message("ja")
        if isinstance(exc, SourceError)
        else "\n".join(p.message("en") + " " + p.fix("en") for p in exc.problems)
    )
    assert store.datasets() == []
    assert PASSWORD not in text
    return text


def test_a_bad_connection_string_is_named_and_nothing_is_stored(store: Store) -> None:
    text = failure(
        store,
        lambda: read_inputs(Source(f"postgresql://ann:{PASSWORD}@db:notaport/crm", table="t")),
    )
    assert "postgresql://ann:***@db:notaport/crm" in text
    assert "postgresql://user@host:5432/database" in text


def test_a_wrong_password_is_named_without_showing_it(pg: Postgres, store: Store) -> None:
    wrong = url(pg, ROLE, PASSWORD + "x")
    text = failure(store, lambda: pg_load(store, wrong))
    assert "refused the login" in text and f"{ROLE}:***@" in text
    assert PASSWORD + "x" not in text


def test_an_unreachable_server_is_named(store: Store) -> None:
    text = failure(
        store, lambda: read_inputs(Source("postgresql://ann@127.0.0.1:1/crm", table="t"))
    )
    assert "could not connect" in text and "127.0.0.1:1" in text


def test_a_missing_table_is_named(pg: Postgres, store: Store) -> None:
    text = failure(store, lambda: pg_load(store, url(pg), outcomes="sales.deals"))
    assert "sales.deals" in text and "does not exist" in text


def test_a_query_error_is_named(pg: Postgres, store: Store) -> None:
    origin = url(pg)
    text = failure(
        store,
        lambda: read_inputs(Source(origin, query="SELECT lead_id, nope FROM sales.leads")),
    )
    assert "query failed" in text and "nope" in text


def test_a_query_cannot_change_the_database(pg: Postgres, store: Store) -> None:
    text = failure(
        store,
        lambda: read_inputs(Source(url(pg), query="DELETE FROM sales.leads RETURNING *")),
    )
    assert "query failed" in text
    with pg.connect() as conn:
        assert conn.execute("SELECT count(*) FROM sales.leads").fetchone()[0] == LEADS


def test_a_connection_dropped_mid_read_stores_nothing(pg: Postgres, store: Store) -> None:
    origin = url(pg)
    # the server ends the connection itself after some 50,000 rows have been streamed
    query = (
        "SELECT 'L' || g AS lead_id, CASE WHEN g = 50000 THEN "
        "CAST(pg_terminate_backend(pg_backend_pid()) AS text) END AS note "
        "FROM generate_series(1, 2000000) g"
    )
    text = failure(store, lambda: read_inputs(Source(origin, query=query)))
    assert "connection was lost" in text


def test_the_password_is_nowhere_after_a_load(
    pg: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: Any
) -> None:
    db = tmp_path / "funnel.duckdb"
    origin = url(pg, ROLE, PASSWORD)
    code = main(
        ["load", "--from", origin, "--table", "sales.leads", "--outcomes-table", "sales.outcomes"]
        + ["--activities-table", "sales.activities", "--dataset", "crm", "--db", str(db), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{ROLE}:***@" in out and PASSWORD not in out + err + caplog.text
    assert main(["datasets", "--history", "--json", "--db", str(db)]) == 0
    history, _ = capsys.readouterr()
    assert "sales.leads" in history and PASSWORD not in history
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_password_can_come_from_the_environment(
    pg: Postgres, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    result = load(store, "crm", read_inputs(Source(url(pg, ROLE), table="sales.leads")))
    assert result.dataset.leads == LEADS


def test_cli_names_a_missing_table_in_japanese(
    pg: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "funnel.duckdb"
    code = main(
        ["load", "--from", url(pg), "--table", "sales.nothing", "--db", str(db), "--lang", "ja"]
    )
    _, err = capsys.readouterr()
    assert code == 2 and "sales.nothing" in err and "存在しない" in err


# --- Spark ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(spark: Any, files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The exports as Spark temporary views (all text, as the CSV files are) and a Parquet
    path of the leads."""
    for name in ("leads", "outcomes", "activities"):
        frame = spark.read.option("header", "true").csv(str(files[name]))
        frame.createOrReplaceTempView(f"crm_{name}")
    parquet = tmp_path_factory.mktemp("lake") / "leads.parquet"
    spark.table("crm_leads").coalesce(1).write.parquet(str(parquet))
    return parquet


def spark_load(store: Store, name: str = "crm", **given: Source) -> Any:
    leads = given.get("leads", Source("spark-local", table="crm_leads"))
    outcomes = Source("spark-local", table="crm_outcomes")
    activities = Source("spark-local", table="crm_activities")
    return load(store, name, read_inputs(leads, outcomes, activities))


def test_spark_tables_store_the_same_dataset_as_the_files(
    lake: Path, store: Store, from_files: dict[str, Any]
) -> None:
    spark_load(store)
    assert_same(stored(store, "crm"), from_files)


def test_a_spark_parquet_path_stores_the_same_dataset(
    lake: Path, store: Store, from_files: dict[str, Any]
) -> None:
    spark_load(store, leads=Source("spark-local", path=str(lake)))
    assert_same(stored(store, "crm"), from_files)


def test_ten_million_activities_are_counted_in_spark(
    spark: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import functions as F

    spark.range(1, 1001).select(
        F.concat(F.lit("L"), F.col("id")).alias("lead_id"),
        F.date_add(F.lit("2024-01-01").cast("date"), (F.col("id") % 300).cast("int")).alias(
            "created_at"
        ),
    ).createOrReplaceTempView("big_leads")
    spark.range(1, 10_000_001).select(
        F.concat(F.lit("L"), (F.col("id") % 1000 + 1)).alias("lead_id"),
        F.timestamp_seconds(F.col("id") + 1_700_000_000).alias("occurred_at"),
        F.when(F.col("id") % 3 == 0, "visit")
        .when(F.col("id") % 3 == 1, "click")
        .otherwise("form")
        .alias("activity"),
    ).createOrReplaceTempView("big_log")
    log = Source("spark-local", table="big_log")
    counted = counting(monkeypatch)
    result = load(store, "big", read_inputs(Source("spark-local", table="big_leads"), None, log))
    assert counted[0].total == 10_000_000 and len(counted[0].counts) == 3000
    total = store.fetch_frame(
        "SELECT sum(activity_visit + activity_click + activity_form) AS n "
        f"FROM {result.dataset.table()}"
    )
    assert int(total["n"].iloc[0]) == 10_000_000


def test_spark_failures_are_named_and_store_nothing(lake: Path, store: Store) -> None:
    text = failure(store, lambda: read_inputs(Source("spark-local", table="crm_nothing")))
    assert "crm_nothing" in text and "does not exist" in text
    text = failure(store, lambda: read_inputs(Source("spark-local", query="SELEC nope")))
    assert "query failed" in text
    text = failure(store, lambda: read_inputs(Source("spark-local", path="/no/such/lake")))
    assert "/no/such/lake" in text
    # Delta needs delta-spark's jars in the session, which this one was not started with
    delta = Source("spark-local", path=str(lake), format="delta")
    text = failure(store, lambda: read_inputs(delta))
    assert "cannot read the delta format" in text and "delta-spark" in text
    # this process runs Spark locally: another master is refused, not silently read locally
    cluster = "spark://ann:pw@cluster.example:7077"
    text = failure(store, lambda: read_inputs(Source(cluster, table="crm_leads")))
    assert "already runs Spark on local" in text and "ann:***@" in text and ":pw@" not in text


# --- the Data page ---------------------------------------------------------------------------


def data_page(db: Path, monkeypatch: pytest.MonkeyPatch, lang: str = "en") -> Any:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FUNNEL_DB", str(db))
    st.cache_resource.clear()
    st.cache_data.clear()
    main_script = Path(__file__).resolve().parents[2] / "app" / "main.py"
    at = AppTest.from_file(str(main_script), default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: Any) -> str:
    """Every message the page shows (not the widgets' own values)."""
    parts = [
        e.value
        for kind in ("markdown", "success", "error", "caption", "info", "warning")
        for e in getattr(at, kind)
    ]
    parts += [t.value.to_csv() for t in at.dataframe]
    return "\n".join(str(p) for p in parts)


def test_the_data_page_loads_from_postgresql_and_never_shows_the_password(
    pg: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_files: dict[str, Any]
) -> None:
    db = tmp_path / "funnel.duckdb"
    at = data_page(db, monkeypatch)
    at.text_input(key="src_origin").input(url(pg, ROLE, PASSWORD))
    at.text_area(key="src_leads").input("sales.leads")
    at.text_area(key="src_outcomes").input("sales.outcomes")
    at.text_area(key="src_activities").input("SELECT * FROM sales.activities")
    at.text_input(key="src_dataset").input("crm")
    at.button(key="src_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    text = shown(at).replace("\\", "")  # Markdown escapes
    assert "Dataset crm stored from sales.leads (postgresql://analyst:***@127.0.0.1" in text
    assert PASSWORD not in text
    with Store(db) as store:
        assert_same(stored(store, "crm"), from_files)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_data_page_names_a_refused_login_in_japanese_and_stores_nothing(
    pg: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "funnel.duckdb"
    at = data_page(db, monkeypatch, lang="ja")
    at.text_input(key="src_origin").input(url(pg, ROLE, "wrong-" + PASSWORD))
    at.text_area(key="src_leads").input("sales.leads")
    at.button(key="src_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "ログインを拒否" in errors[0] and PASSWORD not in shown(at)
    with Store(db) as store:
        assert store.datasets() == []


def test_cli_maps_a_database_then_loads_it_with_the_edited_mapping(
    pg: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, mapping = tmp_path / "funnel.duckdb", tmp_path / "mapping.yaml"
    origin = ["--from", url(pg), "--table", "sales.leads", "--outcomes-table", "sales.outcomes"]
    origin += ["--activities-table", "sales.activities"]
    assert main(["mapping", *origin, "--db", str(db)]) == 0
    yaml_text, _ = capsys.readouterr()
    assert "occurred_at" in yaml_text and "industry" in yaml_text
    mapping.write_text(yaml_text.replace("role: attribute", "role: ignore"), encoding="utf-8")
    code = main(["load", *origin, "--mapping", str(mapping), "--db", str(db), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    with Store(db) as store:
        roles = {s.name: s.role for s in store.require("leads").mapping.leads}
    assert roles["industry"] == "ignore" and roles["activity_web_visit"] == "behaviour"


def test_cli_refreshes_a_dataset_from_the_database_by_lead_id(
    pg: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "funnel.duckdb")
    origin = ["--from", url(pg), "--dataset", "crm", "--db", db]
    until = " WHERE lead_id <= 'L0200'"  # the first export: the first 200 leads
    first = [f"SELECT * FROM sales.{t}{until}" for t in ("leads", "outcomes", "activities")]
    assert (
        main(
            ["load", *origin, "--query", first[0], "--outcomes-query", first[1]]
            + ["--activities-query", first[2]]
        )
        == 0
    )
    capsys.readouterr()
    origin += ["--outcomes-table", "sales.outcomes", "--activities-table", "sales.activities"]
    code = main(["load", *origin, "--table", "sales.leads", "--refresh", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    payload = json.loads(out)
    assert payload["leads"] == LEADS and payload["refresh"]["added"] == LEADS - 200
