"""Terminal output for the CLI: aligned columns (Japanese is two cells wide), rates, notes."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from funnel.filters import Filters
from funnel.formats import Metric
from funnel.handoff import safe_frame
from funnel.i18n import MESSAGES, t
from funnel.problems import Problem

_LABELS = {"error": "error", "warning": "warning", "info": "note"}


def error(message: str, lang: str) -> None:
    """Print ``error: message`` on stderr."""
    print(t("cli.error", lang, message=message), file=sys.stderr)


def note(message: str, lang: str) -> None:
    """Print ``note: message`` on stderr."""
    print(t("cli.note", lang, message=message), file=sys.stderr)


def warning(message: str, lang: str) -> None:
    """Print ``warning: message`` on stderr."""
    print(t("cli.warning", lang, message=message), file=sys.stderr)


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
    return t(key, lang) if lang != "en" and key in MESSAGES else name


def described(filters: Filters, lang: str) -> str:
    """The filters as ``col = value, ...``, or "all leads"."""
    return ", ".join(f"{k} = {v}" for k, v in filters.describe()) or t("cli.all_leads", lang)


def progress(lang: str) -> Callable[[str, float], None]:
    """A progress callback printing each new step once, on stderr."""
    last: list[str] = []

    def report(step: str, _fraction: float) -> None:
        if step != (last[-1] if last else None):
            last.append(step)
            print(t(f"progress.{step}", lang), file=sys.stderr, flush=True)

    return report


def write_table(frame: Any, out: Path) -> None:
    """Write a table as Parquet (by suffix) or CSV; CSV formula cells are neutralised."""
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        safe_frame(frame).to_csv(out, index=False)
