"""Turn CRM/MA export files into a validated, typed dataset, then store it all-or-nothing.

:func:`prepare` cleans placeholders, validates every file with pandera (all problems at once),
types the columns and derives the outcome of every lead; :func:`load_files` reads, maps,
prepares and stores — the one path used by ``funnel load``, ``funnel demo`` and the Data page.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from funnel.access import Actor
from funnel.mapping import (
    ColumnSpec,
    Mapping,
    OutcomeSpec,
    Overrides,
    apply_overrides,
    require_column,
)
from funnel.mapping.dispositions import (
    disposition_of,
    disposition_problems,
    with_status_meanings,
)
from funnel.mapping.files import read_mapping_file
from funnel.mapping.leaks import flag_leaks
from funnel.mapping.propose import SAMPLE_ROWS, infer_kind, propose_mapping
from funnel.parsing import (
    DEFAULT_PLACEHOLDERS,
    date_order,
    merge_spellings,
    normalise_token,
    null_placeholders,
    parse_dates,
    parse_numbers,
    per_distinct,
)
from funnel.problems import MAX_EXAMPLES, LoadError, Problem, has_errors
from funnel.readers import SourceFile, read_file
from funnel.store import RESERVED_PREFIX, DatasetInfo, Store
from funnel.validation import DATE_ROLES, NUMBER_ROLES, Parsed, build_schema, validate_frame
from funnel.wrongfile import HEAD_BYTES, outcomes_file_problem, yaml_file_problem

if TYPE_CHECKING:
    from funnel.refresh import RefreshPlan

Progress = Callable[[str, float], None]
TEXT_ROLES = ("attribute", "source", "outcome", "ignore")
MAX_ACTIVITY_TYPES = 100


def _no_progress(_step: str, _fraction: float) -> None:
    return None


@dataclass(frozen=True)
class Prepared:
    """A dataset ready to store: typed frames, the final mapping, and what was noticed."""

    leads: pd.DataFrame
    outcomes: pd.DataFrame
    activities: pd.DataFrame | None
    mapping: Mapping
    problems: tuple[Problem, ...]
    files: list[dict[str, Any]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def counts(self) -> dict[str, int]:
        labels = self.outcomes["outcome"].value_counts()
        return {
            "leads": len(self.leads),
            "won": int(labels.get("won", 0)),
            "lost": int(labels.get("lost", 0)),
            "open": int(labels.get("open", 0)),
        }


@dataclass(frozen=True)
class LoadResult:
    """A stored dataset and the warnings and notes produced while loading it; ``refresh`` is
    what a refresh did (None for a load that stored the files as the whole dataset)."""

    dataset: DatasetInfo
    problems: tuple[Problem, ...]
    refresh: RefreshPlan | None = None


def _row_hashes(f: SourceFile) -> bytes:
    return pd.util.hash_pandas_object(f.frame, index=False).to_numpy().tobytes()


def fingerprint(files: Sequence[SourceFile], rows: Sequence[bytes | None] | None = None) -> str:
    """Fingerprint the input files' contents (stable across machines and runs).

    ``rows`` may pass each generated frame's row hashes, already computed.
    """
    digest = hashlib.sha256()
    for i, f in enumerate(files):
        digest.update(f.name.encode())
        if f.digest is not None:
            digest.update(f.digest.encode())
        else:  # generated or in-memory frames
            known = rows[i] if rows is not None else None
            digest.update(known if known is not None else _row_hashes(f))
    return digest.hexdigest()[:16]


# --- prepare ---------------------------------------------------------------------------------


def prepare(
    leads: SourceFile,
    mapping: Mapping,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    keep_last: bool = False,
    now: pd.Timestamp | None = None,
    progress: Progress = _no_progress,
) -> Prepared:
    """Clean, validate and type the files; raise :class:`LoadError` listing every problem."""
    now = now if now is not None else pd.Timestamp.now()
    problems = [p for f in (leads, outcomes, activities) if f is not None for p in f.notes]
    wrong = outcomes_file_problem(leads, mapping)
    if wrong is not None:
        problems.append(wrong)
    mapping = _complete(mapping, leads, outcomes, activities)
    problems += _structural_problems(mapping, leads, outcomes, activities)
    if has_errors(problems):
        raise LoadError(problems)

    progress("validate", 0.3)
    lead_frame, lead_parsed, notes = _clean(leads, mapping.leads, mapping.placeholders)
    problems += notes
    outcome = mapping.outcome
    lead_outcome = outcome if outcome is not None and outcome.file == "leads" else None
    schema = build_schema(
        mapping.leads, lead_parsed, now=now, unique_ids=not keep_last, outcome=lead_outcome
    )
    problems += _outcome_fixes(validate_frame(lead_frame, schema, leads.name), lead_outcome)
    mapping = replace(mapping, disposition=disposition_of(mapping))  # sales' verdict, if read
    if mapping.disposition is not None:
        problems += disposition_problems(
            lead_frame, mapping.disposition, leads.name, mapping.placeholders
        )

    id_col = mapping.column("id")
    lead_ids: pd.Series | None = lead_frame[id_col].astype("str") if id_col else None
    out_frame: pd.DataFrame | None = None
    out_parsed: Parsed | None = None
    if outcomes is not None:
        progress("validate", 0.45)
        out_frame, out_parsed, notes = _clean(outcomes, mapping.outcomes, mapping.placeholders)
        problems += notes
        known = set(lead_ids.dropna()) if lead_ids is not None else None
        out_schema = build_schema(
            mapping.outcomes,
            out_parsed,
            now=now,
            outcome=outcome if outcome is not None and outcome.file == "outcomes" else None,
            known_ids=known,
        )
        problems += _outcome_fixes(
            validate_frame(out_frame, out_schema, outcomes.name),
            outcome if outcome is not None and outcome.file == "outcomes" else None,
        )
        problems += _duplicate_outcome_ids(out_frame, mapping, outcomes.name, keep_last)
    act_frame: pd.DataFrame | None = None
    act_parsed: Parsed | None = None
    if activities is not None:
        progress("validate", 0.55)
        act_frame, act_parsed, notes = _clean(
            activities, mapping.activities, mapping.placeholders, merge=False
        )
        known = set(lead_ids.dropna()) if lead_ids is not None else None
        type_col = mapping.column("source", "activities")
        act_schema = build_schema(
            mapping.activities, act_parsed, now=now, known_ids=known, activity_type=type_col
        )
        problems += validate_frame(act_frame, act_schema, activities.name)
    if has_errors(problems):
        raise LoadError(_ordered(problems))

    progress("type", 0.65)
    if keep_last and id_col:
        dupes = lead_frame[id_col].duplicated(keep="last")
        if dupes.any():
            problems.append(
                Problem(
                    "duplicates_dropped",
                    leads.name,
                    column=id_col,
                    rows=tuple(int(i) + 2 for i in dupes[dupes].index[:MAX_EXAMPLES]),
                    count=int(dupes.sum()),
                    severity="info",
                )
            )
            keep = ~dupes
            lead_frame, lead_parsed = lead_frame[keep], _subset(lead_parsed, keep)
    typed, mapping, notes = _typed_leads(lead_frame, lead_parsed, mapping, leads.name)
    problems += notes
    id_col = mapping.column("id")
    assert id_col is not None
    outcome_frame, notes = _outcomes(
        typed, lead_frame, lead_parsed, mapping, keep_last, out_frame, out_parsed, outcomes
    )
    problems += notes
    if out_frame is not None and outcomes is not None:
        typed, mapping = _join_outcome_columns(typed, mapping, out_frame, out_parsed, keep_last)
    act_typed = None
    if act_frame is not None and act_parsed is not None and activities is not None:
        act_typed, typed, mapping, notes = _activities(
            typed, mapping, act_frame, act_parsed, activities.name
        )
        problems += notes
    if mapping.column("created") is None:
        problems.append(Problem("no_dates", leads.name, severity="info"))
    roles = [("leads", leads), ("outcomes", outcomes), ("activities", activities)]
    present = [(role, f) for role, f in roles if f is not None]
    sources = [f for _, f in present]
    hashes = [None if f.digest is not None else _row_hashes(f) for f in sources]
    # a file's SHA-256; a generated frame's is that of its rows' hashes
    digests = [
        f.digest or hashlib.sha256(h or b"").hexdigest()
        for f, h in zip(sources, hashes, strict=True)
    ]
    return Prepared(
        leads=typed.reset_index(drop=True),
        outcomes=outcome_frame.reset_index(drop=True),
        activities=act_typed,
        mapping=mapping,
        problems=tuple(_ordered(problems)),
        files=[_file_info(f, role, d) for (role, f), d in zip(present, digests, strict=True)],
        columns=[str(c) for c in typed.columns],
        fingerprint=fingerprint(sources, hashes),
    )


def _no_won_value(source: SourceFile, column: str) -> Problem:
    """No value of the outcome column is known to mean won: name the values it holds (the most
    frequent first) for the message that says how to place them.

    >>> frame = pd.DataFrame({"r": ["Lost", "Signed", "Lost", None, " "]})
    >>> p = _no_won_value(SourceFile("f.csv", frame, "csv"), "r")
    >>> p.values, p.count
    (('Lost', 'Signed'), 2)
    """
    values: pd.Series = pd.Series([], dtype=str)
    if column in source.frame.columns:
        text = source.frame[column].dropna().astype(str).str.strip()
        values = text[text != ""].value_counts(sort=True)
    shown = tuple(str(v) for v in values.index[:_SHOWN_VALUES])
    return Problem("no_won_value", source.name, column=column, values=shown, count=len(values))


#: How many of an outcome column's values a message names.
_SHOWN_VALUES = 8


def _outcome_fixes(problems: list[Problem], outcome: OutcomeSpec | None) -> list[Problem]:
    """Give an unknown-outcome-value problem the exact flag and mapping line that fix it.

    >>> p = Problem("unknown_outcome_value", "f.csv", column="stage", values=("Demo", "Q&A"))
    >>> fixed = _outcome_fixes([p], OutcomeSpec(column="stage", open=("Open",)))[0]
    >>> fixed.params["flags"], fixed.params["yaml"]
    ("--open Demo --open 'Q&A'", "['Open', 'Demo', 'Q&A']")
    """
    out = []
    for p in problems:
        if p.code == "unknown_outcome_value" and outcome is not None:
            values = list(p.values)
            flags = " ".join(f"--open {shlex.quote(v)}" for v in values)
            listed = ", ".join(_yaml_text(v) for v in (*outcome.open, *values))
            p = replace(p, params={**p.params, "flags": flags, "yaml": f"[{listed}]"})
        out.append(p)
    return out


def _yaml_text(value: str) -> str:
    """A value as a single-quoted YAML scalar (always readable back as the same text).

    >>> _yaml_text("it's"), _yaml_text("1")
    ("'it''s'", "'1'")
    """
    return "'" + value.replace("'", "''") + "'"


def _ordered(problems: Sequence[Problem]) -> list[Problem]:
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(problems, key=lambda p: rank[p.severity])


def _file_info(f: SourceFile, role: str, sha256: str) -> dict[str, Any]:
    return {
        "name": f.name,
        "role": role,
        "sha256": sha256,
        "format": f.kind,
        "encoding": f.encoding,
        "delimiter": f.delimiter,
        "rows": len(f.frame),
    } | ({"sheet": f.sheet} if f.sheet is not None else {})


def _complete(
    mapping: Mapping,
    leads: SourceFile,
    outcomes: SourceFile | None,
    activities: SourceFile | None,
) -> Mapping:
    """Add columns the mapping does not mention (kept as text, role ``ignore``)."""

    def fill(specs: tuple[ColumnSpec, ...], source: SourceFile | None) -> tuple[ColumnSpec, ...]:
        if source is None:
            return specs
        named = {s.name for s in specs}
        extra = tuple(ColumnSpec(c, "ignore") for c in source.columns if c not in named)
        return specs + extra

    return replace(
        mapping,
        leads=fill(mapping.leads, leads),
        outcomes=fill(mapping.outcomes, outcomes),
        activities=fill(mapping.activities, activities),
    )


def _structural_problems(
    mapping: Mapping,
    leads: SourceFile,
    outcomes: SourceFile | None,
    activities: SourceFile | None,
) -> list[Problem]:
    problems: list[Problem] = []
    for specs, source in (
        (mapping.leads, leads),
        (mapping.outcomes, outcomes),
        (mapping.activities, activities),
    ):
        if source is None:
            continue
        present = set(source.columns)
        for spec in specs:
            if spec.name not in present:
                problems.append(
                    Problem(
                        "column_missing",
                        source.name,
                        column=spec.name,
                        params={"available": ", ".join(source.columns[:12])},
                    )
                )
        for role in ("id", "created", "source", "outcome", "closed", "amount", "first_contact"):
            cols = [s.name for s in specs if s.role == role]
            if len(cols) > 1:
                problems.append(
                    Problem(
                        "role_twice",
                        source.name,
                        values=tuple(cols),
                        count=len(cols),
                        params={"role": role},
                    )
                )
    for source in (leads, outcomes):
        reserved = [
            c
            for c in (source.columns if source else [])
            if c.casefold().startswith(RESERVED_PREFIX)
        ]
        if reserved and source is not None:
            problems.append(
                Problem("reserved_column", source.name, values=tuple(reserved), count=len(reserved))
            )
    named = mapping.disposition.columns() if mapping.disposition is not None else ()
    for column in named:  # a mapping file's disposition: naming a column the file lacks
        if column not in leads.columns:
            problems.append(
                Problem(
                    "column_missing",
                    leads.name,
                    column=column,
                    params={"available": ", ".join(leads.columns[:12])},
                )
            )
    o = mapping.outcome
    if o is not None:
        if o.file == "outcomes" and outcomes is None:
            problems.append(Problem("outcomes_file_missing", leads.name))
        if (
            o.file == "outcomes"
            and outcomes is not None
            and mapping.column("id", "outcomes") is None
        ):
            problems.append(Problem("outcomes_without_id", outcomes.name))
        if o.column is not None and not o.won_only and not o.won:
            source = outcomes if o.file == "outcomes" and outcomes is not None else leads
            problems.append(_no_won_value(source, o.column))
        if outcomes is not None and mapping.column("id") is None:
            problems.append(Problem("leads_without_id", leads.name))
    if activities is not None:
        if mapping.column("id") is None:
            problems.append(Problem("leads_without_id", leads.name))
        for role in ("id", "created", "source"):
            if mapping.column(role, "activities") is None:  # type: ignore[arg-type]
                problems.append(
                    Problem("activity_role_missing", activities.name, params={"role": role})
                )
    return problems


def _clean(
    source: SourceFile,
    specs: Sequence[ColumnSpec],
    placeholders: Sequence[str],
    *,
    merge: bool = True,
) -> tuple[pd.DataFrame, Parsed, list[Problem]]:
    """Null placeholders, merge spellings of categories, parse dates and numbers.

    A text column of repeated values is cleaned once per distinct value
    (:func:`_clean_by_value`); others, and the rare cases that need every row (spellings to
    merge, a day/month order to refuse), cell by cell.
    """
    frame = source.frame.copy()
    notes: list[Problem] = []
    dates: dict[str, pd.Series] = {}
    numbers: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name not in frame.columns:
            continue
        by_value = _clean_by_value(source.name, spec, frame[spec.name], placeholders, merge)
        if by_value is not None:
            frame[spec.name], parsed, column_notes = by_value
            notes += column_notes
            if parsed is not None and spec.role in DATE_ROLES:
                dates[spec.name] = parsed
            elif parsed is not None and spec.role in NUMBER_ROLES:
                numbers[spec.name] = parsed
            continue
        cleaned, counts = null_placeholders(frame[spec.name], placeholders)
        if counts:
            notes.append(
                Problem(
                    "placeholders",
                    source.name,
                    column=spec.name,
                    values=tuple(list(counts)[:MAX_EXAMPLES]),
                    count=sum(counts.values()),
                    severity="info",
                )
            )
        if spec.role in ("attribute", "source") and merge:
            cleaned, merges = merge_spellings(cleaned)
            for m in merges:
                notes.append(
                    Problem(
                        "merged_spellings",
                        source.name,
                        column=spec.name,
                        values=m.merged[:MAX_EXAMPLES],
                        count=m.rows,
                        severity="info",
                        params={"kept": m.kept},
                    )
                )
        frame[spec.name] = cleaned
        if spec.role in DATE_ROLES:
            dates[spec.name] = parse_dates(cleaned, serials=True)
            notes += _date_notes(source.name, spec.name, cleaned, dates[spec.name])
        elif spec.role in NUMBER_ROLES:
            numbers[spec.name] = parse_numbers(cleaned)
    return frame, Parsed(dates, numbers), notes


def _clean_by_value(
    file: str,
    spec: ColumnSpec,
    column: pd.Series,
    placeholders: Sequence[str],
    merge: bool,
) -> tuple[pd.Series, pd.Series | None, list[Problem]] | None:
    """What :func:`_clean` does to one column, computed once per distinct value.

    Returns the cleaned column, its parsed dates or numbers (None for other roles) and the
    notes, exactly as the cell-by-cell path gives them; None when that path must run: not a
    text column, mostly distinct values (ids, free text), spellings to merge or a day/month
    order to report (both name rows). Export columns repeat a few hundred values a million
    times: each step (placeholders, trimming, parsing, the day/month order, serial numbers)
    then costs its distinct values instead of one pass over every row per step.
    """
    if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)):
        return None
    if len(column) < 10_000 or 2 * column.iloc[:10_000].nunique() > 10_000:
        return None
    text = column.astype("str")
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if 2 * len(uniques) > len(text):
        return None
    present = codes >= 0

    def per_row(values: pd.Series) -> pd.Series:
        """One value per distinct value, spread to the rows (code -1, missing: the last)."""
        missing = pd.Series([None], dtype=values.dtype)
        spread = pd.concat([values.reset_index(drop=True), missing], ignore_index=True)
        return pd.Series(spread.array.take(codes), index=column.index, name=column.name)

    distinct = pd.Series(uniques, dtype="str")
    cleaned = null_placeholders(distinct, placeholders)[0]
    notes: list[Problem] = []
    hit = np.zeros(len(codes), dtype=bool)
    hit[present] = cleaned.isna().to_numpy()[codes[present]]
    # a column is spread back to its rows only where its text changes (copying a million
    # strings costs more than judging them): placeholders masked, values trimmed
    rows = text
    if hit.any():  # counted as the cell-by-cell path counts them
        rows = text.mask(hit)
        counts = {str(k): int(v) for k, v in text[hit].str.strip().value_counts().items()}
        notes.append(
            Problem(
                "placeholders",
                file,
                column=spec.name,
                values=tuple(list(counts)[:MAX_EXAMPLES]),
                count=sum(counts.values()),
                severity="info",
            )
        )
    if spec.role in ("attribute", "source") and merge:
        stripped = cleaned.str.strip()
        spellings = stripped.dropna().unique()
        if len({normalise_token(str(v)) for v in spellings}) < len(spellings):
            return None  # spellings to merge: counted over the rows
        trimmed = bool((stripped != cleaned).fillna(False).any())
        return (per_row(stripped) if trimmed else rows), None, notes
    if spec.role in DATE_ROLES:
        written = cleaned.str.strip()
        if date_order(written) in ("ambiguous", "mixed"):
            return None  # refused, naming rows
        dates = parse_dates(cleaned, serials=True)
        serial = (parse_numbers(written).notna() & dates.notna()).to_numpy()
        serial_rows = np.zeros(len(codes), dtype=bool)
        serial_rows[present] = serial[codes[present]]
        if serial_rows.any():
            first = np.flatnonzero(serial_rows)[:MAX_EXAMPLES]
            notes.append(
                Problem(
                    "excel_serial_dates",
                    file,
                    column=spec.name,
                    values=tuple(str(written.iloc[codes[i]]) for i in first),
                    count=int(serial_rows.sum()),
                    severity="info",
                )
            )
        return rows, per_row(dates), notes
    if spec.role in NUMBER_ROLES:
        return rows, per_row(parse_numbers(cleaned)), notes
    return rows, None, notes


def _date_notes(file: str, column: str, text: pd.Series, dates: pd.Series) -> list[Problem]:
    """What reading a date column had to decide: a day/month order it cannot tell (refused,
    never guessed), Excel serial numbers read as dates (noted)."""
    if pd.api.types.is_datetime64_any_dtype(text.dtype):
        return []
    notes: list[Problem] = []
    written = per_distinct(text.astype("str"), lambda values: values.str.strip())
    order = date_order(written)
    if order in ("ambiguous", "mixed"):
        unclear = written.str.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}.*", na=False)
        rows = unclear[unclear].index
        notes.append(
            Problem(
                f"date_order_{order}",
                file,
                column=column,
                rows=tuple(int(i) + 2 for i in rows[:MAX_EXAMPLES]),
                values=tuple(written[rows[:MAX_EXAMPLES]]),
                count=len(rows),
            )
        )
    serial = parse_numbers(written).notna() & dates.notna()
    if serial.any():
        notes.append(
            Problem(
                "excel_serial_dates",
                file,
                column=column,
                values=tuple(written[serial].head(MAX_EXAMPLES)),
                count=int(serial.sum()),
                severity="info",
            )
        )
    return notes


def _subset(parsed: Parsed, keep: pd.Series) -> Parsed:
    return Parsed(
        {k: v[keep] for k, v in parsed.dates.items()},
        {k: v[keep] for k, v in parsed.numbers.items()},
    )


def _duplicate_outcome_ids(
    frame: pd.DataFrame, mapping: Mapping, file: str, keep_last: bool
) -> list[Problem]:
    id_col = mapping.column("id", "outcomes")
    if id_col is None or keep_last:
        return []
    dupes = frame[id_col].duplicated(keep=False) & frame[id_col].notna()
    if not dupes.any():
        return []
    rows = [int(i) + 2 for i in dupes[dupes].index]
    values = list(dict.fromkeys(frame.loc[dupes, id_col].astype("str")))
    return [
        Problem(
            "duplicate_id",
            file,
            column=id_col,
            rows=tuple(rows[:MAX_EXAMPLES]),
            values=tuple(values[:MAX_EXAMPLES]),
            count=len(rows),
        )
    ]


def _typed_leads(
    frame: pd.DataFrame, parsed: Parsed, mapping: Mapping, file: str
) -> tuple[pd.DataFrame, Mapping, list[Problem]]:
    out: dict[str, pd.Series] = {}
    notes: list[Problem] = []
    for spec in mapping.leads:
        col = spec.name
        if col in parsed.dates:
            out[col] = parsed.dates[col]
        elif col in parsed.numbers:
            values = parsed.numbers[col]
            if _whole_numbers(values):
                out[col] = values.astype("Int64")
            else:
                out[col] = values
        else:
            series = frame[col]
            if pd.api.types.is_datetime64_any_dtype(series.dtype) and spec.role != "id":
                out[col] = parse_dates(series)
            elif pd.api.types.is_numeric_dtype(series.dtype) and spec.role not in TEXT_ROLES:
                out[col] = series
            else:
                out[col] = _as_text(series)
    typed = pd.DataFrame(out, index=frame.index)
    if mapping.column("id") is None:
        name = _free_name("lead_id", typed.columns)
        width = max(6, len(str(len(typed))))
        surrogate = pd.Series(
            [f"R{i:0{width}d}" for i in range(1, len(typed) + 1)], index=typed.index, dtype="str"
        )
        typed.insert(0, name, surrogate)
        mapping = replace(mapping, leads=(ColumnSpec(name, "id"),) + mapping.leads)
        notes.append(Problem("surrogate_id", file, column=name, severity="info"))
    return typed, mapping, notes


def _whole_numbers(values: pd.Series) -> bool:
    """Tell whether a parsed number column holds whole numbers only (some, all exact in a
    float: below 2**53), so it is stored as integers; one pass, no copy of the column.

    >>> _whole_numbers(pd.Series([1.0, float("nan"), -3.0])), _whole_numbers(pd.Series([1.5]))
    (True, False)
    >>> _whole_numbers(pd.Series([float("nan")])), _whole_numbers(pd.Series([2.0**53]))
    (False, False)
    """
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    present = ~np.isnan(numbers)
    if not present.any():
        return False
    whole = bool(np.all((numbers == np.trunc(numbers)) | ~present))
    return whole and float(np.nanmax(np.abs(numbers))) < 2**53


def _as_text(series: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(series.dtype):
        return series.astype("str")
    text = series.astype("str")
    return text.where(series.notna(), None).astype("str")


def _free_name(base: str, existing: Any) -> str:
    taken = {str(c).casefold() for c in existing}
    name, i = base, 2
    while name.casefold() in taken:
        name, i = f"{base}_{i}", i + 1
    return name


def _outcomes(
    typed: pd.DataFrame,
    lead_frame: pd.DataFrame,
    lead_parsed: Parsed,
    mapping: Mapping,
    keep_last: bool,
    out_frame: pd.DataFrame | None,
    out_parsed: Parsed | None,
    outcomes: SourceFile | None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Derive one outcome row per lead: ``lead_id, outcome, closed_at, amount``."""
    id_col = mapping.column("id")
    assert id_col is not None
    ids = typed[id_col].astype("str")
    result = pd.DataFrame(
        {
            "lead_id": ids.to_numpy(),
            "outcome": "open",
            "closed_at": pd.Series(pd.NaT, index=typed.index, dtype="datetime64[us]").to_numpy(),
            "amount": float("nan"),
        }
    )
    notes: list[Problem] = []
    spec = mapping.outcome
    if spec is None:
        notes.append(Problem("no_outcome", outcomes.name if outcomes else "", severity="warning"))
        return result, notes
    if spec.file == "leads" and spec.column is not None:
        labels = spec.labels(lead_frame[spec.column])
        result["outcome"] = labels.fillna("open").to_numpy()
        closed = mapping.column("closed")
        amount = mapping.column("amount")
        if closed:
            result["closed_at"] = lead_parsed.dates[closed].to_numpy()
        if amount:
            result["amount"] = lead_parsed.numbers[amount].to_numpy()
    elif out_frame is not None and out_parsed is not None and outcomes is not None:
        out_id = mapping.column("id", "outcomes")
        assert out_id is not None
        o = pd.DataFrame({"lead_id": out_frame[out_id].astype("str")})
        if spec.won_only:
            o["outcome"] = "won"
        else:
            assert spec.column is not None
            o["outcome"] = spec.labels(out_frame[spec.column]).fillna("open")
        closed = mapping.column("closed", "outcomes")
        amount = mapping.column("amount", "outcomes")
        o["closed_at"] = out_parsed.dates[closed] if closed else pd.NaT
        o["amount"] = out_parsed.numbers[amount] if amount else float("nan")
        o = o.drop_duplicates("lead_id", keep="last").set_index("lead_id")
        joined = result.set_index("lead_id")
        # absent: not won yet — a back-test counts it as not won once it is mature
        joined["outcome"] = "open"
        present = joined.index.isin(o.index)
        joined.loc[present, ["outcome", "closed_at", "amount"]] = o.loc[
            joined.index[present], ["outcome", "closed_at", "amount"]
        ].to_numpy()
        result = joined.reset_index()
        result["closed_at"] = pd.to_datetime(result["closed_at"]).astype("datetime64[us]")
        result["amount"] = pd.to_numeric(result["amount"], errors="coerce").astype("float64")
        absent = int((~present).sum())
        if absent:
            notes.append(
                Problem(
                    "absent_not_won",
                    outcomes.name,
                    count=absent,
                    severity="info",
                    params={"won_only": spec.won_only},
                )
            )
        created = mapping.column("created")
        if created and closed:
            notes += _closed_before_created(result, typed[created], outcomes.name, closed)
        return result, notes
    created = mapping.column("created")
    closed = mapping.column("closed")
    if created and closed:
        notes += _closed_before_created(result, typed[created], "", closed)
    return result, notes


