"""The DuckDB store: datasets side by side, each replaced all-or-nothing, even when a load is
interrupted by an exception or killed outright; clear errors for locked or unusable files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import funnel.store
from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.ingest import load_demo, load_files
from funnel.problems import LoadError
from funnel.readers import read_bytes, read_file
from funnel.store import Store, StoreError
from tests.support import snapshot

CRM_EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "crm_wide_export.csv"


def schemas(store: Store) -> set[str]:
    frame = store.fetch_frame("SELECT schema_name FROM information_schema.schemata")
    return {s for s in frame["schema_name"] if s.startswith("ds_")}


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8")


# --- datasets side by side -----------------------------------------------------------------------


def test_several_datasets_are_stored_side_by_side(store: Store) -> None:
    load_demo(store, "spring", leads=100, seed=1)
    load_demo(store, "営業部", leads=80, seed=2, lang="ja")
    load_files(store, "crm export", read_file(CRM_EXPORT))

    infos = store.datasets()

    assert {d.name for d in infos} == {"spring", "営業部", "crm export"}
    assert infos[0].name == "crm export"  # newest first
    assert len({d.schema for d in infos}) == 3
    for info in infos:
        n = store.fetch_frame(f"SELECT count(*) AS n FROM {info.table('leads')}")["n"].iloc[0]
        outcomes = store.fetch_frame(
            f"SELECT outcome, count(*) AS n FROM {info.table('outcomes')} GROUP BY 1"
        )
        by_outcome = dict(zip(outcomes["outcome"], outcomes["n"], strict=True))
        assert n == info.leads
        assert (by_outcome.get("won", 0), by_outcome.get("lost", 0), by_outcome.get("open", 0)) == (
            info.won,
            info.lost,
            info.open,
        )
    assert store.require("spring").leads == 100 and store.require("営業部").leads == 80


def test_datasets_are_still_there_after_reopening_the_database(db_path: Path) -> None:
    with Store(db_path) as store:
        load_demo(store, "spring", leads=60, seed=1)
        before = snapshot(store, "spring")

    with Store(db_path) as store:
        assert snapshot(store, "spring") == before
    with Store(db_path, read_only=True) as store:
        assert snapshot(store, "spring") == before


def test_the_stored_mapping_and_load_report_are_kept(store: Store) -> None:
    result = load_files(store, "crm", read_file(CRM_EXPORT))

    info = store.require("crm")

    assert info.mapping == result.dataset.mapping
    assert [r["code"] for r in info.report] == [p.code for p in result.problems]
    assert info.files[0]["name"] == "crm_wide_export.csv"
    assert info.files[0]["rows"] == 60
    assert len(info.fingerprint) == 16


# --- replacing a dataset -------------------------------------------------------------------------


def test_reloading_a_name_replaces_the_dataset_only_once_the_new_one_is_valid(
    store: Store,
) -> None:
    load_demo(store, "leads", leads=100, seed=1)
    load_demo(store, "other", leads=50, seed=9)
    first = snapshot(store, "leads")
    other = snapshot(store, "other")
    bad = generate_leads(90, seed=2).astype({"outcome": object})
    bad.loc[3, "outcome"] = "Pending approval"

    with pytest.raises(LoadError):
        load_files(store, "leads", read_bytes(csv_bytes(bad), "leads.csv"))

    assert snapshot(store, "leads") == first
    load_files(store, "leads", read_bytes(csv_bytes(generate_leads(90, seed=2)), "leads.csv"))
    replaced = snapshot(store, "leads")
    assert replaced.counts[0] == 90 and replaced.schema != first.schema
    assert first.schema not in schemas(store)  # the old tables are gone
    assert [d.name for d in store.datasets()].count("leads") == 1
    assert snapshot(store, "other") == other


# --- rename and delete ---------------------------------------------------------------------------


def test_rename_refuses_to_overwrite_another_dataset(store: Store) -> None:
    load_demo(store, "spring", leads=60, seed=1)
    load_demo(store, "summer", leads=70, seed=2)
    spring, summer = snapshot(store, "spring"), snapshot(store, "summer")

    with pytest.raises(StoreError) as caught:
        store.rename("spring", "summer")

    assert caught.value.code == "dataset_exists"
    assert "summer" in t("store.dataset_exists", "en", **caught.value.params)
    assert snapshot(store, "spring") == spring and snapshot(store, "summer") == summer


def test_rename_keeps_the_data_under_the_new_name(store: Store) -> None:
    load_demo(store, "spring", leads=60, seed=1)
    before = snapshot(store, "spring")

    info = store.rename("spring", "  Spring  2026 (営業) ")

    assert info.name == "Spring 2026 (営業)"
    assert snapshot(store, "Spring 2026 (営業)") == before
    with pytest.raises(StoreError) as caught:
        store.require("spring")
    assert caught.value.code == "dataset_missing"
    assert "Spring 2026 (営業)" in t("store.dataset_missing", "en", **caught.value.params)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_unusable_dataset_names_are_refused(store: Store, name: str) -> None:
    load_demo(store, "spring", leads=60, seed=1)

    with pytest.raises(StoreError) as save_error:
        load_demo(store, name, leads=60, seed=2)
    with pytest.raises(StoreError) as rename_error:
        store.rename("spring", name)

    assert save_error.value.code == rename_error.value.code == "bad_dataset_name"
    assert [d.name for d in store.datasets()] == ["spring"]


def test_delete_removes_the_dataset_and_its_tables(store: Store) -> None:
    load_demo(store, "spring", leads=60, seed=1)
    load_demo(store, "summer", leads=70, seed=2)
    summer = snapshot(store, "summer")
    schema = store.require("spring").schema

    store.delete("spring")

    assert store.dataset("spring") is None
    assert schema not in schemas(store)
    with pytest.raises(duckdb.CatalogException):
        store.fetch_frame(f'SELECT * FROM "{schema}".leads')
    assert snapshot(store, "summer") == summer


def test_deleting_an_unknown_dataset_lists_the_ones_that_exist(store: Store) -> None:
    load_demo(store, "spring", leads=60, seed=1)

    with pytest.raises(StoreError) as caught:
        store.delete("autumn")

    assert caught.value.code == "dataset_missing"
    message = t("store.dataset_missing", "en", **caught.value.params)
    assert "autumn" in message and "spring" in message


# --- interrupted loads ---------------------------------------------------------------------------


@pytest.mark.parametrize("interruption", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_load_interrupted_inside_the_save_transaction_leaves_the_previous_dataset_intact(
    store: Store, monkeypatch: pytest.MonkeyPatch, interruption: BaseException
) -> None:
    load_demo(store, "leads", leads=100, seed=1)
    before = snapshot(store, "leads")
    schemas_before = schemas(store)
    calls: list[str] = []

    def fail(_mapping: object) -> dict[str, object]:
        # Store.save calls this for the catalog row: after it created the new schema and
        # tables and dropped the old ones, just before commit.
        calls.append("save")
        raise interruption

    monkeypatch.setattr(funnel.store, "mapping_to_dict", fail)
    with pytest.raises(type(interruption)):
        load_demo(store, "leads", leads=80, seed=2)
    monkeypatch.undo()

    assert calls == ["save"]
    assert snapshot(store, "leads") == before
    assert schemas(store) == schemas_before
    load_demo(store, "leads", leads=80, seed=2)  # the store is still usable
    assert store.require("leads").leads == 80


def test_a_load_killed_mid_save_leaves_the_previous_dataset_intact(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    big = tmp_path / "big_export.csv"
    columns = ["lead_id", "created_at", "source", "industry", "region", "web_visits", "outcome"]
    generate_leads(200_000, seed=5)[columns].to_csv(big, index=False, date_format="%Y-%m-%d")
    storing = t("progress.store", "en")
    killed_while_storing = False
    for delay in (0.05, 0.0, 0.0):  # retry only if the save finished before the kill
        with Store(db) as store:
            if store.dataset("leads") is None or store.require("leads").leads != 120:
                load_demo(store, "leads", leads=120, seed=1)
            before = snapshot(store, "leads")
        proc = subprocess.Popen(
            [sys.executable, "-m", "funnel.cli", "load", str(big), "--dataset", "leads"]
            + ["--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        seen: list[str] = []
        for line in proc.stderr:
            seen.append(line)
            if storing in line:
                break
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
        assert storing in "".join(seen), f"the load never got to storing: {seen}"
        if proc.returncode == -signal.SIGKILL:
            killed_while_storing = True
            break
    assert killed_while_storing, "every load finished before the kill; use a bigger file"
    with Store(db) as store:  # opens cleanly, replaying its log
        assert snapshot(store, "leads") == before
        assert [d.name for d in store.datasets()] == ["leads"]
        assert schemas(store) == {before.schema}
        load_demo(store, "after the crash", leads=50, seed=3)
        assert {d.name for d in store.datasets()} == {"leads", "after the crash"}


# --- databases that cannot be used ---------------------------------------------------------------


def test_opening_a_database_another_process_holds_gives_db_locked(db_path: Path) -> None:
    with Store(db_path) as store:
        load_demo(store, "spring", leads=60, seed=1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('holding', flush=True); time.sleep(60)",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        for read_only in (False, True):
            with pytest.raises(StoreError) as caught:
                Store(db_path, read_only=read_only)
            assert caught.value.code == "db_locked"
            message = t("store.db_locked", "en", **caught.value.params)
            assert str(db_path) in message and "another funnel process" in message
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    with Store(db_path) as store:
        assert store.require("spring").leads == 60


def test_a_read_only_store_refuses_every_change(db_path: Path) -> None:
    with Store(db_path) as store:
        load_demo(store, "spring", leads=60, seed=1)

    with Store(db_path, read_only=True) as store:
        before = snapshot(store, "spring")
        for change in (
            lambda: load_demo(store, "spring", leads=30, seed=2),
            lambda: store.rename("spring", "summer"),
            lambda: store.delete("spring"),
        ):
            with pytest.raises(StoreError) as caught:
                change()
            assert caught.value.code == "db_read_only"
        assert snapshot(store, "spring") == before


def test_browsing_a_database_that_does_not_exist_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        Store(tmp_path / "nowhere.duckdb", read_only=True)

    assert caught.value.code == "db_missing"
    assert not (tmp_path / "nowhere.duckdb").exists()


def test_a_database_without_funnel_tables_is_reported_when_browsing(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()

    with pytest.raises(StoreError) as caught:
        Store(path, read_only=True)

    assert caught.value.code == "db_not_initialised"


def test_a_database_written_by_a_newer_funnel_is_refused(db_path: Path) -> None:
    with Store(db_path) as store, store.cursor() as cur:
        cur.execute("UPDATE funnel_meta SET value = '99' WHERE key = 'schema_version'")

    with pytest.raises(StoreError) as caught:
        Store(db_path)

    assert caught.value.code == "db_too_new"
    assert "99" in str(caught.value.params.get("version"))


def test_a_file_that_is_not_a_database_is_reported_as_not_one(tmp_path: Path) -> None:
    path = tmp_path / "funnel.duckdb"
    path.write_text("lead_id,source\nL1,Web\n", encoding="utf-8")

    with pytest.raises(StoreError) as caught:
        Store(path)

    assert caught.value.code == "db_not_duckdb"
    assert path.read_text(encoding="utf-8") == "lead_id,source\nL1,Web\n"
