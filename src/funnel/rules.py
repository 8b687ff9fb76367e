"""Scoring rule sets: fit and engagement points, caps, knock-out gates and tiers.

This is the spec: what a rule set says, in plain data. Every rule kind is a small frozen
dataclass registered in :data:`KINDS` — its fields, its sentence, its file form and the
checks on its fields; how each kind becomes SQL, warehouse SQL, a diff key, a form and a
reason is in :mod:`funnel.renderers`, keyed by kind. A :class:`RuleSet` serialises to
YAML/JSON with a schema version and reads back exactly. Nothing here runs or writes SQL.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, Self, TypeVar

from funnel.i18n import CodedError, t
from funnel.yamlfiles import YamlError, dump_yaml, load_yaml

SCHEMA_VERSION = 1
#: The most rules a rule set holds. A rule set is scored as one SQL expression (a sum kept
#: shallow, see :func:`funnel.fragment.balanced`) and exported as one column per rule
#: (PostgreSQL allows 1,664 columns in a SELECT); the tuner shows a slider per rule.
MAX_RULES = 1000
Group = Literal["fit", "engagement"]


#: Sources named by funnel itself (not a file name): shown in the reader's language.
_SOURCE_KEYS = {
    "rule set": "ruleset.source.rule_set",
    "rule set file": "ruleset.source.rule_set_file",
    "shared link": "ruleset.source.shared_link",
}


@dataclass(frozen=True)
class Where:
    """Where a rule-set problem is: the file (or link), then a numbered entry or a key.

    >>> Where("r.yaml", "rule", 2).text("en"), Where("r.yaml", "rule", 2).text("ja")
    ('r.yaml: rule 2', 'r.yaml: ルール 2')
    >>> Where("r.yaml", "score_cap").text("ja"), Where("shared link").text("ja")
    ('r.yaml: score_cap', '共有リンク')
    """

    source: str = ""
    #: ``rule``, ``gate`` or ``tier`` with an ``index``; otherwise a file key, shown as written.
    entry: str = ""
    index: int | None = None

    def text(self, lang: str = "en") -> str:
        key = _SOURCE_KEYS.get(self.source)
        parts = [t(key, lang) if key else self.source]
        if self.entry:
            numbered = self.index is not None
            entry = t(f"ruleset.where.{self.entry}", lang, n=self.index) if numbered else self.entry
            parts.append(entry)
        return ": ".join(p for p in parts if p)


class RuleSetError(CodedError, ValueError):
    """A rule set file or edit that cannot be used; the message says where and how to fix it.

    ``code`` selects the message (``ruleset.<code>``; a YAML or mapping problem inside the
    file keeps its own ``yaml.<code>`` / ``mappingfile.<code>``), ``where`` names the file and
    entry.

    >>> print(RuleSetError("low_high", where=Where("r.yaml", "rule", 3)).message("ja"))
    r.yaml: ルール 3: low（下限）は high（上限）より小さくしてください。
    """

    prefix = "ruleset"

    def located(self, where: Where) -> RuleSetError:
        """The same problem, placed in ``where`` (for an error raised without the file name)."""
        return RuleSetError(self.code, where=where, **self.params)


def _points(value: Any, where: Where) -> int:
    if isinstance(value, bool):
        raise RuleSetError("points_bool", where=where, value=repr(value))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RuleSetError("points_range", where=where) from None
    if not math.isfinite(number) or abs(number) > 1000 or number != int(number):
        raise RuleSetError("points_range", where=where)
    return int(number)


def _number(value: Any, where: Where) -> float:
    if isinstance(value, bool):
        raise RuleSetError("not_number", where=where, value=repr(value))
    try:
        number = float(value)
    except OverflowError:
        raise RuleSetError("number_too_large", where=where) from None
    except (TypeError, ValueError):
        raise RuleSetError("not_number", where=where, value=repr(str(value)[:40])) from None
    if not math.isfinite(number):
        raise RuleSetError("not_finite", where=where, value=repr(value))
    return number


def points_text(points: float, lang: str = "en", *, signed: bool = True) -> str:
    """Points in words, signed, singular for one ("+1 point"; Japanese has one form).

    >>> points_text(1), points_text(-1), points_text(12), points_text(0), points_text(1, "ja")
    ('+1 point', '-1 point', '+12 points', '+0 points', '+1 点')
    >>> points_text(1, signed=False)
    '1 point'
    """
    shown = f"{points:+g}" if signed else f"{points:g}"
    return t("rule.points.one" if abs(points) == 1 else "rule.points.other", lang, points=shown)


#: Any rule kind (what :func:`labelled` hands back is of the kind it was given).
AnyRule = TypeVar("AnyRule", bound="Rule")


def labelled(rule: AnyRule, labels: Mapping[str, str] | None, lang: str = "en") -> AnyRule:
    """The rule to show: one whose sentence counts units of its column names them by the
    column's unit label, in English ("Each web visit", not "Each web_visits"); any other rule,
    another language or a column without a label, as it is. For display only: the rule read,
    scored and exported keeps its column.

    >>> labelled(PerUnitRule("web_visits", 1, 10), {"web_visits": "web visit"}).describe()
    'Each web visit: +1 point, up to 10'
    >>> labelled(PerUnitRule("web_visits", 1), {"web_visits": "web visit"}, "ja").describe("ja")
    'web_visits 1 回ごとに +1 点'
    """
    if not labels or lang != "en" or not rule.counts_units or rule.column not in labels:
        return rule
    return replace(rule, column=labels[rule.column])  # type: ignore[type-var]


def num_text(x: float) -> str:
    """Render a number without a useless ``.0``.

    >>> num_text(3.0), num_text(2.5)
    ('3', '2.5')
    """
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --- rule kinds ---------------------------------------------------------------------------------


class Rule:
    """What every rule kind is: points for a lead, read from one column.

    A kind is a frozen dataclass registered with :func:`rule_kind`. Its fields are its file
    form (``kind``, ``column`` and ``points``, then its other fields in declaration order);
    it says itself in a sentence, and :meth:`read` checks its fields when a file is read.
    How it is computed, exported, compared, edited and explained is in the renderer tables
    of :mod:`funnel.renderers`, keyed by :attr:`kind`.
    """

    #: The name in files (``kind: category``) and the renderer tables' key.
    kind: ClassVar[str]
    #: Fit (who the lead is) or engagement (what the lead did, read from counts).
    group: ClassVar[Group]
    #: Its sentence counts units of the column ("Each web visit"): a column's unit label
    #: (:meth:`funnel.mapping.Mapping.labels`) names it there (see :func:`labelled`).
    counts_units: ClassVar[bool] = False
    column: str
    points: int

    def describe(self, lang: str = "en") -> str:
        """The rule as a sentence, with its points."""
        raise NotImplementedError

    def values(self) -> tuple[str, ...]:
        """The category values the rule compares the column's text with (none: it reads
        numbers)."""
        return ()

    def spelled(self, spelling: Mapping[str, str]) -> Self:
        """The rule with its category values spelled as ``spelling`` says (others kept)."""
        return self

    def with_points(self, points: int) -> Self:
        """The rule giving ``points`` instead."""
        return replace(self, points=int(points))  # type: ignore[type-var]

    def as_dict(self) -> dict[str, Any]:
        """The rule's file form."""
        extra = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        extra = {k: v for k, v in extra.items() if k not in ("column", "points")}
        return {"kind": self.kind, "column": self.column, "points": self.points, **extra}

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> Self:
        """Build the rule from its file form, refusing fields it cannot use."""
        raise NotImplementedError


