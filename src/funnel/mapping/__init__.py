"""Column mapping: which column is the id, the dates, the source, the outcome, and the features.

This module is the model (:class:`Mapping` of :class:`ColumnSpec` and an :class:`OutcomeSpec`,
and the :class:`Overrides` a person names by hand); beside it, one module per idea:
:mod:`funnel.mapping.propose` proposes a mapping from headers and values,
:mod:`funnel.mapping.leaks` flags columns recorded after the sale, :mod:`funnel.mapping.files`
reads and writes the YAML mapping file, and :mod:`funnel.mapping.rows` is the Data page's
editable table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

import pandas as pd

from funnel.parsing import DEFAULT_PLACEHOLDERS, normalise_token
from funnel.problems import LoadError, Problem

Role = Literal[
    "id",
    "created",
    "source",
    "outcome",
    "stage",
    "closed",
    "amount",
    "attribute",
    "number",
    "behaviour",
    "ignore",
    "first_contact",
]


ROLES: tuple[Role, ...] = get_args(Role)


#: Roles a lead can be scored on.
FEATURE_ROLES: tuple[Role, ...] = ("source", "attribute", "number", "behaviour")


#: Roles of which a file has at most one column.
SINGLE_ROLES: tuple[Role, ...] = (
    "id",
    "created",
    "source",
    "outcome",
    "closed",
    "amount",
    "first_contact",
)


MAPPING_VERSION = 1


def norm(name: str) -> str:
    """Normalise a header for matching: NFKC, lower case, no spaces or punctuation.

    >>> norm(" Lead ID "), norm("リードＩＤ"), norm("first_contact_date")
    ('leadid', 'リードid', 'firstcontactdate')
    """
    s = unicodedata.normalize("NFKC", name).lower()
    return re.sub(r"[\s_\-./:()\[\]【】（）・]+", "", s)


_WORDS = re.compile(r"[A-Za-z]+(?:[ _\-][A-Za-z]+)*")


def unit_label(name: str) -> str | None:
    """One unit of a count column, in words, when its name is English words ending in a plural
    ("web_visits" → "web visit"); None otherwise (another script, or no plural to count).

    >>> unit_label("web_visits"), unit_label("inquiries"), unit_label("Email Opens")
    ('web visit', 'inquiry', 'email open')
    >>> unit_label("webinars_attended"), unit_label("訪問回数"), unit_label("status")
    (None, None, None)
    """
    text = name.strip()
    if not _WORDS.fullmatch(text):
        return None
    words = [w.lower() for w in re.split(r"[ _\-]+", text)]
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        one = last[:-3] + "y"
    elif last.endswith(("sses", "shes", "ches", "xes")):
        one = last[:-2]
    elif last.endswith("s") and not last.endswith(("ss", "us", "is")) and len(last) > 3:
        one = last[:-1]
    else:
        return None
    return " ".join([*words[:-1], one])


@dataclass(frozen=True)
class ColumnSpec:
    """How one column of an input file is used."""

    name: str
    role: Role
    stage: str | None = None
    #: Known only after the sale: never scored.
    leak: bool = False
    #: Why it is (or was, before a person overruled it) flagged: a message key such as
    #: ``leak.number_above``, rendered with :attr:`evidence` by
    #: :func:`funnel.mapping.leaks.reason_text`.
    reason: str | None = None
    #: The figures the reason's sentence quotes (``won``: ``100%``, ``cut``: ``0`` ...).
    evidence: tuple[tuple[str, str], ...] = ()
    #: A person set ``leak`` (a mapping file's ``leak:``, the Data page's checkbox, a CLI
    #: flag): leak detection leaves the column as they said.
    by_user: bool = field(default=False, compare=False)

    @property
    def overruled(self) -> bool:
        """Flagged from evidence, and scored anyway because a person said so."""
        return not self.leak and self.reason is not None

    def to_yaml_value(self) -> str | dict[str, Any]:
        role = role_choice(self)
        if not (self.leak or self.by_user or self.reason):
            return role
        out: dict[str, Any] = {"role": role, "leak": self.leak}
        if self.reason:
            out["reason"] = self.reason
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        return out


@dataclass(frozen=True)
class OutcomeSpec:
    """Where the outcome comes from and which values mean won, lost and open."""

    file: Literal["leads", "outcomes"] = "leads"
    column: str | None = None
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    won_only: bool = False  # the outcomes file lists only won deals

    def classify(self, value: str) -> str | None:
        """Return ``won``/``lost``/``open`` for a raw value, or None if unknown.

        >>> OutcomeSpec(column="y", won=("yes",), lost=("no",)).classify(" YES ")
        'won'
        """
        key = normalise_token(value)
        for label, values in (("won", self.won), ("lost", self.lost), ("open", self.open)):
            if key in {normalise_token(v) for v in values}:
                return label
        return None

    def labels(self, series: pd.Series) -> pd.Series:
        """Classify a whole column (per distinct value, so fast on millions of rows).

        >>> OutcomeSpec(column="y", won=("1",), lost=("0",)).labels(pd.Series(["1", "0", None]))
        0     won
        1    lost
        2     NaN
        dtype: str
        """
        text = series.astype("str")
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        # one label per distinct value, then a take: mapping a dict over every row cost more
        # than the rest of the proposal's leak checks on a 1M-row file
        labels = pd.array([self.classify(str(v)) for v in uniques] + [None], dtype="str")
        return pd.Series(labels.take(codes), index=series.index, name=series.name)


#: Sales' verdicts on a lead (:mod:`funnel.feedback`), in the order they are listed.
DISPOSITIONS = ("accepted", "rejected", "not_contacted")


@dataclass(frozen=True)
class DispositionSpec:
    """Sales' verdict read from the leads file: the column holding each lead's status (a lead
    status such as ``Disqualified - No budget``) and/or its disqualification reason, and which
    status values mean accepted, rejected and not contacted.

    The columns keep their own roles (a status is usually an attribute known only after the
    sale, or the outcome itself); this only says how to read them as dispositions
    (:mod:`funnel.mapping.dispositions`). Without a status column, a lead with a reason is
    rejected.
    """

    column: str | None = None
    reason: str | None = None
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    not_contacted: tuple[str, ...] = ()

    def classify(self, value: str) -> str | None:
        """The disposition a status value means, or None.

        >>> spec = DispositionSpec("s", rejected=("Disqualified - No budget",))
        >>> spec.classify("disqualified -  no budget"), spec.classify("Disqualified")
        ('rejected', None)
        """
        key = normalise_token(value)
        for disposition in DISPOSITIONS:
            if key in {normalise_token(v) for v in getattr(self, disposition)}:
                return disposition
        return None

    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.column, self.reason) if c is not None)


@dataclass(frozen=True)
class Mapping:
    """The confirmed meaning of every column of the leads (and outcomes/activities) files."""

    leads: tuple[ColumnSpec, ...]
    outcome: OutcomeSpec | None = None
    outcomes: tuple[ColumnSpec, ...] = ()
    activities: tuple[ColumnSpec, ...] = ()
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    first_stage: str = "lead"
    notes: tuple[str, ...] = field(default=(), compare=False)
    #: Sales' verdict read from the leads file's status or reason column (None: not read).
    disposition: DispositionSpec | None = None

    def column(self, role: Role, file: str = "leads") -> str | None:
        """Return the column holding a single-valued role, if any."""
        for spec in self._specs(file):
            if spec.role == role:
                return spec.name
        return None

    def features(self) -> list[ColumnSpec]:
        """Columns a lead may be scored on: never leaks, never outcomes-file columns."""
        return [s for s in self.leads if s.role in FEATURE_ROLES and not s.leak]

    def labels(self) -> dict[str, str]:
        """Each behaviour column's unit label, where its name gives one (:func:`unit_label`):
        what a rule counting its units calls one of them ("Each web visit")."""
        found = {s.name: unit_label(s.name) for s in self.leads if s.role == "behaviour"}
        return {name: label for name, label in found.items() if label is not None}

    def stage_columns(self) -> dict[str, str]:
        return {s.stage: s.name for s in self.leads if s.role == "stage" and s.stage}

    def _specs(self, file: str) -> tuple[ColumnSpec, ...]:
        return {"leads": self.leads, "outcomes": self.outcomes, "activities": self.activities}[file]

    def with_role(self, name: str, role: Role, *, file: str = "leads") -> Mapping:
        """Return a copy with one column's role changed (single roles move, not duplicate)."""
        specs = list(self._specs(file))
        out = []
        for s in specs:
            if s.name == name:
                out.append(replace(s, role=role, leak=False if role in SINGLE_ROLES else s.leak))
            elif role in SINGLE_ROLES and s.role == role:
                out.append(replace(s, role=_fallback_role(s)))
            else:
                out.append(s)
        return with_specs(self, file, tuple(out))


