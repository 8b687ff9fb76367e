"""Every kind of bad input is refused with a message a marketer can act on, and stores nothing.

Each test first stores a good dataset under the name the bad file would replace, attempts the
bad load the way the app and the CLI do (read, map, validate, store), then checks that the user
sees the file, column, rows and values in English (and a different, non-empty Japanese
sentence), and that the stored dataset is byte-for-byte what it was.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.ingest import load_files, read_inputs
from funnel.mapping.files import mapping_from_yaml, mapping_to_yaml
from funnel.mapping.propose import propose_mapping
from funnel.problems import LoadError, Problem
from funnel.readers import read_file
from funnel.store import Store
from tests.support import Snapshot
from tests.support import snapshot as stored_snapshot

NAME = "leads"


# --- helpers -------------------------------------------------------------------------------------


def snapshot(store: Store, name: str = NAME) -> Snapshot:
    return stored_snapshot(store, name)


def demo_frame(n: int = 150, seed: int = 3) -> pd.DataFrame:
    """Demo leads as a CRM would export them: dates as text, every cell editable."""
    return _demo_frame(n, seed).copy()


@lru_cache(maxsize=8)
def _demo_frame(n: int, seed: int) -> pd.DataFrame:
    frame = generate_leads(n, seed=seed)
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col].dtype):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    return frame.astype(object)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def attempt(
    store: Store,
    leads: Path,
    outcomes: Path | None = None,
    *,
    max_bytes: int | None = None,
    encoding: str | None = None,
    **load_options: object,
) -> LoadError:
    """Read and load like the CLI does; return the LoadError the user is shown."""
    with pytest.raises(LoadError) as caught:
        lead_file, outcome_file, _ = read_inputs(
            leads, outcomes, max_bytes=max_bytes, encoding=encoding
        )
        load_files(store, NAME, lead_file, outcome_file, **load_options)  # type: ignore[arg-type]
    return caught.value


def only(error: LoadError, code: str) -> Problem:
    """Return the one error with ``code`` (failing with every problem listed otherwise)."""
    found = [p for p in error.problems if p.code == code]
    listed = [f"{p.code}: {p.message()}" for p in error.problems]
    assert len(found) == 1, f"expected one {code!r} problem, got {listed}"
    assert found[0].severity == "error"
    return found[0]


def assert_says(problem: Problem, *fragments: object, rows: tuple[int, ...] = ()) -> None:
    """The English sentence names every fragment and row; the Japanese one is a translation."""
    en = problem.message("en")
    ja = problem.message("ja")
    for fragment in fragments:
        assert str(fragment) in en, f"{fragment!r} missing from {en!r}"
    for row in rows:
        assert re.search(rf"(?<!\d){row}(?!\d)", en), f"row {row} missing from {en!r}"
    assert problem.rows == rows
    assert ja.strip() and ja != en
    assert problem.file in ja
    if problem.column and problem.column in en:
        assert problem.column in ja
    assert problem.fix("en").strip() and problem.fix("ja").strip()


@dataclass(frozen=True)
class Previous:
    """The good export loaded last month, and the database it was stored in."""

    csv: Path
    db: Path
    snapshot: Snapshot


@pytest.fixture(scope="module")
def last_month(tmp_path_factory: pytest.TempPathFactory) -> Previous:
    folder = tmp_path_factory.mktemp("previous")
    good = write_csv(demo_frame(120, seed=11), folder / "leads.csv")
    db = folder / "funnel.duckdb"
    with Store(db) as store:
        load_files(store, NAME, read_file(good))
        snap = snapshot(store)
    return Previous(good, db, snap)


@pytest.fixture
def db_path(tmp_path: Path, last_month: Previous) -> Path:
    """Every test starts from a copy of the database holding last month's good dataset."""
    target = tmp_path / "funnel.duckdb"
    shutil.copyfile(last_month.db, target)
    return target


@pytest.fixture
def previous(store: Store, last_month: Previous) -> Snapshot:
    """A good dataset already stored under the name every bad load tries to replace."""
    current = snapshot(store)
    assert current == last_month.snapshot
    return current


