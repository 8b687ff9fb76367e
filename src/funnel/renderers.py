"""What each rule kind becomes, in one table per surface keyed by kind.

The spec (:mod:`funnel.rules`) says what a rule is. The tables here say how each kind is

* computed in DuckDB, its values bound (:data:`BOUND`);
* written for a warehouse, in every dialect of :data:`funnel.dialects.DIALECTS`
  (:data:`WAREHOUSE`, values as escaped literals);
* recognised across two versions of a rule set, so a diff says "changed" rather than
  "removed and added" (:data:`IDENTITY`);
* scored from a per-lead unit in numpy, for the tuner's lead patterns (:data:`UNITS`);
* entered in the tuner's "add a rule" form (:data:`EDITORS`: which columns it is offered for
  and the inputs it needs; the page draws them);
* named in a lead's reasons and on the tuner's sliders (:data:`LABELS`).

A new kind is its spec class in :mod:`funnel.rules`, one entry per table here, and its
messages. :func:`gaps` names every kind lacking an entry (a test keeps it empty).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np

from funnel.dialects import DIALECTS, Dialect, number_literal, parse_number, text_key
from funnel.fragment import Fragment, bind, bind_all, compose, join
from funnel.i18n import t
from funnel.rules import (
    COMPARISONS,
    KINDS,
    CategoryRule,
    CompareRule,
    CountRule,
    PerUnitRule,
    RangeRule,
    Rule,
    RuleSetError,
    SetRule,
    Where,
    num_text,
)
from funnel.store import quote_ident

F = TypeVar("F")


class Table(Generic[F]):
    """One surface's renderers, keyed by kind (``BOUND[rule.kind]``)."""

    def __init__(self, surface: str) -> None:
        self.surface = surface
        self._entries: dict[str, F] = {}

    def register(self, kind: type[Rule]) -> Callable[[F], F]:
        """Register the renderer of ``kind`` (a decorator)."""

        def add(entry: F) -> F:
            self._entries[kind.kind] = entry
            return entry

        return add

    def add(self, kind: type[Rule], entry: F) -> None:
        self._entries[kind.kind] = entry

    def __getitem__(self, kind: str) -> F:
        return self._entries[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)


# --- bound DuckDB SQL -----------------------------------------------------------------------

#: A rule's points as a DuckDB expression, its values bound; ``expr`` reads the column from
#: elsewhere (an engagement rule's decayed count) instead of the column itself.
BoundRenderer = Callable[[Any, str | None], Fragment]
BOUND: Table[BoundRenderer] = Table("bound")


def bound_sql(rule: Rule, expr: str | None = None) -> Fragment:
    """A rule's points as DuckDB SQL with its values bound.

    >>> f = bound_sql(CategoryRule("industry", "SaaS", 15))
    >>> f.sql, f.params
    ('CASE WHEN CAST("industry" AS VARCHAR) = ? THEN 15 ELSE 0 END', ('SaaS',))
    """
    return BOUND[rule.kind](rule, expr)


@BOUND.register(CategoryRule)
def _category_bound(rule: CategoryRule, expr: str | None) -> Fragment:
    col = expr or quote_ident(rule.column)
    return compose(
        "CASE WHEN CAST({col} AS VARCHAR) = {value} THEN {points} ELSE 0 END",
        col=col,
        value=bind(rule.value),
        points=str(rule.points),
    )


@BOUND.register(RangeRule)
def _range_bound(rule: RangeRule, expr: str | None) -> Fragment:
    col = expr or quote_ident(rule.column)
    parts = []
    if rule.low is not None:
        parts.append(compose("{col} >= {low}", col=col, low=bind(rule.low)))
    if rule.high is not None:
        parts.append(compose("{col} < {high}", col=col, high=bind(rule.high)))
    cond = join(" AND ", parts, empty=f"{col} IS NOT NULL")
    return compose("CASE WHEN {cond} THEN {points} ELSE 0 END", cond=cond, points=str(rule.points))


@BOUND.register(SetRule)
def _set_bound(rule: SetRule, expr: str | None) -> Fragment:
    return compose(
        "CASE WHEN CAST({col} AS VARCHAR) IN ({values}) THEN {points} ELSE 0 END",
        col=expr or quote_ident(rule.column),
        values=bind_all(rule.one_of),
        points=str(rule.points),
    )


#: A comparison's SQL operator (the keys of :data:`funnel.rules.COMPARISONS`, never user text).
_SQL_OPS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


