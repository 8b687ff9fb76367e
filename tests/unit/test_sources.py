"""Many exports read as one source, and connection strings that never show a password."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.ingest import load_files, read_inputs
from funnel.problems import LoadError
from funnel.sources import Source, SourceError, load, masked, read_files
from funnel.sources import read_inputs as read_sources
from funnel.store import Store

HEADER = "lead_id,created_at,source,Converted"


def month(folder: Path, name: str, first: int, rows: int = 20, header: str = HEADER) -> Path:
    lines = [header] + [
        f"L{i:03d},2024-{1 + i % 12:02d}-03,{('Web', 'Event')[i % 2]},{int(i % 3 == 0)}"
        for i in range(first, first + rows)
    ]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_folder_of_exports_stores_what_one_file_of_them_stores(
    tmp_path: Path, store: Store
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for k in range(3):
        month(folder, f"2024-{k + 1:02d}.csv", 1 + 20 * k)
    whole = tmp_path / "all.csv"
    text = [p.read_text().splitlines() for p in sorted(folder.iterdir())]
    whole.write_text("\n".join([HEADER] + [r for t in text for r in t[1:]]) + "\n")
    one = load_files(store, "one", *read_inputs(whole)).dataset
    many = load(store, "many", read_sources(Source(str(folder)))).dataset
    assert many.leads == one.leads == 60
    a, b = (store.fetch_frame(f"SELECT * FROM {d.table()}") for d in (one, many))
    own = [c for c in a.columns if c.startswith("_funnel_")]  # when each load ran
    pd.testing.assert_frame_equal(a.drop(columns=own), b.drop(columns=own))
    history = store.load_history("many")[-1].files
    assert history[0]["name"] == str(folder)


def test_a_glob_reads_only_the_files_it_matches(tmp_path: Path) -> None:
    month(tmp_path, "leads-1.csv", 1)
    month(tmp_path, "leads-2.csv", 21)
    month(tmp_path, "notes.csv", 41, header="a,b,c,d")
    read = read_files(str(tmp_path / "leads-*.csv"))
    assert len(read.frame) == 40
    note = [p for p in read.notes if p.code == "source_files_read"][0]
    assert note.values == ("leads-1.csv", "leads-2.csv")
    assert "2 files read as one" in note.message("en")


def test_a_file_with_other_columns_is_refused_naming_it_and_the_columns(
    tmp_path: Path, store: Store
) -> None:
    month(tmp_path, "a.csv", 1)
    month(tmp_path, "b.csv", 21, header="lead_id,created_at,channel,Converted")
    with pytest.raises(LoadError) as caught:
        load(store, "x", read_sources(Source(str(tmp_path))))
    (problem,) = caught.value.problems
    text = problem.message("en")
    assert "b.csv" in text and "a.csv" in text and "missing source" in text
    assert "extra channel" in text
    assert "同じ列" in problem.fix("ja")
    assert store.datasets() == []


def test_a_glob_matching_nothing_says_so(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        read_files(str(tmp_path / "*.csv"))
    assert caught.value.problems[0].code == "source_no_files"
    assert "'exports/*.csv'" in caught.value.problems[0].fix("en")


def test_a_folder_mixing_csv_and_parquet_is_refused(tmp_path: Path) -> None:
    month(tmp_path, "a.csv", 1)
    pd.read_csv(month(tmp_path, "b.csv", 21)).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(LoadError) as caught:
        read_files(str(tmp_path))
    assert [p.code for p in caught.value.problems] == ["source_formats_differ"]


def test_a_source_names_what_it_reads_without_a_secret() -> None:
    assert masked("postgresql://ann:pa:ss@db:5432/crm") == "postgresql://ann:***@db:5432/crm"
    assert "s3" not in Source("postgresql://a:s3@h/db", query="SELECT 1").name
    with pytest.raises(SourceError) as caught:
        Source("postgresql://a:s3@h/db").check()
    assert "s3" not in caught.value.message("en")
    assert "--table" in caught.value.message("en") and "--table" in caught.value.message("ja")
    with pytest.raises(SourceError):
        Source("postgresql://h/db", path="/lake/leads").check()
    with pytest.raises(SourceError):
        Source("exports/*.csv", table="t").check()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_without_the_engines_extra_a_database_source_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """`make install` leaves psycopg and pyspark out: the Data page's form and `funnel load
    --from` then say how to install them (it was a ModuleNotFoundError traceback)."""
    from funnel.sources import read, spark_session

    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(SourceError) as caught:
        read(Source("postgresql://ann:hunter2@db/crm", table="crm.leads"))
    assert caught.value.code == "needs_psycopg"
    assert "funnel[engines]" in caught.value.message(lang)
    assert "hunter2" not in caught.value.message(lang)
    # a connection string that does not parse is still named as such, psycopg or not
    with pytest.raises(SourceError) as caught:
        read(Source("postgresql://ann:hunter2@db:notaport/crm", table="crm.leads"))
    assert caught.value.code == "bad_connection_string"
    with pytest.raises(SourceError) as caught:
        spark_session("spark-local")
    assert caught.value.code == "needs_pyspark"
    assert "funnel[engines]" in caught.value.message(lang)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_loads_a_glob_of_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    month(folder, "a.csv", 1)
    month(folder, "b.csv", 21)
    db = str(tmp_path / "f.duckdb")
    code, out, err = run(capsys, "load", "--from", str(folder / "*.csv"), "--db", db, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["name"] == "exports" and payload["leads"] == 40


def test_cli_says_a_from_load_replaced_a_dataset_as_a_file_load_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`funnel load --from` and `funnel load FILE` are one load: replacing a dataset of that
    name is said the same way (the --from load said nothing)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    month(folder, "a.csv", 1)
    db = str(tmp_path / "f.duckdb")
    assert run(capsys, "load", "--from", str(folder), "--db", db)[0] == 0
    month(folder, "b.csv", 21)
    code, _, err = run(capsys, "load", "--from", str(folder), "--db", db)
    assert code == 0, err
    assert "exports was replaced: its 20 leads are now the new files' 40" in " ".join(err.split())


def test_cli_refuses_a_file_and_from_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = month(tmp_path, "a.csv", 1)
    db = str(tmp_path / "f.duckdb")
    code, _, err = run(capsys, "load", str(path), "--from", str(path), "--db", db)
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "load", "--db", db)
    assert code == 2 and "--from postgresql://" in err
    code, _, err = run(capsys, "load", "--from", "postgresql://a:pw@h/db", "--db", db)
    assert code == 2 and "--table" in err and ":pw@" not in err


def test_every_source_error_has_a_message_in_both_languages() -> None:
    import re

    from funnel import sources
    from funnel.cli import data
    from funnel.i18n import MESSAGES

    text = Path(sources.__file__).read_text() + Path(data.__file__).read_text()
    codes = set(re.findall(r'SourceError\(\s*"([a-z_]+)"', text))
    assert len(codes) > 10
    assert all(MESSAGES.get(f"sources.{c}", ("", ""))[1] for c in codes), codes


def test_cli_proposes_the_mapping_of_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month(tmp_path, "a.csv", 1)
    month(tmp_path, "b.csv", 21)
    code, out, err = run(capsys, "mapping", "--from", str(tmp_path), "--db", str(tmp_path / "f"))
    assert code == 0, err
    assert "lead_id" in out and "Converted" in out
    code, _, err = run(capsys, "mapping", "--db", str(tmp_path / "f"))
    assert code == 2 and "--from" in err


def test_a_bad_row_of_a_folder_is_found_by_the_ranges_named_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month(tmp_path, "a.csv", 1)
    bad = month(tmp_path, "b.csv", 21)
    lines = bad.read_text().splitlines()
    lines[3] = lines[3].replace("2024-", "not a date ", 1)  # b.csv's third lead: row 24 in all
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "load", "--from", str(tmp_path), "--db", str(tmp_path / "f"))
    assert code == 2
    assert "24" in err and "a.csv 2-21, b.csv 22-41" in err
