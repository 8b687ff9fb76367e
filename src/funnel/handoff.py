"""The hand-off list: the leads sales should call, as CSV or Excel, safe to open in a spreadsheet.

A row is the lead's id, score, tier and top reasons, followed by the lead's own stored columns
in their original order. :func:`handoff_frame` returns the raw values (for display); every writer
neutralises spreadsheet formula injection on the way out (OWASP "CSV injection"): a text cell —
or a column name — whose first character, or first character after leading whitespace, is one of
``= + - @``, a tab or a carriage return gets a single quote in front, so Excel, LibreOffice and
Google Sheets show it as text instead of running it. The full-width ``＝ ＋ － ＠`` are treated
the same way, because Japanese spreadsheet input turns them into formula characters. Numbers
stored as numbers are never touched: ``-5`` in a number column is a number, ``"-1+cmd"`` in a
text column is a formula.

CSV is written as UTF-8 *with* a byte-order mark and CRLF line ends: Excel (Japanese Windows
included) otherwise reads UTF-8 as Shift_JIS and garbles Japanese text, while pandas, DuckDB,
Python's ``csv`` (with ``utf-8-sig``) and Google Sheets all accept the BOM. Every non-numeric
cell is quoted, so a carriage return in a value can never start a row. :func:`csv_text` is the
one CSV writer of the product: hand-off lists, table downloads, ``funnel score``/``hot`` (files
and stdout) and ``funnel demo --out``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.rules import RuleSet
from funnel.scoring.leads import score_leads
from funnel.store import DatasetInfo, Store

#: The columns every hand-off list starts with; the lead's own columns follow.
HANDOFF_COLUMNS = ("id", "score", "tier", "reasons")
#: First characters that make a spreadsheet treat a cell as a formula (OWASP, plus full-width).
FORMULA_TRIGGERS = frozenset("=+-@\t\r＝＋－＠")
_WHITESPACE = " \t\r\n\u3000\xa0"
_KEY = "_funnel_key"  # reserved prefix: never one of the lead's own columns
_EXCEL_MAX_CHARS = 32_767
_EXCEL_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def handoff_frame(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    only: str | None = "hot",
    lang: str = "en",
) -> pd.DataFrame:
    """The hand-off list: id, score, tier, reasons, then the lead's own columns; best first.

    ``only`` is passed to :func:`funnel.scoring.leads.score_leads` (``"hot"``, ``"missed"`` or None
    for every lead), so the rows are exactly its rows, in its order (score descending, then
    id). The lead's id column is not repeated; reserved ``_funnel_*`` columns are left out. A
    lead column named like one of :data:`HANDOFF_COLUMNS` is renamed ``<name>_lead``. Values
    are raw: the writers below neutralise formulas.
    """
    id_col = info.mapping.column("id") or info.columns[0]
    joined = {s.name for s in info.mapping.leads if s.reason == "leak.outcomes_file"}
    own = [c for c in info.columns if c != id_col and c not in joined]  # not the deal's columns
    # read under reserved names (never a scored column's), then named as the list shows them
    read_as = {c: f"{_KEY}{j}" for j, c in enumerate(own)}
    scored = score_leads(store, info, rs, filters, only=only, lang=lang, columns=read_as)
    frame = scored[[*HANDOFF_COLUMNS, *read_as.values()]]
    frame = frame.rename(columns={read_as[c]: _free_name(c, HANDOFF_COLUMNS, own) for c in own})
    return frame.reset_index(drop=True)


def _free_name(name: str, taken: Sequence[str], others: Sequence[str]) -> str:
    """``name``, or ``name_lead`` (``name_lead2`` …) when it clashes with a fixed column.

    >>> _free_name("score", ["id", "score"], ["score", "industry"])
    'score_lead'
    >>> _free_name("industry", ["id", "score"], ["score", "industry"])
    'industry'
    """
    if name not in taken:
        return name
    candidate, i = f"{name}_lead", 2
    while candidate in taken or candidate in others:
        candidate, i = f"{name}_lead{i}", i + 1
    return candidate


def safe_cell(value: Any) -> Any:
    """Neutralise a cell a spreadsheet would run as a formula; anything else unchanged.

    Only text is changed: numbers (a stored ``-5`` included), dates and empty cells are data.

    >>> safe_cell('=HYPERLINK("http://x","click")')
    '\\'=HYPERLINK("http://x","click")'
    >>> safe_cell(" =1"), safe_cell("\\t=1"), safe_cell("-1+cmd"), safe_cell("@SUM(A1)")
    ("' =1", "'\\t=1", "'-1+cmd", "'@SUM(A1)")
    >>> safe_cell(-5), safe_cell(2.5), safe_cell("Acme"), safe_cell("株式会社＝"), safe_cell("")
    (-5, 2.5, 'Acme', '株式会社＝', '')
    """
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip(_WHITESPACE)
    if value[0] in FORMULA_TRIGGERS or (stripped and stripped[0] in FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name passed through :func:`safe_cell`.

    Column names become text; a column's values keep their type unless it holds text.
    """
    out = frame.copy()
    out.columns = pd.Index([safe_cell(str(c)) for c in frame.columns], dtype=object)
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if _is_text_like(column):
            out.isetitem(i, column.map(safe_cell, na_action="ignore").astype(object).to_numpy())
    return out