def _closed_before_created(
    result: pd.DataFrame, created: pd.Series, file: str, column: str
) -> list[Problem]:
    early = (result["closed_at"].to_numpy() < created.to_numpy()) & result[
        "closed_at"
    ].notna().to_numpy()
    if not early.any():
        return []
    ids = result.loc[early, "lead_id"].astype("str").tolist()
    return [
        Problem(
            "closed_before_created",
            file,
            column=column,
            values=tuple(ids[:MAX_EXAMPLES]),
            count=int(early.sum()),
            severity="warning",
        )
    ]


def _join_outcome_columns(
    typed: pd.DataFrame,
    mapping: Mapping,
    out_frame: pd.DataFrame,
    out_parsed: Parsed | None,
    keep_last: bool,
) -> tuple[pd.DataFrame, Mapping]:
    """Join the outcomes file's extra columns (deal details) onto the leads, flagged as leaks."""
    out_id = mapping.column("id", "outcomes")
    id_col = mapping.column("id")
    assert out_id is not None and id_col is not None
    extra = [s for s in mapping.outcomes if s.role in ("attribute", "number", "ignore")]
    if not extra:
        return typed, mapping
    cols: dict[str, pd.Series] = {}
    specs: list[ColumnSpec] = []
    for s in extra:
        name = _free_name(s.name, list(typed.columns) + list(cols))
        values = out_frame[s.name]
        if out_parsed is not None and s.name in out_parsed.numbers:
            values = out_parsed.numbers[s.name]
        elif not pd.api.types.is_numeric_dtype(values.dtype) or s.role != "number":
            values = _as_text(values)
        cols[name] = values
        specs.append(replace(s, name=name, leak=True, reason=s.reason or "leak.outcomes_file"))
    details = pd.DataFrame(cols)
    details["__id"] = out_frame[out_id].astype("str").to_numpy()
    details = details.drop_duplicates("__id", keep="last").set_index("__id")
    aligned = details.reindex(typed[id_col].astype("str").to_numpy())
    aligned.index = typed.index
    joined = pd.concat([typed, aligned], axis=1)
    return joined, replace(mapping, leads=mapping.leads + tuple(specs))


