"""Validate input frames with pandera and explain every failure in plain words.

The schema is built from the confirmed mapping: ids present and unique, dates that parse and are
neither in the future nor before 1900, counts that are numbers and not negative, outcome values
that mean won, lost or open, outcome rows that belong to a known lead. Validation is lazy, so one
pass finds every problem; :func:`problems_from_failures` groups pandera's failure cases per
column and check.

pandera is imported when a schema is first built, not with this module: importing it takes
seconds, and most ``funnel`` commands (and pages) never validate a file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pandera.pandas as pa

from funnel.mapping import ColumnSpec, OutcomeSpec
from funnel.problems import MAX_EXAMPLES, Problem

DATE_ROLES = ("created", "stage", "closed", "first_contact")
NUMBER_ROLES = ("number", "behaviour", "amount")
#: Slack before a date counts as "in the future" (time zones, clocks).
FUTURE_SLACK = pd.Timedelta(days=1)
#: Earliest plausible date: anything before is a typing error or a placeholder (0000-01-01).
EARLIEST_DATE = pd.Timestamp("1900-01-01")

# pandera check name -> problem code
_CODES = {
    "not_nullable": "missing_id",
    "field_uniqueness": "duplicate_id",
    "is_date": "bad_date",
    "not_future": "future_date",
    "not_ancient": "ancient_date",
    "is_number": "not_a_number",
    "not_negative": "negative_count",
    "known_outcome": "unknown_outcome_value",
    "known_lead": "unknown_lead",
    "has_type": "missing_activity_type",
}


@dataclass(frozen=True)
class Parsed:
    """Typed values of a frame's date and number columns, parsed once."""

    dates: dict[str, pd.Series]
    numbers: dict[str, pd.Series]


def build_schema(
    specs: Collection[ColumnSpec],
    parsed: Parsed,
    *,
    now: pd.Timestamp,
    unique_ids: bool = True,
    outcome: OutcomeSpec | None = None,
    known_ids: Collection[str] | None = None,
    activity_type: str | None = None,
) -> pa.DataFrameSchema:
    """Build the pandera schema for one file from its column specs."""
    import pandera.pandas as pa

    columns: dict[str, pa.Column] = {}
    limit = now + FUTURE_SLACK
    for spec in specs:
        checks: list[pa.Check] = []
        nullable = True
        unique = False
        if spec.role == "id":
            nullable = False
            if known_ids is not None:
                ids = pd.Index(list(known_ids))
                checks.append(
                    pa.Check(lambda s, ids=ids: s.astype("str").isin(ids), name="known_lead")
                )
            else:
                unique = unique_ids
        elif spec.role in DATE_ROLES and spec.name in parsed.dates:
            checks += _date_checks(parsed.dates[spec.name], limit)
        elif spec.role in NUMBER_ROLES and spec.name in parsed.numbers:
            checks += _number_checks(parsed.numbers[spec.name], spec.role == "behaviour")
        elif spec.role == "outcome" and outcome is not None:
            checks.append(pa.Check(_classifies(outcome), name="known_outcome"))
        elif spec.role == "source" and spec.name == activity_type:
            nullable = False
        columns[spec.name] = pa.Column(
            nullable=nullable, unique=unique, checks=checks, required=True, coerce=False
        )
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _date_checks(values: pd.Series, limit: pd.Timestamp) -> list[pa.Check]:
    import pandera.pandas as pa

    return [
        pa.Check(lambda s: values.reindex(s.index).notna(), name="is_date"),
        pa.Check(lambda s: ~(values.reindex(s.index) > limit), name="not_future"),
        pa.Check(lambda s: ~(values.reindex(s.index) < EARLIEST_DATE), name="not_ancient"),
    ]


def _number_checks(values: pd.Series, non_negative: bool) -> list[pa.Check]:
    import pandera.pandas as pa

    checks = [pa.Check(lambda s: values.reindex(s.index).notna(), name="is_number")]
    if non_negative:
        checks.append(pa.Check(lambda s: ~(values.reindex(s.index) < 0), name="not_negative"))
    return checks


def _classifies(outcome: OutcomeSpec) -> Callable[[pd.Series], pd.Series]:
    def check(s: pd.Series) -> pd.Series:
        uniques = pd.Series(s.astype("str").unique())
        known = set(uniques[uniques.map(lambda v: outcome.classify(v) is not None)])
        return s.astype("str").isin(known)

    return check


def validate_frame(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str) -> list[Problem]:
    """Run the schema lazily and return every problem found (empty when the frame is valid)."""
    from pandera.errors import SchemaErrors

    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        return problems_from_failures(exc.failure_cases, file)
    return []


def problems_from_failures(failures: pd.DataFrame, file: str) -> list[Problem]:
    """Group pandera failure cases into one problem per column and check."""
    problems: list[Problem] = []
    failures = failures[failures["column"].notna()]
    for (column, check), group in failures.groupby(["column", "check"], sort=False):
        code = _CODES.get(str(check), "invalid_value")
        index = pd.to_numeric(group["index"], errors="coerce").dropna().astype(int)
        rows = sorted({int(i) + 2 for i in index})
        values: list[str] = []
        for v in group["failure_case"].tolist():
            text = "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
            if text not in values:
                values.append(text)
        count = len(rows) if rows else len(group)
        problems.append(
            Problem(
                code,
                file,
                column=str(column),
                rows=tuple(rows[:MAX_EXAMPLES]),
                values=tuple(values[:MAX_EXAMPLES]),
                count=count,
            )
        )
    return problems
