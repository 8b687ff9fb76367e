"""Data read where it lives: a folder or glob of exports, a PostgreSQL table or query, a Spark
table, query or Parquet/Delta path.

Each input becomes the same :class:`~funnel.readers.SourceFile` a file does, so the mapping,
the validation and the all-or-nothing store are the files' own (:func:`funnel.ingest.prepare`,
:meth:`funnel.store.Store.save`). Leads and outcomes come back whole: PostgreSQL streams them
with ``COPY ... TO STDOUT`` into a temporary CSV file, Spark's rows come back through its driver
(Arrow) into a temporary Parquet file, and the file reader reads that. An activity log never
comes back row by row from an engine: the engine counts each lead's activities per type and only
those per-lead rows return (:func:`count_activities`); a folder of activity files is read as
files are.

Credentials come from the connection string the user types or the environment (libpq's
``PGPASSWORD`` and ``~/.pgpass``; a Spark Connect token in its URL) and are never stored: every
name a source gets — in problems, the load history, the audit log — is :func:`masked`, and an
engine's error text is scrubbed of the secret before anyone sees it.
"""

from __future__ import annotations

import glob
import hashlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import pandas as pd

from funnel.access import Actor
from funnel.i18n import CodedError
from funnel.ingest import (
    MAX_ACTIVITY_TYPES,
    LoadResult,
    Prepared,
    Progress,
    _no_progress,
    activity_columns,
    load_files,
)
from funnel.mapping import Mapping, Overrides
from funnel.problems import MAX_EXAMPLES, LoadError, Problem
from funnel.readers import SourceFile, read_file
from funnel.store import Store

Engine = Literal["files", "postgresql", "spark"]

#: Rows of an activity log read to propose its mapping (the rest is counted in the engine).
SAMPLE_ROWS = 1000
#: The extensions a folder given as a source is read for.
FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")

_PG_SCHEMES = ("postgresql", "postgres")
_SPARK_PREFIXES = ("spark://", "sc://", "local[", "k8s://")
_MASK = "***"


class SourceError(CodedError, ValueError):
    """A source could not be read: bad connection string, refused login, missing table ..."""

    prefix = "sources"


# --- naming and masking ----------------------------------------------------------------------


def masked(text: str) -> str:
    """Hide every password or token in a connection string (or any text holding one).

    >>> masked("postgresql://ann:s3cret@db.example/crm")
    'postgresql://ann:***@db.example/crm'
    >>> masked("host=db password='x y' user=ann")
    'host=db password=*** user=ann'
    >>> masked("sc://spark:15002/;token=abc;user_id=ann")
    'sc://spark:15002/;token=***;user_id=ann'
    >>> masked("postgresql://ann@db/crm?sslmode=require&password=p")
    'postgresql://ann@db/crm?sslmode=require&password=***'
    """
    text = re.sub(r"(://[^/@\s:]*):[^@\s/]*@", rf"\1:{_MASK}@", text)
    text = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]+)", rf"\1{_MASK}", text, flags=re.I)
    return re.sub(r"((?:token|secret)\s*=\s*)[^\s&;]+", rf"\1{_MASK}", text, flags=re.I)


def _secrets(origin: str) -> list[str]:
    """The secret strings inside a connection string (scrubbed from engine messages).

    >>> _secrets("postgresql://ann:p%40ss@db/crm")
    ['p%40ss', 'p@ss']
    """
    found: list[str] = []
    try:
        password = urlsplit(origin).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    for m in re.finditer(r"(?:password|token|secret)\s*=\s*'?([^\s&;']+)", origin, flags=re.I):
        found += [m.group(1), unquote(m.group(1))]
    return sorted({s for s in found if s}, key=len, reverse=True)


def _scrub(text: str, origin: str) -> str:
    """An engine's message with the origin's secrets replaced, first line, at most 300 chars."""
    for secret in _secrets(origin):
        text = text.replace(secret, _MASK)
    text = masked(text).strip()
    return (text.splitlines()[0] if text else "")[:300]