#: Every rule kind by name, in the order files and messages list them.
KINDS: dict[str, type[Rule]] = {}

R = TypeVar("R", bound=type[Rule])


def rule_kind(cls: R) -> R:
    """Register a rule kind (a class decorator)."""
    KINDS[cls.kind] = cls
    return cls


def rule_keys() -> tuple[str, ...]:
    """The keys a rule may have in a file: the common ones, then each kind's own.

    >>> rule_keys()
    ('kind', 'column', 'points', 'value', 'low', 'high', 'one_of', 'op', 'cap', 'at_least')
    """
    keys = ["kind", "column", "points"]
    for cls in KINDS.values():
        keys += [f.name for f in fields(cls) if f.name not in keys]  # type: ignore[arg-type]
    return tuple(keys)


@rule_kind
@dataclass(frozen=True)
class CategoryRule(Rule):
    """Fit: points when a column equals a value (``industry = SaaS → +15``)."""

    column: str
    value: str
    points: int
    kind: ClassVar[str] = "category"
    group: ClassVar[Group] = "fit"

    def describe(self, lang: str = "en") -> str:
        return t(
            "rule.category",
            lang,
            column=self.column,
            value=self.value,
            points=points_text(self.points, lang),
        )

    def values(self) -> tuple[str, ...]:
        return (self.value,)

    def spelled(self, spelling: Mapping[str, str]) -> CategoryRule:
        return replace(self, value=spelling.get(self.value, self.value))

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> CategoryRule:
        value = item.get("value")
        if value is None or value == "":
            raise RuleSetError("no_value", where=where)
        return cls(column, str(value), points)


