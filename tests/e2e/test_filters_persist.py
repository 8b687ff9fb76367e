"""In a real browser: a sidebar filter set on the Funnel page still applies on the Segments page.

The whole walk is one browser session: load a CSV on the Data page, then move between pages only
by clicking the sidebar navigation (a fresh page load would start a new session).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Locator, Page, expect

from funnel.demo import generate_leads
from funnel.i18n import t
from tests.e2e.pickers import pick_option

pytestmark = pytest.mark.e2e

WAIT = 30_000  # ms
LANG = "en"
DATASET = "filters-persist"
PICKED = "Referral"
STAGES = ["lead", "mql", "sql", "opportunity", "won"]

# The data grid draws on a canvas; its accessible twin lists the visible cells by row.
GRID_ROWS = """el => Array.from(el.querySelectorAll('[role=row]'))
    .map(r => Array.from(r.querySelectorAll('[role=gridcell]')).map(c => c.innerText.trim()))
    .filter(r => r.length)"""


def stage_counts(frame: pd.DataFrame) -> list[int]:
    """Leads reaching each stage: its own date, or any later stage (``won`` is the outcome)."""
    won = frame["outcome"] == "Won"
    opportunity = frame["opportunity_date"].notna() | won
    sql = frame["sql_date"].notna() | opportunity
    mql = frame["mql_date"].notna() | sql
    return [len(frame), int(mql.sum()), int(sql.sum()), int(opportunity.sum()), int(won.sum())]


def grid_rows(grid: Locator) -> list[list[str]]:
    return list(grid.evaluate(GRID_ROWS))


def wait_for_rows(grid: Locator, want: list[list[str]], columns: int) -> list[list[str]]:
    """Poll the grid until its first ``columns`` cells per row equal ``want``; return them."""
    deadline = time.monotonic() + WAIT / 1000
    while True:
        got = [row[:columns] for row in grid_rows(grid)]
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def main_grid(page: Page) -> Locator:
    return page.get_by_test_id("stMain").get_by_test_id("stDataFrame").first


def source_filter(page: Page) -> Locator:
    label = t("filters.source", LANG, column="source")
    return page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text=label)


def active_info(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stAlertContentInfo").get_by_text(text, exact=True)


def go_to(page: Page, nav_page: str, title: str) -> None:
    """Click a sidebar navigation link (same session) and wait for the page's title."""
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name=t(nav_page, LANG), exact=True).click()
    heading = page.get_by_role("heading", name=t(title, LANG), exact=True)
    expect(heading).to_be_visible(timeout=WAIT)


def load_csv(page: Page, url: str, data: bytes) -> None:
    page.goto(f"{url}/data?lang={LANG}")
    heading = page.get_by_role("heading", name=t("data.title", LANG), exact=True)
    expect(heading).to_be_visible(timeout=WAIT)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=t("data.leads_file", LANG))
    uploader.locator("input[type=file]").set_input_files(
        {"name": f"{DATASET}.csv", "mimeType": "text/csv", "buffer": data}
    )
    mapping = page.get_by_text(t("data.mapping_header", LANG), exact=True)
    expect(mapping).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=t("data.load_button", LANG)).click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible(timeout=WAIT)


def test_source_filter_set_on_the_funnel_page_still_applies_on_the_segments_page(
    page: Page, app_url: str, artifacts: Path
) -> None:
    frame = generate_leads(1500, seed=11)
    picked = frame[frame["source"] == PICKED]
    everyone = stage_counts(frame)
    filtered = stage_counts(picked)
    assert 0 < filtered[0] < everyone[0] and filtered != everyone
    labels = [t(f"stage.{s}", LANG) for s in STAGES]
    active = t("filters.active", LANG, filters=f"source = {PICKED}")
    no_filter = page.get_by_text(t("filters.none", LANG), exact=True)

    load_csv(page, app_url, frame.to_csv(index=False).encode())
    go_to(page, "page.funnel", "funnel.title")
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name=t("app.dataset", LANG))
    expect(picker).to_have_value(DATASET)
    expect(no_filter).to_be_visible(timeout=WAIT)
    unfiltered = [[label, str(n)] for label, n in zip(labels, everyone, strict=True)]
    assert wait_for_rows(main_grid(page), unfiltered, 2) == unfiltered

    # Pick one source in the sidebar filter.
    pick_option(source_filter(page), PICKED)

    expect(active_info(page, active)).to_be_visible(timeout=WAIT)
    expect(no_filter).to_have_count(0)
    narrowed = [[label, str(n)] for label, n in zip(labels, filtered, strict=True)]
    assert wait_for_rows(main_grid(page), narrowed, 2) == narrowed
    page.screenshot(path=str(artifacts / "e2e-filters-funnel.png"), full_page=True)

    # Same session: the sidebar navigation link, not a new page load.
    go_to(page, "page.segments", "segments.title")
    expect(main_grid(page)).to_be_visible(timeout=WAIT)
    segment = [[PICKED, str(filtered[0]), str(filtered[-1])]]
    shown = wait_for_rows(main_grid(page), segment, 3)
    page.screenshot(path=str(artifacts / "e2e-filters-segments.png"), full_page=True)

    expect(active_info(page, active)).to_be_visible(timeout=WAIT)
    expect(no_filter).to_have_count(0)
    expect(source_filter(page)).to_contain_text(PICKED)
    assert shown == segment
