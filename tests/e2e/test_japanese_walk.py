"""In a real browser, every page in Japanese shows no English word outside the data.

The walk opens every page on a Japanese demo (its columns, values and ids are Japanese CRM data)
with a saved, proposed and half-signed version and an older one to compare, opens what a page
keeps closed (the Tuner's tabs, forms and lists, a lead explained, two segments compared, the
Data page with a file uploaded), and reads all the text the browser shows, tooltips and chart
texts included. Any ASCII word left once the data's own words, numbers and the allow-list below
are taken out fails the test, naming the page and the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from bench.server import Server
from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.history import save_version
from funnel.versions.signoff import propose, sign

pytestmark = pytest.mark.e2e

WAIT = 60_000  # ms
LANG = "ja"
DATASET = "デモ"
#: Words a Japanese page may show in Latin letters: acronyms and names Japanese uses as is.
ALLOWED = {
    "AUC", "CSV", "HTML", "PNG", "PDF", "YAML", "JSON", "SQL", "MQL", "ID", "Excel", "Web",
    "DuckDB", "PostgreSQL", "Snowflake", "BigQuery", "Spark", "Shift_JIS", "UTF", "TSV",
    "Parquet", "xlsx", "csv", "yaml", "yml", "json", "tsv", "parquet", "funnel", "Wilson",
    "vs", "n", "GB", "MB", "KB", "A", "B", "C", "Language",  # the switch is in both languages
    "English", "FUNNEL_DB", "duckdb", "sql", "html", "CRM", "MA", "SHA",
    "Fisher", "Holm", "Bonferroni", "p",  # the segments ranking names its tests and p-values
}  # fmt: skip
WORD = re.compile(r"[A-Za-z][A-Za-z_]*")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
HEX = re.compile(r"\b[0-9a-f]{12,}\b")  # a data fingerprint
VERSION = re.compile(r"(?<![A-Za-z])v(?=\d)")  # a version number: "春の定義 v2"
#: In the page: the text shown (main and sidebar), placeholders and chart texts. Streamlit's and
#: Plotly's own controls (their tooltips: "Fullscreen", "Zoom in") are theirs, not ours.
SHOWN = """() => {
  const parts = [];
  // icons are drawn from ligature names ("bar_chart"): not words anyone reads
  // ... and code (an exported SQL query, a command line) is not words of the interface either
  const icons = Array.from(document.querySelectorAll(
    '[data-testid="stIconMaterial"], [data-testid="stCode"], code'));
  const shown = icons.map(i => i.style.display);
  icons.forEach(i => { i.style.display = 'none'; });
  for (const id of ['stMain', 'stSidebar']) {
    const el = document.querySelector(`[data-testid="${id}"]`);
    if (el) parts.push(el.innerText);
  }
  icons.forEach((i, k) => { i.style.display = shown[k]; });
  for (const el of document.querySelectorAll('[placeholder]')) {
    if (!el.value) parts.push(el.getAttribute('placeholder'));  // shown while empty
  }
  for (const el of document.querySelectorAll('.js-plotly-plot svg text')) {
    parts.push(el.textContent);
  }
  // tables are drawn on a canvas: their headers and cells are read from its accessible twin
  const grid = '[data-testid="stDataFrame"] [role=columnheader], [data-testid="stDataFrame"] ' +
    '[role=gridcell], [data-testid="stDataFrame"] [role=rowheader]';
  for (const el of document.querySelectorAll(grid)) {
    const text = el.textContent.trim();
    if (text !== 'true' && text !== 'false') parts.push(text);  // a ticked or empty checkbox
  }
  return parts.join('\\n');
}"""
#: In the page: labels cut short with an ellipsis ("シンプルなテンプレ…"): buttons, metric and
#: widget labels and tabs whose text is wider than the room they are given.
CUT = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMain"] *, [data-testid="stSidebar"] *'))
  .filter(el => el.offsetParent !== null && el.textContent.trim()
    && getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1)
  .map(el => el.textContent.trim())"""


def data_words(frame: pd.DataFrame, extra: tuple[str, ...]) -> set[str]:
    """Every Latin word the data itself holds: column names, values, ids (and ``extra``)."""
    words = set()
    texts = [*frame.columns, *extra]
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            texts += [str(v) for v in frame[column].dropna().unique()]
    for text in texts:
        words |= set(WORD.findall(str(text)))
    return words


def english_words(text: str, allowed: set[str]) -> list[str]:
    """The Latin words in ``text`` not in ``allowed`` (lead ids such as L0000123 are data; a
    connection string such as the database form's example postgresql://user@host:5432/db is
    syntax, not words)."""
    text = URL.sub(" ", text)
    return sorted({w for w in WORD.findall(text) if w not in allowed and w not in ALLOWED})


