"""A real ``streamlit run app/main.py`` on 127.0.0.1 and the Chromium that drives it, for the
browser tests and the load bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 90.0
#: Debian's Chromium: ``playwright install`` cannot download browsers here.
CHROMIUM = Path("/usr/bin/chromium")
#: The flags the e2e tests and the load bench start it with.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_missing() -> str | None:
    """Why :data:`CHROMIUM` cannot be started here, or None when it can."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return f"no Chromium at {CHROMIUM}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.read().decode().strip() == "ok")
    except (urllib.error.URLError, OSError):
        return False


def start_group(
    argv: list[str], *, url: str, log: Path, env: dict[str, str], what: str, append: bool = False
) -> subprocess.Popen[bytes]:
    """Start ``argv`` from the repository root in a process group of its own, its output in
    ``log``, and wait until the Streamlit server at ``url`` answers its health check.

    Raises RuntimeError with the log's tail when it exits or is not up within
    :data:`STARTUP_TIMEOUT_S` (the group is stopped first).
    """
    with log.open("ab" if append else "wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process)
            raise RuntimeError(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in a group of its own, children included: SIGTERM to the group,
    SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


class Server:
    """``streamlit run app/main.py`` (through :mod:`app.serve`, as ``make run`` starts it) on
    127.0.0.1 with ``FUNNEL_DB`` set; stopped as one group."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db, self.log = db, log
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "FUNNEL_DB": str(db),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        self.process = start_group(
            [sys.executable, "-m", "app.serve"]  # streamlit run app/main.py, imports warm
            + ["--server.address", "127.0.0.1", "--server.port", str(port)]
            + ["--server.headless", "true", "--server.fileWatcherType", "none"],
            url=self.url,
            log=log,
            env=env,
            what="streamlit",
        )

    def stop(self) -> None:
        stop_group(self.process)
