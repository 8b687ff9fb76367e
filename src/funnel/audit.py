"""The audit log: every change to the store, who made it, when, and from which files.

Rows are appended in the same transaction as the change they describe (a change that fails
leaves no row, a row never describes a change that did not happen) and are never updated or
deleted: a renamed or deleted dataset keeps its rows under the name it had then.

Actions: ``dataset.loaded`` (a new name) and ``dataset.refreshed`` (loaded over an existing
one), ``dataset.renamed``, ``dataset.deleted``, ``feedback.loaded`` (sales' verdicts);
``version.saved``, ``version.imported``, ``version.proposed``, ``version.signed``;
``access.required``, ``access.roles`` (the roles in force changed) and ``access.off``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from funnel.access import Actor
    from funnel.store import Store

AUDIT = "funnel_audit"
ACTIONS = (
    "dataset.loaded",
    "dataset.refreshed",
    "dataset.renamed",
    "dataset.deleted",
    "feedback.loaded",
    "version.saved",
    "version.imported",
    "version.proposed",
    "version.signed",
    "access.required",
    "access.roles",
    "access.off",
)


@dataclass(frozen=True)
class AuditEvent:
    """One row of the audit log."""

    event_id: int
    at: datetime
    actor: str
    actor_name: str
    via: str
    action: str
    dataset: str | None
    version_id: int | None
    fingerprint: str | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``funnel audit --json``."""
        return {
            "id": self.event_id,
            "at": self.at.isoformat(timespec="seconds"),
            "actor": self.actor,
            "actor_name": self.actor_name,
            "via": self.via,
            "action": self.action,
            "dataset": self.dataset,
            "version_id": self.version_id,
            "fingerprint": self.fingerprint,
            "detail": self.detail,
        }


def create_table(cur: duckdb.DuckDBPyConnection) -> None:
    """The audit table and its sequence (a schema migration step)."""
    cur.execute("CREATE SEQUENCE IF NOT EXISTS funnel_audit_seq START 1")
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {AUDIT} (
            event_id BIGINT NOT NULL PRIMARY KEY,
            happened_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            actor_name VARCHAR NOT NULL,
            via VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            dataset VARCHAR,
            version_id BIGINT,
            fingerprint VARCHAR,
            detail VARCHAR NOT NULL
        )"""
    )


def append(
    cur: duckdb.DuckDBPyConnection,
    actor: Actor,
    action: str,
    *,
    dataset: str | None = None,
    version_id: int | None = None,
    fingerprint: str | None = None,
    now: datetime | None = None,
    **detail: Any,
) -> None:
    """Append one row, on the cursor of the transaction making the change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = cur.execute("SELECT nextval('funnel_audit_seq')").fetchone()
    event_id = int(row[0]) if row else 0
    at = now or datetime.now()
    if actor.signed_in:
        detail = {"issuer": actor.issuer, "subject": actor.subject} | detail
    cur.execute(
        f"INSERT INTO {AUDIT} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            event_id,
            at,
            actor.id,
            actor.name,
            actor.via,
            action,
            dataset,
            version_id,
            fingerprint,
            json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
        ],
    )


def events(
    store: Store,
    *,
    dataset: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """The log, oldest first (the last ``limit`` rows when given)."""
    where: list[str] = []
    params: list[Any] = []
    if dataset is not None:
        where.append("dataset = ?")
        params.append(dataset)
    if action is not None:
        where.append("action = ?")
        params.append(action)
    sql = f"SELECT * FROM {AUDIT}" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY event_id DESC" + (" LIMIT ?" if limit is not None else "")
    if limit is not None:
        params.append(int(limit))
    with store.cursor() as cur:
        rows = cur.execute(sql, params).fetchall()
    return [
        AuditEvent(
            event_id=int(r[0]),
            at=r[1],
            actor=str(r[2]),
            actor_name=str(r[3]),
            via=str(r[4]),
            action=str(r[5]),
            dataset=None if r[6] is None else str(r[6]),
            version_id=None if r[7] is None else int(r[7]),
            fingerprint=None if r[8] is None else str(r[8]),
            detail=json.loads(r[9]),
        )
        for r in reversed(rows)
    ]


__all__ = ["ACTIONS", "AUDIT", "AuditEvent", "append", "create_table", "events"]
