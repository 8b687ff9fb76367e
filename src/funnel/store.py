"""The embedded DuckDB store: named datasets side by side, each replaced all-or-nothing.

Layout: a catalog table ``funnel_datasets`` and, per dataset, a schema ``ds_<id>`` holding
``leads`` (the lead file's columns under their original names, typed), ``outcomes`` (``lead_id,
outcome, closed_at, amount``) and optionally ``activities`` (``lead_id, occurred_at,
activity_type``). A load writes a new schema and swaps the catalog row in one transaction, so a
failure, a crash or a kill leaves the previous dataset exactly as it was; a refresh
(:mod:`funnel.refresh`) writes the merged dataset the same way. Every load is appended to the
load history (:mod:`funnel.loads`) in that transaction.

One connection per process; every query runs on its own cursor (DuckDB's threading model).
Every connection has DuckDB's extension auto-install and auto-load turned off (a file that is
not DuckDB's, such as a SQLite database, must never make it download code) and a memory limit
(:func:`funnel.readers.max_memory_default`). A file is changed only once it is known to be a
funnel database whose metadata makes sense: a foreign or tampered file is refused untouched.
A write that fails reports its real cause (a full disk is named, never masked by the rollback
that follows) and, when the disk filled up, gives back the space the failed write took.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb

from funnel import audit, feedback, loads
from funnel.access import Access, Actor, RolesError
from funnel.i18n import CodedError
from funnel.mapping import Mapping
from funnel.mapping.files import mapping_from_dict, mapping_to_dict
from funnel.rules import ColumnFacts

if TYPE_CHECKING:
    from funnel.ingest import Prepared
    from funnel.loads import LoadRecord
    from funnel.refresh import RefreshPlan

SCHEMA_VERSION = 8
DEFAULT_DB = Path("data") / "funnel.duckdb"
_CATALOG = "funnel_datasets"
_SETTINGS = "funnel_settings"
#: Rule-set versions (append-only) and the events on them (proposed, signed), see funnel.versions.
VERSIONS = "funnel_versions"
VERSION_EVENTS = "funnel_version_events"
#: Who changed what, appended with every change (see audit.py).
AUDIT = audit.AUDIT
#: The key in ``funnel_meta`` holding what the database requires (see access.py).
_ACCESS_KEY = "access"
#: Each lead's score and tier under the version in force when it arrived (arrivals.py).
ARRIVALS = "funnel_arrivals"
#: Each dataset's tuner state (both proposals, capacity), see tunerstate.py.
TUNER_STATES = "funnel_tuner_states"
#: Each lead's outcome, kept on the leads table too so metrics need no join (10x faster).
OUTCOME_COL = "_funnel_outcome"
CLOSED_COL = "_funnel_closed_at"
AMOUNT_COL = "_funnel_amount"
#: When funnel first saw each lead, and since when its current outcome is recorded (refresh.py).
FIRST_SEEN_COL = "_funnel_first_seen"
OUTCOME_SINCE_COL = "_funnel_outcome_since"
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
    def ids_made_up(self) -> bool:
        """Whether the lead ids were numbered at load, the leads file having no id column
        (a file or warehouse table of the same leads has no such column)."""
        return any(p.get("code") == "surrogate_id" for p in self.report)

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
            elif (version := self._version()) == 0:
                raise StoreError("db_not_initialised", path=str(self.path))
            elif version > SCHEMA_VERSION:
                raise StoreError("db_too_new", path=str(self.path), version=version)
            elif version < SCHEMA_VERSION:
                raise StoreError("db_old_schema", path=str(self.path), version=version)
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
        """Yield a cursor inside one write transaction: all of it is stored, or none of it.

        A failure is raised as it happened: the rollback after it can fail too (a transaction
        DuckDB already aborted, a database invalidated by a full disk) and is never what the
        user is told. A full disk becomes ``StoreError("disk_full")`` and the file is given
        back the space the failed write took.
        """
        self._writable()
        with self._write_lock:
            before = self._file_size()
            try:
                with self.cursor() as cur:
                    cur.begin()
                    try:
                        yield cur
                        cur.commit()
                    except BaseException:
                        _rollback_quietly(cur)
                        raise
            except (duckdb.Error, OSError) as exc:
                raise self._write_failed(exc, before) from None

    def _file_size(self) -> int | None:
        try:
            return self.path.stat().st_size if self.path.name != ":memory:" else None
        except OSError:
            return None

    def _write_failed(self, exc: Exception, before: int | None) -> Exception:
        """The error to raise for a failed write, after recovering what can be recovered."""
        text = str(exc)
        invalidated = isinstance(exc, duckdb.FatalException) or "invalidated" in text
        if invalidated:
            self._reconnect(before)
        if _disk_full(exc):
            if not invalidated:
                self._checkpoint_quietly()
            free = _free_bytes(self.path)
            return StoreError("disk_full", path=str(self.path), free=_human(free))
        return exc

    def _checkpoint_quietly(self) -> None:
        """After a write the disk could not hold: fold the log into the blocks the failed
        write freed, so the log's space is given back and small writes (a rename, the audit
        row with it) fit again."""
        try:
            with self.cursor() as cur:
                cur.execute("CHECKPOINT")
        except duckdb.Error:
            pass  # the space stays taken; the data is intact either way

    def _reconnect(self, before: int | None) -> None:
        """Open the file again after DuckDB invalidated it, shrinking it to what was committed.

        DuckDB leaves the blocks a failed checkpoint appended at the end of the file. They are
        beyond the committed header's block count, so cutting them off loses nothing; the file
        is never cut below the size it had before the write began.
        """
        try:
            self.conn.close()
        except duckdb.Error:
            pass
        if before is not None:
            _give_back_space(self.path, before)
        self.conn = _open(self.path, self.read_only)

    # --- schema ---------------------------------------------------------------------------

    def _version(self) -> int:
        """The schema version the file's metadata records, checked before anything trusts it.

        A value that is not one whole number, or tables that do not match the version (a
        catalog without its metadata, tables of a later version than recorded), mean the file
        was damaged or tampered with: it is refused, and nothing in it is changed.
        """
        with self.cursor() as cur:
            everything = cur.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database()"
            ).fetchall()
            tables = {str(name) for schema, name in everything if schema == "main"}
            if "funnel_meta" not in tables:
                if everything:  # someone else's DuckDB file, or ours without its metadata
                    raise StoreError("db_not_funnel", path=str(self.path))
                return 0
            try:
                rows = cur.execute(
                    "SELECT value FROM funnel_meta WHERE key = 'schema_version'"
                ).fetchall()
            except duckdb.Error as exc:
                raise StoreError("db_damaged", path=str(self.path), detail=str(exc)[:120]) from None
        values = [str(r[0]).strip() for r in rows]
        if not values and len(everything) == 1:
            return 0  # stopped right after its metadata table was made: start again
        if len(values) != 1 or not values[0].isdigit() or len(values[0]) > 6:
            shown = ", ".join(repr(v[:20]) for v in values) or "-"
            detail = f"schema_version is {shown}"
            raise StoreError("db_damaged", path=str(self.path), detail=detail)
        version = int(values[0])
        expected = {
            1: {_CATALOG},
            2: {_CATALOG, _SETTINGS},
            3: {_CATALOG, _SETTINGS, VERSIONS},
            4: {_CATALOG, _SETTINGS, VERSIONS, AUDIT},
            5: {_CATALOG, _SETTINGS, VERSIONS, AUDIT, loads.LOADS},
            6: {_CATALOG, _SETTINGS, VERSIONS, AUDIT, loads.LOADS, feedback.FEEDBACK},
            7: {_CATALOG, _SETTINGS, VERSIONS, AUDIT, loads.LOADS, feedback.FEEDBACK, TUNER_STATES},
            # 7 (the tuner's kept state, issue 13) landed after 8: a store written at 8 before
            # it gets 7's table from an idempotent step on opening, so 8 does not require it
            8: {_CATALOG, _SETTINGS, VERSIONS, AUDIT, loads.LOADS, feedback.FEEDBACK, ARRIVALS},
        }
        later = {2: {_SETTINGS}}  # the later tables a migration would not simply create
        missing = expected.get(version, set()) - tables
        ahead = {t for v, names in later.items() if v > version for t in names} & tables
        if version <= SCHEMA_VERSION and (version < 1 or missing or ahead):
            detail = f"schema_version {version}, tables " + ", ".join(sorted(tables))
            raise StoreError("db_damaged", path=str(self.path), detail=detail[:160])
        return version

    def _migrate(self) -> None:
        version = self._version()  # reads only: a file that makes no sense is left untouched
        if version > SCHEMA_VERSION:
            raise StoreError("db_too_new", path=str(self.path), version=version)
        with self.cursor() as cur:
            if version == SCHEMA_VERSION:
                _migrate_tuner_states(cur)  # a store written at 8 before 7 landed (idempotent)
                return
            if version < 1:
                cur.begin()
                cur.execute("CREATE TABLE IF NOT EXISTS funnel_meta (key VARCHAR, value VARCHAR)")
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
            if version < 4:
                cur.begin()
                _migrate_to_4(cur)
                _set_version(cur, 4)
                cur.commit()
            if version < 5:
                cur.begin()
                _migrate_load_history(cur)
                _set_version(cur, 5)
                cur.commit()
            if version < 6:
                cur.begin()
                feedback.create_table(cur)  # sales' verdict per lead (feedback.py)
                _set_version(cur, 6)
                cur.commit()
            if version < 7:
                cur.begin()
                _migrate_tuner_states(cur)
                _set_version(cur, 7)
                cur.commit()
            if version < 8:
                cur.begin()
                _migrate_to_8(cur)
                _set_version(cur, 8)
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
        return [_info(dict(zip(names, r, strict=True)), self.path) for r in rows]

    def dataset(self, name: str) -> DatasetInfo | None:
        """Return one dataset by name, or None."""
        with self.cursor() as cur:
            rows = cur.execute(f"SELECT * FROM {_CATALOG} WHERE name = ?", [name]).fetchall()
            names = [d[0] for d in cur.description or ()]
        return _info(dict(zip(names, rows[0], strict=True)), self.path) if rows else None

    def require(self, name: str) -> DatasetInfo:
        """Return one dataset by name or raise ``StoreError('dataset_missing')``."""
        info = self.dataset(name)
        if info is None:
            known = ", ".join(d.name for d in self.datasets()) or "-"
            raise StoreError("dataset_missing", name=name, known=known)
        return info

    # --- writing --------------------------------------------------------------------------

    def save(self, name: str, prepared: Prepared, *, by: Actor | None = None) -> DatasetInfo:
        """Store a prepared dataset under ``name``, replacing any previous one atomically.

        ``by`` (who loads it; the app's user without sign-in by default) needs the
        ``manage_datasets`` role where the database requires sign-in; the audit log gets a
        ``dataset.loaded`` (or ``dataset.refreshed``) row in the same transaction. Every lead
        is first seen now; the load is appended to the load history.
        """
        name = _valid_name(name)
        self._writable()
        by = self.allow(by, "manage_datasets")
        tables = self._frames(prepared)
        now = datetime.now().replace(microsecond=0)
        with self.transaction() as cur:
            dataset_id, schema = _new_schema(cur)
            for table, view in _registered(cur, tables):
                extra = (
                    f", ?::TIMESTAMP AS {quote_ident(FIRST_SEEN_COL)}, "
                    f"?::TIMESTAMP AS {quote_ident(OUTCOME_SINCE_COL)}"
                    if table == "leads"
                    else ""
                )
                cur.execute(
                    f"CREATE TABLE {quote_ident(schema)}.{quote_ident(table)} AS "
                    f"SELECT *{extra} FROM {quote_ident(view)}",
                    [now, now] if extra else [],
                )
                cur.unregister(view)
            replaced = _drop_dataset(cur, name)
            audit.append(
                cur,
                by,
                "dataset.refreshed" if replaced else "dataset.loaded",
                dataset=name,
                fingerprint=prepared.fingerprint,
                files=[f.get("name") for f in prepared.files],
                leads=prepared.counts["leads"],
            )
            counts = prepared.counts
            _insert_catalog(cur, dataset_id, name, schema, now, counts, prepared)
            loads.append(cur, name, now, prepared.files, counts["leads"], replaced=replaced)
            feedback.sync_export_dispositions(
                cur,
                name,
                f"{quote_ident(schema)}.leads",
                prepared.mapping,
                _leads_file(prepared),
                now,
            )
        return self._arrived(name)

    def preview_refresh(self, name: str, prepared: Prepared) -> RefreshPlan:
        """Count what :meth:`refresh` would do, writing nothing (also on a read-only store)."""
        from funnel import refresh

        info = self.require(name)
        with self.cursor() as cur:
            registered = _registered(cur, self._frames(prepared, check_disk=False))
            views = {table: quote_ident(view) for table, view in registered}
            refresh.check_compatible(
                cur,
                info,
                prepared.mapping,
                views["leads"],
                _leads_file(prepared),
                _made_up(prepared),
            )
            return refresh.plan_refresh(
                cur, info, _id_of(prepared), views["leads"], prepared.counts["leads"]
            )

    def refresh(
        self,
        name: str,
        prepared: Prepared,
        *,
        accept_changed_outcomes: bool = False,
        expected: RefreshPlan | None = None,
        by: Actor | None = None,
    ) -> tuple[DatasetInfo, RefreshPlan]:
        """Update the stored dataset ``name`` from newer files by lead id, all or nothing.

        New leads are added, leads in both take the new values, leads missing from the new
        files are kept. Refused, with nothing written: files that cannot update the dataset
        (:func:`funnel.refresh.check_compatible`), a refresh that changes outcomes already
        recorded unless ``accept_changed_outcomes``, and one whose counts moved since the
        ``expected`` plan a person confirmed. ``by`` needs the ``manage_datasets`` role, as for
        :meth:`save`; the audit log gets a ``dataset.refreshed`` row with the counts.
        """
        from funnel import refresh

        name = _valid_name(name)
        self._writable()
        by = self.allow(by, "manage_datasets")
        self.require(name)
        tables = self._frames(prepared)
        now = datetime.now().replace(microsecond=0)
        file = _leads_file(prepared)
        with self.transaction() as cur:
            info = self.require(name)
            registered = _registered(cur, tables)
            views = {table: quote_ident(view) for table, view in registered}
            refresh.check_compatible(
                cur, info, prepared.mapping, views["leads"], file, _made_up(prepared)
            )
            id_col = _id_of(prepared)
            plan = refresh.plan_refresh(cur, info, id_col, views["leads"], prepared.counts["leads"])
            if expected is not None and expected.counts() != plan.counts():
                raise refresh.RefreshError("plan_moved", dataset=name)
            if plan.recorded_changed and not accept_changed_outcomes:
                raise refresh.RefreshError(
                    "outcomes_changed", dataset=name, plan=plan, flag="--accept-changed-outcomes"
                )
            dataset_id, schema = _new_schema(cur)
            refresh.merge_tables(cur, info, id_col, schema, views, now)
            for _, view in registered:
                cur.unregister(view)
            row = cur.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {quote_ident(OUTCOME_COL)} = 'won'), "
                f"count(*) FILTER (WHERE {quote_ident(OUTCOME_COL)} = 'lost') "
                f"FROM {quote_ident(schema)}.leads"
            ).fetchone()
            assert row is not None
            total, won, lost = (int(v) for v in row)
            counts = {"leads": total, "won": won, "lost": lost, "open": total - won - lost}
            _drop_dataset(cur, name)
            fingerprint = refresh.combined_fingerprint(info.fingerprint, prepared.fingerprint)
            audit.append(
                cur,
                by,
                "dataset.refreshed",
                dataset=name,
                fingerprint=fingerprint,
                files=[f.get("name") for f in prepared.files],
                leads=total,
                mode="refresh",
                added=plan.added,
                changed=plan.changed,
                missing=plan.missing,
                recorded_outcomes_changed=plan.recorded_changed,
            )
            _insert_catalog(
                cur, dataset_id, name, schema, now, counts, prepared, fingerprint=fingerprint
            )
            loads.append(cur, name, now, prepared.files, total, replaced=True, plan=plan)
            feedback.sync_export_dispositions(
                cur, name, f"{quote_ident(schema)}.leads", prepared.mapping, file, now
            )
        return self._arrived(name), plan

    def _arrived(self, name: str) -> DatasetInfo:
        """After a load: record the new leads' scores under the version in force, if any
        (:func:`funnel.arrivals.record_arrivals`; never a reason to refuse the load)."""
        from funnel.arrivals import record_arrivals

        info = self.require(name)
        record_arrivals(self, info)
        return info

    def save_feedback(self, name: str, frame: Any, file: str, *, by: Actor | None = None) -> None:
        """Store sales' verdicts (:func:`funnel.feedback.prepare_feedback`) as the dataset's
        feedback, replacing what was stored before, in one transaction."""
        self._writable()
        by = self.allow(by, "manage_datasets")
        info = self.require(name)
        now = datetime.now().replace(microsecond=0)
        with self.transaction() as cur:
            cur.register("_funnel_in_feedback", frame)
            cur.execute(
                f"DELETE FROM {feedback.FEEDBACK} WHERE dataset = ? AND source = 'file'",
                [info.name],
            )
            cur.execute(
                f"INSERT INTO {feedback.FEEDBACK} ({feedback.COLUMNS}) SELECT ?, lead_id, "
                "disposition, status, reason, reason_group, decided_at, decided_by, ?, ?, 'file' "
                "FROM _funnel_in_feedback",
                [info.name, file, now],
            )
            cur.unregister("_funnel_in_feedback")
            # a verdict from the file replaces the one read from the leads export
            feedback.sync_export_dispositions(
                cur, info.name, info.table(), info.mapping, _info_file(info), now
            )
            audit.append(
                cur,
                by,
                "feedback.loaded",
                dataset=info.name,
                fingerprint=info.fingerprint,
                file=file,
                leads=len(frame),
            )

    def load_history(self, name: str | None = None) -> list[LoadRecord]:
        """Every load of the dataset ``name`` (of every dataset when None), oldest first."""
        if name is not None:
            self.require(name)
        with self.cursor() as cur:
            return loads.history(cur, name)

    def _frames(self, prepared: Prepared, *, check_disk: bool = True) -> list[tuple[str, Any]]:
        """The frames a dataset is stored from; refuses, before the file grows, what the disk
        cannot hold."""
        tables: list[tuple[str, Any]] = [
            ("leads", _with_outcomes(prepared)),
            ("outcomes", prepared.outcomes),
        ]
        if prepared.activities is not None:
            tables.append(("activities", prepared.activities))
        if check_disk:
            needed = _estimated_bytes([frame for _, frame in tables])
            free = _free_bytes(self.path)
            if free is not None and needed > free:  # refuse before the file grows at all
                raise StoreError("disk_full", path=str(self.path), free=_human(free))
        return tables

    def rename(self, old: str, new: str, *, by: Actor | None = None) -> DatasetInfo:
        """Rename a dataset; refuses to overwrite another one."""
        new = _valid_name(new)
        self._writable()
        by = self.allow(by, "manage_datasets")
        info = self.require(old)
        if new != old and self.dataset(new) is not None:
            raise StoreError("dataset_exists", name=new)
        with self.transaction() as cur:
            audit.append(
                cur, by, "dataset.renamed", dataset=old, fingerprint=info.fingerprint, to=new
            )
            cur.execute(f"UPDATE {_CATALOG} SET name = ? WHERE name = ?", [new, old])
            cur.execute(f"UPDATE {_SETTINGS} SET dataset = ? WHERE dataset = ?", [new, old])
            cur.execute(f"UPDATE {loads.LOADS} SET dataset = ? WHERE dataset = ?", [new, old])
            cur.execute(f"UPDATE {feedback.FEEDBACK} SET dataset = ? WHERE dataset = ?", [new, old])
            cur.execute(f"UPDATE {ARRIVALS} SET dataset = ? WHERE dataset = ?", [new, old])
            cur.execute(f"UPDATE {TUNER_STATES} SET dataset = ? WHERE dataset = ?", [new, old])
            # the history follows the dataset (each version keeps the name it was tuned on)
            cur.execute(f"UPDATE {VERSIONS} SET dataset = ? WHERE dataset = ?", [new, old])
        return self.require(new)

    def delete(self, name: str, *, by: Actor | None = None) -> None:
        """Delete a dataset and its tables in one transaction (its versions and its rows in
        the audit log stay)."""
        self._writable()
        by = self.allow(by, "manage_datasets")
        info = self.require(name)
        with self.transaction() as cur:
            audit.append(
                cur,
                by,
                "dataset.deleted",
                dataset=name,
                fingerprint=info.fingerprint,
                leads=info.leads,
            )
            cur.execute(f"DELETE FROM {_CATALOG} WHERE name = ?", [name])
            cur.execute(f"DELETE FROM {_SETTINGS} WHERE dataset = ?", [name])
            cur.execute(f"DELETE FROM {loads.LOADS} WHERE dataset = ?", [name])
            cur.execute(f"DELETE FROM {feedback.FEEDBACK} WHERE dataset = ?", [name])
            cur.execute(f"DELETE FROM {ARRIVALS} WHERE dataset = ?", [name])
            cur.execute(f"DELETE FROM {TUNER_STATES} WHERE dataset = ?", [name])
            cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(info.schema)} CASCADE")

    def setting(self, dataset: str, key: str) -> Any:
        """Return a per-dataset setting (JSON value), or None."""
        with self.cursor() as cur:
            row = cur.execute(
                f"SELECT value FROM {_SETTINGS} WHERE dataset = ? AND key = ?", [dataset, key]
            ).fetchone()
        return json.loads(row[0]) if row else None

    def set_setting(self, dataset: str, key: str, value: Any) -> None:
        """Remember a per-dataset setting (e.g. the funnel's stage order)."""
        with self.transaction() as cur:
            cur.execute(f"DELETE FROM {_SETTINGS} WHERE dataset = ? AND key = ?", [dataset, key])
            cur.execute(
                f"INSERT INTO {_SETTINGS} VALUES (?, ?, ?)",
                [dataset, key, json.dumps(value, ensure_ascii=False)],
            )

    def tuner_state(self, dataset: str) -> tuple[str, datetime] | None:
        """Return a dataset's kept tuner state (JSON text) and when it was saved, or None."""
        with self.cursor() as cur:
            kept = cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                [TUNER_STATES],
            ).fetchone()
            if not kept or not kept[0]:
                return None  # read only, written at 8 before 7 landed: nothing kept yet
            row = cur.execute(
                f"SELECT state, saved_at FROM {TUNER_STATES} WHERE dataset = ?", [dataset]
            ).fetchone()
        return (str(row[0]), row[1]) if row else None

    def save_tuner_state(self, dataset: str, state: str, *, by: Actor | None = None) -> None:
        """Keep a dataset's tuner state (JSON text), replacing the one kept before.

        The kept state is the team's meeting: ``by`` needs the ``edit_versions`` role where the
        database requires sign-in (a viewer's tuning stays in their own session). It is a
        working draft, not a decision: the audit log records the versions saved from it.
        """
        self._writable()
        self.allow(by, "edit_versions")
        with self.transaction() as cur:
            cur.execute(f"DELETE FROM {TUNER_STATES} WHERE dataset = ?", [dataset])
            cur.execute(
                f"INSERT INTO {TUNER_STATES} VALUES (?, ?, ?)",
                [dataset, state, datetime.now().replace(microsecond=0)],
            )

    # --- who may change what ------------------------------------------------------------------

    def access(self) -> Access:
        """What this database requires (sign-in, roles), as ``funnel serve`` recorded it.

        A recorded setting that does not parse fails closed: sign-in required, nobody in a role.
        """
        with self.cursor() as cur:
            row = cur.execute(
                "SELECT value FROM funnel_meta WHERE key = ?", [_ACCESS_KEY]
            ).fetchone()
        if row is None:
            return Access.OFF
        try:
            return Access.from_dict(json.loads(row[0]))
        except (ValueError, TypeError, RolesError):
            return Access(required=True, issuer="?")

    def allow(self, by: Actor | None, action: str) -> Actor:
        """Return who acts (``by``, or the app's user without sign-in), or refuse the action."""
        actor = by if by is not None else Actor.local()
        self.access().check(actor, action)
        return actor

    def set_access(self, access: Access, *, by: Actor) -> Access:
        """Record what the database requires; the change goes into the audit log.

        Requiring sign-in is ``funnel serve``'s (with the roles in force); turning it off is
        an explicit, audited ``funnel auth off``.
        """
        before = self.access()
        if access.required == before.required and (
            not access.required
            or (access.roles, access.issuer, access.max_session_hours)
            == (before.roles, before.issuer, before.max_session_hours)
        ):
            return before
        now = datetime.now().replace(microsecond=0)
        access = replace(access, since=now.isoformat(), by=by.id)
        with self.transaction() as cur:
            cur.execute("DELETE FROM funnel_meta WHERE key = ?", [_ACCESS_KEY])
            if access.required:
                cur.execute(
                    "INSERT INTO funnel_meta VALUES (?, ?)",
                    [_ACCESS_KEY, json.dumps(access.as_dict(), ensure_ascii=False)],
                )
                action = "access.roles" if before.required else "access.required"
                audit.append(
                    cur,
                    by,
                    action,
                    issuer=access.issuer,
                    roles=access.roles.as_dict(),
                    max_session_hours=access.max_session_hours,
                    now=now,
                )
            else:
                audit.append(cur, by, "access.off", issuer=before.issuer, now=now)
        return self.access()

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("db_read_only", path=str(self.path))

    # --- queries used by pages and the CLI ----------------------------------------------------

    def leads_frame(self, info: DatasetInfo, limit: int | None = None) -> Any:
        """Return a dataset's leads with exactly its own columns (no reserved ones)."""
        cols = ", ".join(quote_ident(c) for c in info.columns)
        sql = f"SELECT {cols} FROM {info.table()}"
        return self.fetch_frame(sql + (" LIMIT ?" if limit else ""), [limit] if limit else [])

    def column_facts(self, info: DatasetInfo) -> dict[str, ColumnFacts]:
        """What each of a dataset's columns holds (number, text, date, yes/no) and which are
        its outcome, for checking the rules that read them (:func:`funnel.rules.check_columns`)."""
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = 'leads'",
                [info.schema],
            ).fetchall()
        types = {str(name): str(kind).upper() for name, kind in rows}
        roles = {s.name: s.role for s in info.mapping.leads}
        return {
            c: ColumnFacts(
                kind_of(types.get(c, "VARCHAR")),
                roles.get(c) if roles.get(c) in ("outcome", "closed", "amount") else None,
            )
            for c in info.columns
        }

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


