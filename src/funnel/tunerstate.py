"""The tuner's state in a meeting: both proposals, which one is being edited, sales capacity.

A :class:`TunerState` is plain frozen data. It is kept per dataset in the store (so a reload, a
new tab or a server restart shows the meeting as it was) and written into the page's URL (so a
link shares the exact state). Both forms read back to an equal state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from funnel.access import Actor
from funnel.i18n import CodedError
from funnel.rules import (
    ColumnFacts,
    RuleSet,
    check_columns,
    decode_ruleset,
    encode_ruleset,
    ruleset_from_dict,
    ruleset_to_dict,
)
from funnel.store import DatasetInfo, Store

#: The two proposals a meeting compares, in the order the page shows them.
PROPOSALS = ("marketing", "sales")
#: The URL parameters the tuner's state is written to (besides ``dataset``).
QUERY_KEYS = ("rules", "proposal", "other", "reps", "per_rep", "target")
STATE_VERSION = 1


class StateError(CodedError, ValueError):
    """A saved or shared tuner state that cannot be used; ``code`` selects the message."""

    prefix = "tunerstate"


def _whole(value: Any, low: int, high: int, default: int) -> int:
    """A whole number in ``low..high``; anything else is ``default``.

    >>> _whole("7", 1, 10, 5), _whole("x", 1, 10, 5), _whole(99, 1, 10, 5)
    (7, 5, 10)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number):
        return default
    return int(min(max(round(number), low), high))


