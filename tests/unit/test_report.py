"""The meeting report: one offline HTML file with the definition, the metrics exactly as
evaluated, the charts (plotly.js once), both sign-offs and the changes; user text escaped."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from plotly.offline import get_plotlyjs

from funnel.funnels import compute_funnel, default_stages
from funnel.i18n import t
from funnel.ingest import load_demo
from funnel.report import ReportDiff, ReportInput, build_report, report_diff
from funnel.rules import CategoryRule, CountRule, Gate, PerUnitRule, RuleSet, Tier
from funnel.scoring.compare import moved
from funnel.scoring.histogram import Evaluation, evaluate, score_histogram
from funnel.store import DatasetInfo, Store
from funnel.versions.record import Signoff

XSS = "<script>alert(1)</script>"
RULES = RuleSet(
    name="spring",
    rules=(
        CategoryRule("industry", "IT / Software", 15),
        CategoryRule("job_title", XSS, 5),  # a hostile value typed into the tuner
        CountRule("trial_signups", 1, 40),
        CountRule("inquiries", 1, 20),
        PerUnitRule("web_visits", 1, cap=10),
    ),
    gates=(Gate("email_type", ("Competitor",)),),
    tiers=(Tier("hot", 45), Tier("warm", 20), Tier("cold", -math.inf)),
)
PREVIOUS = RuleSet(
    name="winter",
    rules=(
        CategoryRule("industry", "IT / Software", 10),
        CountRule("trial_signups", 1, 40),
        CountRule("webinars_attended", 1, 10),
    ),
    tiers=(Tier("hot", 50), Tier("warm", 20), Tier("cold", -math.inf)),
)
MARKETING = Signoff("marketing", "Mika Sato", datetime(2026, 3, 2, 10, 15), f"Go {XSS}")
SALES = Signoff("sales", "佐藤 健", datetime(2026, 3, 3, 17, 40, tzinfo=UTC), "了解です")


@dataclass(frozen=True)
class Demo:
    store: Store
    info: DatasetInfo
    evaluation: Evaluation
    previous: Evaluation


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path = tmp_path_factory.mktemp("report") / "funnel.duckdb"
    with Store(path) as store:
        info = load_demo(store, "demo", leads=4_000).dataset
        ev = evaluate(score_histogram(store, info, RULES), RULES)
        before = evaluate(score_histogram(store, info, PREVIOUS), PREVIOUS)
        yield Demo(store, info, ev, before)


def _input(demo: Demo, lang: str = "en", **changes: object) -> ReportInput:
    hot = moved(demo.store, demo.info, PREVIOUS, RULES)
    base = ReportInput(
        title=f"Hot lead definition {XSS}",
        lang=lang,
        ruleset=RULES,
        evaluation=demo.evaluation,
        dataset_name=demo.info.name,
        dataset_fingerprint=demo.info.fingerprint,
        version_name="Spring review",
        version_number=2,
        status="agreed",
        author=f"Aki {XSS}",
        rationale="Trials matter more than webinars.",
        effective_from=date(2026, 4, 1),
        signoffs=(MARKETING, SALES),
        funnel=compute_funnel(demo.store, demo.info, default_stages(demo.info)),
        diff=report_diff(
            1,
            PREVIOUS,
            RULES,
            lang=lang,
            before_eval=demo.previous,
            after_eval=demo.evaluation,
            entered_hot=hot["entered"],
            left_hot=hot["left"],
        ),
        generated_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)


class Page(HTMLParser):
    """A tiny DOM: every element with its attributes and its text (entities decoded)."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("root", {})
        self.stack = [self.root]
        self.all: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        self.all.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self.stack:
            el.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.all
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def section(self, name: str) -> Element:
        (found,) = self.find("section", id=name)
        return found


def _walk(el: Element) -> Iterator[Element]:
    yield el
    for child in el.children:
        yield from _walk(child)


@pytest.fixture(scope="module")
def english(demo: Demo) -> str:
    return build_report(_input(demo, "en")).decode("utf-8")


@pytest.fixture(scope="module")
def japanese(demo: Demo) -> str:
    return build_report(_input(demo, "ja")).decode("utf-8")


@pytest.fixture(scope="module")
def page(english: str) -> Page:
    return Page(english)


# --- content --------------------------------------------------------------------------------------


def test_report_is_one_html_document_with_the_title_status_and_dataset(
    english: str, page: Page, demo: Demo
) -> None:
    assert english.startswith("<!DOCTYPE html>")
    (html,) = page.find("html")
    assert html.attrs["lang"] == "en"
    (title,) = page.find("title")
    assert title.text == f"Hot lead definition {XSS}"
    (header,) = page.find("header")
    assert "Agreed" in header.text and "Spring review (v2)" in header.text
    assert demo.info.name in header.text and demo.info.fingerprint in header.text
    assert "2026-04-01" in header.text


def test_definition_holds_every_rule_sentence(page: Page) -> None:
    (ol,) = page.find("ol", class_="definition")
    items = [li.text for li in _walk(ol) if li.tag == "li"]
    assert items == RULES.describe("en")
    assert "Trials matter more than webinars." in page.section("definition").text


