"""A saved version of a rule set: what it holds, who signed it, and its status.

A version is saved once and never changed: its rule set, the mapping of the data it was tuned
on (so the CLI can score new files the same way), who saved it and why, and the metrics at the
time. What happens to it afterwards — proposed, signed by marketing, signed by sales — is a
list of events appended beside it. Its status follows from those events: ``draft`` until
proposed, ``proposed`` until both roles have signed, then ``agreed``. The ``current`` version
of a dataset is the one agreed last; older agreed versions stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from funnel.i18n import CodedError, t
from funnel.mapping import Mapping
from funnel.rules import RuleSet

ROLES = ("marketing", "sales")

STATUSES = ("draft", "proposed", "agreed")

MAX_TEXT = 2000


class VersionError(CodedError):
    """A version action that cannot be done; ``code`` selects the user-facing message.

    The field, status and role words it names are in the reader's language too.

    >>> VersionError("not_draft", label="hot v2", status="proposed").message("ja").split("。")[0]
    'hot v2 はすでに 提案中 です'
    >>> VersionError("already_signed", label="v2", role="sales", name="Kai").message("ja")[:22]
    'v2 は 営業 として Kai がすでに承認'

    """

    prefix = "versions"

    def localized(self, lang: str) -> dict[str, Any]:
        params = dict(self.params)
        if "what" in params:  # the field's name in the reader's language
            params["what"] = t(f"versions.what.{params['what']}", lang)
        if params.get("status") in STATUSES:
            params["status"] = t(f"cli.status.{params['status']}", lang)
        if params.get("role") in ROLES:  # an unknown role is what the user typed: kept as is
            params["role"] = t(f"cli.role.{params['role']}", lang)
        return params


@dataclass(frozen=True)
class Signoff:
    """One side's sign-off: ``marketing`` or ``sales``, who, when, and an optional comment."""

    role: str
    name: str
    at: datetime
    comment: str = ""
    #: The signer's e-mail from the identity provider ("" when signed without sign-in).
    email: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {
            "role": self.role,
            "name": self.name,
            "at": self.at.isoformat(timespec="seconds"),
            "comment": self.comment,
        }
        if self.email:
            out["email"] = self.email
        return out

    def same_person(self, name: str, email: str) -> bool:
        """Whether this signature was made by the person named (by e-mail when both have one).

        >>> s = Signoff("marketing", "Mara", datetime(2026, 1, 1), email="mara@example.com")
        >>> s.same_person("Mara", "mara2@example.com"), s.same_person("x", "MARA@example.com")
        (False, True)
        """
        if self.email and email:
            return self.email.casefold() == email.casefold()
        return self.name.casefold() == name.casefold()


@dataclass(frozen=True)
class Version:
    """One saved version of a rule set, with what happened to it since."""

    ruleset: RuleSet
    dataset: str
    number: int
    author: str
    rationale: str
    effective_from: date | None
    tuned_on: str
    fingerprint: str
    metrics: dict[str, Any]
    saved_at: datetime
    mapping: Mapping | None = None
    proposed_at: datetime | None = None
    proposed_by: str = ""
    signoffs: tuple[Signoff, ...] = ()
    version_id: int = field(default=0, compare=False)
    current: bool = field(default=False, compare=False)

    @property
    def name(self) -> str:
        return self.ruleset.name

    @property
    def status(self) -> str:
        if {s.role for s in self.signoffs} >= set(ROLES):
            return "agreed"
        return "proposed" if self.proposed_at is not None else "draft"

    @property
    def agreed_at(self) -> datetime | None:
        if self.status != "agreed":
            return None
        return max(s.at for s in self.signoffs)

    def signoff(self, role: str) -> Signoff | None:
        return next((s for s in self.signoffs if s.role == role), None)

    def label(self) -> str:
        """``name v3`` — how people refer to it."""
        return f"{self.name} v{self.number}"


def checked_text(value: Any, what: str, *, required: bool = False) -> str:
    """A name, comment or rationale as stored: spaces collapsed (a rationale keeps its lines),
    refused when empty but ``required`` or longer than :data:`MAX_TEXT`.

    >>> checked_text("  Aiko   Tanaka ", "name")
    'Aiko Tanaka'
    """
    text = " ".join(str(value or "").split()) if what != "rationale" else str(value or "").strip()
    if required and not text:
        raise VersionError("empty", what=what)
    if len(text) > MAX_TEXT:
        raise VersionError("too_long", what=what, limit=MAX_TEXT)
    return text
