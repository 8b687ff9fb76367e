"""The Data page's editable mapping table: one row per column, and back to a mapping."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import replace
from typing import Any

import pandas as pd

from funnel.i18n import t
from funnel.mapping import ROLES, ColumnSpec, Mapping, Role, role_choice, said, with_specs
from funnel.mapping.leaks import reason_text
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
    "first_contact",
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


def mapping_rows(
    mapping: Mapping, source: SourceFile, file: str = "leads", lang: str = "en"
) -> list[dict[str, Any]]:
    """Rows of the mapping editor: column, role choice, leak flag, why (in ``lang``), samples.

    A flag a person overruled keeps its evidence: "why" says it was flagged and is scored
    anyway.
    """
    return [
        {
            "column": spec.name,
            "role": role_choice(spec),
            "leak": spec.leak,
            "why": leak_note(spec, lang),
            "sample": sample_values(source.frame[spec.name])
            if spec.name in source.frame.columns
            else "",
        }
        for spec in mapping._specs(file)
    ]


def leak_note(spec: ColumnSpec, lang: str = "en") -> str:
    """Why a column is flagged, or that its flag was overruled, as the editor shows it."""
    if spec.overruled:
        return t("leak.kept", lang, why=reason_text(spec, lang))
    return reason_text(spec, lang) if spec.leak else ""


def apply_rows(
    mapping: Mapping, rows: Iterable[MappingABC[str, Any]], file: str = "leads"
) -> Mapping:
    """Return the mapping with one file's specs replaced by the edited rows.

    A leak box a person ticked or cleared is theirs (``by_user``); a flag they cleared keeps
    its evidence, so the reason stays visible.
    """
    before = {s.name: s for s in mapping._specs(file)}
    specs = []
    for row in rows:
        name = str(row["column"])
        choice = str(row.get("role") or "ignore")
        stage = None
        if choice.startswith("stage:"):
            choice, stage = "stage", choice.split(":", 1)[1]
        role: Role = choice if choice in ROLES else "ignore"
        leak = bool(row.get("leak", False))
        spec = before.get(name, ColumnSpec(name, role))
        spec = replace(spec, role=role, stage=stage)
        if leak != spec.leak:
            spec = said(spec, leak)
        specs.append(spec)
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