def test_metrics_are_the_evaluations_values(page: Page, demo: Demo) -> None:
    ev = demo.evaluation
    expected = {
        "leads": ev.n,
        "won": ev.won,
        "base_rate": ev.base_rate,
        "hot": ev.hot_n,
        "precision": ev.precision,
        "recall": ev.recall,
        "lift": ev.lift,
        "auc": ev.auc,
        "missed_won": ev.missed_won,
        "hot_per_week": ev.hot_per_week,
    }
    for key, value in expected.items():
        (row,) = page.find("tr", **{"data-metric": key})
        (cell,) = [c for c in _walk(row) if c.tag == "td" and "data-value" in c.attrs]
        assert value is not None
        assert float(cell.attrs["data-value"]) == pytest.approx(value, rel=1e-12)
    (precision,) = page.find("tr", **{"data-metric": "precision"})
    assert f"{ev.precision * 100:.1f}%" in precision.text  # type: ignore[operator]
    (auc,) = page.find("tr", **{"data-metric": "auc"})
    assert f"{ev.auc:.3f}" in auc.text


def test_tier_rows_show_leads_conversion_and_interval(page: Page, demo: Demo) -> None:
    for tier in demo.evaluation.tiers:
        (row,) = page.find("tr", **{"data-tier": tier.name})
        cells = [c for c in _walk(row) if c.tag == "td"]
        assert int(cells[1].attrs["data-value"]) == tier.n
        assert int(cells[3].attrs["data-value"]) == tier.won
        assert float(cells[4].attrs["data-value"]) == pytest.approx(tier.rate)
        assert float(cells[5].attrs["data-low"]) == pytest.approx(tier.ci_low)
        assert float(cells[5].attrs["data-high"]) == pytest.approx(tier.ci_high)
        assert f"{tier.n:,}" in cells[1].text


def test_both_sign_offs_are_shown_with_role_time_and_comment(page: Page) -> None:
    signoffs = page.section("signoffs")
    (marketing,) = page.find("tr", **{"data-role": "marketing"})
    (sales,) = page.find("tr", **{"data-role": "sales"})
    assert "Marketing" in marketing.text and "Mika Sato" in marketing.text
    assert "2026-03-02 10:15" in marketing.text and f"Go {XSS}" in marketing.text
    assert (
        "Sales" in sales.text and "佐藤 健" in sales.text and "2026-03-03 17:40 UTC" in sales.text
    )
    assert t("report.all_signed", "en") in signoffs.text
    assert "Not signed yet" not in signoffs.text


def test_a_missing_sign_off_is_shown_plainly(demo: Demo) -> None:
    page = Page(build_report(_input(demo, "en", signoffs=(MARKETING,))).decode("utf-8"))
    (sales,) = page.find("tr", **{"data-role": "sales"})
    assert sales.attrs["class"] == "unsigned" and "Not signed yet" in sales.text
    assert t("report.waiting_for", "en", roles="Sales") in page.section("signoffs").text
    nobody = Page(build_report(_input(demo, "en", signoffs=())).decode("utf-8"))
    assert len(nobody.find("tr", class_="unsigned")) == 2


def test_a_sign_off_from_another_role_is_listed_as_given(demo: Demo) -> None:
    legal = Signoff("legal <b>", "Ren", datetime(2026, 3, 5, 8, 0), "checked")
    html = build_report(_input(demo, "en", signoffs=(MARKETING, SALES, legal))).decode("utf-8")
    (row,) = Page(html).find("tr", **{"data-role": "legal <b>"})
    assert "legal <b>" in row.text and "Ren" in row.text and "checked" in row.text
    assert "legal <b>" not in html


def test_given_deciles_are_the_ones_drawn_and_listed(demo: Demo) -> None:
    deciles = [{"decile": d, "n": 400.0, "won": 4.0, "rate": 0.01 * d} for d in range(1, 11)]
    page = Page(build_report(_input(demo, "en", deciles=deciles)).decode("utf-8"))
    (table,) = page.find("table", class_="deciles")
    rates = [
        float(c.attrs["data-value"])
        for row in _walk(table)
        if row.tag == "tr"
        for i, c in enumerate(x for x in _walk(row) if x.tag == "td")
        if i == 2
    ]
    assert rates == pytest.approx([0.01 * d for d in range(1, 11)])


def test_changes_list_added_removed_and_changed_rules_and_thresholds(page: Page) -> None:
    changes = page.section("changes")
    assert "Changes since version 1" in changes.text
    (added,) = page.find("ul", class_="added")
    (removed,) = page.find("ul", class_="removed")
    (changed,) = page.find("ul", class_="changed")
    assert RULES.rules[1].describe("en") in added.text
    assert RULES.gates[0].describe("en") in added.text
    assert PREVIOUS.rules[2].describe("en") in removed.text
    assert PREVIOUS.rules[0].describe("en") in changed.text
    assert RULES.rules[0].describe("en") in changed.text
    assert RULES.rules[2].describe("en") not in changes.text  # unchanged
    (thresholds,) = page.find("table", class_="thresholds")
    rows = [[c.text for c in _walk(r) if c.tag == "td"] for r in _walk(thresholds) if r.tag == "tr"]
    assert ["hot", "50", "45"] in rows
    assert not [r for r in rows if r and r[0] == "warm"]
    assert "leads become hot" in changes.text


