"""In a real browser: no page ever shows a traceback, on any awkward dataset.

A server of its own serves a database holding every awkward dataset of ``tests.support``. For
each, one browser session opens the app on it and clicks through every page in the sidebar (and
on the Tuner, every result tab); on the filtered dataset the sidebar filters first pick two values
no lead has together. Any ``stException`` element fails the test, with a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from bench.server import Server
from funnel.i18n import t
from funnel.store import Store
from tests.e2e.pickers import pick_option
from tests.support import AWKWARD_FILES, EMPTY_VALUES, FILTERED, store_awkward

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms
# (navigation title key, page title key)
PAGES = (
    ("page.overview", "overview.title"),
    ("page.funnel", "funnel.title"),
    ("page.segments", "segments.title"),
    ("page.tuner", "tuner.title"),
    ("page.rulesets", "rulesets.title"),
    ("page.data", "data.title"),
)
TABS = ("tiers", "deciles", "curve", "matrix", "compare")


@pytest.fixture(scope="module")
def awkward_url(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("awkward")
    with Store(workdir / "funnel.duckdb") as store:
        store_awkward(store)
    try:
        server = Server(workdir / "funnel.duckdb", workdir / "streamlit.log")
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


def idle(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)


def no_traceback(page: Page, where: str, shots: Path) -> None:
    idle(page)
    page.wait_for_timeout(300)  # a rerun that would fail has started by now
    idle(page)
    failed = page.get_by_test_id("stException")
    if failed.count():
        page.screenshot(path=str(shots / f"traceback-{where}.png"), full_page=True)
    assert failed.count() == 0, f"{where}: {failed.first.inner_text()[:500]}"


def choose(page: Page, picker: Locator, option: str) -> None:
    """Open a sidebar picker and click one of its options.

    A click scrolls its target into view first, and Streamlit closes an open menu when the
    sidebar scrolls; that scroll event arrives after the click has opened the menu, which then
    closes with nothing to pick. The filtered dataset's third picker sits at the bottom edge of
    the 1000 px window when the sidebar's database path wraps to one more line, as it does in
    Japanese with the test's temporary path: its 'Retail' was never offered. So bring the
    picker into view first, let the scroll pass, then click its box.
    """
    pick_option(picker, option)
    idle(page)


def filter_to_nothing(page: Page, lang: str) -> None:
    """Pick, in the sidebar, a source and an industry no lead has together."""
    bar = page.get_by_test_id("stSidebar")
    (source, source_value), (column, column_value) = EMPTY_VALUES
    pickers = bar.get_by_test_id("stMultiSelect")
    choose(page, pickers.filter(has_text=t("filters.source", lang, column=source)), source_value)
    choose(page, pickers.filter(has_text=t("filters.more", lang)), column)
    expect(pickers).to_have_count(3, timeout=WAIT)  # the column's own values, below the others
    choose(page, pickers.nth(2), column_value)


CASES = [(dataset, lang) for lang in ("en", "ja") for dataset in sorted(AWKWARD_FILES)]


@pytest.mark.parametrize(("dataset", "lang"), CASES)
def test_every_page_opens_in_the_browser_without_a_traceback(
    page: Page, awkward_url: str, artifacts: Path, dataset: str, lang: str
) -> None:
    shots = artifacts / "no-traceback"
    shots.mkdir(parents=True, exist_ok=True)
    page.goto(f"{awkward_url}/?dataset={dataset}&lang={lang}")
    expect(page.get_by_role("heading", name=t("overview.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    no_traceback(page, f"{dataset}-{lang}-overview", shots)
    if dataset == FILTERED:
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name=t("page.funnel", lang), exact=True).click()
        idle(page)
        filter_to_nothing(page, lang)
        expect(page.get_by_text(t("funnel.no_leads", lang)).first).to_be_visible(timeout=WAIT)
    for nav_key, title_key in PAGES:
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name=t(nav_key, lang), exact=True).click()
        heading = page.get_by_role("heading", name=t(title_key, lang), exact=True)
        expect(heading).to_be_visible(timeout=WAIT)
        where = f"{dataset}-{lang}-{nav_key.split('.')[1]}"
        no_traceback(page, where, shots)
        tabs = page.get_by_role("tab")
        if nav_key == "page.tuner" and tabs.count():
            for tab in TABS:
                page.get_by_role("tab", name=t(f"tuner.tab.{tab}", lang)).click()
                no_traceback(page, f"{where}-{tab}", shots)
        page.screenshot(path=str(shots / f"{where}.png"), full_page=True)