@rule_kind
@dataclass(frozen=True)
class RangeRule(Rule):
    """Fit: points when a number lies in ``[low, high)`` (either end may be open)."""

    column: str
    low: float | None
    high: float | None
    points: int
    kind: ClassVar[str] = "range"
    group: ClassVar[Group] = "fit"

    def describe(self, lang: str = "en") -> str:
        low = "…" if self.low is None else num_text(self.low)
        high = "…" if self.high is None else num_text(self.high)
        return t(
            "rule.range",
            lang,
            column=self.column,
            low=low,
            high=high,
            points=points_text(self.points, lang),
        )

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> RangeRule:
        low = None if item.get("low") is None else _number(item["low"], where)
        high = None if item.get("high") is None else _number(item["high"], where)
        if low is not None and high is not None and low >= high:
            raise RuleSetError("low_high", where=where)
        return cls(column, low, high, points)


@rule_kind
@dataclass(frozen=True)
class SetRule(Rule):
    """Fit: points when a column holds one of several values (``job in {retired, student}``).

    One rule for a group of values that earn the same points, instead of one
    :class:`CategoryRule` each: easier to read, and a suggestion's rule budget buys more.

    >>> SetRule("job", ("retired", "student"), 8).describe()
    'job is one of retired, student: +8 points'
    """

    column: str
    one_of: tuple[str, ...]
    points: int
    kind: ClassVar[str] = "in"
    group: ClassVar[Group] = "fit"

    def describe(self, lang: str = "en") -> str:
        return t(
            "rule.in",
            lang,
            column=self.column,
            values=", ".join(self.one_of),
            points=points_text(self.points, lang),
        )

    def values(self) -> tuple[str, ...]:
        return self.one_of

    def spelled(self, spelling: Mapping[str, str]) -> SetRule:
        return replace(self, one_of=_distinct(spelling.get(v, v) for v in self.one_of))

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "one_of": list(self.one_of)}

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> SetRule:
        raw = item.get("one_of")
        if not isinstance(raw, list | tuple) or not raw:
            raise RuleSetError("no_values", where=where)
        if any(v is None or isinstance(v, dict | list) or str(v) == "" for v in raw):
            raise RuleSetError("no_values", where=where)
        return cls(column, _distinct(str(v) for v in raw), points)


def _distinct(values: Any) -> tuple[str, ...]:
    """The values in their order, each once.

    >>> _distinct(["b", "a", "b"])
    ('b', 'a')
    """
    return tuple(dict.fromkeys(values))


