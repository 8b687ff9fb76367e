"""How numbers and metrics read in every output: the app's tables, the CLI and the report.

:data:`METRICS` is the one registry of the metrics a rule set is judged by: the tuner, the
CLI, the Rule sets page, version diffs and the meeting report loop over it, each showing the
metrics marked for it with the one label and format the registry gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from funnel.i18n import t
from funnel.scoring.histogram import Evaluation

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


#: Where a metric is shown: the tuner's headline, the CLI's ``evaluate`` and ``rules show``,
#: the Rule sets page's history, and version diffs (CLI, page and meeting report).
Surface = Literal["tuner", "evaluate", "show", "history", "diff", "report"]
EVERYWHERE: frozenset[Surface] = frozenset(get_args(Surface))


@dataclass(frozen=True)
class Metric:
    """One metric a rule set is judged by: how to read it, print it and compare it.

    ``key`` names it in JSON and in a saved version's record; its label is the message
    ``metric.<key>``. ``better`` says which way is better (``"higher"``, ``"lower"``, or
    ``None`` for a volume that is neither); ``shown`` lists the surfaces that show it.

    >>> m = metric("precision")
    >>> m.label("en"), m.text(0.25), m.better
    ('Hot conversion (precision)', '25.0%', 'higher')
    """

    key: str
    value: Callable[[Evaluation], float | None]
    kind: Kind
    better: Literal["higher", "lower"] | None
    shown: frozenset[Surface]

    def label(self, lang: str = "en") -> str:
        return t(f"metric.{self.key}", lang)

    def text(self, value: float | None) -> str:
        """The value as every output prints it."""
        return fmt_metric(value, self.kind)

    def improved(self, before: float | None, after: float | None) -> bool | None:
        """Whether ``after`` is better than ``before`` (None: no direction, or no change).

        >>> metric("auc").improved(0.70, 0.72), metric("missed_won").improved(10, 12)
        (True, False)
        """
        if self.better is None or before is None or after is None or before == after:
            return None
        return (after > before) == (self.better == "higher")


#: The one registry of metrics, in the order every output lists them.
METRICS: tuple[Metric, ...] = (
    Metric("leads", lambda e: float(e.n), "count", None, frozenset({"report"})),
    Metric("won", lambda e: float(e.won), "count", None, frozenset({"report"})),
    Metric("base_rate", lambda e: e.base_rate, "pct", None, frozenset({"report"})),
    Metric("hot", lambda e: float(e.hot_n), "count", None, EVERYWHERE - {"evaluate"}),
    Metric("precision", lambda e: e.precision, "pct", "higher", EVERYWHERE - {"history"}),
    Metric("recall", lambda e: e.recall, "pct", "higher", EVERYWHERE - {"history"}),
    Metric("lift", lambda e: e.lift, "ratio", "higher", EVERYWHERE - {"show", "history"}),
    Metric("auc", lambda e: e.auc, "auc", "higher", EVERYWHERE),
    Metric(
        "missed_won",
        lambda e: float(e.missed_won),
        "count",
        "lower",
        EVERYWHERE - {"show", "history"},
    ),
    Metric("hot_per_week", lambda e: e.hot_per_week, "number", None, frozenset({"diff", "report"})),
)


def metric(key: str) -> Metric:
    """The registered metric ``key``."""
    return next(m for m in METRICS if m.key == key)


def shown_in(surface: Surface) -> tuple[Metric, ...]:
    """The metrics ``surface`` shows, in registry order.

    >>> [m.key for m in shown_in("show")]
    ['hot', 'precision', 'recall', 'auc']
    """
    return tuple(m for m in METRICS if surface in m.shown)