@dataclass(frozen=True)
class Source:
    """Where one input is read.

    ``origin`` is a connection string (``postgresql://user@host/db``), a Spark master
    (``spark-local``, ``spark://host:7077``, ``sc://host`` for Spark Connect) or a file, folder
    or glob of exports; an engine reads one of ``table``, ``query`` or (Spark) ``path``.
    ``format`` is the format of ``path`` (``parquet`` or ``delta``).
    """

    origin: str
    table: str | None = None
    query: str | None = None
    path: str | None = None
    format: str = "parquet"

    @property
    def engine(self) -> Engine:
        """Which reader reads it.

        >>> Source("postgres://h/db", table="t").engine, Source("spark-local", table="t").engine
        ('postgresql', 'spark')
        >>> Source("exports/*.csv").engine, Source("yarn-exports/").engine, Source("yarn").engine
        ('files', 'files', 'spark')
        """
        low = self.origin.strip().lower()
        if low.split("://", 1)[0] in _PG_SCHEMES and "://" in low:
            return "postgresql"
        if low in ("spark-local", "local", "yarn") or low.startswith(_SPARK_PREFIXES):
            return "spark"
        return "files"

    @property
    def name(self) -> str:
        """How messages, the load history and the audit log name it (never with a secret).

        >>> Source("postgresql://ann:pw@db/crm", table="crm.leads").name
        'crm.leads (postgresql://ann:***@db/crm)'
        >>> Source("spark-local", query="SELECT 1").name
        'query (spark-local)'
        """
        if self.engine == "files":
            return masked(self.origin)
        what = self.table or self.path or "query"
        return f"{masked(what)} ({masked(self.origin)})"

    def check(self) -> None:
        """Refuse a source that names no table, or two things to read."""
        given = [x for x in (self.table, self.query, self.path) if x]
        if self.engine == "files":
            if given:
                raise SourceError("files_take_no_table", where=self.name)
            return
        if len(given) != 1:
            raise SourceError("one_of_table_query_path", where=self.name)
        if self.path and self.engine != "spark":
            raise SourceError("path_needs_spark", where=self.name)
        if self.format not in ("parquet", "delta"):
            raise SourceError("unknown_format", where=self.name, format=self.format)


@dataclass(frozen=True)
class ActivityCounts:
    """An activity log counted where it lives: one row per lead and activity type."""

    name: str
    counts: pd.DataFrame  # lead_id (text), activity_type (text), n (int)
    total: int  # activities counted
    id_column: str

    @property
    def digest(self) -> str:
        rows = self.counts.sort_values(["lead_id", "activity_type"], kind="stable")
        hashed = pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()
        return hashlib.sha256(hashed).hexdigest()


# --- reading ---------------------------------------------------------------------------------


def read(
    source: Source,
    *,
    max_bytes: int | None = None,
    max_memory: int | None = None,
    encoding: str | None = None,
) -> SourceFile:
    """Read a whole input (leads or outcomes) as a :class:`SourceFile`."""
    source.check()
    if source.engine == "files":
        return read_files(
            source.origin, max_bytes=max_bytes, max_memory=max_memory, encoding=encoding
        )
    with _scratch() as folder:
        if source.engine == "postgresql":
            data = _pg_copy(source, folder / "rows.csv", limit=None, max_bytes=max_bytes)
        else:
            data = _spark_parquet(source, folder / "rows.parquet", limit=None)
        return read_file(data, name=source.name, max_bytes=max_bytes, max_memory=max_memory)


def sample(source: Source, rows: int = SAMPLE_ROWS) -> SourceFile:
    """The first ``rows`` rows of an engine's input: enough to propose its mapping."""
    source.check()
    with _scratch() as folder:
        if source.engine == "postgresql":
            data = _pg_copy(source, folder / "rows.csv", limit=rows, max_bytes=None)
        else:
            data = _spark_parquet(source, folder / "rows.parquet", limit=rows)
        return read_file(data, name=source.name)


