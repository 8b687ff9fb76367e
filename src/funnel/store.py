"""The embedded DuckDB store: named datasets side by side, each replaced all-or-nothing.

Layout: a catalog table ``funnel_datasets`` and, per dataset, a schema ``ds_<id>`` holding
``leads`` (the lead file's columns under their original names, typed), ``outcomes`` (``lead_id,
outcome, closed_at, amount``) and optionally ``activities`` (``lead_id, occurred_at,
activity_type``). A load writes a new schema and swaps the catalog row in one transaction, so a
failure, a crash or a kill leaves the previous dataset exactly as it was.

One connection per process; every query runs on its own cursor (DuckDB's threading model).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from funnel.i18n import CodedError
from funnel.mapping import Mapping, mapping_from_dict, mapping_to_dict

if TYPE_CHECKING:
    from funnel.ingest import Prepared

SCHEMA_VERSION = 3
DEFAULT_DB = Path("data") / "funnel.duckdb"
_CATALOG = "funnel_datasets"
_SETTINGS = "funnel_settings"
#: Rule-set versions (append-only) and the events on them (proposed, signed), see versions.py.
VERSIONS = "funnel_versions"
VERSION_EVENTS = "funnel_version_events"
#: Each lead's outcome, kept on the leads table too so metrics need no join (10x faster).
OUTCOME_COL = "_funnel_outcome"
CLOSED_COL = "_funnel_closed_at"
AMOUNT_COL = "_funnel_amount"
RESERVED_PREFIX = "_funnel_"


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB SQL.

    >>> print(quote_ident('a"b'), quote_ident("業種"))
    "a""b" "業種"
    """
    return '"' + name.replace('"', '""') + '"'


def default_db_path() -> Path:
    """Return the database path: ``$FUNNEL_DB`` or ``data/funnel.duckdb``."""
    env = os.environ.get("FUNNEL_DB", "").strip()
    return Path(env) if env else DEFAULT_DB


class StoreError(CodedError):
    """The database cannot be used as asked; ``code`` selects the message (``store.<code>``).

    >>> print(StoreError("dataset_exists", name="crm"))
    A dataset named crm already exists.
    """

    prefix = "store"


