"""A real OpenID Connect provider and a team server (``funnel serve``) for the sign-in tests.

The provider is node-oidc-provider 9.13.3 (``tests/idp``: ``npm ci`` there installs it, as
``.ci/run`` does) on 127.0.0.1 with its own login form; the users it knows are in
``tests/idp/users.json``. The server is started the way a team starts it: ``funnel serve
--config FILE`` with sign-in and roles in the file, its database in its own data folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bench.server import ROOT, free_port, start_group, stop_group
from funnel.i18n import t

IDP = ROOT / "tests" / "idp"
SECRET = "funnel-test-secret"
WAIT = 60_000  # ms
ROLES = """
[roles]
sign_marketing = ["group:funnel-marketing"]
sign_sales = ["group:funnel-sales"]
manage_datasets = ["mara@example.com"]
view = ["domain:example.com"]
"""


def provider_missing() -> str | None:
    """Why the test provider cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (the test identity provider runs on node 20+)"
    if not (IDP / "node_modules" / "oidc-provider").is_dir():
        return f"the test identity provider is not installed: run npm ci --prefix {IDP}"
    return None


def require_provider() -> None:
    """Skip without the provider; fail instead in CI (``FUNNEL_REQUIRE_BROWSER=1``)."""
    reason = provider_missing()
    if reason is None:
        return
    if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FUNNEL_REQUIRE_BROWSER=1: browser tests must run)", pytrace=False)
    pytest.skip(reason)


class Provider:
    """oidc-provider on 127.0.0.1; every app URL that may sign in is registered up front."""

    def __init__(self, app_ports: list[int], log: Path) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.app_ports, self.log = app_ports, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> None:
        uris = ",".join(f"http://127.0.0.1:{p}/oauth2callback" for p in self.app_ports)
        env = {**os.environ, "IDP_PORT": str(self.port), "IDP_REDIRECT_URIS": uris}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["node", str(IDP / "provider.mjs")],
                cwd=IDP,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while f"READY {self.issuer}" not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the identity provider did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
        self.process = None


class TeamServer:
    """``funnel serve --config FILE``: sign-in through ``provider``, roles from the file."""

    def __init__(self, folder: Path, provider: Provider, port: int, **server: Any) -> None:
        self.folder, self.provider, self.port = folder, provider, port
        self.url = f"http://127.0.0.1:{port}"
        self.data = folder / "data"
        self.config = folder / "funnel-server.toml"
        self.log = folder / "serve.log"
        self.server = server
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        return self.data / "funnel.duckdb"

    def write_config(self, **server: Any) -> None:
        settings = {"address": "127.0.0.1", "port": self.port, "data_dir": str(self.data)}
        settings |= self.server | server
        lines = ["[server]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
        lines += [
            "",
            "[auth]",
            "enabled = true",
            f"server_metadata_url = {_toml(self.provider.metadata_url)}",
            'client_id = "funnel"',
            f"client_secret = {_toml(SECRET)}",
            'scope = "openid email profile groups"',
            # oidc-provider refuses Streamlit's default prompt (select_account)
            'prompt = "login"',
        ]
        self.config.write_text("\n".join(lines) + "\n" + ROLES, encoding="utf-8")

    def start(self, **server: Any) -> None:
        self.write_config(**server)
        funnel = Path(sys.executable).with_name("funnel")
        self.process = start_group(
            [str(funnel), "serve", "--config", str(self.config), "--as", "admin"],
            url=self.url,
            log=self.log,
            env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"},
            what="funnel serve",
            append=True,
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
        self.process = None


@contextmanager
def team_stack(
    folder: Path, prepare: Callable[[Path], None] | None = None
) -> Iterator[tuple[Provider, TeamServer]]:
    """A provider and ``funnel serve`` with sign-in; ``prepare`` fills the database first."""
    require_provider()
    port = free_port()
    provider = Provider([port], folder / "idp.log")
    server = TeamServer(folder, provider, port)
    server.data.mkdir(parents=True)
    if prepare is not None:
        prepare(server.database)
    provider.start()
    try:
        server.start()
        yield provider, server
    finally:
        server.stop()
        provider.stop()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_context(browser: Browser) -> BrowserContext:
    """A context that reaches only 127.0.0.1 (the provider's pages @import web fonts)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    return context


def sign_in(
    browser: Browser, url: str, login: str, *, path: str = ""
) -> tuple[BrowserContext, Page]:
    """A fresh browser signs in as ``login`` through the provider's own form."""
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{url}/{path}")
    page.get_by_role("button", name=t("signin.button", "en"), exact=True).click()
    page.wait_for_url("**/interaction/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.get_by_role("button", name="Sign-in").click()
    page.wait_for_url(f"{url}/**")
    return context, page


def signed_in_as(page: Page, name: str, email: str) -> None:
    text = t("signin.as", "en", name=name, email=email)
    expect(page.get_by_test_id("stSidebar").get_by_text(text)).to_be_visible(timeout=WAIT)