def read_files(
    pattern: str,
    *,
    max_bytes: int | None = None,
    max_memory: int | None = None,
    encoding: str | None = None,
) -> SourceFile:
    """Read a file, or every export in a folder or matching a glob, as one input.

    The files must have the same columns in the same order and the same format; one that
    differs is refused naming it and the columns. A single file reads exactly as
    :func:`funnel.readers.read_file` reads it.
    """
    paths = _expand(pattern)
    if len(paths) == 1 and Path(pattern).is_file():
        return read_file(paths[0], max_bytes=max_bytes, max_memory=max_memory, encoding=encoding)
    base = Path(pattern) if Path(pattern).is_dir() else Path(_glob_root(pattern))
    files: list[SourceFile] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            shown = str(path.relative_to(base)) if path.is_relative_to(base) else path.name
            files.append(
                read_file(
                    path,
                    name=shown,
                    max_bytes=max_bytes,
                    max_memory=max_memory,
                    encoding=encoding,
                )
            )
        except LoadError as exc:
            problems += exc.problems
    if problems:
        raise LoadError(problems)
    first = files[0]
    for f in files[1:]:
        if f.kind != first.kind:
            problems.append(
                Problem(
                    "source_formats_differ",
                    f.name,
                    params={"first": first.name, "kind": f.kind, "first_kind": first.kind},
                )
            )
        elif f.columns != first.columns:
            missing = [c for c in first.columns if c not in f.columns]
            extra = [c for c in f.columns if c not in first.columns]
            problems.append(
                Problem(
                    "source_columns_differ",
                    f.name,
                    values=tuple((missing + extra)[:MAX_EXAMPLES]),
                    count=len(missing) + len(extra),
                    params={
                        "first": first.name,
                        "missing": ", ".join(missing) or "-",
                        "extra": ", ".join(extra) or "-",
                    },
                )
            )
    if problems:
        raise LoadError(problems)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update((f.digest or "").encode())
    frame = pd.concat([f.frame for f in files], ignore_index=True)
    notes = tuple(p for f in files for p in f.notes)
    return SourceFile(
        masked(pattern),
        frame,
        first.kind,
        encoding=first.encoding,
        delimiter=first.delimiter,
        digest=digest.hexdigest(),
        notes=notes
        + (
            Problem(
                "source_files_read",
                masked(pattern),
                values=tuple(f.name for f in files[:MAX_EXAMPLES]),
                count=len(files),
                severity="info",
                params={"ranges": row_ranges([(f.name, len(f.frame)) for f in files])},
            ),
        ),
    )


def row_ranges(files: list[tuple[str, int]], shown: int = 20) -> str:
    """Which rows of the files read as one come from which file (problems name those rows).

    >>> row_ranges([("a.csv", 20), ("b.csv", 5)])
    'a.csv 2-21, b.csv 22-26'
    >>> row_ranges([("a.csv", 1), ("b.csv", 1), ("c.csv", 1)], shown=2)
    'a.csv 2-2, b.csv 3-3, …'
    """
    parts, first = [], 2  # spreadsheet rows: the header is row 1
    for name, rows in files[:shown]:
        parts.append(f"{name} {first}-{first + rows - 1}")
        first += rows
    return ", ".join(parts + (["…"] if len(files) > shown else []))


def _glob_root(pattern: str) -> str:
    """The folder part of a glob before its first wildcard.

    >>> _glob_root("exports/2026-*/leads*.csv")
    'exports'
    """
    parts = Path(pattern).parts
    fixed = [
        p for p in parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]
    ]
    return str(Path(*fixed)) if fixed else "."


def _expand(pattern: str) -> list[Path]:
    path = Path(pattern)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES
        )
    elif glob.has_magic(pattern):
        found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    else:
        raise LoadError([Problem("file_missing", path.name, params={"path": str(path)})])
    if not found:
        raise LoadError([Problem("source_no_files", masked(pattern))])
    return found