@BOUND.register(CompareRule)
def _compare_bound(rule: CompareRule, expr: str | None) -> Fragment:
    return compose(
        "CASE WHEN {col} " + _SQL_OPS[rule.op] + " {value} THEN {points} ELSE 0 END",
        col=expr or quote_ident(rule.column),
        value=bind(rule.value),
        points=str(rule.points),
    )


@BOUND.register(PerUnitRule)
def _per_unit_bound(rule: PerUnitRule, expr: str | None) -> Fragment:
    raw = f"coalesce({expr or quote_ident(rule.column)}, 0) * {rule.points}"
    if rule.cap is None:
        return Fragment(raw)
    bound = abs(rule.cap)
    return Fragment(f"least({raw}, {bound})" if rule.points >= 0 else f"greatest({raw}, {-bound})")


@BOUND.register(CountRule)
def _count_bound(rule: CountRule, expr: str | None) -> Fragment:
    return compose(
        "CASE WHEN {col} >= {at_least} THEN {points} ELSE 0 END",
        col=expr or quote_ident(rule.column),
        at_least=bind(rule.at_least),
        points=str(rule.points),
    )


# --- warehouse SQL --------------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """How the exported query names the column a rule reads."""

    number: str  # the column parsed as a number (a count, possibly decayed)
    key: str  # the column's cleaned, lower-cased text
    numeric: bool  # a number column: every rule on it compares numbers


#: A rule's points as warehouse SQL (values as literals of the dialect), and a note for the
#: comment beside it ("" for none).
WarehouseRenderer = Callable[[Any, Operand, Dialect], tuple[str, str]]
#: One table per dialect.
WAREHOUSE: dict[str, Table[WarehouseRenderer]] = {d: Table(f"warehouse:{d}") for d in DIALECTS}


def warehouse(
    kind: type[Rule], dialects: tuple[str, ...] = DIALECTS
) -> Callable[[WarehouseRenderer], WarehouseRenderer]:
    """Register a kind's warehouse renderer for ``dialects`` (by default every one)."""

    def add(entry: WarehouseRenderer) -> WarehouseRenderer:
        for d in dialects:
            WAREHOUSE[d].add(kind, entry)
        return entry

    return add


def warehouse_sql(rule: Rule, operand: Operand, d: Dialect) -> tuple[str, str]:
    """A rule's points as warehouse SQL in dialect ``d``, and a note for its comment."""
    return WAREHOUSE[d.name][rule.kind](rule, operand, d)


@warehouse(CategoryRule)
def _category_warehouse(rule: CategoryRule, col: Operand, d: Dialect) -> tuple[str, str]:
    if col.numeric:
        value = parse_number(rule.value)
        if value is None:
            return "0", " (never: not a number)"
        return f"CASE WHEN {col.number} = {number_literal(value)} THEN {rule.points} ELSE 0 END", ""
    return f"CASE WHEN {col.key} = {text_key(rule.value, d)} THEN {rule.points} ELSE 0 END", ""


@warehouse(RangeRule)
def _range_warehouse(rule: RangeRule, col: Operand, d: Dialect) -> tuple[str, str]:
    parts = []
    if rule.low is not None:
        parts.append(f"{col.number} >= {number_literal(rule.low)}")
    if rule.high is not None:
        parts.append(f"{col.number} < {number_literal(rule.high)}")
    cond = " AND ".join(parts) if parts else f"{col.number} IS NOT NULL"
    return f"CASE WHEN {cond} THEN {rule.points} ELSE 0 END", ""


@warehouse(SetRule)
def _set_warehouse(rule: SetRule, col: Operand, d: Dialect) -> tuple[str, str]:
    if col.numeric:
        numbers = [n for n in (parse_number(v) for v in rule.one_of) if n is not None]
        if not numbers:
            return "0", " (never: not a number)"
        listed = ", ".join(number_literal(n) for n in dict.fromkeys(numbers))
        return f"CASE WHEN {col.number} IN ({listed}) THEN {rule.points} ELSE 0 END", ""
    listed = ", ".join(dict.fromkeys(text_key(v, d) for v in rule.one_of))
    return f"CASE WHEN {col.key} IN ({listed}) THEN {rule.points} ELSE 0 END", ""


@warehouse(CompareRule)
def _compare_warehouse(rule: CompareRule, col: Operand, d: Dialect) -> tuple[str, str]:
    op, value = _SQL_OPS[rule.op], number_literal(rule.value)
    return f"CASE WHEN {col.number} {op} {value} THEN {rule.points} ELSE 0 END", ""


