"""Browser fixtures: Debian's Chromium driving a real ``streamlit run`` on a free port.

``playwright install`` cannot download browsers here, so the tests use /usr/bin/chromium.
Without it they skip, unless ``FUNNEL_REQUIRE_BROWSER=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bench.server import CHROMIUM, CHROMIUM_ARGS, Server, chromium_missing

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


def _missing(reason: str) -> None:
    if os.environ.get("FUNNEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (FUNNEL_REQUIRE_BROWSER=1: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Path:
    reason = chromium_missing()
    if reason is not None:
        _missing(
            f"{reason}; install it with: apt-get install -y chromium chromium-driver fonts-noto-cjk"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def app_server(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Run ``streamlit run app/main.py`` on a fresh database; stop it after the session."""
    workdir = tmp_path_factory.mktemp("e2e")
    try:
        server = Server(workdir / "funnel.duckdb", workdir / "streamlit.log")
    except RuntimeError as exc:  # it says why, with the end of the server's log
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_url(app_server: Server) -> str:
    return app_server.url


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser page; a failing test leaves its screenshot in tests/artifacts/."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    shot = ARTIFACTS / f"FAILED-{request.node.name}.png"
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(shot), full_page=True)
    else:
        shot.unlink(missing_ok=True)
    context.close()


def fill_steady(box: Locator, text: str) -> None:
    """Fill a text box and make sure the text stays there.

    A rerun still under way when the text is typed can re-render the box and drop it, so wait
    a moment and type again if that happened.
    """
    for _ in range(5):
        box.fill(text)
        box.page.wait_for_timeout(400)
        if box.input_value() == text:
            return
    expect(box).to_have_value(text)


def download_to(button: Locator, path: Path, *, tries: int = 3) -> Path:
    """Click a download button and save the file; click again if nothing came (as a user would).

    The page may still be rerunning when the button is first clicked.
    """
    for attempt in range(tries):
        try:
            with button.page.expect_download(timeout=45_000) as got:
                button.click()
            got.value.save_as(path)
            return path
        except PlaywrightTimeoutError:
            if attempt == tries - 1:
                raise
    return path


@pytest.fixture
def download() -> Callable[[Locator, Path], Path]:
    """Return :func:`download_to`."""
    return download_to


@pytest.fixture
def fill() -> Callable[[Locator, str], None]:
    """Return :func:`fill_steady` (fixtures are how test modules here share helpers)."""
    return fill_steady


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