@contextmanager
def _scratch() -> Iterator[Path]:
    """A private temporary folder, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="funnel-source-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_ready(source: Source) -> None:
    """Refuse a connection string that does not parse, then a missing psycopg (the engines
    extra, which ``make install`` leaves out), each with its message, before any psycopg code
    runs."""
    origin = source.origin.strip()
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 — raises ValueError on a port that is not a number
    except ValueError as exc:
        raise SourceError(
            "bad_connection_string", where=masked(origin), reason=_scrub(str(exc), origin)
        ) from None
    if not parts.hostname and not parts.path.strip("/"):
        raise SourceError("bad_connection_string", where=masked(origin), reason="no host")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise SourceError("needs_psycopg", where=source.name) from None


def _pg_connect(source: Source) -> Any:
    """Connect read-only; a bad string, a refused login or an unreachable server is named."""
    _pg_ready(source)
    import psycopg

    origin = source.origin.strip()
    try:
        return psycopg.connect(
            origin,
            autocommit=False,
            connect_timeout=15,
            application_name="funnel",
            client_encoding="utf8",
            options="-c default_transaction_read_only=on",
        )
    except psycopg.ProgrammingError as exc:  # the string itself does not parse
        raise SourceError(
            "bad_connection_string", where=masked(origin), reason=_scrub(str(exc), origin)
        ) from None
    except psycopg.Error as exc:
        reason = _scrub(str(exc), origin)
        if getattr(exc, "sqlstate", None) in ("28P01", "28000") or "password" in reason.lower():
            raise SourceError("login_refused", where=masked(origin), reason=reason) from None
        raise SourceError("connect_failed", where=masked(origin), reason=reason) from None


def _pg_select(source: Source) -> Any:
    from psycopg import sql

    if source.table:
        parts = [p.strip('"') for p in _split_name(source.table)]
        return sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts))
    assert source.query is not None
    query = source.query.strip().rstrip(";").strip()
    # the user's own SQL on their own database, run read-only: composed, never formatted
    return sql.SQL("SELECT * FROM ({}) AS funnel_query").format(sql.SQL(query))


def _split_name(name: str) -> list[str]:
    """Split ``schema.table`` on dots outside double quotes.

    >>> _split_name('crm."lead.list"')
    ['crm', '"lead.list"']
    """
    return [p for p in re.findall(r'(?:"[^"]*"|[^.])+', name.strip())]


@contextmanager
def _pg_errors(source: Source, conn: Any) -> Iterator[None]:
    """Turn what PostgreSQL says while reading into a message naming the source and the fix."""
    import psycopg
    from psycopg import errors

    try:
        yield
    except errors.UndefinedTable as exc:
        raise SourceError(
            "missing_table", where=source.name, reason=_scrub(str(exc), source.origin)
        ) from None
    except psycopg.Error as exc:
        reason = _scrub(str(exc), source.origin)
        lost = isinstance(exc, errors.AdminShutdown | errors.OperationalError) or conn.broken
        code = "connection_lost" if lost else "query_failed"
        raise SourceError(code, where=source.name, reason=reason) from None


def _pg_copy(source: Source, out: Path, *, limit: int | None, max_bytes: int | None) -> Path:
    """Stream a table or query into a CSV file with ``COPY ... TO STDOUT`` (never all in memory)."""
    _pg_ready(source)
    from psycopg import sql

    from funnel.readers import max_bytes_default

    cap = max_bytes if max_bytes is not None else max_bytes_default()
    select = _pg_select(source)
    if limit is not None:
        select = sql.SQL("SELECT * FROM ({}) AS funnel_sample LIMIT {}").format(
            select, sql.Literal(limit)
        )
    copy = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(select)
    conn = _pg_connect(source)
    try:
        with _pg_errors(source, conn), conn.cursor() as cur:
            cur.execute("SET DateStyle = 'ISO, YMD'")
            cur.execute("SET TIME ZONE 'UTC'")
            written = 0
            with out.open("wb") as f, cur.copy(copy) as stream:
                for chunk in stream:
                    written += len(chunk)
                    if written > cap:
                        raise LoadError(
                            [
                                Problem(
                                    "source_too_large",
                                    source.name,
                                    params={"limit": f"{cap / 1e6:,.0f} MB"},
                                )
                            ]
                        )
                    f.write(chunk)
    finally:
        conn.close()
    return out


def _pg_counts(
    source: Source, id_col: str, ts_col: str, type_col: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    _pg_ready(source)
    from psycopg import sql

    cols = {
        "id": sql.Identifier(id_col),
        "ts": sql.Identifier(ts_col),
        "type": sql.Identifier(type_col),
    }
    log = sql.SQL(
        "SELECT CAST({id} AS text) AS lead_id, trim(CAST({type} AS text)) AS activity_type, "
        "CAST({ts} AS timestamp) AS occurred_at FROM ({select}) AS funnel_log"
    ).format(select=_pg_select(source), **cols)
    summary = sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE lead_id IS NULL), "
        "count(*) FILTER (WHERE occurred_at IS NULL), "
        "count(*) FILTER (WHERE activity_type IS NULL OR activity_type = ''), "
        "count(DISTINCT activity_type), max(occurred_at) FROM ({log}) AS l"
    ).format(log=log)
    per_lead = sql.SQL(
        "COPY (SELECT lead_id, activity_type, count(*) AS n FROM ({log}) AS l "
        "WHERE lead_id IS NOT NULL AND activity_type <> '' AND occurred_at IS NOT NULL "
        "GROUP BY lead_id, activity_type) TO STDOUT WITH (FORMAT csv)"
    ).format(log=log)
    conn = _pg_connect(source)
    try:
        with _pg_errors(source, conn), conn.cursor() as cur:
            row = cur.execute(summary).fetchone()
            facts = dict(
                zip(("total", "no_id", "no_time", "no_type", "types", "last"), row, strict=True)
            )
            if facts["types"] > MAX_ACTIVITY_TYPES:
                kinds = cur.execute(
                    sql.SQL("SELECT DISTINCT activity_type FROM ({log}) AS l LIMIT {n}").format(
                        log=log, n=sql.Literal(MAX_EXAMPLES)
                    )
                ).fetchall()
                facts["examples"] = [str(k[0]) for k in kinds]
                return pd.DataFrame(), facts
            with _scratch() as folder:
                out = folder / "counts.csv"
                with out.open("wb") as f, cur.copy(per_lead) as stream:
                    for chunk in stream:
                        f.write(chunk)
                frame = pd.read_csv(
                    out,
                    names=["lead_id", "activity_type", "n"],
                    dtype={"lead_id": "str", "activity_type": "str", "n": "int64"},
                    keep_default_na=False,
                )
    finally:
        conn.close()
    return frame, facts


# --- Spark -----------------------------------------------------------------------------------


def spark_session(origin: str) -> Any:
    """The Spark session for ``origin``: the one this process runs if it is that one, else a
    new one.

    ``spark-local`` runs Spark in this process; ``sc://host`` is Spark Connect; any other
    master URL (``spark://host:7077``, ``yarn``) is a cluster. One process holds one classic
    Spark session: asking for another master while one runs is refused, naming both (Spark
    would otherwise hand back the running one, reading somewhere else than asked).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SourceError("needs_pyspark", where=masked(origin)) from None
    builder: Any = SparkSession.builder.appName("funnel")
    low = origin.strip().lower()
    try:
        if low.startswith("sc://"):
            return builder.remote(origin.strip()).getOrCreate()
        local = low == "spark-local" or low.startswith("local")
        wanted = "local[*]" if low == "spark-local" else origin.strip()
        session = builder.master(wanted).config("spark.ui.enabled", "false").getOrCreate()
        session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    except Exception as exc:  # py4j, Java or network errors: the session did not start
        raise SourceError(
            "connect_failed", where=masked(origin), reason=_scrub(str(exc), origin)
        ) from None
    running = str(session.sparkContext.master)
    if running.startswith("local") != local or (not local and running != origin.strip()):
        raise SourceError("spark_other_master", where=masked(origin), running=masked(running))
    return session


def _spark_frame(source: Source) -> Any:
    session = spark_session(source.origin)
    with _spark_errors(source):
        if source.table:
            return session.table(source.table)
        if source.query:
            return session.sql(source.query.strip().rstrip(";"))
        assert source.path is not None
        return session.read.format(source.format).load(source.path)


@contextmanager
def _spark_errors(source: Source) -> Iterator[None]:
    try:
        yield
    except (SourceError, LoadError):
        raise
    except Exception as exc:  # pyspark's AnalysisException, ParseException, Py4JError ...
        text = str(exc)
        condition = str(getattr(exc, "getCondition", lambda: None)() or "")
        reason = _scrub(text, source.origin)
        if condition in ("TABLE_OR_VIEW_NOT_FOUND", "PATH_NOT_FOUND") or (
            "TABLE_OR_VIEW_NOT_FOUND" in text or "PATH_NOT_FOUND" in text
        ):
            raise SourceError("missing_table", where=source.name, reason=reason) from None
        if "DATA_SOURCE_NOT_FOUND" in text:
            raise SourceError(
                "format_unavailable", where=source.name, format=source.format
            ) from None
        raise SourceError("query_failed", where=source.name, reason=reason) from None


def _to_pandas(frame: Any) -> pd.DataFrame:
    """A Spark frame's rows, without pyspark's own pandas deprecation warnings on the user's
    terminal (they are about pyspark's code, not the data)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"pyspark\.")
        rows: pd.DataFrame = frame.toPandas()
        return rows


def _spark_parquet(source: Source, out: Path, *, limit: int | None) -> Path:
    """Bring a Spark input to this machine as one Parquet file (the file reader reads it).

    The rows come back through the driver (Arrow), never through a path the executors write:
    on a cluster or over Spark Connect those write on other machines.
    """
    frame = _spark_frame(source)
    with _spark_errors(source):
        if limit is not None:
            frame = frame.limit(limit)
        rows = _to_pandas(frame)
    if rows.empty:
        raise LoadError(
            [Problem("header_only", source.name, values=tuple(frame.columns[:MAX_EXAMPLES]))]
        )
    rows.to_parquet(out, index=False)
    return out


def _spark_counts(
    source: Source, id_col: str, ts_col: str, type_col: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    from pyspark.sql import functions as F

    def col(name: str) -> Any:
        return F.col("`" + name.replace("`", "``") + "`")

    frame = _spark_frame(source)
    with _spark_errors(source):
        log = frame.select(
            col(id_col).cast("string").alias("lead_id"),
            F.trim(col(type_col).cast("string")).alias("activity_type"),
            col(ts_col).try_cast("timestamp").alias("occurred_at"),
        )
        row = log.agg(
            F.count(F.lit(1)),
            F.count_if(F.col("lead_id").isNull()),
            F.count_if(F.col("occurred_at").isNull()),
            F.count_if(F.col("activity_type").isNull() | (F.col("activity_type") == "")),
            F.count_distinct(F.col("activity_type")),
            F.max("occurred_at"),
        ).collect()[0]
        facts = dict(
            zip(("total", "no_id", "no_time", "no_type", "types", "last"), row, strict=True)
        )
        if facts["types"] > MAX_ACTIVITY_TYPES:
            kinds = log.select("activity_type").distinct().limit(MAX_EXAMPLES).collect()
            facts["examples"] = [str(k[0]) for k in kinds]
            return pd.DataFrame(), facts
        counts = (
            log.where(
                F.col("lead_id").isNotNull()
                & F.col("occurred_at").isNotNull()
                & (F.col("activity_type") != "")
            )
            .groupBy("lead_id", "activity_type")
            .agg(F.count(F.lit(1)).alias("n"))
        )
        frame_out = _to_pandas(counts)  # per lead and type: all that comes back
    frame_out = frame_out.astype({"lead_id": "str", "activity_type": "str", "n": "int64"})
    return frame_out, facts


# --- an activity log counted where it lives --------------------------------------------------


def count_activities(source: Source, mapping: Mapping) -> ActivityCounts:
    """Count each lead's activities per type in the engine; only per-lead rows come back.

    The mapping's activity columns (lead id, timestamp, type) say what to count. Activities
    without a lead id, a readable timestamp or a type are refused, as the file path refuses
    them, with how many there are.
    """
    source.check()
    roles = {r: mapping.column(r, "activities") for r in ("id", "created", "source")}
    missing = [r for r, c in roles.items() if c is None]
    if missing:
        raise LoadError(
            [Problem("activity_role_missing", source.name, params={"role": r}) for r in missing]
        )
    id_col, ts_col, type_col = roles["id"], roles["created"], roles["source"]
    assert id_col and ts_col and type_col
    if source.engine == "postgresql":
        frame, facts = _pg_counts(source, id_col, ts_col, type_col)
    elif source.engine == "spark":
        frame, facts = _spark_counts(source, id_col, ts_col, type_col)
    else:
        raise SourceError("not_an_engine", where=source.name)
    if facts["types"] > MAX_ACTIVITY_TYPES:
        raise LoadError(
            [
                Problem(
                    "too_many_activity_types",
                    source.name,
                    column=type_col,
                    values=tuple(facts.get("examples", ())),
                    count=int(facts["types"]),
                    params={"limit": MAX_ACTIVITY_TYPES},
                )
            ]
        )
    problems = [
        Problem("source_activity_nulls", source.name, column=column, count=int(facts[key]))
        for key, column in (("no_id", id_col), ("no_time", ts_col), ("no_type", type_col))
        if facts[key]
    ]
    if problems:
        raise LoadError(problems)
    return ActivityCounts(source.name, frame, int(facts["total"]), id_col)


def with_activities(prepared: Prepared, log: ActivityCounts) -> Prepared:
    """Add a counted activity log's ``activity_<type>`` columns to prepared leads.

    Counts of leads that are not in the leads are refused (as the file path refuses such
    rows). The columns are the file path's own (:func:`funnel.ingest.activity_columns`); no
    activity log is stored, so the dataset's behaviour points do not decay.
    """
    lead_col = prepared.mapping.column("id")
    assert lead_col is not None
    known = set(prepared.leads[lead_col].astype("str"))
    unknown = log.counts[~log.counts["lead_id"].isin(known)]
    if len(unknown):
        ids = list(dict.fromkeys(unknown["lead_id"]))
        raise LoadError(
            [
                Problem(
                    "source_unknown_lead",
                    log.name,
                    column=log.id_column,
                    values=tuple(ids[:MAX_EXAMPLES]),
                    count=int(unknown["n"].sum()),
                    params={"leads": len(ids)},
                )
            ]
        )
    wide = (
        log.counts.pivot_table(
            index="lead_id", columns="activity_type", values="n", aggfunc="sum", fill_value=0
        ).sort_index(axis=1)
        if len(log.counts)
        else pd.DataFrame()
    )
    typed, mapping, notes = activity_columns(
        prepared.leads, prepared.mapping, wide, log.name, log.total
    )
    digest = log.digest
    entry = {
        "name": log.name,
        "role": "activities",
        "sha256": digest,
        "format": "counts",
        "encoding": None,
        "delimiter": None,
        "rows": log.total,
    }
    fingerprint = hashlib.sha256((prepared.fingerprint + digest).encode()).hexdigest()[:16]
    return replace(
        prepared,
        leads=typed,
        mapping=mapping,
        problems=prepared.problems + tuple(notes),
        files=[*prepared.files, entry],
        columns=[str(c) for c in typed.columns],
        fingerprint=fingerprint,
    )


# --- the whole load --------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What a load from sources read: the leads and outcomes whole, and the activity log whole
    (files) or as a sample to map it by (an engine, which counts it afterwards)."""

    leads: SourceFile
    outcomes: SourceFile | None
    activities: SourceFile | None
    counted: Source | None  # an engine's activity log, counted after mapping


def read_inputs(
    leads: Source,
    outcomes: Source | None = None,
    activities: Source | None = None,
    *,
    max_bytes: int | None = None,
    max_memory: int | None = None,
    encoding: str | None = None,
) -> Inputs:
    """Read the leads and outcomes, and the activity log (or, from an engine, its sample)."""
    for s in (leads, outcomes, activities):
        if s is not None:
            s.check()
    kw: dict[str, Any] = {"max_bytes": max_bytes, "max_memory": max_memory, "encoding": encoding}
    lead_file = read(leads, **kw)
    out_file = read(outcomes, **kw) if outcomes is not None else None
    if activities is None:
        return Inputs(lead_file, out_file, None, None)
    if activities.engine == "files":
        return Inputs(lead_file, out_file, read(activities, **kw), None)
    return Inputs(lead_file, out_file, sample(activities), activities)


def load(
    store: Store,
    dataset: str,
    inputs: Inputs,
    *,
    mapping: Mapping | None = None,
    overrides: Overrides | None = None,
    keep_last: bool = False,
    refresh: bool = False,
    accept_changed_outcomes: bool = False,
    progress: Progress = _no_progress,
    by: Actor | None = None,
) -> LoadResult:
    """Map, prepare and store what :func:`read_inputs` read, through
    :func:`funnel.ingest.load_files`; an engine's activity log is counted in the engine once
    mapped."""
    counted = inputs.counted

    def count_log(prepared: Prepared, mapping: Mapping) -> Prepared:
        assert counted is not None
        return with_activities(prepared, count_activities(counted, mapping))

    return load_files(
        store,
        dataset,
        inputs.leads,
        inputs.outcomes,
        inputs.activities,
        mapping=mapping,
        overrides=overrides,
        keep_last=keep_last,
        refresh=refresh,
        accept_changed_outcomes=accept_changed_outcomes,
        progress=progress,
        by=by,
        count_log=None if counted is None else count_log,
    )


_QUERY = re.compile(r"(?is)^\s*(select|with|values|table)\b")


def typed_source(origin: str, text: str) -> Source | None:
    """The source one typed box names: a query (it starts like one), a Spark path (it holds a
    slash) or a table; None for an empty box.

    >>> typed_source("spark-local", "/lake/leads").path
    '/lake/leads'
    >>> typed_source("postgres://h/db", " select 1").query
    'select 1'
    >>> typed_source("postgres://h/db", "crm.leads").table
    'crm.leads'
    """
    text = text.strip()
    if not text:
        return None
    if _QUERY.match(text):
        return Source(origin, query=text)
    if "/" in text:
        return Source(origin, path=text)
    return Source(origin, table=text)


def default_name(source: Source) -> str:
    """A dataset name for a source: its table's or path's last part, or its folder's name.

    >>> default_name(Source("postgresql://h/db", table="crm.leads"))
    'leads'
    >>> default_name(Source("exports/2026/*.csv"))
    '2026'
    """
    if source.table:
        return _split_name(source.table)[-1].strip('"')
    if source.path:
        return Path(source.path.rstrip("/")).stem
    if source.engine == "files":
        p = Path(source.origin)
        return (
            p.stem
            if p.is_file()
            else (p.name if p.is_dir() else Path(_glob_root(source.origin)).name)
        )
    return "query"
