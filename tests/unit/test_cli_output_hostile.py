"""What the CLI writes, when what it writes came from a hostile user.

- CSV: every CSV goes through one writer (``funnel.handoff.csv_text``): rows break only at
  CRLF, a carriage return or line feed inside a value stays quoted in its cell, and no cell
  starts a formula. Checked with Python's ``csv`` reader and with a strict tokeniser that finds
  any line break outside quotes (a bare ``\\r`` in a value used to start a row whose first cell
  was ``=cmd|...``).
- Terminals: names, authors, rationales and descriptions with escape sequences, carriage
  returns, line breaks or bidi overrides are printed escaped in every human output, in English
  and Japanese (``rules list`` could be made to show a draft as "agreed (current)").
- Reading commands leave the database file byte for byte as it was.
- ``--sheet`` and ``--max-memory`` reach the readers; the load summary names the sheet read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.handoff import to_csv_bytes
from funnel.ingest import load_files
from funnel.readers import read_file
from funnel.store import Store

CORPUS = Path(__file__).resolve().parents[1] / "hostile"
LEADS = CORPUS / "leads"
RULES = (
    "schema_version: 1\nname: visits\n"
    "rules:\n  - {kind: per_unit, column: web_visits, points: 10}\n"
)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def breaks_outside_quotes(raw: str) -> list[int]:
    """Positions of line breaks outside quoted fields that are not a CRLF row end."""
    bad: list[int] = []
    quoted, i = False, 0
    while i < len(raw):
        c = raw[i]
        if c == '"':
            quoted = not quoted  # an escaped quote ("") toggles twice
        elif not quoted and c == "\r":
            if raw[i + 1 : i + 2] == "\n":
                i += 1
            else:
                bad.append(i)
        elif not quoted and c == "\n":
            bad.append(i)
        i += 1
    return bad


def assert_safe_csv(raw: str, rows: int) -> list[list[str]]:
    """One CSV text: row breaks only at CRLF, ``rows`` records, no cell starting a formula."""
    raw = raw.removeprefix("\ufeff")
    assert breaks_outside_quotes(raw) == []
    records = list(csv.reader(io.StringIO(raw, newline="")))
    assert len(records) == rows + 1  # the header
    width = len(records[0])
    assert all(len(r) == width for r in records)
    risky = [c for r in records for c in r if c.startswith(TRIGGERS) and not _number(c)]
    assert risky == []
    return records


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with ``cr``: lead ids holding a carriage return (or a line feed) and a formula."""
    path = tmp_path_factory.mktemp("output") / "funnel.duckdb"
    with Store(path) as store:
        load_files(store, "cr", read_file(LEADS / "cr_formula.csv"))
    return path


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "visits.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


# --- one CSV writer -------------------------------------------------------------------------------