def _fraction(value: Any, default: float) -> float:
    """A share between 0.01 and 1 (a target conversion); anything else is ``default``.

    >>> _fraction("0.25", 0.3), _fraction("nan", 0.3), _fraction(5, 0.3)
    (0.25, 0.3, 1.0)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number):
        return default
    return min(max(number, 0.01), 1.0)


@dataclass(frozen=True)
class Capacity:
    """What sales can work and the conversion the hot tier should reach."""

    reps: int = 5
    per_rep: int = 20  # hot leads one rep can work a week
    target: float = 0.3  # hot-tier conversion to reach, as a share (0.3 = 30%)

    @property
    def per_week(self) -> int:
        """Hot leads sales can work a week.

        >>> Capacity(3, 40).per_week
        120
        """
        return self.reps * self.per_rep

    def as_dict(self) -> dict[str, Any]:
        return {"reps": self.reps, "per_rep": self.per_rep, "target": self.target}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Capacity:
        """Read :meth:`as_dict` (or URL text); a missing or unusable value is the default."""
        d = cls()
        return cls(
            reps=_whole(data.get("reps"), 1, 1000, d.reps),
            per_rep=_whole(data.get("per_rep"), 1, 10000, d.per_rep),
            target=_fraction(data.get("target"), d.target),
        )


@dataclass(frozen=True)
class NoteText:
    """What a suggestion said when it was loaded, in one language (sentences that hold column
    names: shown as plain text)."""

    #: The rules loaded and their verdict on the holdout (AUC, interval, the rules replaced).
    line: str
    #: Which leads training and holdout count ("" when not known).
    measured_on: str = ""
    #: What to know before trusting it, most important first: (``warning`` or ``info``, text).
    notes: tuple[tuple[str, str], ...] = ()
    #: How each column was read, or why it was left out: (column, sentence).
    columns: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "measured_on": self.measured_on,
            "notes": [list(x) for x in self.notes],
            "columns": [list(x) for x in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Any) -> NoteText:
        if not isinstance(data, dict):
            raise TypeError("note text")

        def pairs(items: Any) -> tuple[tuple[str, str], ...]:
            return tuple((str(a), str(b)) for a, b in (items or ()))

        return cls(
            line=str(data.get("line") or ""),
            measured_on=str(data.get("measured_on") or ""),
            notes=pairs(data.get("notes")),
            columns=pairs(data.get("columns")),
        )


@dataclass(frozen=True)
class SuggestionNote:
    """What "start from the data" reported when it filled a proposal, kept with the proposal so
    a reload shows it as it was: the verdict on the holdout, the notes and the columns read (in
    every UI language), the rules it replaced and the columns it leans on (the page's buttons)."""

    #: Per language code, what it said (see :class:`NoteText`).
    text: tuple[tuple[str, NoteText], ...]
    #: No better on the holdout than the rules it replaced.
    no_better: bool = False
    #: The holdout AUC's interval includes 0.5: no hot tier.
    no_signal: bool = False
    #: The rules it replaced, offered back when it is no better (or finds no signal).
    before: RuleSet | None = None
    #: The columns left out when it was fitted (a suggestion again leaves them out too).
    exclude: tuple[str, ...] = ()
    #: The columns it leans on (one "leave it out" button each).
    leans_on: tuple[str, ...] = ()

    def said(self, lang: str) -> NoteText:
        """What it said in ``lang`` (else in the first language it was written in).

        >>> SuggestionNote((("en", NoteText("Loaded 3 rules.")),)).said("ja").line
        'Loaded 3 rules.'
        """
        found = dict(self.text)
        return found.get(lang) or self.text[0][1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": {lang: x.as_dict() for lang, x in self.text},
            "no_better": self.no_better,
            "no_signal": self.no_signal,
            "before": None if self.before is None else ruleset_to_dict(self.before),
            "exclude": list(self.exclude),
            "leans_on": list(self.leans_on),
        }

    @classmethod
    def from_dict(cls, data: Any) -> SuggestionNote | None:
        """Read :meth:`as_dict`; anything unreadable is no note (it is only a message)."""
        if not isinstance(data, dict) or not isinstance(data.get("text"), dict):
            return None
        try:
            text = tuple((str(k), NoteText.from_dict(v)) for k, v in data["text"].items())
            if not text:
                return None
            before = data.get("before")
            return cls(
                text=text,
                no_better=bool(data.get("no_better")),
                no_signal=bool(data.get("no_signal")),
                before=None if before is None else ruleset_from_dict(before, source="note"),
                exclude=tuple(str(c) for c in data.get("exclude") or ()),
                leans_on=tuple(str(c) for c in data.get("leans_on") or ()),
            )
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Proposal:
    """One side's definition of hot, and what filled it from the data (if anything did)."""

    rules: RuleSet
    suggestion: SuggestionNote | None = None


@dataclass(frozen=True)
class TunerState:
    """Both proposals (in :data:`PROPOSALS` order), the one being edited, and capacity."""

    proposals: tuple[Proposal, ...]
    active: str = PROPOSALS[0]
    capacity: Capacity = field(default_factory=Capacity)

    def __post_init__(self) -> None:
        if len(self.proposals) != len(PROPOSALS) or self.active not in PROPOSALS:
            raise StateError("shape", detail="proposals")

    @classmethod
    def starting(cls, rs: RuleSet) -> TunerState:
        """Both proposals start from the same rules.

        >>> s = TunerState.starting(RuleSet())
        >>> s.rules("sales").name, s.active
        ('sales', 'marketing')
        """
        return cls(tuple(Proposal(replace(rs, name=name)) for name in PROPOSALS))

    @property
    def other(self) -> str:
        """The proposal not being edited."""
        return PROPOSALS[1 - PROPOSALS.index(self.active)]

    def proposal(self, name: str) -> Proposal:
        return self.proposals[PROPOSALS.index(name)]

    def rules(self, name: str | None = None) -> RuleSet:
        """One proposal's rules (the active one's by default)."""
        return self.proposal(name or self.active).rules

    def with_rules(self, name: str, rs: RuleSet) -> TunerState:
        """A copy with ``name``'s rules replaced (its suggestion note kept)."""
        return self.with_proposal(name, Proposal(rs, self.proposal(name).suggestion))

    def with_proposal(self, name: str, proposal: Proposal) -> TunerState:
        """A copy with ``name``'s proposal replaced (its rules take the proposal's name)."""
        new = replace(proposal, rules=replace(proposal.rules, name=name))
        proposals = tuple(new if p == name else self.proposal(p) for p in PROPOSALS)
        return replace(self, proposals=proposals)

    def same_as(self, other: TunerState) -> bool:
        """The same rules, active proposal and capacity (notes are messages, not state)."""
        return (
            all(self.rules(p) == other.rules(p) for p in PROPOSALS)
            and self.active == other.active
            and self.capacity == other.capacity
        )

    def check(
        self, columns: Sequence[str] | Mapping[str, ColumnFacts], *, source: str = "rule set"
    ) -> None:
        """Refuse a state whose rules the dataset cannot score (:func:`check_columns`: columns
        it does not have, or holding the outcome or text where numbers are read)."""
        for p in PROPOSALS:
            check_columns(self.rules(p), columns, source=source)

    # --- the stored form -----------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return {
            "state_version": STATE_VERSION,
            "active": self.active,
            "capacity": self.capacity.as_dict(),
            "proposals": {
                name: {
                    "rules": ruleset_to_dict(p.rules),
                    "suggestion": None if p.suggestion is None else p.suggestion.as_dict(),
                }
                for name, p in zip(PROPOSALS, self.proposals, strict=True)
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> TunerState:
        """Read :meth:`as_dict`; a damaged state is a :class:`StateError` or
        :class:`~funnel.rules.RuleSetError`.

        >>> s = TunerState.starting(RuleSet())
        >>> TunerState.from_dict(json.loads(json.dumps(s.as_dict()))) == s
        True
        """
        if not isinstance(data, dict) or not isinstance(data.get("proposals"), dict):
            raise StateError("shape", detail="not a tuner state")
        version = data.get("state_version")
        if not isinstance(version, int) or version > STATE_VERSION:
            if isinstance(version, int):
                raise StateError("newer", version=version)
            raise StateError("shape", detail="state_version")
        proposals = []
        for name in PROPOSALS:
            item = data["proposals"].get(name)
            if not isinstance(item, dict):
                raise StateError("shape", detail=name)
            rs = ruleset_from_dict(item.get("rules"), source=name)
            note = SuggestionNote.from_dict(item.get("suggestion"))
            proposals.append(Proposal(replace(rs, name=name), note))
        active = data.get("active")
        capacity = data.get("capacity")
        return cls(
            tuple(proposals),
            active=active if active in PROPOSALS else PROPOSALS[0],
            capacity=Capacity.from_dict(capacity if isinstance(capacity, dict) else {}),
        )

    # --- the URL form -----------------------------------------------------------------------

    def to_query(self) -> dict[str, str]:
        """The URL parameters that share this state: the active rules as ``rules`` (what a
        link has always carried), the other proposal's as ``other`` when they differ, and the
        capacity inputs.

        >>> sorted(TunerState.starting(RuleSet()).to_query())
        ['per_rep', 'proposal', 'reps', 'rules', 'target']
        """
        query = {
            "rules": encode_ruleset(self.rules()),
            "proposal": self.active,
            "reps": str(self.capacity.reps),
            "per_rep": str(self.capacity.per_rep),
            "target": f"{self.capacity.target:g}",
        }
        if self.rules(self.other) != replace(self.rules(), name=self.other):
            query["other"] = encode_ruleset(self.rules(self.other))
        return query

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TunerState | None:
        """Read :meth:`to_query` (None without ``rules``). A link with ``rules`` alone, as
        older links are, gives both proposals those rules. Damaged rules raise
        :class:`~funnel.rules.RuleSetError`.

        >>> s = TunerState.starting(RuleSet()).with_rules("sales", RuleSet(score_cap=50))
        >>> s = replace(s, active="sales", capacity=Capacity(2, 30, 0.25))
        >>> TunerState.from_query(s.to_query()).same_as(s)
        True
        """
        text = query.get("rules")
        if not text:
            return None
        active = query.get("proposal")
        active = active if active in PROPOSALS else PROPOSALS[0]
        rs = decode_ruleset(text)
        other_text = query.get("other")
        other = decode_ruleset(other_text) if other_text else rs
        other_name = PROPOSALS[1 - PROPOSALS.index(active)]
        state = cls.starting(rs).with_rules(other_name, other)
        return replace(state, active=active, capacity=Capacity.from_dict(dict(query)))


# --- kept per dataset in the store ------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """A dataset's stored tuner state and when it was saved."""

    state: TunerState
    saved_at: datetime


def load_state(store: Store, info: DatasetInfo) -> Saved | None:
    """The tuner state saved for a dataset, or None when nothing was saved.

    A state that cannot be used on the dataset as it is now (damaged, or naming columns a
    reload removed) raises :class:`StateError` or :class:`~funnel.rules.RuleSetError`.
    """
    row = store.tuner_state(info.name)
    if row is None:
        return None
    text, saved_at = row
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError("shape", detail=str(exc)[:80]) from None
    state = TunerState.from_dict(data)
    state.check(store.column_facts(info), source="saved tuner state")
    return Saved(state, saved_at)


def save_state(
    store: Store, info: DatasetInfo, state: TunerState, *, by: Actor | None = None
) -> None:
    """Keep a dataset's tuner state in the store (replacing what was kept); ``by`` needs the
    ``edit_versions`` role where sign-in is required (:meth:`Store.save_tuner_state`)."""
    store.save_tuner_state(info.name, json.dumps(state.as_dict(), ensure_ascii=False), by=by)
