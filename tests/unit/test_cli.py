"""The ``funnel`` command line: exit 0 on success, 2 with plain-language problems on stderr for
bad input (never a traceback), and JSON output that automation can rely on."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import COLUMNS_JA, generate_leads
from funnel.mapping.files import mapping_from_yaml
from funnel.store import Store

NAME = "leads"
#: A narrower export than the demo's 27 columns keeps these CLI tests quick.
COLUMNS = [
    "lead_id",
    "created_at",
    "source",
    "industry",
    "region",
    "employees",
    "web_visits",
    "inquiries",
    "closed_date",
    "outcome",
    "lost_reason",
]


@lru_cache(maxsize=4)
def _demo_frame(n: int, seed: int) -> pd.DataFrame:
    frame = generate_leads(n, seed=seed)[COLUMNS]
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    return frame.astype(object)


def demo_frame(n: int = 150, seed: int = 3) -> pd.DataFrame:
    return _demo_frame(n, seed).copy()


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def state(db: Path) -> dict[str, tuple[object, ...]]:
    """Every stored dataset: counts and a checksum of its leads and outcomes tables."""
    with Store(db, read_only=True) as store:
        out: dict[str, tuple[object, ...]] = {}
        for info in store.datasets():
            digest = hashlib.sha256()
            for table in ("leads", "outcomes"):
                frame = store.fetch_frame(f"SELECT * FROM {info.table(table)}")
                digest.update(frame.to_csv(index=False).encode("utf-8"))
            out[info.name] = (info.schema, info.leads, info.won, info.lost, info.open)
            out[info.name] += (digest.hexdigest(),)
        return out


class Run:
    """Run ``funnel`` in-process and keep what it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str], db: Path) -> None:
        self.capsys = capsys
        self.db = db
        self.out = ""
        self.err = ""

    def __call__(self, *argv: str | Path) -> int:
        self.capsys.readouterr()
        code = main([str(a) for a in argv] + ["--db", str(self.db)])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        assert "Traceback" not in self.err
        return code


@pytest.fixture(scope="module")
def last_month(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, tuple[object, ...]]]:
    """A database where ``funnel load`` stored last month's export as "leads"."""
    folder = tmp_path_factory.mktemp("previous")
    good = write_csv(demo_frame(120, seed=11), folder / "leads.csv")
    db = folder / "funnel.duckdb"
    assert main(["load", str(good), "--db", str(db)]) == 0
    return db, state(db)


@pytest.fixture
def funnel(capsys: pytest.CaptureFixture[str], db_path: Path) -> Run:
    return Run(capsys, db_path)


@pytest.fixture
def previous(
    db_path: Path, last_month: tuple[Path, dict[str, tuple[object, ...]]]
) -> dict[str, tuple[object, ...]]:
    """Last month's export, already stored under the name the new load uses."""
    shutil.copyfile(last_month[0], db_path)
    current = state(db_path)
    assert current == last_month[1] and current[NAME][1] == 120
    return current


def assert_refused(funnel: Run, code: int, *fragments: str) -> None:
    assert code == 2, funnel.err
    assert funnel.out == ""
    assert funnel.err.count("error: ") + funnel.err.count("エラー: ") >= 1
    for fragment in fragments:
        assert fragment in funnel.err, f"{fragment!r} missing from stderr:\n{funnel.err}"


# --- bad input: exit 2, problems on stderr, nothing stored ---------------------------------------


def _empty(path: Path) -> list[str]:
    path.write_bytes(b"")
    return [str(path)]


def _header_only(path: Path) -> list[str]:
    write_csv(demo_frame().head(0), path)
    return [str(path)]


def _ragged(path: Path) -> list[str]:
    lines = demo_frame(20).to_csv(index=False).splitlines()
    lines[3] += ",stray"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(path)]


def _xlsx_named_csv(path: Path) -> list[str]:
    buffer = io.BytesIO()
    demo_frame(5).to_excel(buffer, index=False)
    path.write_bytes(buffer.getvalue())
    return [str(path)]