def test_score_on_stdout_and_in_a_file_keeps_a_carriage_return_inside_its_cell(
    db: Path, rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli(capsys, "score", "--rules", rules, "--dataset", "cr", "--db", db)
    assert run.code == 0, run.err
    records = assert_safe_csv(run.out, 8)
    ids = {r[0] for r in records[1:]}
    assert "L001\r=cmd|' /C calc'!A0" in ids and "L002\n@SUM(A1)" in ids  # whole, in one cell

    out = tmp_path / "scores.csv"
    run = cli(capsys, "score", "--rules", rules, "--dataset", "cr", "--db", db, "--out", out)
    assert run.code == 0, run.err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the hand-off file's BOM: Excel reads it as UTF-8
    assert_safe_csv(raw.decode("utf-8"), 8)


def test_hot_on_stdout_keeps_a_carriage_return_inside_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "generous.yaml"
    rules.write_text(RULES.replace("points: 10", "points: 30"), encoding="utf-8")

    run = cli(capsys, "hot", "--rules", rules, LEADS / "cr_formula.csv")

    assert run.code == 0, run.err
    records = assert_safe_csv(run.out, 5)  # L002-L006: 2 visits or more, 60 points
    assert {r[0][:4] for r in records[1:] if "\r=cmd" in r[0]} == {"L003", "L005"}


def test_the_hand_off_and_table_download_writer_is_the_same_safe_writer() -> None:
    frame = pd.DataFrame(
        {"id": ["L1\r=cmd|' /C calc'!A0", "L2\n+1", '=HYPERLINK("x")'], "n": [1, -2, 3]}
    )
    assert_safe_csv(to_csv_bytes(frame).decode("utf-8"), 3)


def test_demo_out_csv_goes_through_the_same_writer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.csv"
    run = cli(capsys, "demo", "--leads", "50", "--out", out)
    assert run.code == 0, run.err
    assert_safe_csv(out.read_bytes().decode("utf-8"), 50)
    assert pd.read_csv(out)["created_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


# --- terminals ------------------------------------------------------------------------------------

NAME = "crm\x1b[2Jexport"
AUTHOR = "Aiko\x1b[8m\u202e"


@pytest.fixture
def escapes_db(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The ``cr`` data under a name with an escape, and a draft named to look agreed."""
    path = tmp_path / "escapes.duckdb"
    shutil.copyfile(db, path)
    assert cli(capsys, "rename", "cr", NAME, "--db", path).code == 0
    run = cli(
        capsys,
        "rules",
        "import",
        CORPUS / "rules" / "terminal_escapes.yaml",
        "--dataset",
        NAME,
        "--author",
        AUTHOR,
        "--db",
        path,
    )
    assert run.code == 0, run.err
    return path


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_names_with_control_characters_are_printed_escaped_in_every_human_output(
    escapes_db: Path, lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = CORPUS / "rules" / "terminal_escapes.yaml"
    runs = {
        "list": cli(capsys, "--lang", lang, "rules", "list", "--db", escapes_db),
        "show": cli(capsys, "--lang", lang, "rules", "show", "1", "--db", escapes_db),
        "datasets": cli(capsys, "--lang", lang, "datasets", "--db", escapes_db),
        "evaluate": cli(
            capsys,
            "--lang",
            lang,
            "evaluate",
            "--rules",
            rules,
            "--dataset",
            NAME,
            "--db",
            escapes_db,
        ),  # fmt: skip
        "segments": cli(
            capsys,
            "--lang",
            lang,
            "segments",
            "--by",
            "industry",
            "--dataset",
            NAME,
            "--db",
            escapes_db,
        ),  # fmt: skip
        "missing": cli(capsys, "--lang", lang, "funnel", "--dataset", AUTHOR, "--db", escapes_db),
    }
    for name, run in runs.items():
        for text in (run.out, run.err):
            assert "\x1b" not in text and "\u202e" not in text, (name, text)
            assert "\r" not in text, (name, text)
    assert runs["missing"].code == 2
    listed = runs["list"].out.splitlines()
    assert len(listed) == 1  # one version: the line break in its name made no second line
    assert "\\r#9   agreed (current)\\x1b[2K\\nfake line" in listed[0]
    assert "Aiko\\x1b[8m\\u202e" in listed[0]
    assert "hot\\x1b[31m" in runs["evaluate"].out
    assert "crm\\x1b[2Jexport" in runs["datasets"].out


def test_json_output_keeps_the_names_as_data(
    escapes_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cli(capsys, "rules", "list", "--json", "--db", escapes_db)

    (version,) = json.loads(run.out)
    assert version["name"] == "v1\r#9   agreed (current)\x1b[2K\nfake line"
    assert version["version"]["author"] == AUTHOR


# --- reading commands never write ---------------------------------------------------------------


def test_reading_commands_leave_the_database_file_as_it_was(
    db: Path, rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "read.duckdb"
    shutil.copyfile(db, path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    for argv in (
        ["datasets"],
        ["funnel", "--dataset", "cr", "--cohorts"],
        ["segments", "--by", "industry"],
        ["evaluate", "--rules", str(rules)],
        ["score", "--rules", str(rules)],
        ["rules", "list"],
        ["template", "--out", str(tmp_path / "t.yaml")],
    ):
        assert cli(capsys, *argv, "--db", path).code == 0, argv

    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not Path(f"{path}.wal").exists()


# --- --sheet and --max-memory ---------------------------------------------------------------------


def test_load_reads_the_sheet_asked_for_and_names_it(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sheets.duckdb"
    book = LEADS / "two_sheets.xlsx"

    run = cli(capsys, "load", book, "--dataset", "first", "--db", db)
    assert run.code == 0, run.err
    assert "read the sheet 'Leads', the first visible one" in run.err and "--sheet" in run.err

    run = cli(capsys, "--lang", "ja", "load", book, "--sheet", "Q2", "--dataset", "q2", "--db", db)
    assert run.code == 0, run.err
    assert "シート「Q2」を読み込みました" in run.err
    run = cli(capsys, "datasets", "--json", "--db", db)
    files = {d["name"]: d["files"][0] for d in json.loads(run.out)}
    assert (files["first"]["sheet"], files["q2"]["sheet"]) == ("Leads", "Q2")
    assert {d["name"]: d["leads"] for d in json.loads(run.out)} == {"first": 8, "q2": 3}

    run = cli(capsys, "score", "--rules", rules, book, "--sheet", "Q2")
    assert run.code == 0, run.err
    assert sorted(r[0] for r in assert_safe_csv(run.out, 3)[1:]) == ["L050", "L051", "L052"]

    run = cli(capsys, "load", LEADS.parent / "base" / "leads.csv", "--sheet", "Q2", "--db", db)
    assert run.code == 2 and "not an Excel workbook" in run.err


def test_max_memory_reaches_the_reader_and_is_named_in_the_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = LEADS.parent / "base" / "leads.csv"

    run = cli(capsys, "load", base, "--max-memory", "2000", "--db", tmp_path / "m.duckdb")

    assert run.code == 2
    assert "would take more than 2.0 KiB of memory" in run.err and "--max-memory" in run.err
    assert not (tmp_path / "m.duckdb").exists()