@warehouse(PerUnitRule)
def _per_unit_warehouse(rule: PerUnitRule, col: Operand, d: Dialect) -> tuple[str, str]:
    raw = f"COALESCE({col.number}, 0) * {rule.points}"
    if rule.cap is None:
        return raw, ""
    bound = abs(rule.cap)
    if rule.points >= 0:
        return f"LEAST({raw}, {bound})", ""
    return f"GREATEST({raw}, {-bound})", ""


@warehouse(CountRule)
def _count_warehouse(rule: CountRule, col: Operand, d: Dialect) -> tuple[str, str]:
    at_least = number_literal(rule.at_least)
    return f"CASE WHEN {col.number} >= {at_least} THEN {rule.points} ELSE 0 END", ""


# --- identity in a diff ---------------------------------------------------------------------

#: What makes two rules "the same rule" across versions (so a points change reads as a change).
IDENTITY: Table[Callable[[Any], tuple[Any, ...]]] = Table("identity")


def identity(rule: Rule) -> tuple[Any, ...]:
    """The key a diff matches a rule by: its kind, column and what it tests, not its points.

    >>> identity(CountRule("visits", 3, 5)) == identity(CountRule("visits", 3, 8))
    True
    """
    return (rule.kind, *IDENTITY[rule.kind](rule))


IDENTITY.add(CategoryRule, lambda r: (r.column, r.value))
IDENTITY.add(RangeRule, lambda r: (r.column, r.low, r.high))
IDENTITY.add(SetRule, lambda r: (r.column, tuple(sorted(r.one_of))))
IDENTITY.add(CompareRule, lambda r: (r.column, r.op, r.value))
IDENTITY.add(PerUnitRule, lambda r: (r.column,))
IDENTITY.add(CountRule, lambda r: (r.column, r.at_least))


# --- per-lead units, for the tuner's lead patterns (funnel.scoring.patterns) -----------------


@dataclass(frozen=True)
class Units:
    """A rule's points as a function of one number per lead, its *unit*: the unit's DuckDB
    SQL, and the points of an array of units, exactly as :data:`BOUND`'s SQL computes them."""

    sql: Callable[[Any], Fragment]
    points: Callable[[Any, np.ndarray], np.ndarray]


#: Kinds that fire or not: the unit is 1 or 0, the points ``points × unit``.
_FIRES = Units(
    sql=lambda r: compose("({u})::TINYINT", u=bound_sql(r.with_points(1))),
    points=lambda r, units: units * float(r.points),
)


def _per_unit_points(rule: PerUnitRule, units: np.ndarray) -> np.ndarray:
    raw: np.ndarray = units * float(rule.points)
    if rule.cap is None:
        return raw
    bound = float(abs(rule.cap))
    capped: np.ndarray = np.minimum(raw, bound) if rule.points >= 0 else np.maximum(raw, -bound)
    return capped


UNITS: Table[Units] = Table("units")
for _kind in (CategoryRule, RangeRule, SetRule, CompareRule, CountRule):
    UNITS.add(_kind, _FIRES)
UNITS.add(
    PerUnitRule,
    Units(
        sql=lambda r: compose("(coalesce({c}, 0))::DOUBLE", c=quote_ident(r.column)),
        points=_per_unit_points,
    ),
)


# --- the tuner's "add a rule" form ----------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One input of the form: the rule field it fills and how it is entered."""

    field: str  # the rule's field (``value``, ``points``, ``cap`` ...)
    label: str  # the message key of its label
    #: ``value``: one of the column's values; ``values``: several of them; ``choice``: one of
    #: ``options``; ``whole``: a whole number; ``number``: any number
    widget: Literal["value", "values", "choice", "whole", "number"]
    key: str  # the widget's key (the page adds the proposal's prefix)
    default: float = 0
    low: int | None = None  # bounds of a whole number
    high: int | None = None
    options: tuple[str, ...] = ()  # a choice's options (the first is preselected)


@dataclass(frozen=True)
class Editor:
    """How a kind is entered: for which columns, with which inputs."""

    #: ``category`` for text columns, ``number`` for numeric ones (see
    #: :func:`funnel.segments.numeric_columns`).
    columns: Literal["category", "number"]
    inputs: tuple[Input, ...]
    #: Its place among the kinds offered for the same columns (the first is preselected).
    position: int


EDITORS: Table[Editor] = Table("editor")


def _points_input(default: int) -> Input:
    return Input("points", "tuner.points", "whole", "add_pts", default, -50, 50)


