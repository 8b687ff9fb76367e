"""The shared filter panel (sidebar) and the cached analysis calls of the analysis pages.

Filters live in plain session state per dataset and re-seed their widgets on every page that
shows them, so they are kept when switching pages. Results are cached per dataset (its id
changes on every reload) and per filter state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import streamlit as st

from app import ui
from funnel.filters import Filters, column_values, count_leads, date_span
from funnel.funnels import (
    CohortTrend,
    FunnelPage,
    Step,
    Transition,
    Unavailable,
    compare_funnels,
    funnel_page,
)
from funnel.segments import (
    Binning,
    SegmentTable,
    numeric_columns,
    segment_columns,
    segment_table,
)
from funnel.segments import code_values as segment_code_values
from funnel.store import DatasetInfo

_STATE = "_filters"


def _keep(
    state: dict[str, Any], prefix: str, key: str, default: Any, options: Sequence[Any] | None = None
) -> str:
    """Seed a widget's key from the persisted state (dropping values no longer offered)."""
    widget = prefix + key
    if widget not in st.session_state:
        value = state.get(key, default)
        if options is not None and isinstance(value, list):
            value = [v for v in value if v in options]
        st.session_state[widget] = value
    else:  # re-assert: Streamlit drops a widget's value when the page switches
        st.session_state[widget] = st.session_state[widget]
    return widget


def analysis_page(title_key: str) -> tuple[DatasetInfo, Filters]:
    """Open an analysis page: its title, the filter panel and the active filters.

    Stops the page with a hint when no dataset is loaded yet.
    """
    st.title(ui.t(title_key))
    info = ui.current_dataset()
    if info is None:
        st.info(ui.t("analysis.empty"))
        st.stop()
    assert info is not None
    filters = filter_panel(info)
    show_active(filters)
    if filters.active and _count(info, filters) == 0:
        st.warning(ui.t("funnel.no_leads"))
        st.stop()
    return info, filters


def stage_label(stage: str) -> str:
    """A stage's name in the reader's language."""
    return ui.t(f"stage.{stage}")


def filter_panel(info: DatasetInfo) -> Filters:
    """Render the sidebar filters for a dataset and return them."""
    state: dict[str, Any] = st.session_state.setdefault(_STATE, {}).setdefault(info.name, {})
    prefix = f"flt:{info.dataset_id}:"
    bar = st.sidebar
    bar.subheader(ui.t("filters.title"))
    date_from: date | None = None
    date_to: date | None = None
    span = _span(info)
    if span is not None:
        key = _keep(state, prefix, "dates", span)
        picked = bar.date_input(
            ui.t("filters.created"), min_value=span[0], max_value=span[1], key=key
        )
        state["dates"] = picked
        if isinstance(picked, tuple) and len(picked) == 2 and tuple(picked) != span:
            date_from, date_to = picked
    equals: list[tuple[str, tuple[str, ...]]] = []
    source = info.mapping.column("source")
    if source:
        options = column_options(info, source)
        key = _keep(state, prefix, "source", [], options)
        chosen = bar.multiselect(
            ui.t("filters.source", column=source),
            options,
            key=key,
            placeholder=ui.t("ui.choose"),
            format_func=ui.labels(options, ui.shown_value),
        )
        state["source"] = chosen
        if chosen:
            equals.append((source, tuple(chosen)))
    numeric = numeric_columns(info)
    others = [c for c in segment_columns(info) if c != source and c not in numeric]
    key = _keep(state, prefix, "columns", [], others)
    columns = bar.multiselect(ui.t("filters.more"), others, key=key, placeholder=ui.t("ui.choose"))
    state["columns"] = columns
    for col in columns:
        options = column_options(info, col)
        key = _keep(state, prefix, f"col:{col}", [], options)
        chosen = bar.multiselect(
            col,
            options,
            key=key,
            placeholder=ui.t("ui.choose"),
            format_func=ui.labels(options, ui.shown_value),
        )
        state[f"col:{col}"] = chosen
        if chosen:
            equals.append((col, tuple(chosen)))
    filters = Filters(date_from, date_to, tuple(equals))
    if filters.active:
        bar.button(ui.t("filters.clear"), key="filters_clear", on_click=_clear, args=(info,))
    return filters


def _clear(info: DatasetInfo) -> None:
    st.session_state.get(_STATE, {}).pop(info.name, None)
    prefix = f"flt:{info.dataset_id}:"
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def show_active(filters: Filters) -> None:
    """Say which filters apply, as plain text, at the top of an analysis page."""
    if not filters.active:
        st.caption(ui.t("filters.none"))
        return
    parts = []
    for what, values in filters.describe():
        label = ui.t("filters.created") if what == "created" else what
        parts.append(f"{label} = {values}")
    st.info(ui.t("filters.active", filters="; ".join(parts)), icon=":material/filter_alt:")


# --- cached calls -------------------------------------------------------------------------------
# Arguments are hashed by ui.HASH_FUNCS: a dataset by its id (new on every reload), filters by
# their key.


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def _span(info: DatasetInfo) -> tuple[date, date] | None:
    return date_span(ui.store(), info)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def _count(info: DatasetInfo, filters: Filters) -> int:
    return count_leads(ui.store(), info, filters)


@st.cache_data(show_spinner=False, max_entries=1024, hash_funcs=ui.HASH_FUNCS)
def column_options(info: DatasetInfo, column: str) -> list[str]:
    """A column's values for a picker, most frequent first (cached per dataset)."""
    return column_values(ui.store(), info, column)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def _page(info: DatasetInfo, stages: tuple[str, ...], filters: Filters) -> FunnelPage:
    """The Funnel page's three views, from one scan of the filtered leads."""
    return funnel_page(ui.store(), info, stages, filters)


def funnel(info: DatasetInfo, stages: tuple[str, ...], filters: Filters) -> list[Step]:
    return _page(info, stages, filters).steps


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def comparison(
    info: DatasetInfo, stages: tuple[str, ...], filters: Filters, a: Filters, b: Filters
) -> tuple[list[Step], list[Step]]:
    return compare_funnels(ui.store(), info, stages, filters, a, b)


def cohorts(info: DatasetInfo, stages: tuple[str, ...], filters: Filters) -> CohortTrend | str:
    try:
        trend = _page(info, stages, filters).trend
    except Unavailable as exc:
        return exc.code
    return "no_dates" if trend is None else trend


def times(info: DatasetInfo, stages: tuple[str, ...], filters: Filters) -> list[Transition]:
    return _page(info, stages, filters).transitions


def code_values(info: DatasetInfo, column: str) -> int | None:
    """How many codes a number column holds when it holds codes, else None (the library
    keeps the answer per load)."""
    return segment_code_values(ui.store(), info, column)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def segments(
    info: DatasetInfo,
    by: tuple[str, ...],
    filters: Filters,
    from_stage: str,
    to_stage: str,
    min_n: int,
    bins: tuple[tuple[str, int, tuple[float, ...]], ...],
    top: int | None = None,
) -> SegmentTable:
    binning = {c: Binning(q=q, edges=e) for c, q, e in bins}
    return segment_table(
        ui.store(),
        info,
        by,
        filters,
        from_stage=from_stage,
        to_stage=to_stage,
        min_n=min_n,
        bins=binning,
        top=top,
    )
