"""Leads shown as records on the Tuner: the won deals missed, the leads the two proposals
disagree on and the leads a search finds, a page at a time, in an order, with a count of the
rest; by hand with pandas on the demo frame."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.store import DatasetInfo
from tests.support import tuner_prefix

LEADS = 3000
TEMPLATE = (  # (column, points per unit, cap); tiers A 10, B 4, C
    ("web_visits", 1, 10),
    ("document_requests", 2, 20),
    ("newsletter_signups", 2, 20),
    ("inquiries", 3, 30),
)
PAGE = 25


@cache
def frame() -> pd.DataFrame:
    return generate_leads(LEADS, seed=7)


def scores(inquiries: int = 3) -> pd.Series:
    f = frame()
    total = pd.Series(0.0, index=f.index)
    for column, points, cap in TEMPLATE:
        p = inquiries if column == "inquiries" else points
        total += (f[column].fillna(0) * p).clip(upper=cap)  # a slider keeps the rule's cap
    return total


def fired(row: pd.Series) -> str:
    parts = []
    for column, points, cap in sorted(
        TEMPLATE, key=lambda r: -min(row[r[0]] * r[1], r[2])
    ):  # largest points first, as the page lists them
        got = min(row[column] * points, cap)
        if got:
            parts.append((got, f"Each {column} ({got:+.0f})"))
    return "; ".join(text for _, text in parts)


@pytest.fixture
def demo(seed: Callable[..., DatasetInfo]) -> DatasetInfo:
    return seed("demo", leads=LEADS, seed=7)


def grid(at: AppTest, key: str) -> pd.DataFrame:
    found = [d for d in at.dataframe if str(d.proto.id).endswith(f"{key}:table")]
    assert len(found) == 1, [d.proto.id for d in at.dataframe]
    return found[0].value


def open_tuner(open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest]) -> AppTest:
    at = open_app()
    return checked(at.switch_page("../pages/tuner.py").run())


def test_missed_won_deals_are_records_a_page_at_a_time_with_the_rest_counted(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], demo: DatasetInfo
) -> None:
    f = frame().assign(score=scores())
    missed = f[(f["outcome"] == "Won") & (f["score"] < 10)]
    ordered = missed.sort_values(["score", "lead_id"], ascending=[False, True], kind="stable")
    assert len(missed) > PAGE
    at = open_tuner(open_app, checked)

    checked(at.toggle(key="show_missed").set_value(True).run())

    table = grid(at, "rec:missed")
    assert list(table.columns) == [
        t("records.col.id", "en"),
        t("records.col.created", "en"),
        t("records.col.source", "en"),
        *(c for c, _, _ in TEMPLATE),
        t("records.col.score", "en"),
        t("records.col.tier", "en"),
        t("records.col.outcome", "en"),
        t("records.col.fired", "en"),
    ]
    first = ordered.head(PAGE)
    assert list(table[t("records.col.id", "en")]) == list(first["lead_id"])
    assert list(table[t("records.col.score", "en")]) == [int(x) for x in first["score"]]
    assert set(table[t("records.col.outcome", "en")]) == {t("records.outcome.won", "en")}
    assert list(table[t("records.col.fired", "en")]) == [fired(r) for _, r in first.iterrows()]
    showing = t("records.showing", "en", first="1", last=str(PAGE), total=f"{len(missed):,}")
    assert showing in [c.value for c in at.main.caption]

    checked(at.number_input(key="rec:missed:page").set_value(2).run())
    table = grid(at, "rec:missed")
    assert list(table[t("records.col.id", "en")]) == list(ordered["lead_id"][PAGE : 2 * PAGE])

    checked(at.selectbox(key="rec:missed:sort").set_value("created_desc").run())
    newest = missed.sort_values(["created_at", "lead_id"], ascending=[False, True], kind="stable")
    table = grid(at, "rec:missed")
    assert list(table[t("records.col.id", "en")]) == list(newest["lead_id"][PAGE : 2 * PAGE])


def test_the_leads_only_one_proposal_calls_hot_are_listed_as_records(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], demo: DatasetInfo
) -> None:
    at = open_tuner(open_app, checked)
    checked(at.radio(key=f"tuner_active:{demo.dataset_id}").set_value("sales").run())
    checked(at.slider(key=f"pts:{tuner_prefix(at, demo)}:3").set_value(20).run())
    at.session_state["tuner_tab"] = t("tuner.tab.compare", "en")
    checked(at.run())

    sales, marketing = scores(20) >= 10, scores() >= 10
    only_sales = frame()[sales & ~marketing]
    only_marketing = frame()[marketing & ~sales]
    assert len(only_sales) > PAGE and len(only_marketing) == 0
    table = grid(at, "rec:only_active")
    best = only_sales.assign(score=scores(20)).sort_values(
        ["score", "lead_id"], ascending=[False, True], kind="stable"
    )
    assert list(table[t("records.col.id", "en")]) == list(best["lead_id"][:PAGE])
    captions = [c.value for c in at.main.caption]
    total = f"{len(only_sales):,}"
    assert t("records.showing", "en", first="1", last=str(PAGE), total=total) in captions
    assert t("records.none", "en") in captions  # nothing is hot for marketing alone


def test_a_search_by_value_lists_the_matching_leads_and_one_match_is_explained(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], demo: DatasetInfo
) -> None:
    at = open_tuner(open_app, checked)

    checked(at.text_input(key="explain_id").set_value("L000012").run())  # ten ids contain it

    table = grid(at, "rec:search")
    expected = [f"L00001{i:02d}" for i in range(20, 30)]
    assert sorted(table[t("records.col.id", "en")]) == expected
    found = t("tuner.search_found", "en", count=10, text="L000012")
    assert found in [c.value for c in at.main.caption]

    checked(at.text_input(key="explain_id").set_value("l0000123").run())  # one, any case

    assert any(x.value.startswith("Score ") for x in at.main.text)
    record = [d.value for d in at.dataframe if t("records.col.created", "en") in d.value.columns]
    assert [list(r[t("records.col.id", "en")]) for r in record] == [["L0000123"]]