def _migrate_to_8(cur: duckdb.DuckDBPyConnection) -> None:
    """v8: where each disposition came from (a feedback file, or the leads export's status
    column: every verdict stored before came from a file), and each lead's score and tier at
    arrival."""
    feedback.add_source_column(cur)
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {ARRIVALS} (
            dataset VARCHAR NOT NULL,
            lead_id VARCHAR NOT NULL,
            version_id BIGINT NOT NULL,
            arrived_at TIMESTAMP NOT NULL,
            score DOUBLE NOT NULL,
            tier VARCHAR NOT NULL
        )"""
    )


def _migrate_to_4(cur: duckdb.DuckDBPyConnection) -> None:
    """v4: the audit log; a sign-off records the signer's e-mail and how they were known."""
    audit.create_table(cur)
    for column in ("email", "via"):
        cur.execute(f"ALTER TABLE {VERSION_EVENTS} ADD COLUMN IF NOT EXISTS {column} VARCHAR")


def _new_schema(cur: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """Create the schema a dataset is written into; return its id and name."""
    (dataset_id,) = cur.execute("SELECT nextval('funnel_dataset_seq')").fetchone() or (0,)
    schema = f"ds_{int(dataset_id)}"
    cur.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    return int(dataset_id), schema


def _registered(
    cur: duckdb.DuckDBPyConnection, tables: Sequence[tuple[str, Any]]
) -> list[tuple[str, str]]:
    """Register each frame on the cursor; return ``(table, view name)`` pairs."""
    out = []
    for table, frame in tables:
        view = f"_funnel_in_{table}"
        cur.register(view, frame)
        out.append((table, view))
    return out


def _drop_dataset(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a dataset's catalog row and tables (inside a write); return whether it existed."""
    old = cur.execute(f"SELECT schema_name FROM {_CATALOG} WHERE name = ?", [name]).fetchall()
    cur.execute(f"DELETE FROM {_CATALOG} WHERE name = ?", [name])
    for (old_schema,) in old:
        cur.execute(f"DROP SCHEMA IF EXISTS {quote_ident(old_schema)} CASCADE")
    return bool(old)


def _insert_catalog(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    name: str,
    schema: str,
    loaded_at: datetime,
    counts: dict[str, int],
    prepared: Prepared,
    *,
    fingerprint: str | None = None,
) -> None:
    cur.execute(
        f"INSERT INTO {_CATALOG} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dataset_id,
            name,
            schema,
            loaded_at,
            counts["leads"],
            counts["won"],
            counts["lost"],
            counts["open"],
            json.dumps(prepared.columns, ensure_ascii=False),
            json.dumps(mapping_to_dict(prepared.mapping), ensure_ascii=False),
            json.dumps(prepared.files, ensure_ascii=False),
            json.dumps([p.as_dict() for p in prepared.problems], ensure_ascii=False),
            fingerprint if fingerprint is not None else prepared.fingerprint,
        ],
    )


def _info_file(info: DatasetInfo) -> str:
    """The name of the leads file a stored dataset was loaded from ("" when not known)."""
    leads = [f for f in info.files if f.get("role") == "leads"] or list(info.files)
    return str(leads[0].get("name", "")) if leads else ""


def _leads_file(prepared: Prepared) -> str:
    return str(prepared.files[0]["name"]) if prepared.files else ""


def _made_up(prepared: Prepared) -> bool:
    """Whether the leads were numbered at load (the leads file had no id column)."""
    return any(p.code == "surrogate_id" for p in prepared.problems)


def _id_of(prepared: Prepared) -> str:
    id_col = prepared.mapping.column("id")
    assert id_col is not None  # prepare always names one
    return id_col


def _migrate_load_history(cur: duckdb.DuckDBPyConnection) -> None:
    """The load history, and each lead's first-seen and outcome-since times.

    Datasets stored before get one history row (their load, from the catalog; the files'
    SHA-256 was not kept then) and their load time as both times of every lead.
    """
    loads.create_table(cur)
    rows = cur.execute(
        f"SELECT name, schema_name, loaded_at, leads, files FROM {_CATALOG} ORDER BY dataset_id"
    ).fetchall()
    for name, schema, loaded_at, leads, files in rows:
        table = f"{quote_ident(schema)}.leads"
        for col in (FIRST_SEEN_COL, OUTCOME_SINCE_COL):
            cur.execute(
                f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote_ident(col)} TIMESTAMP"
            )
            cur.execute(
                f"UPDATE {table} SET {quote_ident(col)} = ? WHERE {quote_ident(col)} IS NULL",
                [loaded_at],
            )
        known = cur.execute(f"SELECT count(*) FROM {loads.LOADS} WHERE dataset = ?", [name])
        if (known.fetchone() or (0,))[0] == 0:
            loads.append(cur, str(name), loaded_at, json.loads(files), int(leads), replaced=False)