def _activities(
    typed: pd.DataFrame,
    mapping: Mapping,
    frame: pd.DataFrame,
    parsed: Parsed,
    file: str,
) -> tuple[pd.DataFrame, pd.DataFrame, Mapping, list[Problem]]:
    """Type the activity log and derive one behaviour count column per activity type."""
    id_col, ts_col, type_col = (
        mapping.column(r, "activities") for r in ("id", "created", "source")
    )
    assert id_col and ts_col and type_col
    log = pd.DataFrame(
        {
            "lead_id": frame[id_col].astype("str"),
            "occurred_at": parsed.dates[ts_col],
            "activity_type": frame[type_col].astype("str").str.strip(),
        }
    ).reset_index(drop=True)
    kinds = log["activity_type"].value_counts()
    if len(kinds) > MAX_ACTIVITY_TYPES:
        raise LoadError(
            [
                Problem(
                    "too_many_activity_types",
                    file,
                    column=type_col,
                    values=tuple(str(k) for k in kinds.index[:MAX_EXAMPLES]),
                    count=len(kinds),
                    params={"limit": MAX_ACTIVITY_TYPES},
                )
            ]
        )
    counts = log.groupby(["lead_id", "activity_type"]).size().unstack(fill_value=0)
    typed, mapping, notes = activity_columns(typed, mapping, counts, file, len(log))
    return log, typed, mapping, notes


