"""The Data page's editable mapping table: one row per column, and back to a mapping."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from typing import Any

import pandas as pd

from funnel.mapping import ROLES, ColumnSpec, Mapping, Role, role_choice, with_specs
from funnel.parsing import is_placeholder
from funnel.readers import SourceFile

#: Role choices offered per column, stage dates spelled out.
ROLE_CHOICES: tuple[str, ...] = (
    "id",
    "created",
    "source",
    "outcome",
    "stage:mql",
    "stage:sql",
    "stage:opportunity",
    "closed",
    "amount",
    "attribute",
    "number",
    "behaviour",
    "ignore",
)


OUTCOMES_FILE_CHOICES: tuple[str, ...] = (
    "id",
    "outcome",
    "closed",
    "amount",
    "attribute",
    "number",
    "ignore",
)


def sample_values(series: pd.Series, k: int = 3) -> str:
    """Show a few distinct values of a column, as plain text.

    >>> sample_values(pd.Series(["a", "b", "a", None, "c", "d"]))
    'a, b, c'
    """
    head = series.iloc[:5000].dropna()  # not a copy of a million-row column on every rerun
    if head.empty:
        head = series.dropna()
    values = [str(v) for v in head.head(1000).unique()[:k]]
    return ", ".join(v if len(v) <= 30 else v[:29] + "…" for v in values)


def mapping_rows(mapping: Mapping, source: SourceFile, file: str = "leads") -> list[dict[str, Any]]:
    """Rows of the mapping editor: column, role choice, leak flag, reason key, samples."""
    return [
        {
            "column": spec.name,
            "role": role_choice(spec),
            "leak": spec.leak,
            "reason": spec.reason or "",
            "sample": sample_values(source.frame[spec.name])
            if spec.name in source.frame.columns
            else "",
        }
        for spec in mapping._specs(file)
    ]


def apply_rows(
    mapping: Mapping, rows: Iterable[MappingABC[str, Any]], file: str = "leads"
) -> Mapping:
    """Return the mapping with one file's specs replaced by the edited rows."""
    specs = []
    for row in rows:
        choice = str(row.get("role") or "ignore")
        stage = None
        if choice.startswith("stage:"):
            choice, stage = "stage", choice.split(":", 1)[1]
        role: Role = choice if choice in ROLES else "ignore"
        leak = bool(row.get("leak", False))
        reason = (str(row.get("reason") or "") or ("leak.user" if leak else None)) if leak else None
        specs.append(ColumnSpec(str(row["column"]), role, stage, leak, reason))
    return with_specs(mapping, file, tuple(specs))


def outcome_value_options(
    mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None
) -> list[str]:
    """Distinct values of the outcome column, for choosing which mean won/lost/open."""
    spec = mapping.outcome
    if spec is None or spec.column is None:
        return []
    source = leads if spec.file == "leads" else outcomes
    if source is None or spec.column not in source.frame.columns:
        return []
    values = source.frame[spec.column].dropna().astype("str").str.strip().unique()[:50]
    return [str(v) for v in values if not is_placeholder(str(v), mapping.placeholders)]