@dataclass(frozen=True)
class DatasetInfo:
    """A stored dataset's catalog entry."""

    dataset_id: int
    name: str
    schema: str
    loaded_at: datetime
    leads: int
    won: int
    lost: int
    open: int
    columns: tuple[str, ...]
    mapping: Mapping
    files: tuple[dict[str, Any], ...]
    report: tuple[dict[str, Any], ...]
    fingerprint: str

    @property
    def win_rate(self) -> float | None:
        decided = self.leads
        return self.won / decided if decided else None

    def table(self, table: str = "leads") -> str:
        """Return the quoted, schema-qualified name of one of this dataset's tables."""
        return f"{quote_ident(self.schema)}.{quote_ident(table)}"

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form printed by ``funnel datasets --json``."""
        return {
            "name": self.name,
            "leads": self.leads,
            "won": self.won,
            "lost": self.lost,
            "open": self.open,
            "win_rate": self.win_rate,
            "columns": list(self.columns),
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
            "files": list(self.files),
            "fingerprint": self.fingerprint,
            "mapping": mapping_to_dict(self.mapping),
        }


class Store:
    """A DuckDB database file holding funnel datasets."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = read_only
        self._write_lock = threading.Lock()
        self.conn = _open(self.path, read_only)
        try:
            if not read_only:
                self._migrate()
            elif not self._has_catalog():
                raise StoreError("db_not_initialised", path=str(self.path))
            elif self._version() < SCHEMA_VERSION:
                raise StoreError("db_old_schema", path=str(self.path), version=self._version())
        except duckdb.Error as exc:  # e.g. an upgrade that cannot write its log beside the file
            self.conn.close()
            raise _open_error(self.path, exc) from None
        except BaseException:
            self.conn.close()  # never keep a half-opened file locked
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a fresh cursor (its own connection to the same database), closed after use."""
        cur = self.conn.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor inside one write transaction: all of it is stored, or none of it."""
        self._writable()
        with self._write_lock, self.cursor() as cur:
            cur.begin()
            try:
                yield cur
                cur.commit()
            except BaseException:
                cur.rollback()
                raise

    # --- schema ---------------------------------------------------------------------------

    def _has_catalog(self) -> bool:
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [_CATALOG]
            ).fetchone()
        return bool(row and row[0])

    def _version(self) -> int:
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT value FROM funnel_meta WHERE key = 'schema_version'"
            ).fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        with self.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS funnel_meta (key VARCHAR, value VARCHAR)")
            row = cur.execute(
                "SELECT value FROM funnel_meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError("db_too_new", path=str(self.path), version=version)
            if version < 1:
                cur.begin()
                cur.execute("CREATE SEQUENCE IF NOT EXISTS funnel_dataset_seq START 1")
                cur.execute(
                    f"""CREATE TABLE IF NOT EXISTS {_CATALOG} (
                        dataset_id BIGINT NOT NULL,
                        name VARCHAR NOT NULL,
                        schema_name VARCHAR NOT NULL,
                        loaded_at TIMESTAMP NOT NULL,
                        leads BIGINT NOT NULL,
                        won BIGINT NOT NULL,
                        lost BIGINT NOT NULL,
                        open BIGINT NOT NULL,
                        columns VARCHAR NOT NULL,
                        mapping VARCHAR NOT NULL,
                        files VARCHAR NOT NULL,
                        report VARCHAR NOT NULL,
                        fingerprint VARCHAR NOT NULL
                    )"""
                )
                _set_version(cur, 1)
                cur.commit()
                version = 1
            if version < 2:
                cur.begin()
                self._migrate_to_2(cur)
                _set_version(cur, 2)
                cur.commit()
            if version < 3:
                cur.begin()
                _migrate_to_3(cur)
                _set_version(cur, 3)
                cur.commit()

    def _migrate_to_2(self, cur: duckdb.DuckDBPyConnection) -> None:
        """v2: per-dataset settings; each lead's outcome copied onto its leads table."""
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {_SETTINGS} "
            "(dataset VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL)"
        )
        rows = cur.execute(f"SELECT schema_name, mapping FROM {_CATALOG}").fetchall()
        for schema, mapping_json in rows:
            id_col = mapping_from_dict(json.loads(mapping_json)).column("id") or "lead_id"
            leads = f"{quote_ident(schema)}.leads"
            outcomes = f"{quote_ident(schema)}.outcomes"
            for col, kind in (
                (OUTCOME_COL, "VARCHAR"),
                (CLOSED_COL, "TIMESTAMP"),
                (AMOUNT_COL, "DOUBLE"),
            ):
                cur.execute(f"ALTER TABLE {leads} ADD COLUMN {quote_ident(col)} {kind}")
            cur.execute(
                f"UPDATE {leads} SET {quote_ident(OUTCOME_COL)} = o.outcome, "
                f"{quote_ident(CLOSED_COL)} = o.closed_at, {quote_ident(AMOUNT_COL)} = o.amount "
                f"FROM {outcomes} o "
                f"WHERE o.lead_id = CAST({leads}.{quote_ident(id_col)} AS VARCHAR)"
            )

    # --- reading --------------------------------------------------------------------------

    def datasets(self) -> list[DatasetInfo]:
        """List stored datasets, newest first."""
        with self.cursor() as cur:
            rows = cur.execute(
                f"SELECT * FROM {_CATALOG} ORDER BY loaded_at DESC, dataset_id DESC"
            ).fetchall()
            names = [d[0] for d in cur.description or ()]
        return [_info(dict(zip(names, r, strict=True))) for r in rows]

    def dataset(self, name: str) -> DatasetInfo | None:
        """Return one dataset by name, or None."""
        with self.cursor() as cur:
            rows = cur.execute(f"SELECT * FROM {_CATALOG} WHERE name = ?", [name]).fetchall()
            names = [d[0] for d in cur.description or ()]
        return _info(dict(zip(names, rows[0], strict=True))) if rows else None

    def require(self, name: str) -> DatasetInfo:
        """Return one dataset by name or raise ``StoreError('dataset_missing')``."""
        info = self.dataset(name)
        if info is None:
            known = ", ".join(d.name for d in self.datasets()) or "-"
            raise StoreError("dataset_missing", name=name, known=known)
        return info

    # --- writing --------------------------------------------------------------------------

    def save(self, name: str, prepared: Prepared) -> DatasetInfo:
        """Store a prepared dataset under ``name``, replacing any previous one atomically."""
        name = _valid_name(name)
        self._writable()
        tables: list[tuple[str, Any]] = [
            ("leads", _with_outcomes(prepared)),
            ("outcomes", prepared.outcomes),
        ]
        if prepared.activities is not None:
            tables.append(("activities", prepared.activities))
        with self._write_lock, self.cursor() as cur:
            cur.begin()
            try:
                (dataset_id,) = cur.execute("SELECT nextval('funnel_dataset_seq')").fetchone() or (
                    0,
                )
                schema = f"ds_{int(dataset_id)}"
                cur.execute(f"CREATE SCHEMA {quote_ident(schema)}")
                for table, frame in tables:
                    view = f"_funnel_in_{table}"
                    cur.register(view, frame)
                    cur.execute(
                        f"CREATE TABLE {quote_ident(schema)}.{quote_ident(table)} AS "
                        f"SELECT * FROM {quote_ident(view)}"
                    )
                    cur.unregister(view)
                old = cur.execute(
                    f"SELECT schema_name FROM {_CATALOG} WHERE name = ?", [name]
                ).fetchall()
                cur.execute(f"DELETE FROM {_CATALOG} WHERE name = ?", [name])
                for (old_schema,) in old:
                    cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(old_schema)} CASCADE")
                counts = prepared.counts
                cur.execute(
                    f"INSERT INTO {_CATALOG} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        int(dataset_id),
                        name,
                        schema,
                        datetime.now().replace(microsecond=0),
                        counts["leads"],
                        counts["won"],
                        counts["lost"],
                        counts["open"],
                        json.dumps(prepared.columns, ensure_ascii=False),
                        json.dumps(mapping_to_dict(prepared.mapping), ensure_ascii=False),
                        json.dumps(prepared.files, ensure_ascii=False),
                        json.dumps([p.as_dict() for p in prepared.problems], ensure_ascii=False),
                        prepared.fingerprint,
                    ],
                )
                cur.commit()
            except BaseException:
                cur.rollback()
                raise
        return self.require(name)

    def rename(self, old: str, new: str) -> DatasetInfo:
        """Rename a dataset; refuses to overwrite another one."""
        new = _valid_name(new)
        self._writable()
        self.require(old)
        if new != old and self.dataset(new) is not None:
            raise StoreError("dataset_exists", name=new)
        with self._write_lock, self.cursor() as cur:
            cur.begin()
            cur.execute(f"UPDATE {_CATALOG} SET name = ? WHERE name = ?", [new, old])
            cur.execute(f"UPDATE {_SETTINGS} SET dataset = ? WHERE dataset = ?", [new, old])
            # the history follows the dataset (each version keeps the name it was tuned on)
            cur.execute(f"UPDATE {VERSIONS} SET dataset = ? WHERE dataset = ?", [new, old])
            cur.commit()
        return self.require(new)

    def delete(self, name: str) -> None:
        """Delete a dataset and its tables in one transaction."""
        self._writable()
        info = self.require(name)
        with self._write_lock, self.cursor() as cur:
            cur.begin()
            try:
                cur.execute(f"DELETE FROM {_CATALOG} WHERE name = ?", [name])
                cur.execute(f"DELETE FROM {_SETTINGS} WHERE dataset = ?", [name])
                cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(info.schema)} CASCADE")
                cur.commit()
            except BaseException:
                cur.rollback()
                raise

    def setting(self, dataset: str, key: str) -> Any:
        """Return a per-dataset setting (JSON value), or None."""
        with self.cursor() as cur:
            row = cur.execute(
                f"SELECT value FROM {_SETTINGS} WHERE dataset = ? AND key = ?", [dataset, key]
            ).fetchone()
        return json.loads(row[0]) if row else None

    def set_setting(self, dataset: str, key: str, value: Any) -> None:
        """Remember a per-dataset setting (e.g. the funnel's stage order)."""
        self._writable()
        with self._write_lock, self.cursor() as cur:
            cur.begin()
            cur.execute(f"DELETE FROM {_SETTINGS} WHERE dataset = ? AND key = ?", [dataset, key])
            cur.execute(
                f"INSERT INTO {_SETTINGS} VALUES (?, ?, ?)",
                [dataset, key, json.dumps(value, ensure_ascii=False)],
            )
            cur.commit()

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("db_read_only", path=str(self.path))

    # --- queries used by pages and the CLI ----------------------------------------------------

    def leads_frame(self, info: DatasetInfo, limit: int | None = None) -> Any:
        """Return a dataset's leads with exactly its own columns (no reserved ones)."""
        cols = ", ".join(quote_ident(c) for c in info.columns)
        sql = f"SELECT {cols} FROM {info.table()}"
        return self.fetch_frame(sql + (" LIMIT ?" if limit else ""), [limit] if limit else [])

    def fetch_frame(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query on its own cursor and return a pandas frame."""
        with self.cursor() as cur:
            return cur.execute(sql, list(params)).df()


def _migrate_to_3(cur: duckdb.DuckDBPyConnection) -> None:
    """v3: rule-set versions and their sign-off events; both tables are only ever appended to."""
    cur.execute("CREATE SEQUENCE IF NOT EXISTS funnel_version_seq START 1")
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {VERSIONS} (
            version_id BIGINT NOT NULL PRIMARY KEY,
            dataset VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            number INTEGER NOT NULL,
            ruleset VARCHAR NOT NULL,
            mapping VARCHAR,
            author VARCHAR NOT NULL,
            rationale VARCHAR NOT NULL,
            effective_from DATE,
            tuned_on VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            metrics VARCHAR NOT NULL,
            saved_at TIMESTAMP NOT NULL,
            UNIQUE (dataset, name, number)
        )"""
    )
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {VERSION_EVENTS} (
            event_id BIGINT NOT NULL,
            version_id BIGINT NOT NULL,
            kind VARCHAR NOT NULL,
            role VARCHAR,
            person VARCHAR,
            comment VARCHAR,
            happened_at TIMESTAMP NOT NULL
        )"""
    )


def _set_version(cur: duckdb.DuckDBPyConnection, version: int) -> None:
    cur.execute("DELETE FROM funnel_meta WHERE key = 'schema_version'")
    cur.execute("INSERT INTO funnel_meta VALUES ('schema_version', ?)", [str(version)])


def _with_outcomes(prepared: Prepared) -> Any:
    """The leads frame plus each lead's outcome, closed date and amount (reserved columns)."""
    leads = prepared.leads
    id_col = prepared.mapping.column("id")
    outcomes = prepared.outcomes.set_index("lead_id")
    aligned = outcomes.reindex(leads[id_col].astype("str").to_numpy()) if id_col else outcomes
    return leads.assign(
        **{
            OUTCOME_COL: aligned["outcome"].to_numpy(),
            CLOSED_COL: aligned["closed_at"].to_numpy(),
            AMOUNT_COL: aligned["amount"].to_numpy(),
        }
    )


