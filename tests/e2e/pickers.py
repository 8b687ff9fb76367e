"""Picking an option from a Streamlit select box in the browser, steadily."""

from __future__ import annotations

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError


def pick_option(picker: Locator, option: str, *, tries: int = 4) -> None:
    """Open a picker (a select or multiselect box) and click one of its options.

    A click scrolls its target into view first, and Streamlit closes an open menu when the
    sidebar scrolls; that scroll can arrive after the click has opened the menu, which then
    closes with nothing to pick (a loaded machine makes it likelier: the rerun redrawing the
    sidebar lands later). So bring the picker into view, let the scroll pass, click its box, and
    open it again while the option is not offered.
    """
    page = picker.page
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(tries):
        picker.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        picker.locator("input").click()
        try:
            wanted.wait_for(state="visible", timeout=5_000)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            continue
        wanted.click()
        page.keyboard.press("Escape")
        return
    picker.locator("input").click()
    wanted.click()  # the last try fails with Playwright's own message
    page.keyboard.press("Escape")