def _migrate_tuner_states(cur: duckdb.DuckDBPyConnection) -> None:
    """v7: each dataset's tuner state, so a meeting survives a reload and a restart."""
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {TUNER_STATES} (
            dataset VARCHAR NOT NULL,
            state VARCHAR NOT NULL,
            saved_at TIMESTAMP NOT NULL
        )"""
    )


def _set_version(cur: duckdb.DuckDBPyConnection, version: int) -> None:
    cur.execute("DELETE FROM funnel_meta WHERE key = 'schema_version'")
    cur.execute("INSERT INTO funnel_meta VALUES ('schema_version', ?)", [str(version)])


_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "REAL")


def kind_of(data_type: str) -> Literal["number", "text", "date", "flag"]:
    """What a DuckDB column type holds, in a rule's terms.

    >>> kind_of("BIGINT"), kind_of("DECIMAL(18,3)"), kind_of("TIMESTAMP"), kind_of("VARCHAR")
    ('number', 'number', 'date', 'text')
    """
    base = data_type.split("(")[0].strip().removeprefix("U")
    if base in _NUMBER_TYPES or base in ("DECIMAL", "NUMERIC"):
        return "number"
    if base == "BOOLEAN":
        return "flag"
    if base.startswith(("DATE", "TIME")):
        return "date"
    return "text"


def _rollback_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failure; the failure, not the rollback's own error, is what counts."""
    try:
        cur.rollback()
    except duckdb.Error:
        pass  # no transaction left to roll back, or a database DuckDB invalidated


