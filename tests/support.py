"""Helpers shared by test modules (import as ``tests.support``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from funnel.store import Store


@dataclass(frozen=True)
class Snapshot:
    """What a stored dataset looks like: catalog counts plus checksums of its tables."""

    schema: str
    counts: tuple[int, int, int, int]
    leads_sha: str
    outcomes_sha: str


def table_sha(store: Store, sql: str) -> str:
    """Checksum a query's result, to prove stored data did not change."""
    frame = store.fetch_frame(sql)
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def snapshot(store: Store, name: str) -> Snapshot:
    """Capture a stored dataset's catalog counts and table checksums."""
    info = store.require(name)
    return Snapshot(
        schema=info.schema,
        counts=(info.leads, info.won, info.lost, info.open),
        leads_sha=table_sha(store, f"SELECT * FROM {info.table('leads')}"),
        outcomes_sha=table_sha(store, f"SELECT * FROM {info.table('outcomes')}"),
    )
