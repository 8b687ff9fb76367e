"""In a real browser at 1280 px: no chart in the app has text outside its box, an axis title
over its tick labels or turned sideways, or a legend over its plot; in English and Japanese.

Every chart of the Funnel page (two segments compared too), the Segments page (by one column
and by two) and every tab of the Tuner (with both fit and engagement rules, so the fit ×
engagement matrix is drawn) is measured by the browser's own layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from bench.server import Server
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.rules import CategoryRule, encode_ruleset
from funnel.store import Store
from funnel.suggest import template_for
from tests.support import chart_problems

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms
WIDTH = 1280
TABS = ("tiers", "deciles", "curve", "matrix")


@pytest.fixture(scope="module")
def served(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The app on a 3,000-lead demo, and a link to the Tuner with fit and engagement rules."""
    workdir = tmp_path_factory.mktemp("charts")
    with Store(workdir / "funnel.duckdb") as store:
        info = load_demo(store, "demo", leads=3000).dataset
    rules = template_for(info)
    rules = replace(rules, rules=(*rules.rules, CategoryRule("budget", "Yes", 10)))
    query = urlencode({"dataset": "demo", "rules": encode_ruleset(rules)})
    try:
        server = Server(workdir / "funnel.duckdb", workdir / "streamlit.log")
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url, query
    finally:
        server.stop()


def idle(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)


def charts_fit(page: Page, where: str, shots: Path) -> list[str]:
    idle(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=WAIT)
    found = chart_problems(page)
    page.screenshot(path=str(shots / f"{where}.png"), full_page=True)
    return [f"{where}: {p}" for p in found["problems"]]


def pick(page: Page, label: str, option: str) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label).first
    # the heading shows before the page's widgets: under load they take longer than a click
    expect(box).to_be_visible(timeout=WAIT)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    idle(page)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_chart_in_the_app_has_text_outside_its_box_or_titles_over_labels(
    page: Page, served: tuple[str, str], artifacts: Path, lang: str
) -> None:
    url, tuner_query = served
    shots = artifacts / "charts"
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": WIDTH, "height": 3200})  # the whole page in a screenshot
    problems: list[str] = []

    page.goto(f"{url}/funnel?lang={lang}")
    expect(page.get_by_role("heading", name=t("funnel.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    pick(page, t("funnel.segment_a", lang), "Seminar")
    pick(page, t("funnel.segment_b", lang), "Web form")
    expect(page.locator(".js-plotly-plot")).to_have_count(2 + 1 + 4, timeout=WAIT)
    problems += charts_fit(page, f"funnel-{lang}", shots)

    page.goto(f"{url}/segments?lang={lang}")
    expect(page.get_by_role("heading", name=t("segments.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    problems += charts_fit(page, f"segments-{lang}", shots)
    page.get_by_test_id("stSelectbox").filter(has_text=t("segments.and_by", lang)).click()
    page.get_by_role("option", name="industry", exact=True).click()
    idle(page)
    problems += charts_fit(page, f"segments-heatmap-{lang}", shots)

    page.goto(f"{url}/tuner?lang={lang}&{tuner_query}")
    expect(page.get_by_role("heading", name=t("tuner.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    for tab in TABS:
        page.get_by_role("tab", name=t(f"tuner.tab.{tab}", lang)).click()
        problems += charts_fit(page, f"tuner-{tab}-{lang}", shots)

    assert problems == []
