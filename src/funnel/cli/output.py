"""Terminal output for the CLI: aligned columns (Japanese is two cells wide), rates, notes.

User text never drives the terminal: every field a person wrote (rule-set, dataset, column and
tier names, authors, rationales, values) is shown through :func:`clean` or :func:`say`, which
escape control characters, line breaks and bidirectional overrides, and :func:`terminal`
escapes any that are left in what a command prints for people (a carriage return could make a
draft look "agreed (current)"). Machine output — JSON, CSV, SQL, YAML on stdout — is data and
is left alone; its writers quote it.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from funnel.filters import Filters
from funnel.formats import Metric
from funnel.handoff import to_csv_bytes
from funnel.i18n import MESSAGES, t
from funnel.problems import Problem, printable

_LABELS = {"error": "error", "warning": "warning", "info": "note"}


def clean(text: object) -> str:
    r"""User text as a terminal must show it: control characters and line breaks escaped.

    >>> print(clean("v1\r#2 agreed (current)\x1b[2K"))
    v1\r#2 agreed (current)\x1b[2K
    """
    return printable(str(text))


def say(key: str, lang: str, **params: Any) -> str:
    """A message in ``lang`` with every text parameter passed through :func:`clean`."""
    return t(key, lang, **{k: clean(v) if isinstance(v, str) else v for k, v in params.items()})


class _Escaping:
    """A text stream that escapes control characters written to it, except line ends."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write("\n".join(printable(line) for line in text.split("\n")))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def terminal(*, stdout: bool = True) -> Iterator[None]:
    """Escape control characters in what is printed for people: stderr, and stdout unless it
    carries data (``stdout=False``)."""
    saved = sys.stdout, sys.stderr
    sys.stderr = _Escaping(sys.stderr)
    if stdout:
        sys.stdout = _Escaping(sys.stdout)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def error(message: str, lang: str) -> None:
    """Print ``error: message`` on stderr."""
    print(t("cli.error", lang, message=clean(message)), file=sys.stderr)


def note(message: str, lang: str) -> None:
    """Print ``note: message`` on stderr."""
    print(t("cli.note", lang, message=clean(message)), file=sys.stderr)


def warning(message: str, lang: str) -> None:
    """Print ``warning: message`` on stderr."""
    print(t("cli.warning", lang, message=clean(message)), file=sys.stderr)


def print_problems(problems: Sequence[Problem], lang: str, out: TextIO) -> None:
    """Print problems as plain sentences, errors first, each with its fix."""
    for p in problems:
        print(t(f"cli.{_LABELS[p.severity]}", lang, message=p.message(lang)), file=out)
        fix = p.fix(lang)
        if fix and p.severity != "info":
            print(t("cli.fix", lang, fix=fix), file=out)


def display_width(text: str) -> int:
    """Terminal width of text: East Asian wide characters take two columns.

    >>> display_width("demo"), display_width("日本語デモ")
    (4, 10)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """Left-align text to a terminal width."""
    return text + " " * max(0, width - display_width(text))


def rpad(text: str, width: int) -> str:
    """Right-align text to a terminal width.

    >>> rpad("won", 5), rpad("受注", 5)
    ('  won', ' 受注')
    """
    return " " * max(0, width - display_width(text)) + text


def metric_lines(rows: Sequence[tuple[Metric, str]], lang: str) -> list[str]:
    """One line per metric, its label in ``lang`` padded so the values line up.

    >>> from funnel.formats import metric
    >>> metric_lines([(metric("hot"), "1,200"), (metric("auc"), "0.712")], "en")
    ['  Hot leads              1,200', '  Ranking quality (AUC)  0.712']
    """
    labels = [m.label(lang) for m, _ in rows]
    width = max((display_width(label) for label in labels), default=0)
    return [f"  {pad(label, width)}  {text}" for label, (_, text) in zip(labels, rows, strict=True)]


def pct(x: float | None) -> str:
    """Render a rate as a percentage.

    >>> pct(0.10525), pct(None)
    ('10.5%', '–')
    """
    return "–" if x is None else f"{x:.1%}"


def stage(name: str, lang: str) -> str:
    """A stage as the reader says it; English keeps the stage's code (what --stages takes)."""
    key = f"stage.{name}"
    return t(key, lang) if lang != "en" and key in MESSAGES else clean(name)


def described(filters: Filters, lang: str) -> str:
    """The filters as ``col = value, ...``, or "all leads"."""
    shown = ", ".join(f"{clean(k)} = {clean(v)}" for k, v in filters.describe())
    return shown or t("cli.all_leads", lang)


def progress(lang: str) -> Callable[[str, float], None]:
    """A progress callback printing each new step once, on stderr."""
    last: list[str] = []

    def report(step: str, _fraction: float) -> None:
        if step != (last[-1] if last else None):
            last.append(step)
            print(t(f"progress.{step}", lang), file=sys.stderr, flush=True)

    return report


def write_table(frame: Any, out: Path) -> None:
    """Write a table as Parquet (by suffix) or as the hand-off CSV (:func:`to_csv_bytes`)."""
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        out.write_bytes(to_csv_bytes(frame))