def activity_columns(
    typed: pd.DataFrame, mapping: Mapping, counts: pd.DataFrame, file: str, activities: int
) -> tuple[pd.DataFrame, Mapping, list[Problem]]:
    """Add one ``activity_<type>`` count column per activity type to the typed leads.

    ``counts`` has one row per lead id (its index, as text) and one column per activity type,
    in sorted type order; ``activities`` is how many activities were counted. Shared by the
    file path and the engines that count a log where it lives (:mod:`funnel.sources`).
    """
    lead_id = mapping.column("id")
    assert lead_id is not None
    specs: list[ColumnSpec] = []
    for kind in counts.columns:
        name = _free_name(f"activity_{kind}", typed.columns)
        per_lead = typed[lead_id].astype("str").map(counts[kind]).fillna(0).astype("Int64")
        typed = typed.assign(**{name: per_lead.to_numpy()})
        specs.append(ColumnSpec(name, "behaviour"))
    notes = [
        Problem(
            "activities_counted",
            file,
            values=tuple(s.name for s in specs[:MAX_EXAMPLES]),
            count=activities,
            severity="info",
            params={"types": len(specs)},
        )
    ]
    return typed, replace(mapping, leads=mapping.leads + tuple(specs)), notes


# --- the whole load ---------------------------------------------------------------------------


