"""In a real browser: the won deals a definition misses are a table of lead records, and a click
on a row explains that lead; a search by value finds leads too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from bench.server import Server
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.store import Store

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms
ROW_PX = 35  # the data grid's header and row height
FIRST_ID = """el => {
    const rows = Array.from(el.querySelectorAll('[role=row]'))
        .map(r => Array.from(r.querySelectorAll('[role=gridcell]')).map(c => c.innerText.trim()))
        .filter(r => r.length);
    return rows.length ? rows[0].find(c => c.startsWith('L')) : null;
}"""


@pytest.fixture(scope="module")
def demo_url(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("records")
    with Store(workdir / "funnel.duckdb") as store:
        load_demo(store, "demo", leads=2000)
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


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_click_on_a_missed_won_deal_explains_that_lead(
    page: Page, demo_url: str, artifacts: Path, lang: str
) -> None:
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(f"{demo_url}/tuner?lang={lang}")
    expect(page.get_by_role("heading", name=t("tuner.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    idle(page)
    page.get_by_text(t("tuner.show_missed", lang, count="")[:12]).first.click()
    idle(page)
    showing = t("records.showing", lang, first="1", last="25", total="")[:10]
    expect(page.get_by_text(showing).first).to_be_visible(timeout=WAIT)
    grid = page.get_by_test_id("stDataFrame").last
    grid.scroll_into_view_if_needed()
    # the grid draws on a canvas; its accessible twin holds the cells (once drawn)
    first_id = ""
    for _ in range(100):
        first_id = str(grid.evaluate(FIRST_ID) or "").strip()
        if first_id:
            break
        page.wait_for_timeout(300)
    assert first_id.startswith("L")
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 12, box["y"] + ROW_PX + ROW_PX / 2)  # the first row's marker
    idle(page)

    search = page.get_by_role("textbox", name=t("tuner.lead_search", lang), exact=True)
    expect(search).to_have_value(first_id, timeout=WAIT)
    explained = t("tuner.explained", lang, score="", tier="", outcome="")[:5]
    expect(page.get_by_text(explained).first).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(artifacts / f"e2e-records-explained-{lang}.png"), full_page=True)