#: The comparisons a :class:`CompareRule` makes, as files write them, and as people read them.
COMPARISONS = {"=": "=", "!=": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤"}
#: Other spellings accepted in a file (and the symbols the sentences show).
_COMPARISON_ALIASES = {"==": "=", "<>": "!=", "≠": "!=", "≥": ">=", "≤": "<="}


@rule_kind
@dataclass(frozen=True)
class CompareRule(Rule):
    """Fit: points when a number compares with a value (``pricing_visits = 0``, ``> 0``).

    The readable form of the splits a number's most common value calls for: a column that is
    0 for most leads is scored as ``= 0`` and ``> 0``, which a range ``[low, high)`` cannot
    say exactly for amounts. A missing value earns nothing, whatever the comparison.

    >>> CompareRule("basket_value", ">", 0, 12).describe()
    'basket_value > 0: +12 points'
    """

    column: str
    op: str
    value: float
    points: int
    kind: ClassVar[str] = "compare"
    group: ClassVar[Group] = "fit"

    @property
    def symbol(self) -> str:
        """The comparison as people write it (``≥`` for ``>=``)."""
        return COMPARISONS[self.op]

    def describe(self, lang: str = "en") -> str:
        return t(
            "rule.compare",
            lang,
            column=self.column,
            op=self.symbol,
            value=num_text(self.value),
            points=points_text(self.points, lang),
        )

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> CompareRule:
        raw = str(item.get("op") or "").strip()
        op = _COMPARISON_ALIASES.get(raw, raw)
        if op not in COMPARISONS:
            raise RuleSetError(
                "unknown_op", where=where, op=repr(raw[:10]), ops=", ".join(COMPARISONS)
            )
        return cls(column, op, _number(item.get("value"), where), points)


@rule_kind
@dataclass(frozen=True)
class PerUnitRule(Rule):
    """Engagement: points for each unit of a count, capped (``web visit +1 each, at most 10``)."""

    column: str
    points: int
    cap: int | None = None
    kind: ClassVar[str] = "per_unit"
    group: ClassVar[Group] = "engagement"
    counts_units: ClassVar[bool] = True

    def describe(self, lang: str = "en") -> str:
        key = "rule.per_unit_cap" if self.cap is not None else "rule.per_unit"
        return t(key, lang, column=self.column, points=points_text(self.points, lang), cap=self.cap)

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> PerUnitRule:
        cap = None if item.get("cap") is None else _points(item["cap"], where)
        return cls(column, points, cap)


@rule_kind
@dataclass(frozen=True)
class CountRule(Rule):
    """Engagement: points for reaching a count (``≥ 3 visits → +5``; negatives allowed)."""

    column: str
    at_least: float
    points: int
    kind: ClassVar[str] = "count"
    group: ClassVar[Group] = "engagement"

    def describe(self, lang: str = "en") -> str:
        return t(
            "rule.count",
            lang,
            column=self.column,
            at_least=num_text(self.at_least),
            points=points_text(self.points, lang),
        )

    @classmethod
    def read(cls, column: str, points: int, item: Mapping[str, Any], where: Where) -> CountRule:
        return cls(column, _number(item.get("at_least"), where), points)


@dataclass(frozen=True)
class Gate:
    """Knock-out: a lead whose column holds one of these values is never hot."""

    column: str
    values: tuple[str, ...]

    def describe(self, lang: str = "en") -> str:
        return t("rule.gate", lang, column=self.column, values=", ".join(self.values))


@dataclass(frozen=True)
class Tier:
    """A named tier: leads scoring at least ``min_score`` (the last tier takes the rest)."""

    name: str
    min_score: float


DEFAULT_TIERS = (Tier("hot", 60), Tier("warm", 30), Tier("cold", -math.inf))

#: Each promise a version can carry: its file key and the largest value it takes.
PROMISES: dict[str, int] = {
    "contact_within_hours": 24 * 365,
    "max_hot_per_week": 10_000_000,
    "review_every_weeks": 520,
}


@dataclass(frozen=True)
class ServiceLevel:
    """The teams' promises, signed with the definition; each is optional (None: not promised).

    Sales contacts a hot lead within ``contact_within_hours``; marketing sends at most
    ``max_hot_per_week`` hot leads a week; the teams review the definition every
    ``review_every_weeks`` weeks. Whole numbers from 1 up to :data:`PROMISES`' limit.

    >>> sl = ServiceLevel(contact_within_hours=4, review_every_weeks=6)
    >>> sl.describe("en")
    ['Sales contacts a hot lead within 4 hours', 'The definition is reviewed every 6 weeks']
    >>> print(RuleSetError("promise_range", field="max_hot_per_week", limit="9", value="0"))
    max_hot_per_week must be a whole number from 1 to 9 (it is 0).
    """

    contact_within_hours: int | None = None
    max_hot_per_week: int | None = None
    review_every_weeks: int | None = None

    def __post_init__(self) -> None:
        for key, limit in PROMISES.items():
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit
            ):
                raise RuleSetError(
                    "promise_range", field=key, limit=f"{limit:,}", value=repr(value)
                )

    def __bool__(self) -> bool:
        """Whether anything is promised."""
        return any(getattr(self, key) is not None for key in PROMISES)

    def as_dict(self) -> dict[str, int]:
        """The promises made, by file key (those not made are left out)."""
        return {k: v for k in PROMISES if (v := getattr(self, k)) is not None}

    def describe(self, lang: str = "en") -> list[str]:
        """Each promise made, as a sentence."""
        return [t(f"promise.{key}", lang, n=f"{value:,}") for key, value in self.as_dict().items()]

    def line(self, key: str, lang: str = "en") -> str | None:
        """One promise as a sentence, or None when it is not made."""
        value = getattr(self, key)
        return None if value is None else t(f"promise.{key}", lang, n=f"{value:,}")