def with_specs(mapping: Mapping, file: str, specs: tuple[ColumnSpec, ...]) -> Mapping:
    """Return the mapping with one file's column specs replaced."""
    if file == "outcomes":
        return replace(mapping, outcomes=specs)
    if file == "activities":
        return replace(mapping, activities=specs)
    return replace(mapping, leads=specs)


def _fallback_role(spec: ColumnSpec) -> Role:
    return "attribute" if spec.role in ("source", "outcome", "id") else "ignore"


@dataclass(frozen=True)
class Overrides:
    """Roles and values a person names by hand over a mapping (``funnel load``'s flags).

    ``outcome`` is the leads file's outcome column, used when ``won``/``lost``/``open`` values
    are given and the mapping has no outcome yet; ``leaks`` are columns known only after the
    sale, ``not_leaks`` columns a person says are known before it (a flag from evidence
    overruled); ``placeholders`` are extra values meaning missing.
    """

    id_column: str | None = None
    created: str | None = None
    source: str | None = None
    outcome: str | None = None
    won: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    leaks: tuple[str, ...] = ()
    not_leaks: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    #: The date sales first touched the lead; the column read as each lead's status (sales'
    #: verdict), and status values meaning accepted, rejected and not contacted.
    first_contact: str | None = None
    lead_status: str | None = None
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    not_contacted: tuple[str, ...] = ()


