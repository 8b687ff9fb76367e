"""Leads shown as records: sortable, a page at a time with a count of the rest, downloadable in
the hand-off format, and a click on a row explains that lead."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import ui
from funnel.handoff import to_csv_bytes
from funnel.records import LEADING, TRAILING

PAGE_ROWS = 25
#: The orders a record table offers: (key, column, descending).
SORTS = (
    ("score_desc", "score", True),
    ("score_asc", "score", False),
    ("created_desc", "created", True),
    ("created_asc", "created", False),
    ("id", "id", False),
)
EXPLAIN_KEY = "explain_id"
DATE = st.column_config.DateColumn(format="YYYY-MM-DD")


def headers() -> dict[str, str]:
    """The record columns' headers in the page's language (the lead's own columns keep their
    names)."""
    return {c: ui.t(f"records.col.{c}") for c in (*LEADING, *TRAILING)}


def outcome_words() -> dict[str, str]:
    return {k: ui.t(f"records.outcome.{k}") for k in ("won", "lost", "open")}


def explain_lead(lead_id: str) -> None:
    """Show ``lead_id`` in the Explain section (a callback: runs before the page does)."""
    st.session_state[EXPLAIN_KEY] = lead_id


def _picked(key: str, ids: list[str]) -> None:
    event = st.session_state.get(key)
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if rows and 0 <= rows[0] < len(ids):
        explain_lead(ids[rows[0]])


def record_table(
    records: pd.DataFrame,
    key: str,
    file_name: str,
    handoff: Callable[[], pd.DataFrame],
    where: DeltaGenerator | None = None,
) -> None:
    """A list of lead records: an order, the page shown (with how many there are in all), the
    rows (a click explains the lead) and a CSV download of the whole list in the hand-off
    format (built only when clicked)."""
    box = where or st.container()
    if records.empty:
        box.caption(ui.t("records.none"))
        return
    sorts = [s for s in SORTS if s[1] in records.columns]
    c1, c2, c3 = box.columns([2, 1, 1], vertical_alignment="bottom")
    order = c1.selectbox(
        ui.t("records.sort"),
        [s[0] for s in sorts],
        format_func=ui.labels([s[0] for s in sorts], lambda s: ui.t(f"records.sort.{s}")),
        key=f"{key}:sort",
    )
    _, column, descending = next(s for s in sorts if s[0] == order)
    ordered = records.sort_values(
        [column, "id"], ascending=[not descending, True], kind="stable", na_position="last"
    )
    pages = max(1, math.ceil(len(ordered) / PAGE_ROWS))
    page = int(c2.number_input(ui.t("records.page"), 1, pages, 1, key=f"{key}:page"))
    page = min(page, pages)
    first = (page - 1) * PAGE_ROWS
    shown = ordered.iloc[first : first + PAGE_ROWS]
    c3.download_button(
        ui.t("download.csv"),
        data=lambda: to_csv_bytes(handoff()),
        file_name=f"{file_name}.csv",
        mime="text/csv",
        key=f"{key}:csv",
        on_click="ignore",
    )
    box.caption(
        ui.t(
            "records.showing",
            first=f"{first + 1:,}",
            last=f"{first + len(shown):,}",
            total=f"{len(ordered):,}",
        )
    )
    ids = [str(i) for i in shown["id"]]
    display = shown.assign(outcome=shown["outcome"].map(outcome_words()).fillna("—"))
    table_key = f"{key}:table"
    named = headers()
    ui.dataframe(
        display.rename(columns=named),
        box,
        hide_index=True,
        width="stretch",
        column_config={named["created"]: DATE},
        key=table_key,
        on_select=lambda: _picked(table_key, ids),
        selection_mode="single-row",
    )