def read_inputs(
    leads: str | Path,
    outcomes: str | Path | None = None,
    activities: str | Path | None = None,
    *,
    max_bytes: int | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    max_memory: int | None = None,
) -> tuple[SourceFile, SourceFile | None, SourceFile | None]:
    """Read the leads file and the optional outcomes/activities files, collecting problems.

    ``sheet`` names the leads workbook's sheet; each file's memory is bounded by ``max_memory``.
    """
    problems: list[Problem] = []
    out: list[SourceFile | None] = []
    wrong = _yaml_given_as_leads(leads)
    if wrong is not None:
        raise LoadError([wrong])
    for path in (leads, outcomes, activities):
        if path is None:
            out.append(None)
            continue
        try:
            out.append(
                read_file(
                    path,
                    max_bytes=max_bytes,
                    encoding=encoding,
                    sheet=sheet if path is leads else None,
                    max_memory=max_memory,
                )
            )
        except LoadError as exc:
            problems += exc.problems
            out.append(None)
    if problems:
        raise LoadError(problems)
    assert out[0] is not None
    return out[0], out[1], out[2]


def _yaml_given_as_leads(path: str | Path) -> Problem | None:
    """A rule set or mapping file named as the leads file (checked on its first bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None  # the reader names a missing or unreadable file
    return yaml_file_problem(head, Path(path).name)


def choose_mapping(
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    mapping_file: str | Path | None = None,
    overrides: Overrides | None = None,
    stored: Mapping | None = None,
) -> Mapping:
    """The mapping a load uses: the mapping file's, or proposed; then the hand-named overrides;
    then leak detection on the columns nobody decided about (a file's ``leak:``, ``--leak`` and
    ``--not-leak`` are left as said).

    Without a file, ``overrides.outcome`` and ``overrides.placeholders`` guide the proposal, and
    a refresh of a dataset mapped as ``stored`` keeps its decisions
    (:func:`funnel.refresh.carry_mapping`).
    """
    overrides = overrides or Overrides()
    if mapping_file is not None:
        mapping = read_mapping_file(mapping_file)
    else:
        if overrides.outcome is not None:
            require_column(leads.columns, overrides.outcome, leads.name)
        mapping = propose_mapping(
            leads,
            outcomes,
            activities,
            outcome_column=overrides.outcome,
            placeholders=DEFAULT_PLACEHOLDERS + overrides.placeholders,
            leaks=False,
        )
        overrides = replace(overrides, placeholders=())
        if stored is not None:
            from funnel.refresh import carry_mapping

            mapping = carry_mapping(stored, mapping)
    mapping = apply_overrides(mapping, overrides, leads.name)
    mapping = with_status_meanings(mapping, leads)
    return flag_leaks(mapping, leads, outcomes, kinds=_kinds(leads, mapping))


def _kinds(leads: SourceFile, mapping: Mapping) -> dict[str, str]:
    """Which unused columns hold dates (leak detection compares those too)."""
    sample = leads.frame.head(SAMPLE_ROWS)
    return {
        s.name: infer_kind(sample[s.name], mapping.placeholders)
        for s in mapping.leads
        if s.role == "ignore" and s.name in sample
    }


def load_files(
    store: Store,
    dataset: str,
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    mapping: Mapping | None = None,
    outcome_column: str | None = None,
    overrides: Overrides | None = None,
    keep_last: bool = False,
    refresh: bool = False,
    accept_changed_outcomes: bool = False,
    progress: Progress = _no_progress,
    by: Actor | None = None,
    count_log: Callable[[Prepared, Mapping], Prepared] | None = None,
) -> LoadResult:
    """Map (if no mapping is given), prepare and store files as ``dataset``: every load's one
    path, from files or from an engine (:func:`funnel.sources.load`).

    With ``refresh`` the stored ``dataset`` is updated by lead id instead of replaced
    (:meth:`funnel.store.Store.refresh`); without a mapping, its stored decisions are kept.
    ``overrides`` (or just ``outcome_column``) guide the proposal. ``by`` is who loads (see
    :meth:`Store.save`); a refusal comes before any file is read. ``count_log``, for an
    activity log counted where it lives, adds its per-lead counts to the prepared leads:
    ``activities`` is then only the log's sample, read to map it.
    """
    store.allow(by, "manage_datasets")
    stored = store.require(dataset).mapping if refresh else None
    if mapping is None:
        progress("map", 0.15)
        if outcome_column is not None:
            overrides = replace(overrides or Overrides(), outcome=outcome_column)
        mapping = choose_mapping(leads, outcomes, activities, overrides=overrides, stored=stored)
    if count_log is None:
        prepared = prepare(
            leads, mapping, outcomes, activities, keep_last=keep_last, progress=progress
        )
    else:
        if mapping.column("id") is None:  # as the file path: counts need the leads' ids
            raise LoadError([Problem("leads_without_id", leads.name)])
        # the leads first: a refusal there costs no pass over the log
        prepared = prepare(leads, mapping, outcomes, None, keep_last=keep_last, progress=progress)
        progress("validate", 0.7)
        prepared = count_log(prepared, mapping)
    return store_prepared(
        store,
        dataset,
        prepared,
        refresh=refresh,
        accept_changed_outcomes=accept_changed_outcomes,
        progress=progress,
        by=by,
    )


def store_prepared(
    store: Store,
    dataset: str,
    prepared: Prepared,
    *,
    refresh: bool = False,
    accept_changed_outcomes: bool = False,
    progress: Progress = _no_progress,
    by: Actor | None = None,
) -> LoadResult:
    """Store a prepared dataset in one transaction: replace it, or refresh it by lead id (the
    last step of every load, from files or from an engine)."""
    progress("store", 0.8)
    if refresh:
        info, plan = store.refresh(
            dataset, prepared, accept_changed_outcomes=accept_changed_outcomes, by=by
        )
        progress("done", 1.0)
        return LoadResult(info, prepared.problems, plan)
    info = store.save(dataset, prepared, by=by)
    progress("done", 1.0)
    return LoadResult(info, prepared.problems)


def prepare_refresh(
    store: Store,
    dataset: str,
    leads: SourceFile,
    outcomes: SourceFile | None = None,
    activities: SourceFile | None = None,
    *,
    mapping: Mapping,
    keep_last: bool = False,
    progress: Progress = _no_progress,
) -> tuple[Prepared, RefreshPlan]:
    """Prepare files to refresh ``dataset`` and count what the refresh would do, storing
    nothing: the counts a person confirms before :meth:`funnel.store.Store.refresh`."""
    prepared = prepare(leads, mapping, outcomes, activities, keep_last=keep_last, progress=progress)
    progress("store", 0.9)
    plan = store.preview_refresh(dataset, prepared)
    progress("done", 1.0)
    return prepared, plan


def load_demo(
    store: Store,
    dataset: str = "demo",
    *,
    leads: int = 50_000,
    seed: int = 7,
    lang: str = "en",
    progress: Progress = _no_progress,
    by: Actor | None = None,
) -> LoadResult:
    """Generate the demo leads and store them through the same mapping and validation."""
    from funnel.demo import generate_leads

    store.allow(by, "manage_datasets")

    progress("generate", 0.05)
    frame = generate_leads(leads, seed=seed, lang=lang)
    source = SourceFile(f"demo (seed {seed})", frame, "parquet")
    return load_files(store, dataset, source, progress=progress, by=by)