def require_column(columns: Sequence[str], column: str, file: str) -> None:
    """Refuse a column a person named that the file does not have, listing the ones it has."""
    if column not in columns:
        available = ", ".join(list(columns)[:12])
        raise LoadError(
            [Problem("column_missing", file, column=column, params={"available": available})]
        )


def apply_overrides(mapping: Mapping, overrides: Overrides, file: str) -> Mapping:
    """Return ``mapping`` with the hand-named roles, outcome values, leaks and placeholders.

    A named column the leads file lacks is refused (:class:`~funnel.problems.LoadError`).

    >>> m = Mapping(leads=(ColumnSpec("a", "attribute"), ColumnSpec("b", "number")))
    >>> m = apply_overrides(m, Overrides(id_column="a", leaks=("b",)), "f.csv")
    >>> [(s.name, s.role, s.leak) for s in m.leads]
    [('a', 'id', False), ('b', 'number', True)]
    >>> m = apply_overrides(m, Overrides(not_leaks=("b",)), "f.csv")
    >>> [(s.name, s.leak, s.by_user) for s in m.leads][1]
    ('b', False, True)
    """
    names = [s.name for s in mapping.leads]
    roles: tuple[tuple[str | None, Role], ...] = (
        (overrides.id_column, "id"),
        (overrides.created, "created"),
        (overrides.source, "source"),
    )
    for col, role in roles:
        if col:
            require_column(names, col, file)
            mapping = mapping.with_role(col, role)
    if overrides.won or overrides.lost or overrides.open:
        base = mapping.outcome or OutcomeSpec(column=overrides.outcome)
        mapping = replace(mapping, outcome=outcome_values(base, overrides))
    for col in overrides.leaks + overrides.not_leaks:
        require_column(names, col, file)
    mapping = replace(
        mapping,
        leads=tuple(
            said(s, s.name in overrides.leaks)
            if s.name in overrides.leaks + overrides.not_leaks
            else s
            for s in mapping.leads
        ),
    )
    if overrides.placeholders:
        mapping = replace(mapping, placeholders=mapping.placeholders + overrides.placeholders)
    if overrides.first_contact:
        require_column(names, overrides.first_contact, file)
        mapping = mapping.with_role(overrides.first_contact, "first_contact")
    return disposition_values(mapping, overrides, file)


