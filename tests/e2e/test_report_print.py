"""The meeting report leaves the room: rendered in Chromium at 1280 px and as A4 print, no chart
text is outside its chart, no axis title lies over its tick labels, and it prints to a PDF.

Text is measured by the browser's own layout (``getBoundingClientRect`` of every SVG text of
every chart), once on screen and once with print media at the A4 page's content width; the PDF
Chromium prints is kept in tests/artifacts for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from funnel.ingest import load_demo
from funnel.meeting import report_bytes
from funnel.rules import CategoryRule, PerUnitRule
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.history import save_version
from tests.support import chart_problems

pytestmark = pytest.mark.e2e

#: A4 is 210 mm wide; the report's @page margins are 15 mm each side: 180 mm at 96 dpi.
A4_CONTENT_PX = round(180 / 25.4 * 96)
SCREEN_PX = 1280


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The report of a saved version in English and in Japanese, as files."""
    folder = tmp_path_factory.mktemp("report")
    with Store(folder / "funnel.duckdb") as store:
        info = load_demo(store, "demo", leads=3000).dataset
        rs = template_for(info)
        rs = rs.__class__(
            name="Spring",
            rules=(
                *rs.rules,
                CategoryRule("industry", "IT / Software", 6),
                PerUnitRule("webinars_attended", 3, 9),
            ),
            tiers=rs.tiers,
        )
        version = save_version(store, info, rs, author="Aiko", rationale="For the meeting")
        paths = {}
        for lang in ("en", "ja"):
            path = folder / f"report-{lang}.html"
            path.write_bytes(report_bytes(store, info, version, lang=lang))
            paths[lang] = path
    yield paths


def measure(page: Page) -> dict[str, Any]:
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    page.wait_for_timeout(500)  # responsive charts settle on their width
    return chart_problems(page, max_width=A4_CONTENT_PX)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_no_chart_text_is_clipped_on_screen_or_on_a4_and_the_report_prints(
    page: Page, reports: dict[str, Path], artifacts: Path, lang: str
) -> None:
    page.set_viewport_size({"width": SCREEN_PX, "height": 900})
    page.goto(reports[lang].as_uri())
    screen = measure(page)
    page.screenshot(path=str(artifacts / f"report-{lang}-1280.png"), full_page=True)

    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_CONTENT_PX, "height": 1100})
    printed = measure(page)
    pdf = artifacts / f"report-{lang}.pdf"
    pdf.write_bytes(page.pdf(format="A4", print_background=True))

    assert screen["charts"] == printed["charts"] == 3  # funnel, tiers, deciles
    assert screen["problems"] == []
    assert printed["problems"] == []
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
