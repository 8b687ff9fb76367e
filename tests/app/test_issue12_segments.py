"""Segments keep columns known only after the sale out of rankings and filters, in English and
Japanese: a numeric leak and a status that follows the outcome (flagged from their data), and
an outcomes file's deal details. Asked for, they are shown marked and never called best or
worst (issue 12, "Leaks")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.store import Store
from tests.issue12_files import leads_and_deals

SEGMENTS_PAGE = "../pages/segments.py"
N = 800


def leads_with_leaks(seed: int = 4) -> pd.DataFrame:
    """Honest columns, a basket value 0 on every lost deal, a lead status that says 'Converted'
    for most won leads, and an innocent demographic ``Marital_Status``."""
    rng = np.random.default_rng(seed)
    industry = rng.choice(["IT", "Retail", "Finance"], N)
    won = rng.random(N) < np.where(industry == "IT", 0.35, 0.2)
    status = np.where(won & (rng.random(N) < 0.8), "Converted", rng.choice(["Working", "New"], N))
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(N)],
            "created_at": pd.date_range("2024-01-01", periods=N, freq="D").strftime("%Y-%m-%d"),
            "industry": industry,
            "Marital_Status": rng.choice(["Single", "Married"], N),
            "lead_status": status,
            "basket_value": np.where(won, rng.integers(1_000, 9_000, N), 0),
            "outcome": np.where(won, "Won", "Lost"),
        }
    )


def store_frames(db_path: Path, name: str, leads: pd.DataFrame, deals: pd.DataFrame | None) -> None:
    source = read_bytes(leads.to_csv(index=False).encode(), f"{name}.csv")
    outcomes = None if deals is None else read_bytes(deals.to_csv(index=False).encode(), "d.csv")
    with Store(db_path) as store:
        load_files(store, name, source, outcomes)


def open_segments(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], lang: str
) -> AppTest:
    at = open_app(lang=lang)
    return checked(at.switch_page(SEGMENTS_PAGE).run())


def segments_frame(at: AppTest, lang: str) -> pd.DataFrame:
    (found,) = [df.value for df in at.dataframe if t("segments.note", lang) in df.value.columns]
    return found


def filter_choices(at: AppTest, lang: str) -> list[str]:
    (more,) = [m for m in at.sidebar.multiselect if m.label == t("filters.more", lang)]
    return list(more.options)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_flagged_leaks_are_neither_segments_nor_filters_and_asked_for_are_never_best(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    db_path: Path,
    lang: str,
) -> None:
    store_frames(db_path, "leaky", leads_with_leaks(), None)
    with Store(db_path) as store:
        flagged = {s.name for s in store.require("leaky").mapping.leads if s.leak}
    assert flagged == {"basket_value", "lead_status"}
    at = open_segments(open_app, checked, lang)

    offered = at.selectbox(key="seg_by").options
    assert "industry" in offered and "Marital_Status" in offered  # the innocent *_Status stays
    assert not flagged & set(offered)
    assert not flagged & set(filter_choices(at, lang))

    checked(at.toggle(key="seg_after_sale").set_value(True).run())
    label = t("segments.after_sale_label", lang, column="lead_status")
    assert label in at.selectbox(key="seg_by").options
    checked(at.selectbox(key="seg_by").set_value("lead_status").run())

    table = segments_frame(at, lang)
    notes = set(table[t("segments.note", lang)])
    assert notes == {t("segments.after_sale_note", lang)}  # never best, worst or small
    rates = dict(zip(table["lead_status"], table[t("funnel.col.rate", lang)], strict=True))
    assert rates["Converted"] == pytest.approx(100.0)  # what the sale wrote, shown as such
    warned = [w.value for w in at.main.warning]
    assert t("segments.after_sale", lang, columns="lead_status") in warned


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_outcomes_files_deal_columns_are_kept_out_of_segments_and_filters(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    db_path: Path,
    lang: str,
) -> None:
    """Olist's shape: a leads file, and a deals file known only for the won leads, whose
    ``business_segment`` and ``lead_type`` would rank 'best' at 100% conversion."""
    leads, deals = leads_and_deals()
    store_frames(db_path, "olistlike", leads, deals)
    at = open_segments(open_app, checked, lang)

    deal_columns = {"business_segment", "lead_type"}
    assert "origin" in at.selectbox(key="seg_by").options
    assert not deal_columns & set(at.selectbox(key="seg_by").options)
    assert not deal_columns & set(filter_choices(at, lang))

    checked(at.toggle(key="seg_after_sale").set_value(True).run())
    checked(at.selectbox(key="seg_by").set_value("business_segment").run())

    table = segments_frame(at, lang)
    assert set(table[t("segments.note", lang)]) == {t("segments.after_sale_note", lang)}