def _disk_full(exc: BaseException) -> bool:
    """Tell whether an error comes from a full disk (or a quota), however DuckDB wrapped it."""
    if isinstance(exc, OSError) and exc.errno in (28, 122):  # ENOSPC, EDQUOT
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def _free_bytes(path: Path) -> int | None:
    """Free bytes on the disk holding ``path`` (None for an in-memory database)."""
    if path.name == ":memory:":
        return None
    try:
        return shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
    except OSError:
        return None


def _estimated_bytes(frames: Sequence[Any]) -> int:
    """About what storing frames takes on disk: half their memory (DuckDB compresses)."""
    return sum(int(f.memory_usage(deep=True, index=False).sum()) for f in frames) // 2


def _give_back_space(path: Path, before: int) -> None:
    """Cut a file DuckDB grew in a failed write back to its committed size (never below
    ``before``, the size it had when the write began)."""
    try:
        probe = duckdb.connect(str(path), read_only=True, config=_CONFIG)
        try:
            row = probe.execute("SELECT block_size, total_blocks FROM pragma_database_size()")
            block_size, blocks = row.fetchone() or (0, 0)
        finally:
            probe.close()
        committed = _HEADER_BYTES + int(block_size) * int(blocks)
        keep = max(committed, before)
        if blocks and path.stat().st_size > keep:
            os.truncate(path, keep)
    except (duckdb.Error, OSError):
        pass  # the space stays taken; the data is intact either way


