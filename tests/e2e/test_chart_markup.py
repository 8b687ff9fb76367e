"""In Chromium: markup in a category value or a tier name is drawn as text, never as a link.

Plotly renders ``<a href>``, ``<b>`` and friends inside tick labels, hovers and annotations.
The Segments chart's HTML download and the meeting report are opened as a user would open
them, and what Chromium drew is read back: no ``<a>`` element, the text shown literally.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from funnel import charts
from funnel.meeting import report_bytes
from funnel.rules import RuleSet, Tier
from funnel.segments import segment_table
from funnel.store import Store
from funnel.versions.history import save_version
from tests.unit.test_plotly_markup import LINK, markup_dataset

pytestmark = pytest.mark.e2e

DRAWN = """() => ({
    links: document.querySelectorAll('.main-svg a, .main-svg [href]').length,
    text: Array.from(document.querySelectorAll('.main-svg text')).map(t => t.textContent),
})"""


def drawn(page: Page, html: bytes, tmp_path: Path, name: str) -> dict[str, object]:
    path = tmp_path / name
    path.write_bytes(html)
    page.goto(path.as_uri())
    page.wait_for_selector(".main-svg text", timeout=30_000)
    result: dict[str, object] = page.evaluate(DRAWN)
    return result


def test_a_category_value_with_a_link_is_drawn_as_text_in_the_segments_download(
    page: Page, tmp_path: Path
) -> None:
    with Store(tmp_path / "f.duckdb") as store:
        info = markup_dataset(store)
        table = segment_table(store, info, ["industry"], min_n=1)  # type: ignore[arg-type]
    html = charts.to_html(charts.segment_bar_figure(table, "rate", "overall", "small"))

    shown = drawn(page, html, tmp_path, "segments.html")

    assert shown["links"] == 0
    assert any(LINK in text for text in shown["text"])  # type: ignore[attr-defined]


def test_a_tier_named_with_a_link_is_drawn_as_text_in_the_meeting_report(
    page: Page, tmp_path: Path
) -> None:
    with Store(tmp_path / "f.duckdb") as store:
        info = markup_dataset(store)
        rs = RuleSet(name="agreed", tiers=(Tier(LINK, 0), Tier("cold", float("-inf"))))
        version = save_version(store, info, rs, author="Aiko")  # type: ignore[arg-type]
        html = report_bytes(store, info, version)  # type: ignore[arg-type]

    shown = drawn(page, html, tmp_path, "report.html")

    assert shown["links"] == 0
    assert any(LINK in text for text in shown["text"])  # type: ignore[attr-defined]