@pytest.fixture(scope="module")
def served(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("ja-walk")
    with Store(workdir / "funnel.duckdb") as store:
        info = load_demo(store, DATASET, leads=3000, lang=LANG).dataset
        rules = replace(template_for(info), name="春の定義")
        save_version(store, info, rules, author="佐藤", rationale="前回の定義")
        rules = rules.with_points(0, 3)
        newer = save_version(store, info, rules, author="佐藤", rationale="見直し")
        propose(store, newer.version_id, "佐藤")
        sign(store, newer.version_id, "marketing", "佐藤", "問題なし")
    try:
        server = Server(workdir / "funnel.duckdb", workdir / "streamlit.log")
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url, workdir / "funnel.duckdb"
    finally:
        server.stop()


class Walk:
    def __init__(self, page: Page, shots: Path, allowed: set[str]) -> None:
        self.page, self.shots, self.allowed = page, shots, allowed
        self.found: dict[str, list[str]] = {}

    def idle(self) -> None:
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)
        self.page.wait_for_timeout(300)
        expect(self.page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=WAIT)

    def read(self, where: str) -> None:
        self.idle()
        text = VERSION.sub(" ", HEX.sub(" ", str(self.page.evaluate(SHOWN))))
        words = english_words(text, self.allowed)
        cut = [str(c) for c in self.page.evaluate(CUT)]
        if cut:
            self.found[f"{where} (cut short)"] = cut
        if words:  # each with where it was seen
            self.found[where] = [
                f"{w} ({text[max(0, i - 25) : i + len(w) + 25]!r})"
                for w in words
                for i in [text.find(w)]
            ]
        self.page.screenshot(path=str(self.shots / f"{where}.png"), full_page=True)

    def go(self, nav: str, title: str) -> None:
        side = self.page.get_by_test_id("stSidebarNav")
        side.get_by_role("link", name=t(nav, LANG), exact=True).click()
        heading = self.page.get_by_role("heading", name=t(title, LANG), exact=True)
        expect(heading).to_be_visible(timeout=WAIT)
        self.idle()

    def click(self, name: str) -> None:
        self.page.get_by_text(name, exact=True).first.click()
        self.idle()


def test_every_page_in_japanese_shows_no_english_outside_the_data(
    page: Page, served: tuple[str, Path], artifacts: Path
) -> None:
    url, db = served
    frame = generate_leads(3000, seed=7, lang=LANG)
    upload = generate_leads(300, seed=5, lang=LANG)
    # the demo's source is recorded as "demo (seed 7)": the stored name of what was loaded
    allowed = data_words(frame, (DATASET, str(db), "リード.csv cp932", "demo (seed 7)"))
    shots = artifacts / "japanese-walk"
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 3000})
    walk = Walk(page, shots, allowed)

    page.goto(f"{url}/?lang={LANG}&dataset={DATASET}")
    expect(page.get_by_role("heading", name=t("overview.title", LANG), exact=True)).to_be_visible(
        timeout=WAIT
    )
    walk.click(t("overview.mapping", LANG))
    walk.read("overview")

    walk.go("page.funnel", "funnel.title")
    for segment, value in (("funnel.segment_a", "セミナー"), ("funnel.segment_b", "広告")):
        box = page.get_by_test_id("stMultiSelect").filter(has_text=t(segment, LANG)).first
        # the heading shows before the page's widgets: under load they take longer than a click
        expect(box).to_be_visible(timeout=WAIT)
        box.click()
        page.get_by_role("option", name=value, exact=True).click()
        page.keyboard.press("Escape")
        walk.idle()
    walk.click(t("funnel.cohort_table", LANG))
    walk.read("funnel")

    walk.go("page.segments", "segments.title")
    walk.read("segments")
    page.get_by_test_id("stSelectbox").filter(has_text=t("segments.and_by", LANG)).click()
    page.get_by_role("option", name="業種", exact=True).click()
    walk.read("segments-heatmap")

    walk.go("page.tuner", "tuner.title")
    for expander in ("tuner.add_rule", "tuner.add_gate", "tuner.tier_names", "tuner.definition"):
        walk.click(t(expander, LANG))
    walk.click(t("tuner.show_missed", LANG, count="")[:8])
    walk.read("tuner")
    for tab in ("deciles", "curve", "matrix", "compare"):
        page.get_by_role("tab", name=t(f"tuner.tab.{tab}", LANG)).click()
        walk.read(f"tuner-{tab}")
    box = page.get_by_role("textbox", name=t("tuner.lead_search", LANG), exact=True)
    box.fill("L0000123")
    box.press("Enter")
    walk.read("tuner-explain")

    walk.go("page.rulesets", "rulesets.title")
    walk.click(t("rulesets.import", LANG))
    walk.click(t("rulesets.show_sql", LANG))
    walk.read("rulesets")

    walk.go("page.data", "data.title")
    walk.read("data")
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=t("data.leads_file", LANG))
    uploader.locator("input[type=file]").set_input_files(
        {
            "name": "リード.csv",
            "mimeType": "text/csv",
            "buffer": upload.to_csv(index=False).encode("cp932"),
        }
    )
    expect(page.get_by_text(t("data.mapping_header", LANG), exact=True)).to_be_visible(timeout=WAIT)
    walk.read("data-mapping")

    assert walk.found == {}, "\n".join(f"{where}: {' '.join(w)}" for where, w in walk.found.items())
