"""How numbers and metrics read in every output: the app's tables, the CLI and the report.

:data:`METRICS` is the one list of headline metrics a rule set is compared on (version diffs,
the meeting report), each with its label and how it is printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from funnel.scoring import Evaluation

Kind = Literal["pct", "count", "ratio", "auc", "number"]


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage; missing values as a dash.

    >>> fmt_pct(0.12345), fmt_pct(None), fmt_pct(1.0, 0)
    ('12.3%', '—', '100%')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_count(value: float | None) -> str:
    """A count with thousands separators (fractional counts, as in deciles, rounded).

    >>> fmt_count(12345), fmt_count(99.6), fmt_count(None)
    ('12,345', '100', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{round(value):,}"


def fmt_number(value: float | None, digits: int = 2) -> str:
    """A plain number without useless trailing zeros.

    >>> fmt_number(2.5), fmt_number(60.0), fmt_number(0.81234, 3), fmt_number(None)
    ('2.5', '60', '0.812', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "—"
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_when(value: date | datetime | None) -> str:
    """A date, or a date and time to the minute (with its zone when it has one).

    >>> fmt_when(datetime(2026, 3, 1, 9, 30)), fmt_when(date(2026, 4, 1)), fmt_when(None)
    ('2026-03-01 09:30', '2026-04-01', '—')
    >>> from datetime import UTC
    >>> fmt_when(datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    '2026-03-01 09:30 UTC'
    """
    if value is None:
        return "—"
    if isinstance(value, datetime):
        zone = value.tzname()
        return f"{value:%Y-%m-%d %H:%M}" + (f" {zone}" if zone else "")
    return f"{value:%Y-%m-%d}"


def fmt_metric(value: float | None, kind: Kind) -> str:
    """One metric as the report prints it.

    >>> fmt_metric(0.25, "pct"), fmt_metric(2.456, "ratio"), fmt_metric(0.81234, "auc")
    ('25.0%', '2.46×', '0.812')
    """
    if kind == "pct":
        return fmt_pct(value)
    if kind == "count":
        return fmt_count(value)
    if kind == "auc":
        return "—" if value is None else f"{value:.3f}"
    if kind == "number":
        return fmt_number(value, 1)
    return "—" if value is None else f"{value:,.2f}×"


#: (key, i18n label key, value from an evaluation, kind) for each headline metric.
METRICS: tuple[tuple[str, str, Callable[[Evaluation], float | None], Kind], ...] = (
    ("hot", "report.m.hot", lambda e: float(e.hot_n), "count"),
    ("precision", "report.m.precision", lambda e: e.precision, "pct"),
    ("recall", "report.m.recall", lambda e: e.recall, "pct"),
    ("lift", "report.m.lift", lambda e: e.lift, "ratio"),
    ("auc", "report.m.auc", lambda e: e.auc, "auc"),
    ("missed_won", "report.m.missed", lambda e: float(e.missed_won), "count"),
    ("hot_per_week", "report.m.hot_per_week", lambda e: e.hot_per_week, "number"),
)