def _valid_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > 100:
        raise StoreError("bad_dataset_name", name=name)
    return cleaned


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise StoreError("db_missing", path=str(path))
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            # DuckDB writes a log beside the file: without a writable file and folder nothing
            # can be saved, so say so now rather than fail at the first save
            if not os.access(path.parent, os.W_OK) or (
                path.exists() and not os.access(path, os.W_OK)
            ):
                raise StoreError("db_read_only", path=str(path))
        return duckdb.connect(str(path), read_only=read_only)
    except PermissionError:
        raise StoreError("db_read_only", path=str(path)) from None
    except (duckdb.Error, OSError) as exc:
        raise _open_error(path, exc) from None


def _open_error(path: Path, exc: Exception) -> StoreError:
    """The StoreError for a DuckDB or OS error met while opening (or upgrading) a file."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, duckdb.IOException) and "lock" in lowered:
        return StoreError("db_locked", path=str(path))
    if any(w in lowered for w in ("read-only", "permission", "operation not permitted")):
        return StoreError("db_read_only", path=str(path))
    return StoreError("db_unreadable", path=str(path), detail=text[:200])


def _info(row: dict[str, Any]) -> DatasetInfo:
    return DatasetInfo(
        dataset_id=int(row["dataset_id"]),
        name=str(row["name"]),
        schema=str(row["schema_name"]),
        loaded_at=row["loaded_at"],
        leads=int(row["leads"]),
        won=int(row["won"]),
        lost=int(row["lost"]),
        open=int(row["open"]),
        columns=tuple(json.loads(row["columns"])),
        mapping=mapping_from_dict(json.loads(row["mapping"]), source="stored mapping"),
        files=tuple(json.loads(row["files"])),
        report=tuple(json.loads(row["report"])),
        fingerprint=str(row["fingerprint"]),
    )
