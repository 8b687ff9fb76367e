"""Faults: processes killed mid-save, two sessions saving at once, and database files that are
read-only, missing, locked by another process or written by an older funnel.

Every case checks what a person sees — a message naming the file and what to do, never a
traceback (exit code 2 on the command line) — and that the stored data did not change.
A load killed while it stores a dataset is covered by
``test_store.py::test_a_load_killed_mid_save_leaves_the_previous_dataset_intact``; here a killed
load is checked for the rule-set versions beside the data.

The tests run as root here, where ``chmod 0444`` does not stop a write: command-line runs drop
root's file-permission powers with ``setpriv`` (so a 0444 file is read-only, as for any user),
and the in-process app runs use ``chattr +i`` (immutable, also for root). Where neither can be
done, those tests skip with the reason.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.rules import RuleSet
from funnel.store import SCHEMA_VERSION, DatasetInfo, Store, StoreError
from funnel.suggest import template_for
from funnel.versions.files import version_to_yaml
from funnel.versions.history import list_versions, save_version
from funnel.versions.record import Version
from tests.support import read_only, snapshot

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"
DATASET = "demo"
WAIT = 30.0  # s, for a child process to report it is ready

# --- helpers -------------------------------------------------------------------------------------


def make_db(path: Path, versions: int = 2) -> None:
    """A database with the demo dataset (2,000 leads) and ``versions`` saved rule-set versions."""
    with Store(path) as store:
        info = load_demo(store, DATASET, leads=2000, seed=1).dataset
        rs = template_for(info)
        for i in range(versions):
            save_version(store, info, rs.with_points(0, i), author="Aiko", rationale=f"#{i}")


def history(store: Store) -> dict[int, str]:
    """Every saved version as its YAML export, by id."""
    return {v.version_id: version_to_yaml(v) for v in list_versions(store)}


def digest(path: Path) -> str:
    """Checksum of a database file and its log: proves a read or a refusal wrote nothing."""
    h = hashlib.sha256()
    for part in (path, path.with_name(path.name + ".wal")):
        h.update(part.read_bytes() if part.exists() else b"-")
    return h.hexdigest()


def schema_version(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT value FROM funnel_meta WHERE key = 'schema_version'").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def downgrade_to_v2(path: Path) -> None:
    """Make the file look like schema 2, from before rule-set versions existed."""
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE funnel_versions")
    con.execute("DROP TABLE funnel_version_events")
    con.execute("DROP SEQUENCE funnel_version_seq")
    con.execute("UPDATE funnel_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()


def unescape(markdown: str) -> str:
    """What a Markdown message displays (the app escapes the path's dots and slashes)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def no_root_powers() -> list[str]:
    """A command prefix under which a 0444 file is read-only even when the tests run as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    prefix = [setpriv or "setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    if setpriv is None or subprocess.run([*prefix, "true"], capture_output=True).returncode:
        pytest.skip("running as root without a working setpriv: a 0444 file stays writable")
    return prefix


class Cli:
    """``funnel ...`` in its own process, as a user runs it (optionally without root powers)."""

    def __init__(self, db: Path, prefix: list[str] | None = None) -> None:
        self.db = db
        self.prefix = prefix or []
        self.out = self.err = ""

    def __call__(self, *args: str) -> int:
        env = {k: v for k, v in os.environ.items() if k != "FUNNEL_DEBUG"}
        done = subprocess.run(
            [*self.prefix, sys.executable, "-m", "funnel.cli", *args, "--db", str(self.db)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        self.out, self.err = done.stdout, done.stderr
        assert "Traceback" not in self.out + self.err
        return done.returncode


@pytest.fixture
def holder() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start a process holding a DuckDB write connection on a file (killed after the test)."""
    started: list[subprocess.Popen[str]] = []

    def hold(path: Path) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                "print('holding', flush=True); time.sleep(120)",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        return proc

    yield hold
    for proc in started:
        release(proc)


def release(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], AppTest]]:
    """Run the app (Overview page) on a database file with fresh process-wide caches."""
    st.cache_resource.clear()
    st.cache_data.clear()

    def run(db: Path) -> AppTest:
        monkeypatch.setenv("FUNNEL_DB", str(db))
        at = AppTest.from_file(str(MAIN), default_timeout=60).run()
        assert not at.exception, [e.value for e in at.exception]  # never a traceback
        return at

    yield run
    st.cache_resource.clear()
    st.cache_data.clear()


