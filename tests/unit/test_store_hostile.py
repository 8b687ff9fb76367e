"""Database files that are not what they claim, and disks that fill up.

A SQLite file, someone else's DuckDB file or a funnel file whose metadata was tampered with is
refused with a message, byte for byte untouched (no extension fetched, no "upgrade" written by
a reading command). A full disk is reported as a full disk ("No space left on device"), never as
the rollback error that follows it, and leaves the file the size it was, with what it held.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import funnel.store
from funnel.cli import main
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.store import Store, StoreError
from tests.support import snapshot


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(path: Path, *, read_only: bool = False) -> StoreError:
    with pytest.raises(StoreError) as caught:
        Store(path, read_only=read_only)
    return caught.value


def message(error: StoreError, lang: str) -> str:
    return t(f"store.{error.code}", lang, **error.params)


# --- files that are not funnel databases ---------------------------------------------------------


def test_a_sqlite_file_is_refused_untouched_without_fetching_an_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE leads (id TEXT)")
    before = digest(path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # where DuckDB would put extensions

    for read_only in (False, True):
        error = refused(path, read_only=read_only)
        assert error.code == "db_sqlite"
        assert "SQLite" in message(error, "en") and "SQLite" in message(error, "ja")
    assert digest(path) == before
    assert not (tmp_path / "home" / ".duckdb").exists()


def test_every_connection_has_extension_autoloading_off_and_a_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNNEL_MAX_MEMORY_BYTES", str(512 << 20))
    with Store(tmp_path / "f.duckdb") as store:
        settings = store.fetch_frame(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions', 'memory_limit')"
        )
    values = dict(zip(settings["name"], settings["value"], strict=True))
    assert values["autoinstall_known_extensions"] == "false"
    assert values["autoload_known_extensions"] == "false"
    assert values["memory_limit"] == "512.0 MiB"


def test_a_file_that_is_not_a_database_at_all_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = digest(path)

    error = refused(path)

    assert error.code == "db_not_duckdb"
    assert str(path) in message(error, "en") and str(path) in message(error, "ja")
    assert digest(path) == before


def test_someone_elses_duckdb_file_is_refused_and_never_given_funnel_tables(
    tmp_path: Path,
) -> None:
    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE customers AS SELECT 1 AS id")
    before = digest(path)

    for read_only in (False, True):
        assert refused(path, read_only=read_only).code == "db_not_funnel"
    assert digest(path) == before
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {"customers"}


# --- tampered metadata ---------------------------------------------------------------------------


@pytest.fixture
def funnel_db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.duckdb"
    with Store(path) as store:
        load_demo(store, "demo", leads=200)
    return path


TAMPERING = {
    "version_not_a_number": "UPDATE funnel_meta SET value = 'three' WHERE key = 'schema_version'",
    "version_deleted": "DELETE FROM funnel_meta",
    "version_zero": "UPDATE funnel_meta SET value = '0' WHERE key = 'schema_version'",
    "version_twice": "INSERT INTO funnel_meta VALUES ('schema_version', '3')",
    "version_behind_its_tables": (
        "UPDATE funnel_meta SET value = '1' WHERE key = 'schema_version'"
    ),
    "version_huge": "UPDATE funnel_meta SET value = '99999999999999999999' "
    "WHERE key = 'schema_version'",
}


@pytest.mark.parametrize("sql", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampered_metadata_is_refused_with_a_message_and_nothing_is_written(
    funnel_db: Path, sql: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(funnel_db)) as con:
        con.execute(sql)
    before = digest(funnel_db)

    for read_only in (False, True):
        error = refused(funnel_db, read_only=read_only)
        assert error.code == "db_damaged", error
        assert "damaged" in message(error, "en") and "壊れて" in message(error, "ja")
    for argv in (["datasets"], ["funnel", "--dataset", "demo"], ["rules", "list"]):
        capsys.readouterr()
        code = main([*argv, "--db", str(funnel_db)])
        err = capsys.readouterr().err
        assert code == 2, err
        assert "damaged metadata" in err and "Traceback" not in err
    assert digest(funnel_db) == before  # no "upgrade" written over what is there


def test_a_catalog_entry_that_does_not_parse_is_named_as_damage_not_a_crash(
    funnel_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with duckdb.connect(str(funnel_db)) as con:
        con.execute("UPDATE funnel_datasets SET mapping = '{\"leads\": [' WHERE name = 'demo'")
    before = digest(funnel_db)

    code = main(["datasets", "--db", str(funnel_db)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "damaged metadata" in err and "'demo'" in err and "Traceback" not in err
    assert digest(funnel_db) == before


# --- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB file system (tmpfs), mounted for the test: writes past it fail with ENOSPC."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_load_on_a_full_disk_is_refused_before_the_file_grows(small_disk: Path) -> None:
    path = small_disk / "funnel.duckdb"
    with Store(path) as store:
        load_demo(store, "small", leads=200)
        before, size = snapshot(store, "small"), path.stat().st_size

        with pytest.raises(StoreError) as caught:
            load_demo(store, "big", leads=60_000)

        assert caught.value.code == "disk_full"
        assert "No space left on device" in message(caught.value, "en")
        assert "空き容量がありません" in message(caught.value, "ja")
        assert path.stat().st_size == size
        assert snapshot(store, "small") == before


def test_a_write_that_fills_the_disk_reports_it_keeps_the_data_and_gives_the_space_back(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = small_disk / "funnel.duckdb"
    with Store(path) as store:
        load_demo(store, "small", leads=200)
        before = snapshot(store, "small")
    size = path.stat().st_size  # checkpointed on close
    # the estimate before writing can be wrong; then the write itself runs out of space
    monkeypatch.setattr(funnel.store, "_estimated_bytes", lambda frames: 0)

    code = main(["demo", "--leads", "60000", "--dataset", "big", "--db", str(path)])

    err = capsys.readouterr().err
    assert code == 2, err
    assert "No space left on device" in err and str(path) in err
    assert "no transaction is active" not in err and "Traceback" not in err
    assert path.stat().st_size == size  # the blocks the failed write took are given back
    with Store(path) as store:
        assert [d.name for d in store.datasets()] == ["small"]
        assert snapshot(store, "small") == before


def test_after_the_disk_filled_up_the_same_store_keeps_working(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_disk / "funnel.duckdb"
    monkeypatch.setattr(funnel.store, "_estimated_bytes", lambda frames: 0)
    with Store(path) as store:  # the app's one shared store: no restart after a full disk
        load_demo(store, "small", leads=200)
        with pytest.raises(StoreError) as caught:
            load_demo(store, "big", leads=200_000)
        assert caught.value.code == "disk_full"

        store.rename("small", "spring")
        assert [d.name for d in store.datasets()] == ["spring"]
