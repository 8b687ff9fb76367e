"""Sign-off: a draft is proposed, then signed by marketing and by sales (two people)."""

from __future__ import annotations

from datetime import datetime

from funnel.store import VERSION_EVENTS, Store
from funnel.versions.history import get_version
from funnel.versions.record import ROLES, Version, VersionError, checked_text


def propose(store: Store, version_id: int, person: str, *, now: datetime | None = None) -> Version:
    """Mark a draft as proposed for sign-off."""
    person = checked_text(person, "name", required=True)
    v = get_version(store, version_id)
    if v.status != "draft":
        raise VersionError("not_draft", label=v.label(), status=v.status)
    _event(store, version_id, "proposed", None, person, "", now)
    return get_version(store, version_id)


def sign(
    store: Store,
    version_id: int,
    role: str,
    person: str,
    comment: str = "",
    *,
    now: datetime | None = None,
) -> Version:
    """Record one side's sign-off; the second side's makes the version agreed (and current)."""
    if role not in ROLES:
        raise VersionError("bad_role", role=role, roles=", ".join(ROLES))
    person = checked_text(person, "name", required=True)
    comment = checked_text(comment, "comment")
    v = get_version(store, version_id)
    if v.status == "draft":
        raise VersionError("sign_draft", label=v.label())
    if v.signoff(role) is not None:
        signed = v.signoff(role)
        assert signed is not None
        raise VersionError("already_signed", label=v.label(), role=role, name=signed.name)
    other = [s for s in v.signoffs if s.role != role]
    if any(s.name.casefold() == person.casefold() for s in other):
        raise VersionError("same_person", name=person)
    _event(store, version_id, "signed", role, person, comment, now)
    return get_version(store, version_id)


def _event(
    store: Store,
    version_id: int,
    kind: str,
    role: str | None,
    person: str,
    comment: str,
    now: datetime | None,
) -> None:
    at = (now or datetime.now()).replace(microsecond=0)
    with store.transaction() as cur:
        row = cur.execute(f"SELECT coalesce(max(event_id), 0) + 1 FROM {VERSION_EVENTS}").fetchone()
        event_id = int(row[0]) if row else 1
        cur.execute(
            f"INSERT INTO {VERSION_EVENTS} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [event_id, version_id, kind, role, person, comment, at],
        )
