"""In a real browser: tuner → save a version → propose → marketing and sales sign → download.

The downloaded YAML must read back as the agreed version with both sign-offs, and the report
must be one offline HTML file naming both signers.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.mapping import unit_label
from funnel.versions.files import version_from_text

pytestmark = pytest.mark.e2e

WAIT = 30_000  # ms
LANG = "en"
DATASET = "agree-e2e"


def tr(key: str, **params: str) -> str:
    return t(key, LANG, **params)


def go(page: Page, page_key: str, title_key: str) -> None:
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name=tr(page_key), exact=True).click()
    expect(page.get_by_role("heading", name=tr(title_key), exact=True)).to_be_visible(timeout=WAIT)


def idle(page: Page) -> None:
    """Wait until the app has finished rerunning (the running indicator is gone)."""
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)


def test_tuner_save_sign_twice_and_download_the_yaml_and_the_report(
    page: Page,
    app_url: str,
    artifacts: Path,
    fill: Callable[[Locator, str], None],
    download: Callable[[Locator, Path], Path],
) -> None:
    data = generate_leads(1500, seed=21).to_csv(index=False).encode()
    page.goto(f"{app_url}/data?lang={LANG}")
    expect(page.get_by_role("heading", name=tr("data.title"), exact=True)).to_be_visible(
        timeout=WAIT
    )
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=tr("data.leads_file"))
    uploader.locator("input[type=file]").set_input_files(
        {"name": f"{DATASET}.csv", "mimeType": "text/csv", "buffer": data}
    )
    expect(page.get_by_text(tr("data.mapping_header"), exact=True)).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=tr("data.load_button")).click()
    expect(page.get_by_test_id("stAlertContentSuccess").first).to_be_visible(timeout=WAIT)
    page.set_viewport_size({"width": 1400, "height": 1600})

    go(page, "page.tuner", "tuner.title")
    fill(page.get_by_role("textbox", name=tr("report.author"), exact=True), "Aiko")
    fill(page.get_by_role("textbox", name=tr("report.rationale")), "Hot = ready for a call")
    page.get_by_role("button", name=tr("tuner.save_button")).click()
    saved = page.get_by_test_id("stAlertContentSuccess").filter(has_text="as a draft")
    expect(saved).to_be_visible(timeout=WAIT)
    page.screenshot(path=str(artifacts / "e2e-agree-1-saved.png"))

    go(page, "page.rulesets", "rulesets.title")
    fill(page.get_by_role("textbox", name=tr("rulesets.your_name"), exact=True), "Aiko")
    page.get_by_role("button", name=tr("rulesets.propose")).click()
    expect(page.get_by_text(tr("rulesets.done.propose"))).to_be_visible(timeout=WAIT)
    idle(page)

    for role, name in (("marketing", "Aiko"), ("sales", "Ben")):
        form = page.get_by_test_id("stForm")
        form.get_by_test_id("stRadio").get_by_text(tr(f"report.role.{role}"), exact=True).click()
        fill(form.get_by_role("textbox", name=tr("rulesets.your_name"), exact=True), name)
        fill(
            form.get_by_role("textbox", name=tr("rulesets.comment"), exact=True), f"ok from {role}"
        )
        form.get_by_role("button", name=tr("rulesets.sign"), exact=True).click()
        expect(page.get_by_text(tr("rulesets.done.sign"))).to_be_visible(timeout=WAIT)
        idle(page)
        page.screenshot(path=str(artifacts / f"e2e-agree-2-signed-{role}.png"))
    expect(page.get_by_text(tr("rulesets.is_agreed"))).to_be_visible(timeout=WAIT)

    idle(page)
    yaml_path = artifacts / "e2e-agreed.yaml"
    download(page.get_by_role("button", name=tr("export.yaml")), yaml_path)
    v = version_from_text(yaml_path.read_text(encoding="utf-8"), source="download")
    assert v.status == "agreed" and v.dataset == DATASET
    assert [(s.role, s.name, s.comment) for s in v.signoffs] == [
        ("marketing", "Aiko", "ok from marketing"),
        ("sales", "Ben", "ok from sales"),
    ]
    assert v.author == "Aiko" and v.rationale == "Hot = ready for a call"

    idle(page)
    report = artifacts / "e2e-agreed-report.html"
    download(page.get_by_role("button", name=tr("export.report")), report)
    html = report.read_text(encoding="utf-8")
    units = {c: u for c in ("web_visits",) if (u := unit_label(c))}  # "Each web visit"
    assert "Aiko" in html and "Ben" in html and v.ruleset.describe(LANG, units)[0] in html
    sources: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            sources.extend(value or "" for key, value in attrs if key in ("src", "href"))

    Links().feed(html)
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    page.screenshot(path=str(artifacts / "e2e-agree-3-downloaded.png"), full_page=True)
