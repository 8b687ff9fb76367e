"""In a real browser: move a weight slider on the Tuner page and watch the hot-lead metrics follow.

The session server starts on an empty database that it keeps open, so the dataset is loaded the
way a user would: upload a CSV on the Data page, then walk to the Tuner in the same session.
Expected numbers are the simple template scored by hand with pandas, never read from the app.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Locator, Page, expect

from funnel.demo import generate_leads
from funnel.i18n import t
from tests.support import backtest_counted

pytestmark = pytest.mark.e2e

WAIT = 30_000  # ms
LANG = "en"
DATASET = "tuner-e2e"
LEADS = 2000
# The simple template on the demo columns: (column, points per unit, cap); A from 10 points.
TEMPLATE = {
    "web_visits": (1, 10),
    "document_requests": (2, 20),
    "newsletter_signups": (2, 20),
    "inquiries": (3, 30),
}
HOT_FROM = 10


def hot_metrics(frame: pd.DataFrame, inquiries: int) -> dict[str, str]:
    """Hot leads and hot conversion with the template (inquiries at ``inquiries`` points),
    among the leads a back-test counts (decided, or open past the time to convert)."""
    total = pd.Series(0.0, index=frame.index)
    for column, (points, cap) in TEMPLATE.items():
        points = inquiries if column == "inquiries" else points
        total += (frame[column].fillna(0) * points).clip(upper=cap)
    counted = backtest_counted(
        frame["created_at"],
        frame["outcome"],
        frame["closed_date"],
        frame["mql_date"],
        frame["sql_date"],
        frame["opportunity_date"],
    )
    hot = (total >= HOT_FROM) & counted
    won = frame["outcome"] == "Won"
    return {
        t("metric.hot", LANG): f"{int(hot.sum()):,}",
        t("metric.precision", LANG): f"{(won & hot).sum() / hot.sum():.1%}",
    }


def metric_value(page: Page, label: str) -> Locator:
    name = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=name).get_by_test_id("stMetricValue")


def expect_metrics(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        expect(metric_value(page, label)).to_have_text(value, timeout=WAIT)


def load_csv(page: Page, url: str, data: bytes) -> None:
    """Upload the leads on the Data page and store them as ``DATASET``."""
    page.goto(f"{url}/data?lang={LANG}")
    heading = page.get_by_role("heading", name=t("data.title", LANG), exact=True)
    expect(heading).to_be_visible(timeout=WAIT)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=t("data.leads_file", LANG))
    uploader.locator("input[type=file]").set_input_files(
        {"name": f"{DATASET}.csv", "mimeType": "text/csv", "buffer": data}
    )
    expect(page.get_by_text(t("data.mapping_header", LANG), exact=True)).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=t("data.load_button", LANG)).click()
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_be_visible(timeout=WAIT)


def test_moving_a_weight_slider_changes_the_hot_leads_and_their_conversion(
    page: Page, app_url: str, artifacts: Path
) -> None:
    frame = generate_leads(LEADS)
    before = hot_metrics(frame, TEMPLATE["inquiries"][0])
    load_csv(page, app_url, frame.to_csv(index=False).encode())
    page.set_viewport_size({"width": 1400, "height": 1700})  # sliders and metrics in one shot

    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name=t("page.tuner", LANG), exact=True).click()
    title = page.get_by_role("heading", name=t("tuner.title", LANG), exact=True)
    expect(title).to_be_visible(timeout=WAIT)
    picker = page.get_by_test_id("stSidebar").get_by_role("combobox", name=t("app.dataset", LANG))
    expect(picker).to_have_value(DATASET, timeout=WAIT)
    expect_metrics(page, before)
    page.screenshot(path=str(artifacts / "e2e-tuner-before.png"))

    slider = page.get_by_test_id("stSlider").filter(has_text="Each inquiry")
    thumb = slider.get_by_role("slider")
    expect(thumb).to_have_value("3", timeout=WAIT)
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowRight")
    expect(thumb).to_have_value("8", timeout=WAIT)

    after = hot_metrics(frame, 8)
    assert after != before  # the move matters on this data
    expect_metrics(page, after)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)
    expect_metrics(page, after)
    page.screenshot(path=str(artifacts / "e2e-tuner-after.png"))
