"""Read CRM/MA export files into pandas frames, refusing anything ambiguous.

Formats are recognised by content, not trusted from the extension: CSV/TSV text (UTF-8, UTF-8
with BOM, UTF-16 with or without BOM, Shift_JIS/cp932), ``.xlsx`` and Parquet. Text is decoded
strictly in Python (DuckDB 2.0 cannot decode cp932), so a wrong guess is an error, never mojibake.
Text and Excel cells come back as strings; Parquet keeps its types.

What a file may become is bounded *before* it is materialised, so a small file cannot exhaust
the server: the file's size (``max_bytes``), the number of columns, the length of a column name,
the bytes a workbook really inflates to (counted while inflating, never trusted from the zip's
directory), and the memory the read table would take (``max_memory``: rows × columns and the
text they hold, from the CSV's line count, a workbook's streamed cells or a Parquet footer and
its dictionaries). A refusal names the limit and how to raise it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from funnel.problems import MAX_EXAMPLES, LoadError, Problem

Kind = Literal["csv", "xlsx", "parquet"]

#: Default largest file accepted, overridable by ``FUNNEL_MAX_FILE_BYTES`` or ``--max-size``.
DEFAULT_MAX_BYTES = 1 << 30
#: Most columns a file may have; wider files are not lead exports (or use the wrong delimiter).
MAX_COLUMNS = 2_000
#: Longest column name, in characters; a longer "name" means the first line is not a header.
MAX_NAME_CHARS = 1_000
#: An .xlsx whose content unzips to more than this many times its size is refused (zip bomb);
#: real workbooks expand 5-15 times.
MAX_EXCEL_RATIO = 50
_EXCEL_RATIO_FLOOR = 64 << 20  # small workbooks may expand more: only refuse above 64 MiB
#: Most parts (members) a workbook's zip may hold; real ones have a few dozen.
MAX_ZIP_MEMBERS = 10_000
#: Default most memory a file may take once read (capped at half the machine's memory),
#: overridable by ``FUNNEL_MAX_MEMORY_BYTES`` or ``--max-memory``.
DEFAULT_MAX_MEMORY = 4 << 30
#: What one cell costs in memory besides its text (offsets, validity, a slot in a row).
CELL_BYTES = 8
#: What one non-empty workbook cell costs while it is streamed (a Python object per value).
_XLSX_CELL_BYTES = 56
DELIMITERS = (",", "\t", ";", "|")
TEXT_EXTENSIONS = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
PARQUET_EXTENSIONS = {".parquet", ".pq"}

# pyarrow reads cells of any length, so the csv module (header, ragged-row report) must too.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

#: Text codecs for names and escapes rather than files (their probe may round-trip).
_NOT_FILE_ENCODINGS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape"})
_KANA = re.compile(r"[\u3040-\u30ff]")  # hiragana and full-width katakana
_KANJI = re.compile(r"[\u4e00-\u9fff]")
_JAPANESE = re.compile(
    r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff9f\u2460-\u24ff\u3200-\u33ff\u2160-\u217f]"
)
_VALUE_LIKE = re.compile(
    r"""^(?:
        [-+]?\d[\d,]*(?:\.\d+)?          # a number
      | \d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*  # a date or timestamp
      | [0-9a-fA-F-]{16,}                # a hash or uuid
      | [^@\s]+@[^@\s]+\.[^@\s]+         # an e-mail address
    )$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class SourceFile:
    """A file read into memory, with how it was read."""

    name: str
    frame: pd.DataFrame
    kind: Kind
    encoding: str | None = None
    delimiter: str | None = None
    digest: str | None = None  # SHA-256 of the file's bytes, when read from a file
    notes: tuple[Problem, ...] = ()  # warnings from reading (e.g. a column had no name)
    sheet: str | None = None  # the worksheet read, for a workbook
    sheets: tuple[str, ...] = ()  # a workbook's visible worksheets, in order

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def max_bytes_default() -> int:
    """Return the configured size limit (``FUNNEL_MAX_FILE_BYTES`` or 1 GiB)."""
    raw = os.environ.get("FUNNEL_MAX_FILE_BYTES", "")
    return int(raw) if raw.strip().isdigit() else DEFAULT_MAX_BYTES


