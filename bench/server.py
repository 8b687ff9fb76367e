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


class Server:
    """``streamlit run app/main.py`` on 127.0.0.1 with ``FUNNEL_DB`` set; stopped as one group."""

    def __init__(self, db: Path, log: Path) -> None:
        self.db, self.log = db, log
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        streamlit = Path(sys.executable).with_name("streamlit")
        env = {
            **os.environ,
            "FUNNEL_DB": str(db),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(streamlit), "run", "app/main.py"]
                + ["--server.address", "127.0.0.1", "--server.port", str(port)]
                + ["--server.headless", "true", "--server.fileWatcherType", "none"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not healthy(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