# --- 1-3: empty, header only, no header ----------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf\r\n", b" \n\n"],
    ids=["zero-bytes", "bom-and-newline", "blank-lines"],
)
def test_an_empty_file_is_refused_and_nothing_is_stored(
    store: Store, previous: Snapshot, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)

    error = attempt(store, path)

    assert_says(only(error, "file_empty"), "leads.csv", "empty")
    assert snapshot(store) == previous


def test_a_header_only_file_is_refused_naming_its_columns(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = write_csv(demo_frame().head(0), tmp_path / "leads.csv")

    error = attempt(store, path)

    assert_says(only(error, "header_only"), "leads.csv", "'lead_id'", "'created_at'", "no data")
    assert snapshot(store) == previous


def test_a_file_without_a_header_row_is_refused_quoting_its_first_line(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "3f6c3d2b9a8e4f1c0d7e6b5a4c3d2e1f,2018-02-01,b76ef37428e6799c421989521c0e5077,social\n"
        "1a2b3c4d5e6f70819a0b1c2d3e4f5061,2018-02-03,22c29808c4f815213303f8933030604c,email\n",
        encoding="utf-8",
    )

    error = attempt(store, path)

    problem = only(error, "no_header")
    assert_says(problem, "leads.csv", "no header", "'2018-02-01'", rows=(1,))
    assert snapshot(store) == previous


def test_a_wide_export_saved_without_its_header_row_is_refused_as_such(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # The first line of a headerless CRM export mixes ids, dates, numbers, words and empty
    # cells; it must not be taken for a header with "duplicate columns named 'No', '0'".
    path = tmp_path / "leads.csv"
    demo_frame().to_csv(path, index=False, header=False)

    error = attempt(store, path)

    problem = only(error, "no_header")
    assert_says(problem, "leads.csv", "no header", "'2025-", rows=(1,))
    assert [p.code for p in error.errors] == ["no_header"]
    assert snapshot(store) == previous


# --- 4: a mapped column missing ------------------------------------------------------------------


def test_a_mapping_naming_a_missing_column_is_refused_listing_the_columns_found(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")
    text = mapping_to_yaml(propose_mapping(read_file(path)))
    assert "  source: source\n" in text
    mapping = mapping_from_yaml(text.replace("  source: source\n", "  Channel: source\n"))

    error = attempt(store, path, mapping=mapping)

    problem = only(error, "column_missing")
    assert problem.column == "Channel"
    assert_says(problem, "leads.csv", "Channel", "lead_id, created_at, source")
    assert snapshot(store) == previous


def test_an_outcome_column_that_does_not_exist_is_refused(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")

    error = attempt(store, path, outcome_column="NOPE")

    assert_says(only(error, "column_missing"), "leads.csv", "NOPE", "lead_id, created_at")
    assert snapshot(store) == previous


# --- 5: duplicate ids ----------------------------------------------------------------------------


def test_duplicate_ids_are_listed_and_nothing_is_stored(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame(300)
    frame.loc[10, "lead_id"] = frame.loc[2, "lead_id"]  # rows 4 and 12 share L0000003
    frame.loc[40, "lead_id"] = frame.loc[30, "lead_id"]  # rows 32 and 42 share L0000031
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    problem = only(error, "duplicate_id")
    assert problem.count == 4
    assert_says(problem, "leads.csv", "lead_id", "'L0000003'", "'L0000031'", rows=(4, 12, 32, 42))
    assert "--keep-last" in problem.fix("en")
    assert snapshot(store) == previous


def test_keep_last_keeps_the_last_occurrence_of_each_repeated_id(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[10, "lead_id"] = frame.loc[2, "lead_id"]
    frame.loc[10, "industry"] = "Last occurrence wins"
    path = write_csv(frame, tmp_path / "leads.csv")

    result = load_files(store, NAME, read_file(path), keep_last=True)

    info = result.dataset
    assert info.leads == 149
    stored = store.fetch_frame(
        f"SELECT industry FROM {info.table()} WHERE lead_id = ?", ["L0000003"]
    )
    assert stored["industry"].tolist() == ["Last occurrence wins"]
    note = next(p for p in result.problems if p.code == "duplicates_dropped")
    assert note.severity == "info" and note.rows == (4,) and note.count == 1
    assert "lead_id" in note.message("en") and "4" in note.message("en")
    assert snapshot(store) != previous


def test_a_lead_id_column_with_one_duplicate_is_still_mapped_as_the_id(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # A typical small export: 50 leads, one id typed twice. The id column must stay the id
    # and the duplicate must be reported, not silently replaced by row numbers.
    frame = demo_frame(50)
    frame.loc[5, "lead_id"] = frame.loc[3, "lead_id"]
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    assert_says(only(error, "duplicate_id"), "leads.csv", "lead_id", "'L0000004'", rows=(5, 7))
    assert snapshot(store) == previous


# --- 6: outcome rows for unknown leads -----------------------------------------------------------


def test_outcome_rows_for_unknown_leads_are_listed(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    leads = demo_frame()[["lead_id", "created_at", "source", "industry", "web_visits"]]
    lead_path = write_csv(leads, tmp_path / "leads.csv")
    deals = pd.DataFrame(
        {
            "lead_id": ["L0000002", "L0000009", "L9999998", "L0000020", "X-17"],
            "won_date": ["2025-09-01", "2025-09-03", "2025-09-04", "2025-10-01", "2025-10-02"],
            "amount": ["1200000", "800000", "50000", "300000", "75000"],
        }
    )
    deal_path = write_csv(deals, tmp_path / "deals.csv")

    error = attempt(store, lead_path, deal_path)

    problem = only(error, "unknown_lead")
    assert problem.file == "deals.csv"
    assert_says(problem, "deals.csv", "'L9999998'", "'X-17'", rows=(4, 6))
    assert snapshot(store) == previous


# --- 7-11: values --------------------------------------------------------------------------------


def test_unparseable_dates_are_listed_with_rows_and_values(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[4, "created_at"] = "31/02/2025"
    frame.loc[9, "created_at"] = "next week"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    problem = only(error, "bad_date")
    assert_says(problem, "leads.csv", "created_at", "'31/02/2025'", "'next week'", rows=(6, 11))
    assert snapshot(store) == previous


def test_a_created_column_with_a_few_bad_dates_is_reported_not_silently_dropped(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # 4 typos in 150 rows (2.7%): still the created date; the typos are the user's to fix.
    frame = demo_frame()
    for i, typo in zip((4, 20, 60, 90), ("2025-13-01", "tbd", "2025/02/30", "?"), strict=True):
        frame.loc[i, "created_at"] = typo
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    problem = only(error, "bad_date")
    assert_says(problem, "leads.csv", "created_at", "'tbd'", rows=(6, 22, 62, 92))
    assert snapshot(store) == previous


def test_dates_in_the_future_are_listed(store: Store, previous: Snapshot, tmp_path: Path) -> None:
    frame = demo_frame()
    frame.loc[7, "created_at"] = "2099-05-01"
    frame.loc[8, "created_at"] = "2031/01/15"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    problem = only(error, "future_date")
    assert_says(problem, "leads.csv", "created_at", "'2099-05-01'", "'2031/01/15'", rows=(9, 10))
    assert snapshot(store) == previous


def test_negative_counts_in_a_behaviour_column_are_listed(
    store: Store, previous: Snapshot, last_month: Previous, tmp_path: Path
) -> None:
    # The user reuses the mapping saved from last month's export, where web_visits is a count.
    saved = mapping_to_yaml(propose_mapping(read_file(last_month.csv)))
    assert "  web_visits: behaviour\n" in saved
    frame = demo_frame()
    frame.loc[5, "web_visits"] = -3
    frame.loc[6, "web_visits"] = "-12"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path, mapping=mapping_from_yaml(saved))

    problem = only(error, "negative_count")
    assert_says(problem, "leads.csv", "web_visits", "-3", "-12", rows=(7, 8))
    assert snapshot(store) == previous


def test_a_negative_count_is_reported_without_a_saved_mapping_too(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # web_visits is a behaviour count in every other export; one -3 must be reported, not
    # quietly turn the column into a plain number where negative values are allowed.
    frame = demo_frame()
    frame.loc[5, "web_visits"] = -3
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    assert_says(only(error, "negative_count"), "leads.csv", "web_visits", "-3", rows=(7,))
    assert snapshot(store) == previous


def test_text_in_a_numeric_column_is_listed(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[12, "web_visits"] = "lots"
    frame.loc[13, "employees"] = "about 300"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    visits = next(p for p in error.errors if p.column == "web_visits")
    employees = next(p for p in error.errors if p.column == "employees")
    assert visits.code == employees.code == "not_a_number"
    assert_says(visits, "leads.csv", "web_visits", "'lots'", "not numbers", rows=(14,))
    assert_says(employees, "leads.csv", "employees", "'about 300'", rows=(15,))
    assert snapshot(store) == previous


def test_an_outcome_value_that_is_neither_won_nor_lost_is_listed(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[15, "outcome"] = "Maybe"
    frame.loc[16, "outcome"] = "On hold"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    problem = only(error, "unknown_outcome_value")
    assert_says(problem, "leads.csv", "outcome", "'Maybe'", "'On hold'", rows=(17, 18))
    assert snapshot(store) == previous


def test_an_unknown_status_in_an_outcomes_file_is_listed(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    leads = demo_frame()[["lead_id", "created_at", "source", "industry"]]
    lead_path = write_csv(leads, tmp_path / "leads.csv")
    deals = pd.DataFrame(
        {
            "lead_id": ["L0000002", "L0000009", "L0000011", "L0000020"],
            "status": ["Won", "Lost", "Postponed", "Won"],
        }
    )
    deal_path = write_csv(deals, tmp_path / "deals.csv")

    error = attempt(store, lead_path, deal_path)

    problem = only(error, "unknown_outcome_value")
    assert_says(problem, "deals.csv", "status", "'Postponed'", rows=(4,))
    assert snapshot(store) == previous


# --- 12: the content is not what the extension says ----------------------------------------------


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("leads.csv", "lead_id\nL1\n")
    return buffer.getvalue()


WRONG_FORMATS = [
    pytest.param(
        "leads.csv",
        lambda: xlsx_bytes(demo_frame(5)),
        "wrong_format",
        (".csv", "an Excel workbook"),
        id="xlsx-named-csv",
    ),
    pytest.param(
        "leads.xlsx",
        lambda: demo_frame(5).to_csv(index=False).encode(),
        "wrong_format",
        (".xlsx", "CSV text"),
        id="csv-named-xlsx",
    ),
    pytest.param(
        "leads.parquet",
        lambda: b"lead_id;source\nL1;Ads\n",
        "wrong_format",
        (".parquet",),
        id="text-named-parquet",
    ),
    pytest.param(
        "leads.parquet",
        lambda: b"PAR1" + b"\x15\x00" * 40,
        "bad_parquet",
        ("Parquet",),
        id="broken-parquet",
    ),
    pytest.param(
        "leads.xlsx", _zip_without_workbook, "wrong_format", (".xlsx", "zip"), id="zip-named-xlsx"
    ),
    pytest.param(
        "leads.xlsx",
        lambda: xlsx_bytes(demo_frame(50))[:1500],
        "bad_excel",
        ("Excel",),
        id="truncated-xlsx",
    ),
    pytest.param(
        "leads.csv",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        "unsupported_binary",
        ("a PDF document", "not a table"),
        id="pdf-named-csv",
    ),
    pytest.param(
        "leads.csv",
        lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
        "unsupported_binary",
        ("binary",),
        id="png-named-csv",
    ),
    pytest.param(
        "leads.xls",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        "unsupported_binary",
        ("xls",),
        id="old-xls",
    ),
]


@pytest.mark.parametrize(("name", "content", "code", "fragments"), WRONG_FORMATS)
def test_a_file_that_is_not_what_its_extension_says_is_refused(
    store: Store,
    previous: Snapshot,
    tmp_path: Path,
    name: str,
    content: Callable[[], bytes],
    code: str,
    fragments: tuple[str, ...],
) -> None:
    path = tmp_path / name
    path.write_bytes(content())

    error = attempt(store, path)

    assert_says(only(error, code), name, *fragments)
    assert snapshot(store) == previous


# --- 13: size limit ------------------------------------------------------------------------------


def test_a_file_above_the_size_limit_is_refused(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")

    error = attempt(store, path, max_bytes=1000)

    problem = only(error, "too_large")
    assert_says(problem, "leads.csv", "KiB", "1000 B")
    assert "--max-size" in problem.fix("en")
    assert snapshot(store) == previous


def test_the_size_limit_can_be_set_from_the_environment(
    store: Store, previous: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(demo_frame(), tmp_path / "leads.csv")
    monkeypatch.setenv("FUNNEL_MAX_FILE_BYTES", "2048")

    error = attempt(store, path)

    assert_says(only(error, "too_large"), "leads.csv", "2.0 KiB")
    assert snapshot(store) == previous


# --- 14: encodings -------------------------------------------------------------------------------


def test_a_cp932_file_with_japanese_headers_loads_with_its_text_unchanged(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # Characters Shift_JIS exports really contain: NEC/IBM extensions, half-width kana, the
    # full-width tilde that Excel writes for ranges.
    original = pd.DataFrame(
        {
            "リードID": ["A-0001", "A-0002", "A-0003", "A-0004"],
            "会社名": ["㈱髙橋製作所", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞ", "有限会社　①商事", "Ｎｅｘｔ株式会社"],
            "流入元": ["展示会", "Web広告", "紹介", "展示会"],
            "導入時期": ["3～6ヶ月", "未定", "6～12ヶ月", "3ヶ月以内"],
            "受注": ["受注", "失注", "失注", "受注"],
        }
    )
    path = tmp_path / "リード.csv"
    original.to_csv(path, index=False, encoding="cp932")

    result = load_files(store, "日本語", read_file(path))

    info = result.dataset
    assert info.files[0]["encoding"] == "cp932"
    assert info.columns == tuple(original.columns)
    stored = store.leads_frame(info).sort_values(info.columns[0]).reset_index(drop=True)
    assert stored[["リードID", "会社名", "導入時期", "受注"]].to_dict("list") == original[
        ["リードID", "会社名", "導入時期", "受注"]
    ].to_dict("list")
    assert (info.won, info.lost) == (2, 2)
    assert snapshot(store) == previous


def test_a_cp932_demo_export_loads_back_with_its_text_unchanged(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    original = generate_leads(150, seed=5, lang="ja")
    path = tmp_path / "リード一覧.csv"
    original.to_csv(path, index=False, encoding="cp932", date_format="%Y-%m-%d")

    result = load_files(store, "日本語", read_file(path))

    info = result.dataset
    assert info.files[0]["encoding"] == "cp932"
    stored = store.leads_frame(info).sort_values(info.columns[0]).reset_index(drop=True)
    assert list(stored.columns) == list(original.columns)
    for col in original.columns:
        if pd.api.types.is_string_dtype(original[col].dtype):
            expected = [None if pd.isna(v) else v for v in original[col]]
            actual = [None if pd.isna(v) else v for v in stored[col]]
            changed = {e: a for e, a in zip(expected, actual, strict=True) if e != a}
            assert not changed, f"text of {col} changed (original: stored): {changed}"
    source = original.columns[2]
    assert source == "流入元"
    n = store.fetch_frame(f'SELECT count(*) AS n FROM {info.table()} WHERE "流入元" = ?', ["紹介"])
    assert n["n"].iloc[0] == (original["流入元"] == "紹介").sum() > 0
    assert snapshot(store) == previous  # a different name leaves "leads" alone


def test_a_cp932_file_forced_as_utf8_gives_the_encoding_error(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    generate_leads(30, seed=5, lang="ja").to_csv(path, index=False, encoding="cp932")

    error = attempt(store, path, encoding="utf-8")

    problem = only(error, "encoding")
    assert_says(problem, "leads.csv", "utf-8", "line 1", rows=(1,))
    assert "--encoding" in problem.fix("en")
    assert snapshot(store) == previous


@pytest.mark.parametrize(
    "text",
    [
        "name,city,source\nRenée Dupont,Zürich,Salon\nJosé Núñez,Besançon,Web\n",
        "name,city,source\nKLAUS MÜLLER,KÖLN,Messe\nANNA SCHÄFER,MÜNCHEN,Web\n",
    ],
    ids=["lowercase-accents", "uppercase-umlauts"],
)
def test_a_latin1_file_is_refused_rather_than_decoded_as_garbage(
    store: Store, previous: Snapshot, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(text.encode("latin-1"))

    error = attempt(store, path)

    problem = only(error, "encoding")
    assert_says(problem, "leads.csv", "line 2", rows=(2,))
    assert snapshot(store) == previous


# --- ragged rows, and every problem at once ------------------------------------------------------


def test_ragged_rows_are_listed_with_their_row_numbers(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    lines = demo_frame(40).to_csv(index=False).splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0]  # row 5 lost its last field
    lines[8] = lines[8] + ",stray"  # row 9 has one field too many
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    error = attempt(store, path)

    problem = only(error, "ragged_rows")
    assert problem.values == ("26", "28")
    assert_says(problem, "leads.csv", "27 fields", "comma", rows=(5, 9))
    assert snapshot(store) == previous


def test_ragged_rows_after_a_multiline_cell_are_numbered_as_spreadsheet_rows(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    # Row 2's note holds a line break (one spreadsheet row, two text lines); row 3 is short.
    path = tmp_path / "leads.csv"
    path.write_text(
        'lead_id,note,source\nL1,"called twice\nno answer",Web\nL2,Seminar\nL3,ok,Web\n',
        encoding="utf-8",
    )

    error = attempt(store, path)

    assert_says(only(error, "ragged_rows"), "leads.csv", "3 fields", rows=(3,))
    assert snapshot(store) == previous


def test_several_problems_in_one_file_are_all_reported_at_once(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    frame = demo_frame()
    frame.loc[10, "lead_id"] = frame.loc[2, "lead_id"]
    frame.loc[4, "created_at"] = "31/02/2025"
    frame.loc[8, "created_at"] = "2099-05-01"
    frame.loc[12, "web_visits"] = "lots"
    frame.loc[15, "outcome"] = "Maybe"
    path = write_csv(frame, tmp_path / "leads.csv")

    error = attempt(store, path)

    by_code = {p.code: p for p in error.errors}
    assert set(by_code) == {
        "duplicate_id",
        "bad_date",
        "future_date",
        "not_a_number",
        "unknown_outcome_value",
    }
    assert by_code["duplicate_id"].rows == (4, 12)
    assert by_code["bad_date"].rows == (6,)
    assert by_code["future_date"].rows == (10,)
    assert by_code["not_a_number"].rows == (14,)
    assert by_code["unknown_outcome_value"].rows == (17,)
    assert all(p.file in str(error) for p in error.errors)
    assert snapshot(store) == previous


def test_problems_in_the_leads_and_the_outcomes_file_are_reported_together(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    leads = demo_frame()[["lead_id", "created_at", "source", "industry"]]
    leads.loc[4, "created_at"] = "31/02/2025"
    lead_path = write_csv(leads, tmp_path / "leads.csv")
    deals = pd.DataFrame({"lead_id": ["L0000002", "NOBODY"], "won_date": ["2025-09-01"] * 2})
    deal_path = write_csv(deals, tmp_path / "deals.csv")

    error = attempt(store, lead_path, deal_path)

    assert_says(only(error, "bad_date"), "leads.csv", "'31/02/2025'", rows=(6,))
    assert_says(only(error, "unknown_lead"), "deals.csv", "'NOBODY'", rows=(3,))
    assert snapshot(store) == previous


def test_unreadable_leads_and_outcomes_files_are_reported_together(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    lead_path = tmp_path / "leads.csv"
    lead_path.write_bytes(b"")
    deal_path = write_csv(pd.DataFrame(columns=["lead_id", "won_date"]), tmp_path / "deals.csv")

    error = attempt(store, lead_path, deal_path)

    assert_says(only(error, "file_empty"), "leads.csv")
    assert_says(only(error, "header_only"), "deals.csv", "'lead_id', 'won_date'")
    assert snapshot(store) == previous


def test_a_missing_file_is_reported_with_its_path(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    error = attempt(store, tmp_path / "typo" / "leads.csv")

    problem = only(error, "file_missing")
    assert_says(problem, "leads.csv", "does not exist")
    assert str(tmp_path / "typo" / "leads.csv") in problem.fix("en")
    assert snapshot(store) == previous


def test_repeated_column_names_are_refused(
    store: Store, previous: Snapshot, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,Source,source\nL1,Web,web\nL2,Ads,ads\n", encoding="utf-8")

    error = attempt(store, path)

    assert_says(only(error, "duplicate_header"), "leads.csv", "'Source'", "'source'")
    assert snapshot(store) == previous