def test_first_agreed_version_says_there_is_nothing_to_compare(demo: Demo) -> None:
    page = Page(build_report(_input(demo, "en", diff=None)).decode("utf-8"))
    assert t("report.first_version", "en") in page.section("changes").text
    ja = Page(build_report(_input(demo, "ja", diff=None)).decode("utf-8"))
    assert t("report.first_version", "ja") in ja.section("changes").text


def test_report_diff_compares_rules_gates_caps_and_metrics(demo: Demo) -> None:
    diff = report_diff(
        3,
        PREVIOUS,
        replace(RULES, score_cap=80),
        before_eval=demo.previous,
        after_eval=demo.evaluation,
        tier_changes=12,
    )
    assert diff.previous_number == 3
    assert t("rule.score_cap", "en", cap=80) in diff.added
    assert diff.thresholds == (("hot", 50, 45),)
    labels = [m[0] for m in diff.metrics]
    assert t("metric.hot", "en") in labels
    assert diff.tier_changes == 12 and diff.entered_hot is None
    same = report_diff(1, RULES, RULES)
    assert same == ReportDiff(previous_number=1)


# --- languages ------------------------------------------------------------------------------------


def test_japanese_report_has_japanese_labels_and_sentences(japanese: str) -> None:
    page = Page(japanese)
    (html,) = page.find("html")
    assert html.attrs["lang"] == "ja"
    headings = [h.text for h in page.find("h2")]
    for key in ("report.definition", "report.metrics", "report.charts", "report.signoffs"):
        assert t(key, "ja") in headings
    (ol,) = page.find("ol", class_="definition")
    assert [li.text for li in _walk(ol) if li.tag == "li"] == RULES.describe("ja")
    (header,) = page.find("header")
    assert "合意済み" in header.text
    assert "マーケティング" in page.section("signoffs").text
    assert "Not signed yet" not in japanese and "Sign-offs" not in japanese
    assert "バージョン 1 からの変更" in page.section("changes").text


# --- safety and self-containment ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_planted_script_appears_escaped_only(lang: str, english: str, japanese: str) -> None:
    html = english if lang == "en" else japanese
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Page(html)
    for script in page.find("script"):
        assert "alert(1)" not in script.text
    # the title, a rule value, the author and a comment all came through as text
    assert page.find("title")[0].text.endswith(XSS)
    assert f"Aki {XSS}" in page.find("header")[0].text
    assert XSS in page.section("definition").text and XSS in page.section("signoffs").text


def test_hostile_tier_and_rule_set_names_stay_text(demo: Demo) -> None:
    rs = replace(RULES, name=XSS, tiers=(Tier(XSS, 45), Tier("warm", 20), Tier("cold", -math.inf)))
    ev = replace(demo.evaluation, tiers=[replace(demo.evaluation.tiers[0], name=XSS)])
    html = build_report(_input(demo, "en", ruleset=rs, evaluation=ev, diff=None)).decode("utf-8")
    assert XSS not in html
    assert "<script>alert" not in html
    # chart data: escaped for Plotly, which draws it as text (tests/e2e/test_chart_markup.py)
    assert '"&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # tables and headings: text


def test_report_works_offline_and_embeds_plotly_once(english: str, page: Page) -> None:
    for el in page.all:
        for name in ("src", "href", "action", "poster", "data"):
            value = el.attrs.get(name, "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (el.tag, name, value)
    assert not page.find("link") and not page.find("iframe") and not page.find("img")
    assert not [s for s in page.find("script") if "src" in s.attrs]
    styles = "".join(s.text for s in page.find("style"))
    assert not re.search(r"@import|url\(", styles)
    signature = get_plotlyjs()[:2000]
    assert english.count(signature) == 1
    assert english.count("plotly.js v") == 1
    assert english.count("Plotly.newPlot(") == 3  # funnel, tiers, deciles
    head = english[: english.index("</head>")]
    assert signature in head


def test_without_a_funnel_there_is_no_funnel_chart(demo: Demo) -> None:
    html = build_report(_input(demo, "en", funnel=None)).decode("utf-8")
    assert html.count("Plotly.newPlot(") == 2
    assert 'id="figure-funnel"' not in html


def test_report_is_print_friendly(english: str) -> None:
    assert "@media print" in english and "break-inside: avoid" in english


def test_library_modules_do_not_import_streamlit() -> None:
    code = "import sys, funnel.report, funnel.handoff; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_funnel_says_it_counts_every_lead_unlike_the_back_test(
    lang: str, english: str, japanese: str
) -> None:
    html = Page(english if lang == "en" else japanese)
    (figure,) = html.find("figure", id="figure-funnel")
    (note,) = [e for e in _walk(figure) if e.tag == "p" and e.attrs.get("class") == "note"]
    assert note.text == t("population.funnel_all_leads", lang)
    assert t("population.funnel_all_leads", lang) not in html.section("metrics").text
