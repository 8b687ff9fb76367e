"""Segments: which segments actually convert — with intervals, and small samples marked."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from app import filters as shared
from app import ui
from funnel import charts
from funnel.funnels import stages_for
from funnel.segments import (
    Segment,
    SegmentTable,
    after_sale_columns,
    numeric_columns,
    parse_edges,
    ranking_lines,
    segment_columns,
)
from funnel.stats import DEFAULT_MIN_N

TOP = 20  # values per column in a heatmap; the rest are one "(other)" segment
info, filters = shared.analysis_page("segments.title")
store = ui.store()

after_sale = after_sale_columns(info)
include_after = bool(after_sale) and st.toggle(
    ui.t("segments.include_after_sale"), value=False, key="seg_after_sale"
)
columns = segment_columns(info, after_sale=include_after)
numeric = numeric_columns(info)
stages = stages_for(store, info)
if len(stages) < 2:
    st.info(ui.t("funnel.one_stage", dataset=info.name, stage=shared.stage_label(stages[0])))
    st.stop()
if not columns:
    st.info(ui.t("segments.no_columns", dataset=info.name))
    st.stop()


source = info.mapping.column("source")
c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 1, 1])
marked = ui.labels(
    [""] + columns,
    lambda c: (
        ui.t("segments.after_sale_label", column=c) if c in after_sale else c or ui.t("data.none")
    ),
)
by = c1.selectbox(
    ui.t("segments.by"),
    columns,
    index=columns.index(source) if source in columns else 0,
    format_func=marked,
    key="seg_by",
)
second = c2.selectbox(
    ui.t("segments.and_by"),
    [""] + [c for c in columns if c != by],
    format_func=marked,
    key="seg_by2",
)
start = c3.selectbox(
    ui.t("segments.from_stage"),
    stages[:-1],
    format_func=ui.labels(stages, shared.stage_label),
    key="seg_from",
)
later = stages[stages.index(start) + 1 :]
end = c4.selectbox(
    ui.t("segments.to_stage"),
    later,
    index=len(later) - 1,
    format_func=ui.labels(stages, shared.stage_label),
    key="seg_to",
)
min_n = int(
    c5.number_input(
        ui.t("segments.min_n"), min_value=1, value=DEFAULT_MIN_N, step=5, key="seg_min_n"
    )
)
chosen = [c for c in (by, second) if c]
bins: list[tuple[str, int, tuple[float, ...]]] = []
codes = {c: n for c in chosen if c in numeric and (n := shared.code_values(info, c)) is not None}
for col in chosen:
    if col in numeric:
        b1, b2 = st.columns([1, 3])
        q = (  # codes are one segment per value: only edges the user gives cut them
            5
            if col in codes
            else int(
                b1.number_input(ui.t("segments.bins", column=col), 2, 20, 5, key=f"bins:{col}")
            )
        )
        text = b2.text_input(ui.t("segments.edges", column=col), key=f"edges:{col}")
        try:
            edges = parse_edges(text)
        except ValueError:
            st.warning(ui.t("segments.bad_edges"))
            edges = ()
        bins.append((col, q, edges))

two = len(chosen) == 2  # a heatmap keeps each column's TOP values with the most leads
table: SegmentTable = shared.segments(
    info, tuple(chosen), filters, start, end, min_n, tuple(bins), TOP if two else None
)
for col, more in table.folded.items():
    st.caption(ui.t("segments.folded", column=col, top=TOP, more=f"{more:,}"))
ordered = table.segments
# text columns best first by default; number bins keep their own order (low to high)
for col, values in table.codes.items():
    st.caption(ui.t("segments.codes", column=col, values=values))
if not two and st.toggle(
    ui.t("segments.by_rate"), value=by not in numeric or by in table.codes, key=f"seg_by_rate:{by}"
):
    # best conversion first; segments without one (no leads reached the start) last
    ordered = sorted(ordered, key=lambda s: (s.rate is None, -(s.rate or 0.0)))
# values as shown: the empty and the folded segments are named in the page's language
table = replace(
    table, segments=[replace(s, keys=tuple(map(ui.shown_value, s.keys))) for s in ordered]
)
st.caption(
    ui.t(
        "segments.summary",
        start=shared.stage_label(start),
        end=shared.stage_label(end),
        rate="–" if table.overall_rate is None else f"{table.overall_rate:.1%}",
        converted=f"{table.converted:,}",
        n=f"{table.n:,}",
        min_n=min_n,
    )
)
st.caption(ui.t("population.funnel_all_leads"))
if table.after_sale:
    st.warning(ui.t("segments.after_sale", columns=", ".join(table.after_sale)))
small = sum(s.small_sample for s in table.segments)
if small:
    st.warning(ui.t("segments.small_warning", count=small, min_n=min_n))

rate_title = ui.t("funnel.col.rate")
if len(chosen) == 1:
    fig = charts.segment_bar_figure(
        table, rate_title, ui.t("segments.overall"), ui.t("segments.small")
    )
else:
    fig = charts.segment_heatmap_figure(table, rate_title, ui.t("segments.small"))
st.plotly_chart(fig, key="segments_chart")
for key, line in ranking_lines(table, ui.lang(), ui.escape_md):
    (st.success if key in ("ranking.best", "ranking.worst") else st.info)(line)


def _verdict(s: Segment) -> str:
    if s.after_sale:
        return ui.t("segments.after_sale_note")
    if s.small_sample:
        return ui.t("segments.small")
    if s.best:
        return ui.t("segments.best")
    if s.worst:
        return ui.t("segments.worst")
    return ""


frame = pd.DataFrame(
    {
        **{col: [s.keys[i] for s in table.segments] for i, col in enumerate(chosen)},
        ui.t("funnel.col.leads"): [s.n for s in table.segments],
        ui.t("funnel.col.converted"): [s.converted for s in table.segments],
        rate_title: [None if s.rate is None else 100 * s.rate for s in table.segments],
        ui.t("segments.ci_low"): [100 * s.ci_low for s in table.segments],
        ui.t("segments.ci_high"): [100 * s.ci_high for s in table.segments],
        ui.t("segments.lift"): [s.lift for s in table.segments],
        ui.t("segments.versus"): [ui.t(f"segments.versus.{s.versus}") for s in table.segments],
        ui.t("segments.note"): [_verdict(s) for s in table.segments],
    }
)
pct = st.column_config.NumberColumn(format="%.1f%%")
ui.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    column_config={
        rate_title: pct,
        ui.t("segments.ci_low"): pct,
        ui.t("segments.ci_high"): pct,
        ui.t("segments.lift"): st.column_config.NumberColumn(format="%.2f×"),
    },
    key="segments_table",
)
name = "-".join([info.name, *chosen])
d1, d2, _ = st.columns([1, 1, 2])
ui.download_table(frame, f"segments-{name}", "dl_segments_csv", d1)
ui.download_chart(fig, f"segments-{name}", "dl_segments_html", d2)
st.caption(ui.t("segments.help"))