EDITORS.add(
    CategoryRule,
    Editor("category", (Input("value", "tuner.value", "value", "add_val"), _points_input(10)), 0),
)
EDITORS.add(
    SetRule,
    Editor(
        "category", (Input("one_of", "tuner.values", "values", "add_vals"), _points_input(10)), 1
    ),
)
EDITORS.add(
    CompareRule,
    Editor(
        "number",
        (
            _points_input(5),
            Input("op", "tuner.op", "choice", "add_op", options=tuple(COMPARISONS)),
            Input("value", "tuner.compare_value", "number", "add_cmp", 0),
        ),
        3,
    ),
)
EDITORS.add(
    PerUnitRule,
    Editor(
        "number", (_points_input(5), Input("cap", "tuner.cap", "whole", "add_cap", 10, 1, 500)), 0
    ),
)
EDITORS.add(
    CountRule,
    Editor(
        "number", (_points_input(5), Input("at_least", "tuner.at_least", "number", "add_at", 1)), 1
    ),
)
EDITORS.add(
    RangeRule,
    Editor(
        "number",
        (
            _points_input(5),
            Input("low", "tuner.low", "number", "add_lo", 0),
            Input("high", "tuner.high", "number", "add_hi", 100),
        ),
        2,
    ),
)


def editor_kinds(columns: Literal["category", "number"]) -> list[str]:
    """The kinds the form offers for a text (``category``) or numeric column, in order.

    >>> editor_kinds("number")
    ['per_unit', 'count', 'range', 'compare']
    """
    offered = [k for k in KINDS if k in EDITORS and EDITORS[k].columns == columns]
    return sorted(offered, key=lambda k: EDITORS[k].position)


def rule_from_form(kind: str, column: str, values: Mapping[str, Any]) -> Rule | None:
    """The rule the form's inputs describe; None while they are incomplete or contradict
    (a range whose low end is not below its high end).

    >>> rule_from_form("range", "employees", {"points": 5, "low": 10.0, "high": 50.0})
    RangeRule(column='employees', low=10.0, high=50.0, points=5)
    >>> rule_from_form("category", "industry", {"points": 5, "value": None}) is None
    True
    """
    try:
        return KINDS[kind].read(column, int(values["points"]), values, Where())
    except RuleSetError:
        return None


# --- reasons and labels ---------------------------------------------------------------------

#: A rule's short name: a lead's reasons (``industry = SaaS (+15)``) and the tuner's sliders.
LABELS: Table[Callable[[Any, str], str]] = Table("label")


def label(rule: Rule, lang: str = "en") -> str:
    """A short name for the rule (slider labels, reasons).

    >>> label(RangeRule("employees", 10, None, 5)), label(CountRule("visits", 3, 5))
    ('10 ≤ employees', 'visits ≥ 3')
    """
    return LABELS[rule.kind](rule, lang)


@LABELS.register(CategoryRule)
def _category_label(rule: CategoryRule, lang: str) -> str:
    return f"{rule.column} = {rule.value}"


@LABELS.register(RangeRule)
def _range_label(rule: RangeRule, lang: str) -> str:
    low = "" if rule.low is None else f"{num_text(rule.low)} ≤ "
    high = "" if rule.high is None else f" < {num_text(rule.high)}"
    return f"{low}{rule.column}{high}"


#: Values a set rule's short name lists before "and N more".
LABEL_VALUES = 4


@LABELS.register(SetRule)
def _set_label(rule: SetRule, lang: str) -> str:
    shown = ", ".join(rule.one_of[:LABEL_VALUES])
    more = len(rule.one_of) - LABEL_VALUES
    if more > 0:
        shown = t("rule.in_more", lang, shown=shown, more=more)
    return t("rule.in_label", lang, column=rule.column, values=shown)


@LABELS.register(CompareRule)
def _compare_label(rule: CompareRule, lang: str) -> str:
    return f"{rule.column} {rule.symbol} {num_text(rule.value)}"


@LABELS.register(PerUnitRule)
def _per_unit_label(rule: PerUnitRule, lang: str) -> str:
    return t("rule.per_unit_label", lang, column=rule.column)


@LABELS.register(CountRule)
def _count_label(rule: CountRule, lang: str) -> str:
    return f"{rule.column} ≥ {num_text(rule.at_least)}"


# --- completeness ---------------------------------------------------------------------------

#: Every table a kind needs an entry in.
TABLES: tuple[Table[Any], ...] = (
    BOUND,
    *WAREHOUSE.values(),
    IDENTITY,
    UNITS,
    EDITORS,
    LABELS,
)


def gaps() -> list[tuple[str, str]]:
    """Every (kind, surface) with no renderer: empty when each kind is complete.

    >>> gaps()
    []
    """
    return [(kind, table.surface) for kind in KINDS for table in TABLES if kind not in table]