def disposition_values(mapping: Mapping, overrides: Overrides, file: str) -> Mapping:
    """Read the column a person named as the lead status, and add the status values they placed
    (``--accepted/--rejected/--not-contacted``); a value they placed moves out of the other lists.

    >>> m = Mapping(leads=(ColumnSpec("s", "attribute"),))
    >>> m = disposition_values(m, Overrides(lead_status="s", rejected=("Junk",)), "f.csv")
    >>> m.disposition
    DispositionSpec(column='s', reason=None, accepted=(), rejected=('Junk',), not_contacted=())
    """
    named = {normalise_token(v): d for d in DISPOSITIONS for v in getattr(overrides, d)}
    if not overrides.lead_status and not named:
        return mapping
    spec = mapping.disposition or DispositionSpec()
    if overrides.lead_status:
        require_column([s.name for s in mapping.leads], overrides.lead_status, file)
        spec = replace(spec, column=overrides.lead_status)
    if spec.column is None:
        raise LoadError([Problem("disposition_values_without_column", file)])

    def merged(d: str) -> tuple[str, ...]:
        kept = [v for v in getattr(spec, d) if named.get(normalise_token(v), d) == d]
        return tuple(dict.fromkeys([*kept, *getattr(overrides, d)]))

    spec = replace(
        spec,
        accepted=merged("accepted"),
        rejected=merged("rejected"),
        not_contacted=merged("not_contacted"),
    )
    return replace(mapping, disposition=spec)


def outcome_values(base: OutcomeSpec, overrides: Overrides) -> OutcomeSpec:
    """Add the values a person named (``--won/--lost/--open``) to an outcome's lists; a value
    they named moves out of the other lists, the others stay.

    >>> spec = OutcomeSpec(column="stage", won=("Won",), lost=("Lost",), open=("Demo",))
    >>> o = outcome_values(spec, Overrides(open=("Trial",), lost=("Demo",)))
    >>> o.won, o.lost, o.open
    (('Won',), ('Lost', 'Demo'), ('Trial',))
    """
    named = {
        normalise_token(v): label
        for label, values in (
            ("won", overrides.won),
            ("lost", overrides.lost),
            ("open", overrides.open),
        )
        for v in values
    }

    def merged(label: str, current: tuple[str, ...], added: tuple[str, ...]) -> tuple[str, ...]:
        kept = [v for v in current if named.get(normalise_token(v), label) == label]
        return tuple(dict.fromkeys([*kept, *added]))

    return replace(
        base,
        won=merged("won", base.won, overrides.won),
        lost=merged("lost", base.lost, overrides.lost),
        open=merged("open", base.open, overrides.open),
    )


def said(spec: ColumnSpec, leak: bool) -> ColumnSpec:
    """Return a column a person said is (or is not) known only after the sale; a flag's evidence
    stays, so the reader still sees why it was flagged."""
    reason: str | None
    if leak:
        reason = spec.reason or "leak.user"
    else:
        reason = None if spec.reason == "leak.user" else spec.reason
    return replace(spec, leak=leak, reason=reason, by_user=True)


def role_choice(spec: ColumnSpec) -> str:
    """Return the choice code of a column spec (``stage:mql`` for stage dates)."""
    return f"stage:{spec.stage}" if spec.role == "stage" else spec.role