def max_memory_default() -> int:
    """Return the memory a file may take once read (``FUNNEL_MAX_MEMORY_BYTES``).

    By default 4 GiB, or half the machine's memory (its container's limit included) if less.
    """
    raw = os.environ.get("FUNNEL_MAX_MEMORY_BYTES", "")
    if raw.strip().isdigit():
        return int(raw)
    return min(DEFAULT_MAX_MEMORY, physical_memory() // 2)


def physical_memory() -> int:
    """The memory this process may use: the machine's, or its cgroup's limit when lower."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        total = 8 << 30
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and 0 < int(raw) < total:
            total = int(raw)
    return total


def read_file(
    path: str | Path,
    *,
    max_bytes: int | None = None,
    encoding: str | None = None,
    name: str | None = None,
    sheet: str | None = None,
    max_memory: int | None = None,
) -> SourceFile:
    """Read a file from disk; raise :class:`LoadError` with plain-language problems."""
    path = Path(path)
    display = name or path.name
    if not path.is_file():
        raise LoadError([Problem("file_missing", display, params={"path": str(path)})])
    limit = max_bytes if max_bytes is not None else max_bytes_default()
    size = path.stat().st_size
    if size > limit:
        raise LoadError([_too_large(display, size, limit)])
    return read_bytes(
        path.read_bytes(),
        display,
        max_bytes=limit,
        encoding=encoding,
        sheet=sheet,
        max_memory=max_memory,
    )


def read_bytes(
    data: bytes,
    name: str,
    *,
    max_bytes: int | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    max_memory: int | None = None,
) -> SourceFile:
    """Read an uploaded file's bytes; the name's extension is checked against the content.

    ``sheet`` names the worksheet to read from a workbook (default: the first visible one).
    """
    limit = max_bytes if max_bytes is not None else max_bytes_default()
    memory = max_memory if max_memory is not None else max_memory_default()
    if len(data) > limit:
        raise LoadError([_too_large(name, len(data), limit)])
    actual = sniff_kind(data)
    ext = Path(name).suffix.lower()
    expected = _kind_for_extension(ext)
    if actual in {"xls", "pdf", "binary"}:
        raise LoadError([Problem("unsupported_binary", name, params={"what": actual})])
    if expected is not None and expected != actual:
        raise LoadError(
            [Problem("wrong_format", name, params={"ext": ext or "?", "actual": actual})]
        )
    if sheet is not None and actual != "xlsx":
        raise LoadError([Problem("sheet_not_a_workbook", name, params={"sheet": sheet})])
    if actual == "xlsx":
        source = _read_excel(data, name, limit, memory, sheet)
    elif actual == "parquet":
        source = _read_parquet(data, name, memory)
    else:
        source = _read_text(data, name, encoding, memory)
    return replace(source, digest=hashlib.sha256(data).hexdigest())


def sniff_kind(data: bytes) -> str:
    """Tell a file's format from its first bytes.

    >>> sniff_kind(b"PK\\x03\\x04rest"), sniff_kind(b"PAR1..."), sniff_kind(b"id,name\\n1,a\\n")
    ('xlsx', 'parquet', 'csv')
    """
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text with a byte-order mark
    if b"\x00" in head:
        return "csv" if bomless_utf16(head) else "binary"
    return "csv"


def bomless_utf16(head: bytes) -> str | None:
    """Recognise UTF-16 text saved without a byte-order mark by where its NUL bytes fall.

    ASCII characters in UTF-16 put a NUL in every other byte; binary files scatter them.

    >>> bomless_utf16("id,name\\n1,リード\\n".encode("utf-16-be"))
    'utf-16-be'
    >>> print(bomless_utf16(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR"))
    None
    """
    sample = head[:4096]
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    for enc, text_half, high_half in (("utf-16-le", even, odd), ("utf-16-be", odd, even)):
        nul_high, nul_text = high_half.count(0), text_half.count(0)
        if nul_high >= 0.3 * len(high_half) and nul_text <= nul_high / 8:
            text = sample.decode(enc, errors="replace")
            shown = sum(c.isprintable() or c in "\t\r\n" for c in text)
            return enc if shown >= 0.95 * len(text) else None
    return None


def _kind_for_extension(ext: str) -> str | None:
    if ext in TEXT_EXTENSIONS:
        return "csv"
    if ext in EXCEL_EXTENSIONS:
        return "xlsx"
    if ext in PARQUET_EXTENSIONS:
        return "parquet"
    return None


def _too_large(name: str, size: int, limit: int) -> Problem:
    return Problem(
        "too_large", name, params={"size": _human_bytes(size), "limit": _human_bytes(limit)}
    )


def _too_much_memory(name: str, rows: int, columns: int, text: int, limit: int) -> LoadError:
    """The refusal of a file that would take more than ``limit`` bytes once read."""
    return LoadError(
        [
            Problem(
                "too_much_memory",
                name,
                params={
                    "rows": f"{rows:,}",
                    "columns": f"{columns:,}",
                    "size": _human_bytes(text),
                    "limit": _human_bytes(limit),
                },
            )
        ]
    )


def _human_bytes(n: int) -> str:
    """Render a byte count.

    >>> _human_bytes(1 << 30), _human_bytes(1536)
    ('1.0 GiB', '1.5 KiB')
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


# --- text ------------------------------------------------------------------------------------


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes strictly, detecting UTF-8 (with or without BOM), UTF-16 and cp932.

    >>> decode_text("リードID\\n".encode("cp932"), "x.csv")
    ('リードID\\n', 'cp932')
    >>> decode_text(b"\\xef\\xbb\\xbfid\\n", "x.csv")
    ('id\\n', 'utf-8-sig')
    """
    if encoding:
        enc = encoding.lower().replace("_", "-")
        enc = {"shift-jis": "cp932", "sjis": "cp932", "utf8": "utf-8"}.get(enc, enc)
        if not is_file_encoding(enc):
            raise LoadError([Problem("not_a_text_encoding", name, params={"encoding": encoding})])
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            raise LoadError([_decode_problem(data, name, enc, exc)]) from None
        except (UnicodeError, ValueError) as exc:  # a codec failing its own way
            raise LoadError([_decode_problem(data, name, enc, exc)]) from None
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif b"\x00" in data[:8192] and (utf16 := bomless_utf16(data[:8192])):
        candidates = [utf16]
    else:
        candidates = ["utf-8", "cp932"]
    first_error: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
            continue
        if enc == "cp932" and not looks_japanese(text):
            # cp932 accepts many byte pairs: a Latin-1 export "decodes" into half-width kana
            # and rare kanji. Guessing would produce mojibake, so refuse instead.
            break
        return text, enc
    raise LoadError([_decode_problem(data, name, candidates[0], first_error)])


def is_file_encoding(encoding: str) -> bool:
    """Tell whether a codec is a text encoding a table file can be saved in.

    Codecs that turn bytes into bytes (``hex``, ``zlib``), text into text (``rot13``) or that
    encode something else than file text (``punycode``, ``idna``, ``unicode_escape``) are not.

    >>> [is_file_encoding(e) for e in ("utf-8", "utf-8-sig", "cp932", "utf-16", "latin-1")]
    [True, True, True, True, True]
    >>> [is_file_encoding(e) for e in ("punycode", "idna", "hex", "rot13", "unicode_escape", "x")]
    [False, False, False, False, False, False]
    """
    import codecs

    try:
        info = codecs.lookup(encoding)
    except LookupError:
        return False
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        return False
    probe = 'id,"a b"\r\nL1,x;y|z\t-\r\n'
    try:
        encoded = probe.encode(info.name)
        if encoded.decode(info.name) != probe:
            return False
    except (UnicodeError, ValueError, LookupError):
        return False
    ascii_probe = probe.encode("ascii")
    return encoded.removeprefix(codecs.BOM_UTF8) == ascii_probe or info.name.startswith(
        ("utf-16", "utf-32")
    )


def looks_japanese(text: str) -> bool:
    r"""Tell whether cp932-decoded text is plausibly Japanese rather than misread Latin-1.

    Japanese text has kana, or kanji that are mostly common (JIS level 1); text misread from
    Latin-1 turns accented letters into half-width katakana, private-use or rare kanji.

    >>> looks_japanese("業種,地域\n製造業,東京\n"), looks_japanese("KLAUS MﾜLLER,KﾖLN")
    (True, False)
    """
    foreign = [c for c in set(text) if ord(c) > 0x7F]
    if not foreign or any(_KANA.match(c) for c in foreign):
        return True  # Latin-1 bytes never decode to hiragana or full-width katakana
    japanese = [c for c in foreign if _JAPANESE.match(c)]
    if len(japanese) < 0.9 * len(foreign):
        return False
    kanji = [c for c in japanese if _KANJI.match(c)]
    common = [c for c in kanji if c.encode("cp932")[0] <= 0x98]  # JIS level 1 lead bytes
    return bool(kanji) and len(common) >= 0.8 * len(kanji)


def _decode_problem(data: bytes, name: str, enc: str, exc: Exception | None) -> Problem:
    pos = exc.start if isinstance(exc, UnicodeDecodeError) else 0
    line = data[:pos].count(b"\n") + 1
    snippet = data[max(0, pos - 10) : pos + 10]
    return Problem(
        "encoding",
        name,
        rows=(line,),
        values=(repr(snippet),),
        count=1,
        params={"encoding": enc, "line": line},
    )


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter giving the most consistent field count over the first lines.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n"), sniff_delimiter("a\\tb\\n1\\t2\\n")
    (';', '\\t')
    >>> sniff_delimiter('name,note\\n"x; y",1\\n')
    ','
    """
    sample = "\n".join(text[:65536].splitlines()[:50])
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (freq / len(counts), mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def looks_like_value(cell: str) -> bool:
    """Tell whether a header cell looks like data rather than a column name.

    >>> looks_like_value("2024-01-05"), looks_like_value("12,000"), looks_like_value("industry")
    (True, True, False)
    """
    return bool(_VALUE_LIKE.match(cell.strip()))


def one_line(name: str) -> str:
    r"""A column name whose cell wraps onto several lines (Excel's Alt+Enter), on one line.

    >>> one_line("Lead\r\nsource "), one_line("industry")
    ('Lead source', 'industry')
    """
    if "\n" not in name and "\r" not in name:
        return name
    return " ".join(part.strip() for part in re.split(r"[\r\n]+", name) if part.strip())


def check_header(
    names: Sequence[str], name: str, *, detect_missing: bool = True
) -> tuple[list[str], list[Problem]]:
    """Validate header names: report a missing header, duplicates; name empty columns.

    Duplicates are compared ignoring case, as DuckDB does for column names.
    """
    problems: list[Problem] = []
    if len(names) > MAX_COLUMNS:
        return [str(n) for n in names], [
            Problem("too_many_columns", name, count=len(names), params={"limit": MAX_COLUMNS})
        ]
    cleaned = [one_line(str(n)).strip().lstrip("\ufeff") for n in names]
    filled = [c for c in cleaned if c]
    value_like = [c for c in filled if looks_like_value(c)]
    repeated = len(value_like) > len(set(value_like))  # e.g. two columns "named" 0
    if detect_missing and value_like and (3 * len(value_like) >= len(filled) or repeated):
        problems.append(
            Problem("no_header", name, values=tuple(value_like[:MAX_EXAMPLES]), count=1, rows=(1,))
        )
        return cleaned, problems
    long = [(i, c) for i, c in enumerate(cleaned, start=1) if len(c) > MAX_NAME_CHARS]
    if long:
        problems.append(
            Problem(
                "column_name_too_long",
                name,
                values=tuple(c for _, c in long[:MAX_EXAMPLES]),
                count=len(long),
                params={"limit": MAX_NAME_CHARS, "index": long[0][0]},
            )
        )
        return cleaned, problems
    out: list[str] = []
    for i, c in enumerate(cleaned, start=1):
        if not c:
            c = f"column_{i}"
            problems.append(
                Problem("unnamed_column", name, column=c, severity="warning", params={"index": i})
            )
        out.append(c)
    folded = Counter(c.casefold() for c in out)
    dupes = list(dict.fromkeys(c for c in out if folded[c.casefold()] > 1))
    if dupes:
        problems.append(
            Problem("duplicate_header", name, values=tuple(dupes[:MAX_EXAMPLES]), count=len(dupes))
        )
    return out, problems


def _read_text(data: bytes, name: str, encoding: str | None, memory: int) -> SourceFile:
    """Read CSV/TSV text: one parser (pyarrow's) reads the header and the body.

    The header is the first CSV record, so a quoted line break in a column name (Excel's
    Alt+Enter) is part of that name and can never turn the rest of the header into a row.
    """
    if _NOT_BLANK.search(data) is None:  # only blanks and a BOM (searched, never copied)
        raise LoadError([Problem("file_empty", name)])
    text, enc = decode_text(data, name, encoding)
    if not text or text.isspace():
        raise LoadError([Problem("file_empty", name)])
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise LoadError([Problem("nul_byte", name, rows=(line,), count=1, params={"line": line})])
    delim = sniff_delimiter(text)
    utf8 = data if enc == "utf-8" else text.encode("utf-8")
    _check_text_memory(utf8, text, delim, name, memory)
    bad_rows: list[int] = []

    def on_invalid(_row: object) -> str:
        bad_rows.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(
                autogenerate_column_names=True, block_size=1 << 24, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=_TEXT_COLUMNS,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        unclosed = _unclosed_quote(text, delim, name)
        if unclosed is not None:
            raise LoadError([unclosed]) from None
        raise LoadError([Problem("bad_csv", name, params={"detail": str(exc)[:200]})]) from None
    if table.num_rows == 0:
        raise LoadError([Problem("file_empty", name)])
    header = ["" if v is None else str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    names, problems = check_header(header, name)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    if bad_rows or text.count('"') % 2:
        unclosed = _unclosed_quote(text, delim, name)
        if unclosed is not None:
            raise LoadError([unclosed])
    if bad_rows:
        raise LoadError([_ragged_rows(text, delim, len(names), name)])
    body = table.slice(1)
    if body.num_rows == 0:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    frame = body.rename_columns(names).to_pandas()
    return SourceFile(name, frame, "csv", encoding=enc, delimiter=delim, notes=tuple(problems))


#: Every column of a text file is read as text (pyarrow names them f0, f1, ...), as the large
#: strings pandas' ``str`` columns hold, so handing the table to pandas copies no text.
_TEXT_COLUMNS = {f"f{i}": pa.large_string() for i in range(4 * MAX_COLUMNS)}
#: A byte that is not a blank or part of a UTF-8 byte-order mark.
_NOT_BLANK = re.compile(rb"[^ \t\r\n\xef\xbb\xbf]")


def _check_text_memory(utf8: bytes, text: str, delim: str, name: str, memory: int) -> None:
    """Refuse text whose table would take more than ``memory``, before it is parsed.

    Rows are counted as line ends and columns from the first line: an estimate (a quoted line
    break counts as a row), cheap enough to run before the parser allocates anything.
    """
    rows = max(utf8.count(b"\n"), utf8.count(b"\r")) + 1
    first = re.split(r"[\r\n]", text[:65536], maxsplit=1)[0]
    try:
        columns = len(next(csv.reader([first], delimiter=delim), [])) or 1
    except csv.Error:
        columns = first.count(delim) + 1
    needed = len(utf8) + rows * columns * CELL_BYTES
    if needed > memory:
        raise _too_much_memory(name, rows, columns, len(utf8), memory)


def _unclosed_quote(text: str, delim: str, name: str) -> Problem | None:
    """Find a quote that is never closed (the rest of the file would become one cell).

    Only called when the quotes do not pair up; a file the strict reader rejects for another
    reason (a quote in the middle of a cell) is left to the other checks.

    >>> _unclosed_quote('id,note\\nL1,ok\\nL2,"broken\\nL3,x\\n', ",", "x.csv").rows
    (3,)
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    row = 0  # spreadsheet rows read completely (the header is row 1)
    try:
        for record in reader:
            if record:
                row += 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return Problem("unclosed_quote", name, rows=(row + 1,), count=1)
    return None


def _ragged_rows(text: str, delim: str, expected: int, name: str) -> Problem:
    """Find (exactly, on the slow path) the rows whose field count differs from the header."""
    rows: list[int] = []
    counts: list[str] = []
    total = 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    next(reader, None)
    row = 1  # spreadsheet rows: the header is row 1, a multi-line cell is still one row
    for record in reader:
        if not record:
            continue  # blank lines are skipped by the reader too
        row += 1
        if len(record) != expected:
            total += 1
            if len(rows) < MAX_EXAMPLES:
                rows.append(row)
                counts.append(str(len(record)))
    return Problem(
        "ragged_rows",
        name,
        rows=tuple(rows),
        values=tuple(counts),
        count=max(total, 1),
        params={"expected": expected, "delimiter": _delimiter_name(delim)},
    )


def _delimiter_name(delim: str) -> str:
    return {",": "comma (,)", "\t": "tab", ";": "semicolon (;)", "|": "pipe (|)"}[delim]


# --- binary formats ----------------------------------------------------------------------------


def _read_excel(
    data: bytes, name: str, limit: int, memory: int, sheet: str | None = None
) -> SourceFile:
    """Read one worksheet (the first visible one unless ``sheet`` names another) as text.

    The zip is inflated once with a counter before anything parses it, and the sheet is
    streamed cell by cell, counting columns, rows × columns and the text the cells hold
    (a shared string referenced by many cells counts each time), so a small workbook is
    refused long before it can take the server's memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
            if not any(m.filename.startswith("xl/") for m in members):
                raise LoadError(
                    [Problem("wrong_format", name, params={"ext": ".xlsx", "actual": "zip"})]
                )
            sizes = _inflated_sizes(zf, members, len(data), name, limit)
        strings = sum(n for part, n in sizes.items() if part.endswith("sharedStrings.xml"))
        if strings > memory // 2:
            raise _too_much_memory(name, 0, 0, strings, memory)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about odd but readable parts
            book = _open_workbook(data)
            sheets = [s for s in book.sheets if s.part in sizes]
            visible = tuple(s.title for s in sheets if s.visible)
            chosen = _choose_sheet(sheets, visible, sheet, name)
            rows = _sheet_rows(book, chosen.part, name, memory)
    except LoadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged workbooks
        raise LoadError([Problem("bad_excel", name, params={"detail": str(exc)[:200]})]) from None
    notes = _sheet_notes(name, chosen.title, sheets, visible, sheet)
    if not rows:
        raise LoadError([Problem("file_empty", name, params={"sheet": chosen.title})])
    width = max(_row_width(r) for r in rows)
    header = ["" if v is None else v for v in _cells(rows[0], width)]
    names, problems = check_header(header, name)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    if len(rows) == 1:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    body = [_cells(r, width) for r in rows[1:]]
    frame = pd.DataFrame(
        {n: pd.Series([r[i] for r in body], dtype="str") for i, n in enumerate(names)}
    )
    return SourceFile(
        name,
        frame,
        "xlsx",
        notes=tuple(problems) + notes,
        sheet=chosen.title,
        sheets=visible,
    )


def _inflated_sizes(
    zf: zipfile.ZipFile, members: Sequence[zipfile.ZipInfo], size: int, name: str, limit: int
) -> dict[str, int]:
    """Inflate every part once, counting the bytes it really produces; refuse a zip bomb.

    The sizes a zip declares are never trusted: the counter stops as soon as the total passes
    the size limit, or 64 MiB and :data:`MAX_EXCEL_RATIO` times the file's own size.
    """
    cap = min(limit, max(_EXCEL_RATIO_FLOOR, MAX_EXCEL_RATIO * size))
    if len(members) > MAX_ZIP_MEMBERS:
        raise LoadError([Problem("bad_excel", name, params={"detail": f"{len(members):,} parts"})])
    sizes: dict[str, int] = {}
    total = 0
    for member in members:
        produced = 0
        with zf.open(member) as part:
            while chunk := part.read(1 << 20):
                produced += len(chunk)
                if total + produced > cap:
                    raise _excel_expands(name, cap, size, limit)
        sizes[member.filename] = produced
        total += produced
    return sizes


def _excel_expands(name: str, expanded: int, size: int, limit: int) -> LoadError:
    return LoadError(
        [
            Problem(
                "excel_expands",
                name,
                params={
                    "size": _human_bytes(expanded),
                    "ratio": f"{expanded / max(size, 1):,.0f}",
                    "max_ratio": MAX_EXCEL_RATIO,
                    "limit": _human_bytes(limit),
                },
            )
        ]
    )


#: A worksheet row: its cells from column 1 on, or (when sparse) by column number.
_Row = list[str | None] | dict[int, str]


@dataclass(frozen=True)
class _Sheet:
    title: str
    part: str  # the worksheet's path inside the zip
    visible: bool


@dataclass
class _Book:
    reader: Any  # openpyxl.reader.excel.ExcelReader, with strings, workbook and styles read
    sheets: list[_Sheet]


def _open_workbook(data: bytes) -> _Book:
    """Read a workbook's strings, sheet list and styles (openpyxl), but no worksheet yet."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    sheets = [
        _Sheet(str(sheet.name), str(rel.target), sheet.state in (None, "visible"))
        for sheet, rel in reader.parser.find_sheets()
        if "chartsheet" not in str(rel.Type)
    ]
    return _Book(reader, sheets)


def _choose_sheet(
    sheets: Sequence[_Sheet], visible: Sequence[str], wanted: str | None, name: str
) -> _Sheet:
    """The sheet asked for by name, else the first visible one (hidden sheets are skipped)."""
    if not sheets:
        raise LoadError([Problem("file_empty", name)])
    if wanted is None:
        return next((s for s in sheets if s.visible), sheets[0])
    exact = [s for s in sheets if s.title == wanted]
    folded = [s for s in sheets if s.title.casefold() == wanted.casefold()]
    if exact or folded:
        return (exact or folded)[0]
    listed = ", ".join(visible or [s.title for s in sheets])
    raise LoadError([Problem("sheet_missing", name, params={"sheet": wanted, "available": listed})])


def _sheet_notes(
    name: str, title: str, sheets: Sequence[_Sheet], visible: Sequence[str], wanted: str | None
) -> tuple[Problem, ...]:
    """Say which sheet was read, and when there was a choice (or hidden sheets skipped)."""
    hidden = tuple(s.title for s in sheets if not s.visible)
    if len(visible) > 1 and wanted is None:
        others = tuple(v for v in visible if v != title)
        return (
            Problem(
                "sheet_chosen",
                name,
                values=others[:MAX_EXAMPLES],
                count=len(others),
                severity="warning",
                params={"sheet": title},
            ),
        )
    if hidden and wanted is None:
        return (
            Problem(
                "sheet_hidden_skipped",
                name,
                values=hidden[:MAX_EXAMPLES],
                count=len(hidden),
                severity="info",
                params={"sheet": title},
            ),
        )
    return (Problem("sheet_read", name, severity="info", params={"sheet": title}),)


def _sheet_rows(book: _Book, part: str, name: str, memory: int) -> list[_Row]:
    """Stream one worksheet's non-empty rows as text, bounded by ``memory``.

    Cells are parsed one at a time (openpyxl's cell parser, on an incremental XML parse), never
    a whole row's worth of elements first; a cell beyond :data:`MAX_COLUMNS` is refused at once.
    """
    from openpyxl.worksheet._reader import CELL_TAG, DATA_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    wb = book.reader.wb
    rows: list[_Row] = []
    width = 0
    filled = 0  # non-empty cells kept
    text = 0  # characters they hold
    with book.reader.archive.open(part) as source:
        parser = WorkSheetParser(
            source,
            book.reader.shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        current: dict[int, str] = {}
        row_element: Any = None
        sheet_data: Any = None
        for event, element in iterparse(source, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == DATA_TAG:
                    sheet_data = element
                elif tag == ROW_TAG:
                    row_element = element
                    parser.col_counter = 0
                    number = element.get("r")
                    parser.row_counter = (
                        int(float(number)) if number is not None else parser.row_counter + 1
                    )
                continue
            if tag == CELL_TAG:
                cell = parser.parse_cell(element)
                if row_element is not None:
                    row_element.clear()  # the cell is read: drop it, keep memory flat
                column = int(cell["column"])
                if column > MAX_COLUMNS:
                    raise LoadError(
                        [
                            Problem(
                                "too_many_columns",
                                name,
                                count=column,
                                params={"limit": MAX_COLUMNS},
                            )
                        ]
                    )
                value = _excel_text(cell["value"], cell["data_type"])
                if value is not None:
                    current[column] = value
                    filled += 1
                    text += len(value)
            elif tag == ROW_TAG:
                element.clear()
                if sheet_data is not None:
                    sheet_data.clear()  # drop the rows read so far from the tree
                row_element = None
                if current:
                    top = max(current)
                    width = max(width, top)
                    # a sparse row stays sparse until the table is known to fit
                    dense = 2 * len(current) >= top
                    rows.append([current.get(c) for c in range(1, top + 1)] if dense else current)
                    current = {}
                    needed = len(rows) * width * CELL_BYTES + filled * _XLSX_CELL_BYTES + text
                    if needed > memory:
                        raise _too_much_memory(name, len(rows), width, text, memory)
    return rows


def _row_width(row: _Row) -> int:
    return max(row) if isinstance(row, dict) else len(row)


def _cells(row: _Row, width: int) -> list[str | None]:
    """A row's cells from column 1 to ``width``."""
    if isinstance(row, dict):
        return [row.get(c) for c in range(1, width + 1)]
    return row + [None] * (width - len(row))


def _excel_text(value: Any, data_type: str) -> str | None:
    """A cell's value as the text pandas' ``read_excel(dtype=str)`` gives (errors are empty).

    >>> _excel_text(10.0, "n"), _excel_text(2.5, "n"), _excel_text(True, "b"), _excel_text("", "s")
    ('10', '2.5', 'True', None)
    """
    if value is None or data_type == "e":
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text or None


def _read_parquet(data: bytes, name: str, memory: int) -> SourceFile:
    """Read a Parquet file, bounded by its footer before any column is read.

    The footer gives the rows, the columns and every row group's uncompressed size; text
    columns are then read as dictionaries (as small as the file) and their decoded size is
    computed from the dictionary before anything is decoded, so a value repeated a million
    times in a 2 KB file is refused instead of becoming gigabytes.
    """
    import pyarrow.parquet as pq

    try:
        footer = pq.ParquetFile(io.BytesIO(data))
        meta, schema = footer.metadata, footer.schema_arrow
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... on damaged files
        raise LoadError([Problem("bad_parquet", name, params={"detail": str(exc)[:200]})]) from None
    if meta.num_columns > MAX_COLUMNS or len(schema.names) > MAX_COLUMNS:
        count = max(meta.num_columns, len(schema.names))
        raise LoadError(
            [Problem("too_many_columns", name, count=count, params={"limit": MAX_COLUMNS})]
        )
    names, problems = check_header([str(c) for c in schema.names], name, detect_missing=False)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    rows = max(meta.num_rows, sum(g.num_rows for g in groups))
    if rows == 0:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    stored = sum(max(g.total_byte_size, 0) for g in groups)
    if rows * meta.num_columns * CELL_BYTES + stored > memory:
        raise _too_much_memory(name, rows, len(names), stored, memory)
    texts = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    try:
        table = pq.ParquetFile(io.BytesIO(data), read_dictionary=texts).read()
        text_bytes = sum(_decoded_bytes(table.column(c)) for c in texts)
        others = sum(table.column(c).nbytes for c in table.column_names if c not in set(texts))
        if rows * len(names) * CELL_BYTES + text_bytes + others > memory:
            raise _too_much_memory(name, rows, len(names), text_bytes, memory)
        table = pa.table(
            [
                _decoded(table.column(i)) if field.name in texts else table.column(i)
                for i, field in enumerate(schema)
            ],
            names=[str(c) for c in schema.names],
        )
    except LoadError:
        raise
    except Exception as exc:
        raise LoadError([Problem("bad_parquet", name, params={"detail": str(exc)[:200]})]) from None
    table = _flat_table(table, names, name)
    try:
        frame = table.to_pandas()
    except Exception as exc:  # values pandas cannot hold (e.g. out-of-range timestamps)
        raise LoadError([Problem("bad_parquet", name, params={"detail": str(exc)[:200]})]) from None
    frame.columns = pd.Index(names)
    return SourceFile(name, frame, "parquet", notes=tuple(problems))


def _decoded_bytes(column: pa.ChunkedArray) -> int:
    """The bytes a text column read as a dictionary takes once decoded (offsets included)."""
    import pyarrow.compute as pc

    total = 0
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            total += chunk.nbytes
            continue
        lengths = pc.binary_length(chunk.dictionary)
        taken = pc.sum(pc.take(lengths, chunk.indices)).as_py()
        total += int(taken or 0) + 8 * len(chunk)
    return total


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column read as a dictionary, back to plain values."""
    if not pa.types.is_dictionary(column.type):
        return column
    return pa.chunked_array(
        [chunk.dictionary_decode() for chunk in column.chunks], type=column.type.value_type
    )


def _flat_table(table: pa.Table, names: Sequence[str], name: str) -> pa.Table:
    """Turn binary columns holding UTF-8 text into text; refuse nested and other binary columns.

    Old Hive/Spark writers store strings as binary; lists, structs and maps are not lead
    attributes, and showing them as Python reprs would silently change them.
    """
    import pyarrow.compute as pc

    refused: list[tuple[str, str]] = []
    columns = []
    for column_name, field, column in zip(names, table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_nested(kind):
            refused.append((column_name, str(field.type)))
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            try:
                text = pa.string() if pa.types.is_binary(kind) else pa.large_string()
                column = pc.cast(column, text)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                refused.append((column_name, str(field.type)))
        elif pa.types.is_fixed_size_binary(kind):
            refused.append((column_name, str(field.type)))
        columns.append(column)
    if refused:
        raise LoadError(
            [
                Problem(
                    "unsupported_type",
                    name,
                    column=refused[0][0],
                    values=tuple(c for c, _ in refused[:MAX_EXAMPLES]),
                    count=len(refused),
                    params={"types": ", ".join(dict.fromkeys(k for _, k in refused))},
                )
            ]
        )
    return pa.table(columns, names=[str(c) for c in table.column_names])
