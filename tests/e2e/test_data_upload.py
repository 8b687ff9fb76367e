"""In a real browser: upload a CRM export on the Data page, load it, see it on the Overview."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from funnel.demo import generate_leads
from funnel.i18n import t

pytestmark = pytest.mark.e2e

WAIT = 30_000  # ms; the slowest step (validate and store 500 rows) takes about a second


def outcome_counts(
    frame: pd.DataFrame, column: str, labels: tuple[str, str, str]
) -> dict[str, int]:
    won, lost, open_ = (int((frame[column] == v).sum()) for v in labels)
    return {"leads": len(frame), "won": won, "lost": lost, "open": open_}


def upload_and_load(page: Page, url: str, lang: str, file_name: str, data: bytes) -> None:
    """Open the Data page, upload ``data`` as the leads file and press the load button."""
    page.goto(f"{url}/data?lang={lang}")
    expect(page.get_by_role("heading", name=t("data.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=t("data.leads_file", lang))
    uploader.locator("input[type=file]").set_input_files(
        {"name": file_name, "mimeType": "text/csv", "buffer": data}
    )
    expect(page.get_by_text(t("data.mapping_header", lang), exact=True)).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=t("data.load_button", lang)).click()


def expect_metrics(page: Page, lang: str, counts: dict[str, int]) -> None:
    for key, value in counts.items():
        label = page.get_by_test_id("stMetricLabel").get_by_text(
            t(f"overview.{key}", lang), exact=True
        )
        metric = page.get_by_test_id("stMetric").filter(has=label)
        expect(metric.get_by_test_id("stMetricValue")).to_have_text(f"{value:,}", timeout=WAIT)


def open_overview(page: Page, lang: str) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name=t("page.overview", lang)).click()
    expect(page.get_by_role("heading", name=t("overview.title", lang), exact=True)).to_be_visible(
        timeout=WAIT
    )


def test_uploaded_csv_is_stored_and_its_counts_show_on_both_pages(
    page: Page, app_url: str, artifacts: Path
) -> None:
    frame = generate_leads(500)
    counts = outcome_counts(frame, "outcome", ("Won", "Lost", "Open"))

    upload_and_load(page, app_url, "en", "leads.csv", frame.to_csv(index=False).encode())

    message = t("data.loaded", "en", name="leads", **{k: f"{v:,}" for k, v in counts.items()})
    assert "500 leads" in message
    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_have_text(message, timeout=WAIT)

    open_overview(page, "en")
    expect(page.get_by_role("heading", name="leads", exact=True)).to_be_visible(timeout=WAIT)
    expect_metrics(page, "en", counts)
    page.screenshot(path=str(artifacts / "e2e-upload-en.png"), full_page=True)


def test_japanese_url_renders_japanese_pages_and_loads_a_shift_jis_file(
    page: Page, app_url: str, artifacts: Path
) -> None:
    frame = generate_leads(300, lang="ja")
    counts = outcome_counts(frame, "商談結果", ("受注", "失注", "商談中"))

    page.goto(f"{app_url}/?lang=ja")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text(t("page.data", "ja"), exact=True)).to_be_visible(timeout=WAIT)
    expect(nav.get_by_text("データ", exact=True)).to_be_visible()
    expect(nav.get_by_text(t("page.overview", "ja"), exact=True)).to_be_visible()
    title = page.get_by_role("heading", name=t("overview.title", "ja"), exact=True)
    expect(title).to_be_visible(timeout=WAIT)

    upload_and_load(page, app_url, "ja", "リード.csv", frame.to_csv(index=False).encode("cp932"))

    message = t("data.loaded", "ja", name="リード", **{k: f"{v:,}" for k, v in counts.items()})
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text(message, timeout=WAIT)

    open_overview(page, "ja")
    expect(page.get_by_role("heading", name="リード", exact=True)).to_be_visible(timeout=WAIT)
    expect_metrics(page, "ja", counts)
    page.screenshot(path=str(artifacts / "e2e-japanese.png"), full_page=True)