NO_PROMISES = ServiceLevel()


@dataclass(frozen=True)
class RuleSet:
    """A definition of a hot lead."""

    name: str = "rules"
    rules: tuple[Rule, ...] = ()
    gates: tuple[Gate, ...] = ()
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    score_cap: int | None = None
    description: str = ""
    #: Behaviour points from an activity log halve every this many days (None: no decay).
    decay_half_life: float | None = None
    schema_version: int = field(default=SCHEMA_VERSION)
    #: The teams' promises signed with the definition (contact time, volume, review cadence).
    service_level: ServiceLevel = NO_PROMISES

    def __post_init__(self) -> None:
        if len(self.rules) > MAX_RULES:
            raise RuleSetError(
                "too_many_rules", limit=f"{MAX_RULES:,}", count=f"{len(self.rules):,}"
            )
        if len(self.tiers) < 2:
            raise RuleSetError("too_few_tiers")
        names = [tier.name for tier in self.tiers]
        if len(set(names)) != len(names) or any(not n.strip() for n in names):
            raise RuleSetError("tier_names")
        mins = [tier.min_score for tier in self.tiers[:-1]]
        if any(a <= b for a, b in zip(mins, mins[1:], strict=False)):
            raise RuleSetError("tier_order")
        hl = self.decay_half_life
        if hl is not None and not (math.isfinite(hl) and 0 < hl <= 3650):
            raise RuleSetError("decay_range")

    @property
    def hot(self) -> Tier:
        return self.tiers[0]

    def with_threshold(self, tier: str, min_score: float) -> RuleSet:
        """Return a copy with one tier's threshold changed."""
        tiers = tuple(replace(x, min_score=min_score) if x.name == tier else x for x in self.tiers)
        return replace(self, tiers=tiers)

    def with_points(self, index: int, points: int) -> RuleSet:
        """Return a copy with one rule's points changed."""
        rules = list(self.rules)
        rules[index] = rules[index].with_points(points)
        return replace(self, rules=tuple(rules))

    def columns(self) -> set[str]:
        return {r.column for r in self.rules} | {g.column for g in self.gates}

    def describe(self, lang: str = "en", labels: Mapping[str, str] | None = None) -> list[str]:
        """Every rule, gate and tier as sentences (a rule counting units names them by
        ``labels``, see :func:`labelled`)."""
        lines = [labelled(r, labels, lang).describe(lang) for r in self.rules]
        lines += [g.describe(lang) for g in self.gates]
        if self.score_cap is not None:
            lines.append(t("rule.score_cap", lang, cap=self.score_cap))
        if self.decay_half_life is not None:
            lines.append(t("rule.decay", lang, days=num_text(self.decay_half_life)))
        for tier in self.tiers[:-1]:
            lines.append(t("rule.tier", lang, tier=tier.name, score=num_text(tier.min_score)))
        lines.append(t("rule.tier_rest", lang, tier=self.tiers[-1].name))
        return lines


