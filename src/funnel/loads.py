"""The load history: every load of every dataset, kept (when, which files, what it did).

One row per load, appended in the transaction that stores the dataset, so the history and the
data never disagree: ``mode`` is ``new`` (a first load), ``replace`` (the dataset became the new
files) or ``refresh`` (updated by lead id, :mod:`funnel.refresh`); ``files`` names each file
with its role, rows and SHA-256 fingerprint. A rename carries the history along; deleting a
dataset deletes its history with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from funnel.refresh import RefreshPlan

LOADS = "funnel_loads"


@dataclass(frozen=True)
class LoadRecord:
    """One load of a dataset. The counts of a ``new`` or ``replace`` load are ``added`` only
    (every lead of the files); a refresh fills them all."""

    load_id: int
    dataset: str
    loaded_at: datetime
    mode: str
    files: tuple[dict[str, Any], ...]
    rows: int
    leads: int
    added: int
    changed: int | None
    unchanged: int | None
    missing: int | None
    outcomes_changed: int | None
    recorded_changed: int | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``funnel datasets --history --json``."""
        return {
            "dataset": self.dataset,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "mode": self.mode,
            "files": [dict(f) for f in self.files],
            "rows": self.rows,
            "leads": self.leads,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "outcomes_changed": self.outcomes_changed,
            "recorded_outcomes_changed": self.recorded_changed,
        }


def create_table(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the load history (a schema migration step)."""
    cur.execute("CREATE SEQUENCE IF NOT EXISTS funnel_load_seq START 1")
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {LOADS} (
            load_id BIGINT NOT NULL PRIMARY KEY,
            dataset VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            mode VARCHAR NOT NULL,
            files VARCHAR NOT NULL,
            rows BIGINT NOT NULL,
            leads BIGINT NOT NULL,
            added BIGINT NOT NULL,
            changed BIGINT,
            unchanged BIGINT,
            missing BIGINT,
            outcomes_changed BIGINT,
            recorded_changed BIGINT
        )"""
    )


def file_entries(files: Any) -> list[dict[str, Any]]:
    """What the history keeps of each file: its name, role, rows and SHA-256."""
    return [
        {
            "name": f.get("name"),
            "role": f.get("role", "leads" if i == 0 else None),  # stored before roles were
            "rows": f.get("rows"),
            "sha256": f.get("sha256"),
        }
        for i, f in enumerate(files)
    ]


def append(
    cur: duckdb.DuckDBPyConnection,
    dataset: str,
    loaded_at: datetime,
    files: Any,
    leads: int,
    *,
    replaced: bool,
    plan: RefreshPlan | None = None,
) -> None:
    """Record a load inside the transaction that stores it."""
    entries = file_entries(files)
    rows = next((int(f["rows"] or 0) for f in entries if f["role"] == "leads"), leads)
    if plan is not None:
        counts: list[Any] = [
            plan.added,
            plan.changed,
            plan.unchanged,
            plan.missing,
            plan.outcomes_changed,
            plan.recorded_changed,
        ]
        mode = "refresh"
    else:
        counts = [leads, None, None, None, None, None]
        mode = "replace" if replaced else "new"
    cur.execute(
        f"INSERT INTO {LOADS} VALUES (nextval('funnel_load_seq'), ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?)",
        [dataset, loaded_at, mode, json.dumps(entries, ensure_ascii=False), rows, leads, *counts],
    )


def history(cur: duckdb.DuckDBPyConnection, dataset: str | None = None) -> list[LoadRecord]:
    """Every load of ``dataset`` (of all datasets when None), oldest first."""
    where, params = ("WHERE dataset = ?", [dataset]) if dataset is not None else ("", [])
    rows = cur.execute(f"SELECT * FROM {LOADS} {where} ORDER BY load_id", params).fetchall()
    return [
        LoadRecord(
            load_id=int(r[0]),
            dataset=str(r[1]),
            loaded_at=r[2],
            mode=str(r[3]),
            files=tuple(json.loads(r[4])),
            rows=int(r[5]),
            leads=int(r[6]),
            added=int(r[7]),
            changed=_int(r[8]),
            unchanged=_int(r[9]),
            missing=_int(r[10]),
            outcomes_changed=_int(r[11]),
            recorded_changed=_int(r[12]),
        )
        for r in rows
    ]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def history_row(record: LoadRecord, lang: str) -> dict[str, str]:
    """One load as the cells of a history table (keys name the ``loads.col.*`` headers); the
    CLI prints them and the Data page shows them."""
    from funnel.i18n import t

    def count(value: int | None) -> str:
        return "–" if value is None else f"{value:,}"

    files = "; ".join(
        f"{f.get('name')} ({str(f['sha256'])[:12]})" if f.get("sha256") else str(f.get("name"))
        for f in record.files
    )
    return {
        "loaded_at": f"{record.loaded_at:%Y-%m-%d %H:%M:%S}",
        "dataset": record.dataset,
        "mode": t(f"loads.mode.{record.mode}", lang),
        "rows": count(record.rows),
        "added": count(record.added),
        "changed": count(record.changed),
        "unchanged": count(record.unchanged),
        "missing": count(record.missing),
        "outcomes_changed": count(record.outcomes_changed),
        "leads": count(record.leads),
        "files": files,
    }