def _human(n: int | None) -> str:
    """A byte count for a message.

    >>> _human(3 << 20), _human(None)
    ('3.0 MiB', '?')
    """
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


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


#: The file header DuckDB writes before its first block: a main header and two database headers.
_HEADER_BYTES = 3 * 4096
#: Every connection: never fetch or load extensions behind the user's back.
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _config() -> dict[str, str | bool | int | float | list[str]]:
    """The connection settings: no extension auto-install or auto-load, a memory limit."""
    from funnel.readers import max_memory_default

    return _CONFIG | {"memory_limit": f"{max(max_memory_default(), 256 << 20)}B"}


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise StoreError("db_missing", path=str(path))
    if path.name != ":memory:" and path.is_file():
        try:
            with path.open("rb") as f:
                head = f.read(64)
        except OSError:
            head = b""
        if head.startswith(_SQLITE_MAGIC):
            raise StoreError("db_sqlite", path=str(path))
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            # DuckDB writes a log beside the file: without a writable file and folder nothing
            # can be saved, so say so now rather than fail at the first save
            if not os.access(path.parent, os.W_OK) or (
                path.exists() and not os.access(path, os.W_OK)
            ):
                raise StoreError("db_read_only", path=str(path))
        return duckdb.connect(str(path), read_only=read_only, config=_config())
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
    if "not a valid duckdb database" in lowered:
        return StoreError("db_not_duckdb", path=str(path))
    if _disk_full(exc):
        return StoreError("disk_full", path=str(path), free=_human(_free_bytes(path)))
    return StoreError("db_unreadable", path=str(path), detail=text[:200])


def _info(row: dict[str, Any], path: Path) -> DatasetInfo:
    """A catalog row as a :class:`DatasetInfo`; a row that does not parse is damage, named."""
    try:
        return _parse_info(row)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # bad JSON or mapping
        name = str(row.get("name", "?"))[:60]
        detail = f"dataset {name!r}: {type(exc).__name__}: {str(exc)[:80]}"
        raise StoreError("db_damaged", path=str(path), detail=detail) from None


def _parse_info(row: dict[str, Any]) -> DatasetInfo:
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