# --- serialisation ------------------------------------------------------------------------------


def ruleset_to_dict(rs: RuleSet) -> dict[str, Any]:
    """Plain data for YAML/JSON (schema-versioned)."""
    return {
        "schema_version": rs.schema_version,
        "name": rs.name,
        "description": rs.description,
        "rules": [r.as_dict() for r in rs.rules],
        "gates": [{"column": g.column, "values": list(g.values)} for g in rs.gates],
        "score_cap": rs.score_cap,
        **({"decay_half_life_days": rs.decay_half_life} if rs.decay_half_life is not None else {}),
        "tiers": [
            {"name": x.name, "min_score": None if math.isinf(x.min_score) else x.min_score}
            for x in rs.tiers
        ],
        # only when promised: a file without promises reads as before, anywhere
        **({"service_level": rs.service_level.as_dict()} if rs.service_level else {}),
    }


#: The keys a rule-set file may hold (an exported version adds its record and mapping).
TOP_KEYS = (
    "schema_version",
    "name",
    "description",
    "rules",
    "gates",
    "score_cap",
    "decay_half_life_days",
    "tiers",
    "service_level",
    "version",
    "mapping",
)


def _known_keys(item: dict[Any, Any], known: Sequence[str], where: Where) -> None:
    """Refuse a key the format does not have, suggesting the one probably meant.

    >>> _known_keys({"pionts": 3}, rule_keys(), Where("r.yaml", "rule", 1))
    Traceback (most recent call last):
    ...
    funnel.rules.RuleSetError: r.yaml: rule 1: unknown key 'pionts' (did you mean 'points'?).
    """
    for key in item:
        if key in known:
            continue
        name = repr(str(key)[:40])
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            raise RuleSetError("unknown_key_close", where=where, name=name, close=repr(close[0]))
        raise RuleSetError("unknown_key", where=where, name=name, known=", ".join(known))


def rule_from_dict(item: Any, where: Where) -> Rule:
    """Build one rule from its file form, with errors naming ``where`` it is.

    >>> rule_from_dict({"kind": "count", "column": "visits", "at_least": 3, "points": 5},
    ...                Where("r.yaml", "rule", 1))
    CountRule(column='visits', at_least=3.0, points=5)
    """
    if not isinstance(item, dict):
        raise RuleSetError("rule_shape", where=where)
    _known_keys(item, rule_keys(), where)
    name = item.get("kind")
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise RuleSetError("unknown_kind", where=where, kind=repr(name), kinds=", ".join(KINDS))
    column = item.get("column")
    if not isinstance(column, str) or not column:
        raise RuleSetError("no_column", where=where)
    return kind.read(column, _points(item.get("points"), where), item, where)


