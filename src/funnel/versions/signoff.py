"""Sign-off: a draft is proposed, then signed by marketing and by sales (two people)."""

from __future__ import annotations

from datetime import datetime

from funnel import audit
from funnel.access import Actor
from funnel.store import VERSION_EVENTS, Store
from funnel.versions.history import get_version
from funnel.versions.record import ROLES, Version, VersionError, checked_text


def propose(
    store: Store,
    version_id: int,
    person: str = "",
    *,
    now: datetime | None = None,
    by: Actor | None = None,
) -> Version:
    """Mark a draft as proposed for sign-off (a signed-in ``by`` is the one who proposes)."""
    by = store.allow(by, "edit_versions")
    person = checked_text(by.name if by.signed_in else person, "name", required=True)
    v = get_version(store, version_id)
    if v.status != "draft":
        raise VersionError("not_draft", label=v.label(), status=v.status)
    _event(store, v, "proposed", None, person, "", now, by)
    return get_version(store, version_id)


def sign(
    store: Store,
    version_id: int,
    role: str,
    person: str = "",
    comment: str = "",
    *,
    now: datetime | None = None,
    by: Actor | None = None,
) -> Version:
    """Record one side's sign-off; the second side's makes the version agreed (and current).

    ``by`` is who signs. Where the database requires sign-in, only a signed-in person
    holding the side's role may, and the signature records their name and e-mail from the
    identity provider (``person`` is not used). One person never holds both signatures of
    a version, whatever their roles.
    """
    if role not in ROLES:
        raise VersionError("bad_role", role=role, roles=", ".join(ROLES))
    by = store.allow(by, f"sign_{role}")
    email = by.email
    person = checked_text(by.name if by.signed_in else person, "name", required=True)
    comment = checked_text(comment, "comment")
    v = get_version(store, version_id)
    if v.status == "draft":
        raise VersionError("sign_draft", label=v.label())
    if v.signoff(role) is not None:
        signed = v.signoff(role)
        assert signed is not None
        raise VersionError("already_signed", label=v.label(), role=role, name=signed.name)
    other = [s for s in v.signoffs if s.role != role]
    if any(s.same_person(person, email) for s in other):
        raise VersionError("same_person", name=email or person)
    _event(store, v, "signed", role, person, comment, now, by)
    return get_version(store, version_id)


def _event(
    store: Store,
    v: Version,
    kind: str,
    role: str | None,
    person: str,
    comment: str,
    now: datetime | None,
    by: Actor,
) -> None:
    at = (now or datetime.now()).replace(microsecond=0)
    with store.transaction() as cur:
        # checked again inside the transaction: two sessions signing the same side at once
        taken = cur.execute(
            f"SELECT person FROM {VERSION_EVENTS} WHERE version_id = ? AND kind = ? "
            "AND role IS NOT DISTINCT FROM ?",
            [v.version_id, kind, role],
        ).fetchone()
        if taken is not None and kind == "signed":
            raise VersionError("already_signed", label=v.label(), role=role, name=str(taken[0]))
        if taken is not None:
            raise VersionError("not_draft", label=v.label(), status="proposed")
        row = cur.execute(f"SELECT coalesce(max(event_id), 0) + 1 FROM {VERSION_EVENTS}").fetchone()
        event_id = int(row[0]) if row else 1
        cur.execute(
            f"INSERT INTO {VERSION_EVENTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [event_id, v.version_id, kind, role, person, comment, at, by.email or None, by.via],
        )
        audit.append(
            cur,
            by,
            f"version.{kind}",
            dataset=v.dataset,
            version_id=v.version_id,
            fingerprint=v.fingerprint,
            now=at,
            label=v.label(),
            **({"role": role, "name": person} if role else {}),
        )
