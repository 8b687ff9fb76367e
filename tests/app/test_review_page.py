"""Review page: the agreed version's figures since it took effect, its agenda, charts with
legends, empty states that say what to do, and a button opening the Tuner on the version; in
English and Japanese."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_later, generate_leads
from funnel.feedback import load_feedback
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import SourceFile
from funnel.review import agenda, review
from funnel.store import Store
from funnel.versions.history import save_version
from funnel.versions.signoff import propose, sign
from tests.support import tuner_state
from tests.unit.test_review import RULES, verdicts

APRIL = date(2026, 4, 1)


def agree(store: Store, effective: date) -> None:
    v = save_version(store, store.require("crm"), RULES, author="Aiko", effective_from=effective)
    propose(store, v.version_id, "Aiko")
    sign(store, v.version_id, "marketing", "Aiko")
    sign(store, v.version_id, "sales", "Ben")


def build(db_path: Path, effective: date = APRIL, *, refresh: bool = True) -> None:
    first, later = generate_leads(1500, seed=6), generate_later(1500, seed=6, months=2)
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("september.csv", first, "csv"))
        agree(store, effective)
        if refresh:
            time.sleep(1.1)
            load_files(store, "crm", SourceFile("november.csv", later, "csv"), refresh=True)
            load_feedback(store, "crm", SourceFile("sales.csv", verdicts(later), "csv"))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_review_page_shows_the_figures_the_agenda_and_charts_with_legends(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    literal: Callable[[str], str],
    db_path: Path,
    lang: str,
) -> None:
    build(db_path)
    with Store(db_path) as store:
        r = review(store, "crm", lang=lang)
    at = checked(open_app("review", lang=lang))

    assert at.title[0].value == t("review.title", lang)
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("review.metric.leads", lang)] == f"{r.leads:,}"
    assert shown[t("review.metric.missed", lang)] == f"{r.missed_won:,} / {r.won:,}"
    text = "\n".join(literal(m.value) for m in at.markdown)
    points = agenda(r)
    assert points
    for p in points:
        assert p.sentence(lang) in text
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(figures) == 3
    for fig in figures:
        names = [trace.get("name") for trace in fig["data"]]
        assert len(names) >= 2 and all(names)  # every series is named in the legend
        assert fig["layout"].get("showlegend", True)
    conversion = figures[0]["data"]
    assert [tr["name"] for tr in conversion] == [
        t("review.col.promised", lang),
        t("review.col.now", lang),
    ]
    assert conversion[1]["y"] == [x.rate for x in r.tiers]
    tables = [d.value for d in at.dataframe]
    tiers = tables[0]
    assert list(tiers[t("review.col.leads", lang)]) == [x.leads for x in r.tiers]
    assert r.feedback is not None
    reasons = next(f for f in tables if t("review.col.reason", lang) in f.columns)
    assert list(reasons[t("review.col.leads", lang)]) == [n for _, n in r.feedback.reasons]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_without_an_agreed_version_the_page_says_to_sign_one(
    open_app: Callable[..., AppTest], db_path: Path, lang: str
) -> None:
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("s.csv", generate_leads(300, seed=1), "csv"))
    at = open_app("review", lang=lang)
    assert not at.exception
    assert t("review.error.no_agreed", lang, dataset="crm").split("。")[0].split(".")[0] in [
        i.value for i in at.info
    ][0].replace("\\", "")


def test_without_leads_since_the_page_says_to_load_a_later_export(
    open_app: Callable[..., AppTest], db_path: Path
) -> None:
    build(db_path, date(2026, 10, 1), refresh=False)
    at = open_app("review")
    assert not at.exception
    info = [i.value.replace("\\", "") for i in at.info]
    assert any("No lead of crm arrived since hot v1 took effect on 2026-10-01" in i for i in info)
    assert any("--refresh" in i for i in info)


def test_the_button_opens_the_tuner_on_the_reviewed_version(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    build(db_path)
    at = open_app("review")
    checked(at.button(key="review_open_tuner").click().run())
    loaded = tuner_state(at, "crm").rules()  # the proposal being edited
    assert [r.column for r in loaded.rules] == [r.column for r in RULES.rules]
    assert [x.min_score for x in loaded.tiers[:2]] == [35, 15]
    assert at.title[0].value == t("tuner.title", "en")