def ruleset_from_dict(data: Any, *, source: str = "rule set") -> RuleSet:
    """Build a rule set from plain data, with errors naming the offending entry."""
    top = Where(source)
    if not isinstance(data, dict):
        raise RuleSetError("not_mapping", where=top)
    version = data.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise RuleSetError("schema_not_int", where=top)
    if version > SCHEMA_VERSION:
        raise RuleSetError("schema_newer", where=top, version=version, supported=SCHEMA_VERSION)
    _known_keys(data, TOP_KEYS, top)
    for key in ("rules", "gates", "tiers"):
        if data.get(key) is not None and not isinstance(data[key], list):
            raise RuleSetError("not_list", where=Where(source, key))
    rules = [
        rule_from_dict(item, Where(source, "rule", i))
        for i, item in enumerate(data.get("rules") or [], start=1)
    ]
    gates = []
    for i, item in enumerate(data.get("gates") or [], start=1):
        where = Where(source, "gate", i)
        if isinstance(item, dict):
            _known_keys(item, ("column", "values"), where)
        if not isinstance(item, dict) or not isinstance(item.get("column"), str):
            raise RuleSetError("gate_shape", where=where)
        values = item.get("values") or []
        if not isinstance(values, list) or not values:
            raise RuleSetError("gate_values", where=where)
        gates.append(Gate(item["column"], tuple(str(v) for v in values)))
    tiers = []
    if "tiers" in data and not data["tiers"]:  # not silently hot/warm/cold
        raise RuleSetError("no_tiers", where=Where(source, "tiers"))
    raw_tiers = data.get("tiers") or [ruleset_to_dict(RuleSet())["tiers"]][0]
    for i, item in enumerate(raw_tiers, start=1):
        where = Where(source, "tier", i)
        if isinstance(item, dict):
            _known_keys(item, ("name", "min_score"), where)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RuleSetError("tier_shape", where=where)
        last = i == len(raw_tiers)
        raw = item.get("min_score")
        if raw is None and not last:  # it would take every lead below, leaving later tiers empty
            raise RuleSetError("tier_needs_min", where=where, name=repr(item["name"]))
        score = -math.inf if last else _number(raw, where)
        tiers.append(Tier(item["name"], score))
    cap = data.get("score_cap")
    half_life = data.get("decay_half_life_days")
    if half_life is not None:
        half_life = _number(half_life, Where(source, "decay_half_life_days"))
        if not 0 < half_life <= 3650:
            raise RuleSetError("decay_days", where=top)
    service_level = service_level_from_dict(data.get("service_level"), source=source)
    try:
        return RuleSet(
            name=str(data.get("name", "rules")),
            description=str(data.get("description", "") or ""),
            rules=tuple(rules),
            gates=tuple(gates),
            tiers=tuple(tiers),
            score_cap=None if cap is None else _points(cap, Where(source, "score_cap")),
            decay_half_life=half_life,
            service_level=service_level,
        )
    except RuleSetError as exc:
        raise (exc if exc.where is not None else exc.located(top)) from None


def service_level_from_dict(data: Any, *, source: str = "rule set") -> ServiceLevel:
    """Read a file's ``service_level`` block (absent or empty: nothing promised).

    >>> service_level_from_dict({"contact_within_hours": 24.0})
    ServiceLevel(contact_within_hours=24, max_hot_per_week=None, review_every_weeks=None)
    >>> try:
    ...     service_level_from_dict({"max_hot_per_week": "lots"}, source="r.yaml")
    ... except RuleSetError as exc:
    ...     print(exc.message("ja")[:60])
    r.yaml: service_level: max_hot_per_week は 1 から 10,000,000 まで
    """
    where = Where(source, "service_level")
    if data is None:
        return NO_PROMISES
    if not isinstance(data, dict):
        raise RuleSetError("service_level_shape", where=where)
    _known_keys(data, tuple(PROMISES), where)
    values: dict[str, int | None] = {}
    for key, limit in PROMISES.items():
        raw = data.get(key)
        if raw is None:
            values[key] = None
            continue
        number = None if isinstance(raw, bool) else _whole(raw)
        if number is None or not 1 <= number <= limit:
            raise RuleSetError(
                "promise_range", where=where, field=key, limit=f"{limit:,}", value=repr(raw)
            )
        values[key] = number
    return ServiceLevel(**values)