def errors(at: AppTest) -> list[str]:
    return [unescape(e.value) for e in at.error]


def warnings(at: AppTest) -> list[str]:
    return [unescape(w.value) for w in at.warning]


def dataset_choices(at: AppTest) -> list[str]:
    boxes = [b for b in at.sidebar.selectbox if b.label == t("app.dataset", "en")]
    return [str(o) for o in boxes[0].options] if boxes else []


# --- killed mid-save -----------------------------------------------------------------------------

SAVER = """
import sys
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.history import save_version

store = Store(sys.argv[1])
info = store.require("demo")
rs = template_for(info)
print("ready", flush=True)
i = 0
while True:
    i += 1
    v = save_version(store, info, rs.with_points(0, i % 40), author="Ben", rationale=f"loop {i}")
    print("saved", v.version_id, v.number, flush=True)
"""


def test_a_rule_set_save_killed_at_random_points_keeps_every_committed_version(
    db_path: Path,
) -> None:
    make_db(db_path, versions=2)
    with Store(db_path) as store:
        data = snapshot(store, DATASET)
        kept = history(store)
    rng = random.Random(6)
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(db_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + WAIT
        while proc.stdout.readline().strip() != "ready":
            assert time.monotonic() < deadline and proc.poll() is None, "the saver never started"
        reported: list[tuple[int, int]] = []
        for _ in range(rng.randint(1, 4)):  # let it commit a few, then kill it mid-way
            _, version_id, number = proc.stdout.readline().split()
            reported.append((int(version_id), int(number)))
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL

        assert schema_version(db_path) == SCHEMA_VERSION
        with Store(db_path, read_only=True) as store:  # opens cleanly, even read-only
            assert history(store).keys() >= kept.keys()
        with Store(db_path) as store:
            after = history(store)
            versions = sorted(list_versions(store, DATASET), key=lambda v: v.version_id)
            assert snapshot(store, DATASET) == data
        assert {k: after[k] for k in kept} == kept  # every earlier version unchanged
        by_id = {v.version_id: v for v in versions}
        for version_id, number in reported:  # every version the saver saw committed is there
            assert by_id[version_id].number == number
        per_name: dict[str, list[int]] = {}
        for v in versions:
            per_name.setdefault(v.name, []).append(v.number)
        for numbers in per_name.values():  # numbered 1, 2, 3 ... in saving order, no gaps
            assert numbers == list(range(1, len(numbers) + 1))
        kept = after
    with Store(db_path) as store:  # and saving goes on where it stopped
        info = store.require(DATASET)
        rs = template_for(info)
        last = max(v.number for v in list_versions(store, DATASET) if v.name == rs.name)
        assert save_version(store, info, rs, author="Aiko").number == last + 1


def test_a_dataset_reload_killed_midway_keeps_every_saved_version(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    make_db(db, versions=3)
    with Store(db) as store:
        before = snapshot(store, DATASET)
        kept = history(store)
    big = tmp_path / "demo.csv"
    generate_leads(60_000, seed=4).to_csv(big, index=False, date_format="%Y-%m-%d")
    storing = t("progress.store", "en")
    proc = subprocess.Popen(
        [sys.executable, "-m", "funnel.cli", "load", str(big), "--dataset", DATASET]
        + ["--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:
        seen += line
        if storing in line:
            break
    proc.send_signal(signal.SIGKILL)  # while it writes the new dataset
    proc.wait(timeout=30)
    proc.stderr.close()
    assert storing in seen, f"the load never got to storing: {seen}"
    assert proc.returncode == -signal.SIGKILL

    with Store(db) as store:
        assert history(store) == kept
        now = snapshot(store, DATASET)
        # the old dataset or (had the load just committed) the whole new one, never a mix
        assert now == before or store.require(DATASET).leads == 60_000


# --- two sessions saving at the same moment ------------------------------------------------------


def save_together(store: Store, info: DatasetInfo, saves: dict[str, RuleSet]) -> dict[str, Version]:
    """Save each author's rule set from its own thread, all starting at the same moment."""
    barrier = threading.Barrier(len(saves))
    saved: dict[str, Version] = {}
    failed: list[BaseException] = []

    def save(author: str, rs: RuleSet) -> None:
        try:
            barrier.wait(timeout=10)  # both sessions press "save" together
            saved[author] = save_version(store, info, rs, author=author)
        except BaseException as exc:  # pragma: no cover - reported below
            failed.append(exc)

    threads = [threading.Thread(target=save, args=item) for item in saves.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not failed, failed
    return saved


def test_two_sessions_saving_the_same_rule_set_at_once_keep_both_versions_in_order(
    store: Store,
) -> None:
    info = load_demo(store, DATASET, leads=2000, seed=1).dataset
    base = template_for(info)
    for attempt in range(5):
        rs = RuleSet(name=f"shared {attempt}", rules=base.rules, tiers=base.tiers)
        saved = save_together(
            store, info, {"marketing": rs.with_points(0, 11), "sales": rs.with_points(0, 22)}
        )

        stored = sorted(
            (v for v in list_versions(store, DATASET) if v.name == rs.name),
            key=lambda v: v.version_id,
        )
        assert [v.number for v in stored] == [1, 2]  # numbered in the order they were saved
        assert stored[0].saved_at <= stored[1].saved_at
        assert {v.author for v in stored} == {"marketing", "sales"}
        for v in stored:  # each is exactly what its session saved: neither overwrote the other
            assert version_to_yaml(v) == version_to_yaml(saved[v.author])
            assert v.ruleset.rules[0].points == {"marketing": 11, "sales": 22}[v.author]


# --- a read-only database file -------------------------------------------------------------------


def test_a_read_only_database_is_browsed_from_the_cli_and_refuses_changes(db_path: Path) -> None:
    make_db(db_path)
    db_path.chmod(0o444)
    funnel = Cli(db_path, no_root_powers())
    before = digest(db_path)

    assert funnel("datasets") == 0
    assert DATASET in funnel.out
    assert funnel("rules", "list") == 0
    assert "Aiko" in funnel.out

    assert funnel("rename", DATASET, "other") == 2
    assert t("store.db_read_only", "en", path=str(db_path)) in funnel.err
    assert digest(db_path) == before


def test_a_read_only_database_opens_the_app_for_browsing(
    db_path: Path, app: Callable[[Path], AppTest]
) -> None:
    make_db(db_path)
    before = digest(db_path)
    with read_only(db_path):
        with pytest.raises(StoreError) as caught:
            Store(db_path)
        assert caught.value.code == "db_read_only"
        at = app(db_path)
        assert not errors(at)
        assert t("store.db_read_only", "en", path=str(db_path)) in warnings(at)
        assert dataset_choices(at) == [DATASET]  # browsing works
    assert digest(db_path) == before


# --- a missing database file ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [("funnel",), ("rules", "list")])
def test_a_reading_command_on_a_missing_database_says_so_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "missing.duckdb"
    funnel = Cli(missing)

    code = funnel(*command)

    assert not missing.exists()
    assert code == 2
    assert t("store.db_missing", "en", path=str(missing)) in funnel.err


def test_a_missing_database_in_a_read_only_folder_is_named_in_the_app(
    tmp_path: Path, app: Callable[[Path], AppTest]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    missing = folder / "funnel.duckdb"
    with read_only(folder):
        with pytest.raises(StoreError) as caught:
            Store(missing)
        assert caught.value.code == "db_read_only"  # not a raw "cannot open file"
        at = app(missing)
    assert errors(at) == [t("store.db_missing", "en", path=str(missing))]
    assert not missing.exists()


def test_a_missing_database_message_says_how_to_go_on() -> None:
    message = t("store.db_missing", "en", path="/srv/funnel.duckdb")
    assert "FUNNEL_DB" in message or "writable" in message


# --- a database another process holds ------------------------------------------------------------


def test_a_locked_database_is_reported_by_reading_commands(
    db_path: Path, holder: Callable[[Path], subprocess.Popen[str]]
) -> None:
    make_db(db_path)
    before = digest(db_path)
    holder(db_path)
    funnel = Cli(db_path)
    for command in (("rules", "list"), ("funnel", "--dataset", DATASET)):
        assert funnel(*command) == 2
        assert t("store.db_locked", "en", path=str(db_path)) in funnel.err
    assert digest(db_path) == before


def test_the_app_reports_a_locked_database_and_recovers_once_it_is_released(
    db_path: Path,
    app: Callable[[Path], AppTest],
    holder: Callable[[Path], subprocess.Popen[str]],
) -> None:
    make_db(db_path)
    before = digest(db_path)
    other = holder(db_path)

    at = app(db_path)
    assert errors(at) == [t("store.db_locked", "en", path=str(db_path))]
    assert digest(db_path) == before

    release(other)
    at = app(db_path)  # the same server process, caches kept: no restart needed
    assert not errors(at) and not warnings(at)
    assert dataset_choices(at) == [DATASET]


def test_a_locked_database_message_says_how_to_go_on() -> None:
    message = t("store.db_locked", "en", path="/srv/funnel.duckdb").lower()
    assert any(word in message for word in ("close", "try again", "wait", "reload"))


# --- a database written by an older funnel -------------------------------------------------------


def test_an_older_database_opened_read_only_says_opening_it_normally_upgrades_it(
    db_path: Path, app: Callable[[Path], AppTest]
) -> None:
    make_db(db_path, versions=0)
    downgrade_to_v2(db_path)
    before = digest(db_path)
    expected = t("store.db_old_schema", "en", path=str(db_path), version=2)
    assert "upgraded in place" in expected

    with pytest.raises(StoreError) as caught:
        Store(db_path, read_only=True)
    assert caught.value.code == "db_old_schema" and caught.value.params["version"] == 2

    db_path.chmod(0o444)
    funnel = Cli(db_path, no_root_powers())
    assert funnel("datasets") == 2
    assert expected in funnel.err
    db_path.chmod(0o644)

    with read_only(db_path):
        at = app(db_path)
    assert errors(at) == [expected]
    assert digest(db_path) == before
    assert schema_version(db_path) == 2


def test_an_older_database_in_a_read_only_folder_is_not_half_upgraded(
    tmp_path: Path, app: Callable[[Path], AppTest]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "funnel.duckdb"
    make_db(db, versions=0)
    downgrade_to_v2(db)
    before = digest(db)

    with read_only(folder):  # the file is writable, but DuckDB cannot write its log beside it
        with pytest.raises(StoreError) as caught:
            Store(db)
        assert caught.value.code == "db_read_only"
        at = app(db)
    assert errors(at) == [t("store.db_old_schema", "en", path=str(db), version=2)]
    assert digest(db) == before


def test_an_older_database_opened_normally_is_upgraded_keeping_its_data(db_path: Path) -> None:
    make_db(db_path, versions=0)
    with Store(db_path) as store:
        before = snapshot(store, DATASET)
    downgrade_to_v2(db_path)
    assert schema_version(db_path) == 2

    with Store(db_path) as store:
        assert snapshot(store, DATASET) == before
        assert list_versions(store) == []  # the versions tables exist now
        info = store.require(DATASET)
        assert save_version(store, info, template_for(info), author="Aiko").number == 1
    assert schema_version(db_path) == SCHEMA_VERSION
    with Store(db_path, read_only=True) as store:
        assert [v.author for v in list_versions(store)] == ["Aiko"]
