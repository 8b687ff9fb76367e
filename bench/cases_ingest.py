"""Ingest cases: reading a CRM export, proposing its mapping, loading it validated into DuckDB.

Every case reads the same file: the demo leads (``generate_leads(rows, seed=7)``) written once
per run as CSV, strings only, dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import pandas as pd

from bench.harness import Trial, Workspace, case
from funnel.ingest import load_files, prepare
from funnel.mapping.propose import SAMPLE_ROWS, propose_mapping
from funnel.readers import SourceFile, read_file
from funnel.store import Store

#: Benchmarks read files above the app's 1 GiB default (10M demo leads are a 1.2 GiB CSV), and
#: may let them take more memory than the default budget (what they measure is speed).
MAX_BYTES = 64 << 30


@case("read_csv", "funnel.readers.read_file vs pandas.read_csv(dtype=str)")
def read_csv(ws: Workspace) -> Trial:
    # read_file also sniffs the format, encoding and delimiter and checks the header; pandas is
    # told the delimiter and encoding. Both return every cell as a string.
    csv = ws.demo_csv()
    return Trial(
        run=lambda: read_file(csv, max_bytes=MAX_BYTES, max_memory=MAX_BYTES),
        baseline=lambda: pd.read_csv(csv, dtype=str),
    )


@case(
    "propose_mapping",
    "propose_mapping on the read file vs pandas to_numeric/to_datetime kind detection",
)
def propose_mapping_case(ws: Workspace) -> Trial:
    # There is no pandas function that proposes roles, so the baseline answers the part pandas
    # can: "is each column numbers, dates or text?", with pandas' own parsers on the same
    # in-memory string frame and over the same rows funnel inspects for kinds (the first
    # SAMPLE_ROWS). funnel does more on top: it picks the id/created/source/outcome columns and
    # checks a seeded sample for leak flags (up to LEAK_CLASS_ROWS rows of each outcome, drawn
    # from LEAK_POOL_ROWS: funnel.mapping.sample), so a ratio above 1 is expected; what the
    # issue asks is at most 0.5 s whatever the file's size.
    source = ws.memo(
        "read_csv", lambda: read_file(ws.demo_csv(), max_bytes=MAX_BYTES, max_memory=MAX_BYTES)
    )
    return Trial(
        run=lambda: propose_mapping(source),
        baseline=lambda: pandas_kinds(source.frame.head(SAMPLE_ROWS)),
    )


def pandas_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """Classify string columns as number, date, text or empty with pandas' own parsers.

    >>> pandas_kinds(pd.DataFrame({"n": ["1", "2.5"], "d": ["2024-01-02", None], "t": ["a", "1"]}))
    {'n': 'number', 'd': 'date', 't': 'text'}
    """
    kinds: dict[str, str] = {}
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty:
            kinds[str(column)] = "empty"
        elif pd.to_numeric(values, errors="coerce").notna().mean() >= 0.98:
            kinds[str(column)] = "number"
        elif pd.to_datetime(values, errors="coerce", format="ISO8601").notna().mean() >= 0.98:
            kinds[str(column)] = "date"
        else:
            kinds[str(column)] = "text"
    return kinds


@case(
    "load_csv_validated",
    "read_file + load_files into a new DuckDB file vs pandas.read_csv(dtype=str) + prepare",
)
def load_csv_validated(ws: Workspace) -> Trial:
    # funnel: the whole `funnel load` path - read and sniff the file, propose the mapping,
    # clean/validate/type (pandera, lazy), store all-or-nothing - into a fresh DuckDB file each
    # call, opening and closing the store inside the timing (close checkpoints to disk).
    # baseline: pandas reads the same file as strings and runs the same prepare() with the
    # mapping funnel proposes (computed here, untimed), so the same pandera validation and
    # typing, but no format sniffing, no mapping proposal and no storage.
    csv = ws.demo_csv()
    mapping = propose_mapping(
        ws.memo("read_csv", lambda: read_file(csv, max_bytes=MAX_BYTES, max_memory=MAX_BYTES))
    )
    db = ws.path("load.duckdb")

    def run() -> None:
        with Store(db) as store:
            result = load_files(
                store, "bench", read_file(csv, max_bytes=MAX_BYTES, max_memory=MAX_BYTES)
            )
        _expect_rows(result.dataset.leads, ws.rows)

    def baseline() -> None:
        frame = pd.read_csv(csv, dtype=str)
        prepared = prepare(SourceFile(csv.name, frame, "csv"), mapping)
        _expect_rows(len(prepared.leads), ws.rows)

    def fresh_database() -> None:
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)

    return Trial(run=run, baseline=baseline, reset=fresh_database)


def _expect_rows(got: int, expected: int) -> None:
    # A cheap guard that both sides did the full work (not, say, an early error path).
    if got != expected:
        raise RuntimeError(f"expected {expected:,} leads, got {got:,}")