def _is_text_like(column: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(column.dtype)
        or pd.api.types.is_bool_dtype(column.dtype)
        or pd.api.types.is_datetime64_any_dtype(column.dtype)
        or pd.api.types.is_timedelta64_dtype(column.dtype)
    )


# --- CSV --------------------------------------------------------------------------------------


def csv_text(frame: pd.DataFrame, *, sep: str = ",", date_format: str | None = None) -> str:
    r"""The frame as neutralised CSV text: the one writer of every CSV funnel writes.

    Rows end with CRLF and every value that is not a number is quoted, so a line break or a
    bare carriage return inside a value stays inside its cell for any reader that honours
    quotes (Python's ``csv``, pandas, Excel); cells a spreadsheet would run as formulas get a
    quote in front (:func:`safe_cell`).

    >>> csv_text(pd.DataFrame({"id": ["L1\r=1+1"], "n": [2]}))
    '"id","n"\r\n"L1\r=1+1",2\r\n'
    >>> csv_text(pd.DataFrame({"id": ["=cmd"]}))
    '"id"\r\n"\'=cmd"\r\n'
    """
    return safe_frame(frame).to_csv(
        index=False,
        sep=sep,
        quoting=csv.QUOTE_NONNUMERIC,
        lineterminator="\r\n",
        date_format=date_format,
    )


def to_csv_bytes(
    frame: pd.DataFrame,
    *,
    sep: str = ",",
    encoding: str = "utf-8-sig",
    date_format: str | None = None,
) -> bytes:
    """The frame as a neutralised CSV file (:func:`csv_text`): UTF-8 with a BOM by default."""
    return csv_text(frame, sep=sep, date_format=date_format).encode(encoding)


# --- Excel ------------------------------------------------------------------------------------


def to_excel_bytes(frame: pd.DataFrame, *, sheet: str = "leads") -> bytes:
    """The frame as a neutralised .xlsx workbook: text stored as text, never as a formula.

    Every text cell (headers included) is quote-prefixed like the CSV *and* written with data
    type ``s``, so no string — ``=…``, ``#N/A`` or otherwise — becomes a formula or an error.
    Characters XML cannot hold are dropped and text longer than Excel's 32,767 characters is
    cut; time zones are dropped from dates (Excel has none).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    ws = book.create_sheet(_sheet_title(sheet))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in frame.columns:
        cell = WriteOnlyCell(ws, value=None)
        _set_text(cell, str(name))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=None)
            plain = _excel_value(value)
            if isinstance(plain, str):
                _set_text(cell, plain)
            else:
                cell.value = plain
            cells.append(cell)
        ws.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _set_text(cell: Any, text: str) -> None:
    value = safe_cell(_EXCEL_ILLEGAL.sub("", text)[:_EXCEL_MAX_CHARS])
    cell.value = value
    cell.data_type = "s"  # data, even if openpyxl took it for a formula or an error code


def _excel_value(value: Any) -> Any:
    """A Python value openpyxl can store: numbers, booleans, naive dates, text or None.

    >>> _excel_value(np.int64(3)), _excel_value(float("nan")), _excel_value(pd.NA)
    (3, None, None)
    >>> _excel_value(pd.Timestamp("2026-01-02 03:04", tz="Asia/Tokyo"))
    datetime.datetime(2026, 1, 2, 3, 4)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        return None if math.isnan(number) else (number if math.isfinite(number) else str(value))
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date | time | timedelta):
        return value
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.datetime64):
        return _excel_value(pd.Timestamp(value))
    return str(value)


def _sheet_title(name: str) -> str:
    """A valid worksheet title: no ``[]:*?/\\``, at most 31 characters, not empty.

    >>> _sheet_title("hot: leads/2026")
    'hot_ leads_2026'
    """
    cleaned = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31]
    return cleaned or "leads"