def _whole(value: Any) -> int | None:
    """``value`` as a whole number (``24``, ``24.0``, ``"24"``), or None."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def ruleset_to_yaml(rs: RuleSet) -> str:
    return dump_yaml(ruleset_to_dict(rs))


def ruleset_to_json(rs: RuleSet) -> str:
    return json.dumps(ruleset_to_dict(rs), ensure_ascii=False, indent=2)


def ruleset_from_text(text: str, *, source: str = "rule set") -> RuleSet:
    """Read YAML or JSON (safe loader only: no tags, no objects)."""
    try:
        data = load_yaml(text, source)
    except YamlError as exc:
        raise RuleSetError(f"yaml.{exc.code}", where=Where(source), **exc.params) from None
    return ruleset_from_dict(data, source=source)


@dataclass(frozen=True)
class ColumnFacts:
    """What a dataset says about one of its columns, for checking the rules that read it."""

    #: What the column holds in the dataset: ``number``, ``text``, ``date`` or ``flag`` (yes/no).
    kind: Literal["number", "text", "date", "flag"]
    #: The role of a column known only once a lead is decided (``outcome``, ``closed``,
    #: ``amount``), which a rule may not read; None for a lead feature.
    outcome_role: str | None = None


def check_columns(
    rs: RuleSet,
    columns: Sequence[str] | Mapping[str, ColumnFacts],
    *,
    source: str = "rule set",
) -> None:
    """Refuse a rule set that names columns the dataset does not have.

    Given the dataset's :class:`ColumnFacts`, also refuse a rule or gate on the outcome (or
    the closing date or amount: what the rules are meant to predict, which would make any rule
    look perfect) and a rule that reads numbers on a column that holds text or dates there (a
    re-export where one cell made a number column text).
    """
    missing = sorted(rs.columns() - set(columns))
    if missing:
        raise RuleSetError(
            "unknown_columns",
            where=Where(source),
            missing=", ".join(missing),
            columns=", ".join(list(columns)[:15]),
        )
    if not isinstance(columns, Mapping):
        return
    read = [(r.column, Where(source, "rule", n)) for n, r in enumerate(rs.rules, start=1)]
    read += [(g.column, Where(source, "gate", n)) for n, g in enumerate(rs.gates, start=1)]
    for column, where in read:
        if columns[column].outcome_role is not None:
            raise RuleSetError("outcome_column", where=where, column=repr(column))
    for n, rule in enumerate(rs.rules, start=1):
        kind = columns[rule.column].kind
        if not rule.values() and kind != "number":  # it reads the column as numbers
            raise RuleSetError(
                f"column_is_{kind}",
                where=Where(source, "rule", n),
                column=repr(rule.column),
                kind=rule.kind,
            )


def simple_template(info_columns: Sequence[str], behaviours: dict[str, str]) -> RuleSet:
    """The template many teams start with: web visit 1, document or newsletter 2, inquiry 3,
    ranked A/B/C.

    ``behaviours`` maps the template's roles (visit, document, newsletter, inquiry) to the
    dataset's columns; roles without a column are left out.
    """
    points = {"visit": 1, "document": 2, "newsletter": 2, "inquiry": 3}
    rules = tuple(
        PerUnitRule(col, points[role], cap=10 * points[role])
        for role, col in behaviours.items()
        if role in points and col in info_columns
    )
    return RuleSet(
        name=t("rules.name.template"),
        rules=rules,
        tiers=(Tier("A", 10), Tier("B", 4), Tier("C", -math.inf)),
    )


def encode_ruleset(rs: RuleSet) -> str:
    """A compact, URL-safe text form of a rule set (for sharing the tuner's state).

    >>> rs = RuleSet(rules=(PerUnitRule("web_visits", 1, 10),))
    >>> decode_ruleset(encode_ruleset(rs)) == rs
    True
    """
    import base64
    import zlib

    raw = json.dumps(ruleset_to_dict(rs), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(zlib.compress(raw.encode("utf-8"), 9)).decode("ascii")


def decode_ruleset(text: str, *, max_bytes: int = 200_000) -> RuleSet:
    """Read :func:`encode_ruleset` output; anything malformed is a :class:`RuleSetError`."""
    import base64
    import binascii
    import zlib

    try:
        packed = base64.urlsafe_b64decode(text.encode("ascii"))
        raw = zlib.decompressobj().decompress(packed, max_bytes)
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise RuleSetError("link_deep", where=Where("shared link")) from None
    except (binascii.Error, zlib.error, UnicodeError, ValueError) as exc:
        raise RuleSetError("link_damaged", where=Where("shared link"), detail=str(exc)) from None
    return ruleset_from_dict(data, source="shared link")
