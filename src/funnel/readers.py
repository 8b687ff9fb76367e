"""Read CRM/MA export files into pandas frames, refusing anything ambiguous.

Formats are recognised by content, not trusted from the extension: CSV/TSV text (UTF-8, UTF-8
with BOM, UTF-16 with or without BOM, Shift_JIS/cp932), ``.xlsx`` and Parquet. Text is decoded
strictly in Python (DuckDB 2.0 cannot decode cp932), so a wrong guess is an error, never mojibake.
Text and Excel cells come back as strings; Parquet keeps its types. Sizes are bounded: the file,
the number of columns, the length of a column name, and what an .xlsx expands to when unzipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

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
DELIMITERS = (",", "\t", ";", "|")
TEXT_EXTENSIONS = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}
PARQUET_EXTENSIONS = {".parquet", ".pq"}

# pyarrow reads cells of any length, so the csv module (header, ragged-row report) must too.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

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

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def max_bytes_default() -> int:
    """Return the configured size limit (``FUNNEL_MAX_FILE_BYTES`` or 1 GiB)."""
    raw = os.environ.get("FUNNEL_MAX_FILE_BYTES", "")
    return int(raw) if raw.strip().isdigit() else DEFAULT_MAX_BYTES


def read_file(
    path: str | Path,
    *,
    max_bytes: int | None = None,
    encoding: str | None = None,
    name: str | None = None,
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
    return read_bytes(path.read_bytes(), display, max_bytes=limit, encoding=encoding)


def read_bytes(
    data: bytes, name: str, *, max_bytes: int | None = None, encoding: str | None = None
) -> SourceFile:
    """Read an uploaded file's bytes; the name's extension is checked against the content."""
    limit = max_bytes if max_bytes is not None else max_bytes_default()
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
    if actual == "xlsx":
        source = _read_excel(data, name, limit)
    elif actual == "parquet":
        source = _read_parquet(data, name)
    else:
        source = _read_text(data, name, encoding)
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
        try:
            return data.decode(enc), enc
        except (UnicodeDecodeError, LookupError) as exc:
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
    cleaned = [str(n).strip().lstrip("\ufeff") for n in names]
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


def _read_text(data: bytes, name: str, encoding: str | None) -> SourceFile:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise LoadError([Problem("file_empty", name)])
    text, enc = decode_text(data, name, encoding)
    if not text.strip():
        raise LoadError([Problem("file_empty", name)])
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise LoadError([Problem("nul_byte", name, rows=(line,), count=1, params={"line": line})])
    delim = sniff_delimiter(text)
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    names, problems = check_header(header, name)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    bad_rows: list[int] = []

    def on_invalid(_row: object) -> str:
        bad_rows.append(1)
        return "skip"

    utf8 = data if enc == "utf-8" else text.encode("utf-8")
    try:
        table = pacsv.read_csv(
            io.BytesIO(utf8),
            read_options=pacsv.ReadOptions(
                skip_rows=1, column_names=names, block_size=1 << 24, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
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
    if bad_rows or text.count('"') % 2:
        unclosed = _unclosed_quote(text, delim, name)
        if unclosed is not None:
            raise LoadError([unclosed])
    if bad_rows:
        raise LoadError([_ragged_rows(text, delim, len(names), name)])
    if table.num_rows == 0:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    frame = table.to_pandas()
    return SourceFile(name, frame, "csv", encoding=enc, delimiter=delim, notes=tuple(problems))


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


def _read_excel(data: bytes, name: str, limit: int) -> SourceFile:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
        if not any(m.filename.startswith("xl/") for m in members):
            raise LoadError(
                [Problem("wrong_format", name, params={"ext": ".xlsx", "actual": "zip"})]
            )
        # Python's zipfile stops at each member's declared size, so the sum is a true bound.
        expanded = sum(m.file_size for m in members)
        ratio = expanded / max(len(data), 1)
        if expanded > limit or (expanded > _EXCEL_RATIO_FLOOR and ratio > MAX_EXCEL_RATIO):
            raise LoadError(
                [
                    Problem(
                        "excel_expands",
                        name,
                        params={
                            "size": _human_bytes(expanded),
                            "ratio": f"{ratio:,.0f}",
                            "max_ratio": MAX_EXCEL_RATIO,
                            "limit": _human_bytes(limit),
                        },
                    )
                ]
            )
        raw = pd.read_excel(io.BytesIO(data), sheet_name=0, header=None, dtype=str)
    except LoadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged workbooks
        raise LoadError([Problem("bad_excel", name, params={"detail": str(exc)[:200]})]) from None
    raw = raw.dropna(how="all")
    if raw.empty:
        raise LoadError([Problem("file_empty", name)])
    header = ["" if pd.isna(v) else str(v) for v in raw.iloc[0].tolist()]
    names, problems = check_header(header, name)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    body = raw.iloc[1:].reset_index(drop=True)
    if body.empty:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    body.columns = pd.Index(names)
    frame = body.astype("str").where(body.notna(), None)
    return SourceFile(name, frame, "xlsx", notes=tuple(problems))


def _read_parquet(data: bytes, name: str) -> SourceFile:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... on damaged files
        raise LoadError([Problem("bad_parquet", name, params={"detail": str(exc)[:200]})]) from None
    names, problems = check_header([str(c) for c in table.column_names], name, detect_missing=False)
    if any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    if table.num_rows == 0:
        raise LoadError([Problem("header_only", name, values=tuple(names[:MAX_EXAMPLES]))])
    table = _flat_table(table, names, name)
    try:
        frame = table.to_pandas()
    except Exception as exc:  # values pandas cannot hold (e.g. out-of-range timestamps)
        raise LoadError([Problem("bad_parquet", name, params={"detail": str(exc)[:200]})]) from None
    frame.columns = pd.Index(names)
    return SourceFile(name, frame, "parquet", notes=tuple(problems))


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
