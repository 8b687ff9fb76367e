"""Real SQL engines for the exported SQL: a PostgreSQL server and Spark in local mode.

Each is started once per session. A missing piece (PostgreSQL binaries, psycopg, Java,
pyspark) skips its tests with the reason, except under ``FUNNEL_REQUIRE_ENGINES=1`` (CI),
where it fails them: there the engines must run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REQUIRED = os.environ.get("FUNNEL_REQUIRE_ENGINES", "") == "1"


def unavailable(what: str) -> NoReturn:
    """Skip (or, where engines are required, fail) because a piece is missing."""
    if REQUIRED:
        pytest.fail(f"{what} (FUNNEL_REQUIRE_ENGINES=1: the engines must run here)", pytrace=False)
    pytest.skip(what)


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for folder in reversed(folders):
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    """A running throwaway PostgreSQL server on 127.0.0.1."""

    port: int
    user: str = "funnel"
    dbname: str = "postgres"

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=self.dbname, autocommit=True
        )


def _as_postgres_user() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: run its programs as ``nobody`` then."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[engines]')")
    bindir = postgres_bin()
    if bindir is None:
        unavailable("PostgreSQL's initdb/pg_ctl not found (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="funnel-pg-"))
    owner = _as_postgres_user()
    if owner:
        os.chown(base, owner["user"], owner["group"])
    data, log = base / "data", base / "server.log"
    server = Postgres(free_port())

    def run(*cmd: str) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **owner)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        server.user,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        yield server
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=120,
            **owner,
        )
        shutil.rmtree(base, ignore_errors=True)


# --- Spark ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        unavailable("pyspark is not installed (pip install -e '.[engines]')")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        unavailable("no Java runtime for Spark (apt-get install default-jre-headless)")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    try:
        session = (
            SparkSession.builder.master("local[1]")
            .appName("funnel-sql-export-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "1g")
            .config("spark.sql.warehouse.dir", str(warehouse))
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    except Exception as exc:  # the JVM did not start: no usable Java
        unavailable(f"Spark did not start: {str(exc)[:300]}")
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
