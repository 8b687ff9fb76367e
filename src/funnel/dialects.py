"""How each warehouse dialect writes values, names and the cleaning a load does.

The SQL export (:mod:`funnel.sqlexport`) and the rule kinds' warehouse renderers
(:mod:`funnel.renderers`) write their text with these: a :class:`Dialect` per engine, literals
escaped for it (a warehouse query has nobody to bind values), quoted identifiers, and the
Python mirror of the query's cleaning, used to write literals that compare as the app does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from funnel.i18n import CodedError
from funnel.parsing import GROUPED_NUMBER

#: A plain decimal number, and one whose commas separate thousands as loading reads them
#: (no backslashes, so the same text works in every dialect's string literals). A decimal
#: comma (``1,5``) is neither.
NUMBER_PATTERN = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?$"
GROUPED_PATTERN = f"^{GROUPED_NUMBER}$"
MAX_NUMBER_CHARS = 200

FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
_TO_ASCII = str.maketrans(FULLWIDTH, ASCII)
# ASCII whitespace (as RE2's \s) and the Unicode space separators (\p{Z}).
_SPACE_SET = "\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # a bracket set
_SPACES = re.compile("[\t\n\f\r " + _SPACE_SET + "]+")
_NUMBER = re.compile(NUMBER_PATTERN)
_GROUPED = re.compile(GROUPED_PATTERN)

Escapes = Literal["standard", "postgres", "backslash", "snowflake"]


class SqlExportError(CodedError, ValueError):
    """A rule set that cannot be written as SQL; the message says what and how to fix it.

    ``code`` selects the message (``sqlexport.<code>`` in :mod:`funnel.i18n`); ``str(exc)`` is
    the English one, ``message(lang)`` the reader's.

    >>> print(SqlExportError("bad_table", table="'crm..leads'").message("ja").split("。")[0])
    テーブル名 'crm..leads' は使えません
    """

    prefix = "sqlexport"


@dataclass(frozen=True)
class Dialect:
    """How one SQL dialect spells the few things that are not portable."""

    name: str
    title: str
    text_type: str
    double_type: str
    #: A regular expression (as the engine sees it) matching a run of whitespace.
    whitespace: str
    #: Templates over ``{x}`` (an expression) and ``{p}`` (a pattern literal).
    replace_spaces: str
    matches: str
    to_double: str
    quote: Literal['"', "`"]
    escapes: Escapes
    #: Seconds since 1970 of a timestamp, and a number rounded to one decimal place.
    epoch: str = "EPOCH(CAST({x} AS TIMESTAMP))"
    round1: str = "ROUND({x}, 1)"


_DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect(
            name="duckdb",
            title="DuckDB",
            text_type="VARCHAR",
            double_type="DOUBLE",
            whitespace=r"[\s\p{Z}]+",
            replace_spaces="REGEXP_REPLACE({x}, {p}, ' ', 'g')",
            matches="REGEXP_MATCHES({x}, {p})",
            to_double="TRY_CAST({x} AS DOUBLE)",
            quote='"',
            escapes="standard",
        ),
        Dialect(
            name="postgres",
            title="PostgreSQL",
            text_type="TEXT",
            double_type="DOUBLE PRECISION",
            whitespace=r"[[:space:]\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+",
            replace_spaces="REGEXP_REPLACE({x}, {p}, ' ', 'g')",
            matches="{x} ~ {p}",
            to_double="CAST({x} AS DOUBLE PRECISION)",  # guarded by NUMBER_PATTERN: never fails
            quote='"',
            escapes="postgres",
            epoch="EXTRACT(EPOCH FROM CAST({x} AS TIMESTAMP))",
            round1="ROUND(CAST({x} AS NUMERIC), 1)",
        ),
        Dialect(
            name="spark",
            title="Spark SQL",
            text_type="STRING",
            double_type="DOUBLE",
            whitespace=r"[\s\p{Z}]+",
            replace_spaces="REGEXP_REPLACE({x}, {p}, ' ')",
            matches="{x} RLIKE {p}",
            to_double="TRY_CAST({x} AS DOUBLE)",
            quote="`",
            escapes="backslash",
            epoch="UNIX_TIMESTAMP(CAST({x} AS TIMESTAMP))",
        ),
        Dialect(
            name="snowflake",
            title="Snowflake",
            text_type="VARCHAR",
            double_type="DOUBLE",
            whitespace="[[:space:]"
            + _SPACE_SET
            + "]+",  # the characters, written as \uXXXX escapes
            replace_spaces="REGEXP_REPLACE({x}, {p}, ' ')",
            matches="REGEXP_LIKE({x}, {p})",
            to_double="TRY_TO_DOUBLE({x})",
            quote='"',
            escapes="snowflake",
            epoch="DATE_PART(EPOCH_SECOND, CAST({x} AS TIMESTAMP_NTZ))",
        ),
        Dialect(
            name="bigquery",
            title="BigQuery",
            text_type="STRING",
            double_type="FLOAT64",
            whitespace=r"[\s\p{Z}]+",
            replace_spaces="REGEXP_REPLACE({x}, {p}, ' ')",
            matches="REGEXP_CONTAINS({x}, {p})",
            to_double="SAFE_CAST({x} AS FLOAT64)",
            quote="`",
            escapes="backslash",
            epoch="UNIX_SECONDS(CAST({x} AS TIMESTAMP))",
        ),
    )
}


DIALECTS: tuple[str, ...] = tuple(_DIALECTS)


def get_dialect(name: str) -> Dialect:
    """Return a dialect by name, or explain which names exist.

    >>> get_dialect("postgres").title
    'PostgreSQL'
    """
    try:
        return _DIALECTS[name]
    except KeyError:
        raise SqlExportError(
            "unknown_dialect", dialect=repr(name), dialects=", ".join(DIALECTS)
        ) from None


# --- literals, identifiers, comments -------------------------------------------------------


def _no_nul(text: str, code: Literal["nul_value", "nul_name"]) -> None:
    if "\x00" in text:
        raise SqlExportError(code, text=repr(text))


def _invisible(c: str) -> bool:
    """Tell whether a character is better written as an escape than as itself."""
    return c != " " and unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _backslashed(text: str, quote: str) -> str:
    out = []
    for c in text:
        if c == "\\":
            out.append("\\\\")
        elif c == "'":
            out.append(quote)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        elif _invisible(c) and ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)


def string_literal(text: str, d: Dialect) -> str:
    r"""Write a string literal for the dialect.

    >>> for name in ("duckdb", "postgres", "spark", "snowflake"):
    ...     d = get_dialect(name)
    ...     print(string_literal("O'Reilly", d), string_literal(r"a\b", d))
    'O''Reilly' 'a\b'
    'O''Reilly' E'a\\b'
    'O\'Reilly' 'a\\b'
    'O''Reilly' 'a\\b'
    """
    _no_nul(text, "nul_value")
    if d.escapes == "standard":
        return "'" + text.replace("'", "''") + "'"
    if d.escapes == "postgres":
        if "\\" not in text and not any(_invisible(c) for c in text):
            return "'" + text.replace("'", "''") + "'"
        # E'' reads the same whatever standard_conforming_strings says
        return "E'" + _backslashed(text, "''") + "'"
    if d.escapes == "snowflake":
        return "'" + _backslashed(text, "''") + "'"
    return "'" + _backslashed(text, "\\'") + "'"  # Spark and BigQuery: '' would concatenate


def quote_name(name: str, d: Dialect) -> str:
    r"""Quote one identifier for the dialect.

    >>> for name in ("postgres", "spark", "bigquery"):
    ...     d = get_dialect(name)
    ...     print(quote_name('会社 "規模" 名', d), quote_name("a`b", d))
    "会社 ""規模"" 名" "a`b"
    `会社 "規模" 名` `a``b`
    `会社 "規模" 名` `a\`b`
    """
    _no_nul(name, "nul_name")
    if d.quote == '"':
        return '"' + name.replace('"', '""') + '"'
    if d.name == "bigquery":
        return "`" + _backslashed(name, "'").replace("`", "\\`") + "`"
    return "`" + name.replace("`", "``") + "`"


def table_name(table: str, d: Dialect) -> str:
    """Quote a table name, each part of a qualified one (``schema.table``) on its own.

    >>> print(table_name("crm.leads", get_dialect("bigquery")))
    `crm`.`leads`
    >>> print(table_name("Leads", get_dialect("duckdb")))
    "Leads"
    """
    parts = [p.strip() for p in table.split(".")]
    if not all(parts):
        raise SqlExportError("bad_table", table=repr(table))
    return ".".join(quote_name(p, d) for p in parts)


def number_literal(x: float) -> str:
    """Write a number so every dialect reads back the same double.

    >>> number_literal(45.0), number_literal(20.5), number_literal(-3), number_literal(1e20)
    ('45', '20.5', '-3', '1e+20')
    """
    x = float(x)
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    return repr(x)


# --- cleaning, mirrored in Python for literals ---------------------------------------------


def clean_text(value: str) -> str:
    r"""Clean a value as the query does: full-width ASCII to ASCII, whitespace collapsed.

    >>> clean_text("  ＩＴ・ソフト\u3000 ウェア ")
    'IT・ソフト ウェア'
    """
    return _SPACES.sub(" ", value.translate(_TO_ASCII)).strip(" ")


def parse_number(value: str) -> float | None:
    """Parse a number as the query does (None when the query would find none).

    >>> parse_number(" １，２００ "), parse_number("2.5e3"), parse_number("inf")
    (1200.0, 2500.0, None)
    >>> parse_number("1,5"), parse_number("-12,345.6")
    (None, -12345.6)
    """
    text = clean_text(value)
    if len(text) > MAX_NUMBER_CHARS:
        return None
    if _NUMBER.match(text):
        return float(text)
    if _GROUPED.match(text):
        return float(text.replace(",", ""))
    return None


def text_key(value: str, d: Dialect) -> str:
    """The literal a cleaned, lower-cased column value is compared with.

    Letters whose case only the engine can fold (``É``) are left to its ``LOWER``, so both
    sides of the comparison are folded by the same function.

    >>> duckdb = get_dialect("duckdb")
    >>> print(text_key(" Free  Mail", duckdb), text_key("Élan", duckdb))
    'free mail' LOWER('Élan')
    """
    text = clean_text(value)
    if all(c.isascii() or c.lower() == c.upper() for c in text):
        return string_literal(text.lower(), d)
    return f"LOWER({string_literal(text, d)})"
