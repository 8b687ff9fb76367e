"""Problems found in a user's file, as data the UI and the CLI render in plain words.

A :class:`Problem` names the file, the column, the first few rows and offending values, and a
message code; :mod:`funnel.i18n` turns the code into an English or Japanese sentence and a fix.
Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2. User text in
a sentence (file and column names, values) has its control characters escaped, so a message stays
one line and cannot drive a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from funnel.i18n import MESSAGES, t

Severity = Literal["error", "warning", "info"]

#: How many example rows and values a problem keeps.
MAX_EXAMPLES = 5
# C0/C1 control characters and the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    r"""Escape control characters in user text (``\x1b``, line breaks, bidi overrides).

    >>> print(printable("a\x1b[31mb\nc\u202e"))
    a\x1b[31mb\nc\u202e
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


#: Parameters holding a file kind from :func:`funnel.readers.sniff_kind` (``csv``, ``pdf`` ...)
#: or a column's kind from :func:`funnel.store.kind_of` (``number``, ``date`` ...).
_KIND_PARAMS = ("what", "actual", "kind_before", "kind_now")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth knowing about) an input file."""

    code: str
    file: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()
    count: int = 0
    severity: Severity = "error"
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """Render the problem as one plain-language sentence."""
        return t(f"problem.{self.code}", lang, **self._fields(lang))

    def fix(self, lang: str = "en") -> str:
        """Render how to fix the problem ("" for a note with nothing to fix)."""
        key = f"fix.{self.code}"
        return t(key, lang, **self._fields(lang)) if key in MESSAGES else ""

    def _fields(self, lang: str) -> dict[str, Any]:
        params = {k: printable(v) if isinstance(v, str) else v for k, v in self.params.items()}
        for key in _KIND_PARAMS:  # a file kind funnel detected, named in the reader's words
            if f"kind.{params.get(key)}" in MESSAGES:
                params[key] = t(f"kind.{params[key]}", lang)
        return {
            "file": printable(self.file),
            "column": printable(self.column or ""),
            "rows": format_rows(self.rows, self.count, lang),
            "values": format_values(self.values),
            "count": self.count,
            **params,
        }

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """Return a JSON-ready record, including the rendered sentences."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "column": self.column,
            "rows": list(self.rows),
            "values": list(self.values),
            "count": self.count,
            "params": dict(self.params),
            "message": self.message(lang),
            "fix": self.fix(lang),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Rebuild a problem from :meth:`as_dict` output (e.g. a stored load report)."""
        severity = data.get("severity", "info")
        return cls(
            code=str(data.get("code", "invalid_value")),
            file=str(data.get("file", "")),
            column=data.get("column"),
            rows=tuple(int(r) for r in data.get("rows", ())),
            values=tuple(str(v) for v in data.get("values", ())),
            count=int(data.get("count", 0)),
            severity=severity if severity in ("error", "warning", "info") else "info",
            params=dict(data.get("params", {})),
        )


class LoadError(Exception):
    """Raised when input cannot be stored; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message() for p in self.problems if p.severity == "error"))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


def format_rows(rows: Sequence[int], count: int, lang: str = "en") -> str:
    """Render example row numbers, saying how many more there are.

    >>> format_rows([2, 5, 9], 3)
    '2, 5, 9'
    >>> format_rows([2, 5], 40)
    '2, 5 (and 38 more)'
    """
    shown = ", ".join(str(r) for r in rows)
    more = count - len(rows)
    if more > 0:
        return t("rows.more", lang, shown=shown, more=more)
    return shown


def format_values(values: Iterable[str], limit: int = 40) -> str:
    """Quote example values, shortening long ones.

    >>> format_values(["abc", "x" * 50])
    "'abc', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'"
    """
    out = []
    for v in values:
        s = str(v)
        if len(s) > limit:
            s = s[: limit - 1] + "…"
        out.append(repr(s) if "'" not in s else '"' + printable(s).replace('"', '\\"') + '"')
    return ", ".join(out)


def has_errors(problems: Iterable[Problem]) -> bool:
    """Tell whether any problem blocks storing the data."""
    return any(p.severity == "error" for p in problems)