def _too_large(path: Path) -> list[str]:
    write_csv(demo_frame(), path)
    return [str(path), "--max-size", "1000"]


def _forced_utf8(path: Path) -> list[str]:
    generate_leads(30, seed=5, lang="ja").to_csv(path, index=False, encoding="cp932")
    return [str(path), "--encoding", "utf-8"]


def _missing_outcome(path: Path) -> list[str]:
    write_csv(demo_frame(), path)
    return [str(path), "--outcome", "NOPE"]


def _duplicate_ids(path: Path) -> list[str]:
    frame = demo_frame(300)
    frame.loc[10, "lead_id"] = frame.loc[2, "lead_id"]
    write_csv(frame, path)
    return [str(path)]


def _bad_values(path: Path) -> list[str]:
    frame = demo_frame()
    frame.loc[4, "created_at"] = "31/02/2025"
    frame.loc[8, "created_at"] = "2099-05-01"
    frame.loc[12, "web_visits"] = "lots"
    frame.loc[15, "outcome"] = "Maybe"
    write_csv(frame, path)
    return [str(path)]


BAD_LOADS: dict[str, tuple[Callable[[Path], list[str]], tuple[str, ...]]] = {
    "empty": (_empty, ("leads.csv is empty",)),
    "header-only": (_header_only, ("no data rows", "'lead_id'")),
    "ragged": (_ragged, ("rows 4", "11 fields")),
    "xlsx-named-csv": (_xlsx_named_csv, ("named .csv", "xlsx")),
    "too-large": (_too_large, ("above the size limit of 1000 B", "--max-size")),
    "forced-utf8": (_forced_utf8, ("not readable as utf-8", "line 1")),
    "missing-outcome": (_missing_outcome, ("no column NOPE", "lead_id, created_at")),
    "duplicate-ids": (_duplicate_ids, ("'L0000003'", "4, 12", "--keep-last")),
    "bad-values": (
        _bad_values,
        ("'31/02/2025'", "'2099-05-01'", "'lots'", "'Maybe'", "rows 6", "rows 10", "rows 17"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_LOADS), ids=list(BAD_LOADS))
def test_bad_input_exits_2_with_problems_on_stderr_and_stores_nothing(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path, case: str
) -> None:
    make, fragments = BAD_LOADS[case]
    argv = make(tmp_path / "leads.csv")

    code = funnel("load", *argv)

    assert_refused(funnel, code, "leads.csv", "  fix: ", *fragments)
    assert state(funnel.db) == previous


def test_problems_are_printed_in_japanese_with_lang_ja(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    argv = _bad_values(tmp_path / "leads.csv")

    code = funnel("load", *argv, "--lang", "ja")

    assert_refused(funnel, code, "日付として読めません", "未来の日付", "'31/02/2025'")
    assert state(funnel.db) == previous


def test_a_missing_file_exits_2_naming_it(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    code = funnel("load", tmp_path / "exports" / "leads.csv")

    assert_refused(funnel, code, "leads.csv: the file does not exist", str(tmp_path / "exports"))
    assert state(funnel.db) == previous


def test_a_mapping_file_naming_a_missing_column_exits_2(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")
    assert funnel("mapping", path) == 0
    yaml_path = tmp_path / "mapping.yaml"
    yaml_path.write_text(funnel.out.replace("  source: source\n", "  Channel: source\n"), "utf-8")

    code = funnel("load", path, "--mapping", yaml_path)

    assert_refused(funnel, code, "leads.csv has no column Channel", "lead_id, created_at, source")
    assert state(funnel.db) == previous


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (None, ("does not exist",)),
        ("version: 1\nleads:\n  lead_id: identifier\n", ("'identifier'", "use one of")),
        ("version: 7\nleads:\n  lead_id: id\n", ("newer", "upgrade")),
        ("leads: [lead_id\n", ("not valid YAML",)),
    ],
    ids=["no-such-file", "unknown-role", "newer-version", "broken-yaml"],
)
def test_an_unusable_mapping_file_exits_2_saying_why(
    funnel: Run,
    previous: dict[str, tuple[object, ...]],
    tmp_path: Path,
    content: str | None,
    fragments: tuple[str, ...],
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")
    yaml_path = tmp_path / "my mapping.yaml"
    if content is not None:
        yaml_path.write_text(content, encoding="utf-8")

    code = funnel("load", path, "--mapping", yaml_path)

    assert_refused(funnel, code, str(yaml_path), *fragments)
    assert state(funnel.db) == previous


@pytest.mark.parametrize("flag", ["--id", "--source", "--created", "--leak"])
def test_a_flag_naming_a_missing_column_exits_2_naming_the_file(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path, flag: str
) -> None:
    path = write_csv(demo_frame(), tmp_path / "march_leads.csv")

    code = funnel("load", path, flag, "NOPE", "--dataset", NAME)

    assert_refused(funnel, code, "march_leads.csv has no column NOPE")
    assert state(funnel.db) == previous


def test_a_failed_cli_load_exits_2_without_a_traceback_in_a_real_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"")

    proc = subprocess.run(
        [sys.executable, "-m", "funnel.cli", "load", str(path), "--db", str(tmp_path / "f.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert proc.returncode == 2
    assert "error: leads.csv is empty." in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_the_funnel_script_and_python_m_funnel_are_the_same_command(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("funnel")
    if not script.exists():
        pytest.skip(f"no console script at {script} (install with pip install -e .)")
    missing = tmp_path / "none.duckdb"
    for command in ([str(script)], [sys.executable, "-m", "funnel"]):
        done = subprocess.run(
            [*command, "datasets", "--json", "--db", str(missing)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode, json.loads(done.stdout)) == (0, [])
    assert not missing.exists()  # a reading command creates no database


# --- loading -------------------------------------------------------------------------------------


def test_keep_last_keeps_the_last_row_of_each_repeated_id(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[10, "lead_id"] = frame.loc[2, "lead_id"]
    frame.loc[10, "region"] = "The last row"
    path = write_csv(frame, tmp_path / "leads.csv")

    code = funnel("load", path, "--keep-last", "--json")

    assert code == 0, funnel.err
    payload = json.loads(funnel.out)
    assert payload["leads"] == 149
    dropped = next(n for n in payload["notes"] if n["code"] == "duplicates_dropped")
    assert dropped["rows"] == [4] and "lead_id" in dropped["message"]
    with Store(funnel.db, read_only=True) as store:
        info = store.require(NAME)
        rows = store.fetch_frame(
            f"SELECT region FROM {info.table()} WHERE lead_id = ?", ["L0000003"]
        )
    assert rows["region"].tolist() == ["The last row"]


def test_load_json_reports_the_dataset_and_its_notes(funnel: Run, tmp_path: Path) -> None:
    path = write_csv(demo_frame(), tmp_path / "spring.csv")

    assert funnel("load", path, "--json") == 0

    payload = json.loads(funnel.out)
    assert payload["name"] == "spring"
    assert payload["leads"] == 150
    assert payload["won"] + payload["lost"] + payload["open"] == 150
    assert payload["files"][0] | {"name": "spring.csv", "encoding": "utf-8"} == payload["files"][0]
    assert payload["mapping"]["leads"]["lead_id"] == "id"
    assert isinstance(payload["notes"], list)


def test_the_printed_mapping_can_be_edited_and_fed_back(funnel: Run, tmp_path: Path) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")
    assert funnel("mapping", path) == 0
    proposed = mapping_from_yaml(funnel.out)
    yaml_path = tmp_path / "mapping.yaml"
    yaml_path.write_text(funnel.out.replace("  region: attribute\n", "  region: ignore\n"), "utf-8")

    assert funnel("load", path, "--mapping", yaml_path, "--dataset", "edited") == 0

    with Store(funnel.db, read_only=True) as store:
        stored = store.require("edited").mapping
    assert {s.name: s.role for s in stored.leads}["region"] == "ignore"
    assert [s.name for s in stored.leads] == [s.name for s in proposed.leads]


def test_a_japanese_cp932_demo_export_loads_back(funnel: Run, tmp_path: Path) -> None:
    out = tmp_path / "デモ.csv"
    assert (
        funnel("demo", "--out", out, "--encoding", "cp932", "--data-lang", "ja", "--leads", "200")
        == 0
    )
    raw = out.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    original = generate_leads(200, seed=7, lang="ja")

    assert funnel("load", out, "--dataset", "デモ") == 0

    assert "Stored デモ: 200 leads" in funnel.out
    with Store(funnel.db, read_only=True) as store:
        info = store.require("デモ")
        stored = store.leads_frame(info).sort_values(info.columns[0]).reset_index(drop=True)
    assert list(stored.columns) == list(COLUMNS_JA.values())
    for column in ("リードID", "流入元", "業種", "地域", "役職", "商談結果", "失注理由"):
        assert stored[column].tolist() == original[column].tolist(), column


# --- managing datasets ---------------------------------------------------------------------------


def test_datasets_json_lists_every_dataset_with_its_counts(funnel: Run, tmp_path: Path) -> None:
    assert funnel("load", write_csv(demo_frame(), tmp_path / "spring.csv")) == 0
    assert funnel("demo", "--leads", "80", "--dataset", "demo") == 0

    assert funnel("datasets", "--json") == 0

    rows = {d["name"]: d for d in json.loads(funnel.out)}
    assert set(rows) == {"spring", "demo"}
    assert rows["demo"]["leads"] == 80
    for row in rows.values():
        assert {"name", "leads", "won", "lost", "open", "columns", "loaded_at"} <= set(row)
        assert row["won"] + row["lost"] + row["open"] == row["leads"]
    assert rows["spring"]["columns"] == COLUMNS
    assert funnel("datasets") == 0
    assert "spring" in funnel.out and "demo" in funnel.out


def test_datasets_on_a_new_database_is_empty_and_creates_nothing(
    funnel: Run, db_path: Path
) -> None:
    assert funnel("datasets", "--json") == 0

    assert json.loads(funnel.out) == []
    assert not db_path.exists()


def test_rename_refuses_to_overwrite_and_exits_2(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    assert funnel("load", write_csv(demo_frame(), tmp_path / "spring.csv")) == 0
    before = state(funnel.db)

    code = funnel("rename", "spring", NAME)

    assert code == 2
    assert "A dataset named leads already exists." in funnel.err
    assert state(funnel.db) == before
    assert funnel("rename", "spring", "spring 2026") == 0
    assert "Renamed to spring 2026." in funnel.out
    after = state(funnel.db)
    assert after["spring 2026"] == before["spring"] and after[NAME] == previous[NAME]


def test_delete_asks_for_yes_and_then_removes_the_dataset(
    funnel: Run,
    previous: dict[str, tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: cannot ask

    assert funnel("delete", NAME) == 2
    assert "--yes" in funnel.err
    assert state(funnel.db) == previous

    assert funnel("delete", NAME, "--yes") == 0
    assert "Deleted leads." in funnel.out
    assert state(funnel.db) == {}


def test_deleting_an_unknown_dataset_exits_2_listing_the_known_ones(
    funnel: Run, previous: dict[str, tuple[object, ...]]
) -> None:
    code = funnel("delete", "autumn", "--yes")

    assert code == 2
    assert "There is no dataset named autumn. Datasets: leads." in funnel.err
    assert state(funnel.db) == previous


def test_a_database_held_by_another_process_exits_2_saying_so(
    funnel: Run, previous: dict[str, tuple[object, ...]], tmp_path: Path
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('holding', flush=True); time.sleep(60)",
            str(funnel.db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        path = write_csv(demo_frame(), tmp_path / "leads.csv")
        code = funnel("load", path)
        assert code == 2
        assert "is in use by another funnel process" in funnel.err
        assert funnel("datasets") == 2
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    assert state(funnel.db) == previous
