"""Funnel: where leads drop — stages, two segments compared, monthly cohorts, time to convert."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import filters as shared
from app import ui
from funnel import charts
from funnel.filters import Filters
from funnel.funnels import Step, remember_stages, stage_dates, stages_for
from funnel.segments import numeric_columns, segment_columns

info, filters = shared.analysis_page("funnel.title")
store = ui.store()


def steps_frame(steps: list[Step]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ui.t("funnel.col.stage"): [shared.stage_label(s.stage) for s in steps],
            ui.t("funnel.col.leads"): [s.n for s in steps],
            ui.t("funnel.col.from_previous"): [_pct(s.rate_from_previous) for s in steps],
            ui.t("funnel.col.from_first"): [_pct(s.rate_from_first) for s in steps],
            ui.t("funnel.col.drop_off"): [s.drop_off for s in steps],
        }
    )


def _pct(x: float | None) -> float | None:
    return None if x is None else 100 * x


PCT = st.column_config.NumberColumn(format="%.1f%%")

# --- stages --------------------------------------------------------------------------------
available = list(stage_dates(info))
if len(available) < 2:  # e.g. a closed-deals file loaded as leads: nothing to compare
    st.info(ui.t("funnel.one_stage", dataset=info.name, stage=shared.stage_label(available[0])))
    st.stop()
current = stages_for(store, info)
chosen = st.multiselect(
    ui.t("funnel.stages"),
    options=available,
    default=current,
    format_func=ui.labels(available, shared.stage_label),
    key=f"stages:{info.dataset_id}",
    help=ui.t("funnel.stages_help"),
    placeholder=ui.t("ui.choose"),
)
if chosen != current:
    if len(chosen) < 2:
        st.warning(ui.t("analysis.too_few_stages"))
        st.stop()
    if not store.read_only:
        remember_stages(store, info, chosen)
stages = tuple(chosen)

steps = shared.funnel(info, stages, filters)
if steps[0].n == 0:
    st.warning(ui.t("funnel.no_leads"))
    st.stop()

left, right = st.columns([3, 2])
shares = (ui.t("funnel.of_initial"), ui.t("funnel.of_previous"))
fig = charts.funnel_figure([(info.name, steps)], shared.stage_label, *shares)
left.plotly_chart(fig, key="funnel_chart")
table = steps_frame(steps)
ui.dataframe(
    table,
    right,
    hide_index=True,
    width="stretch",
    column_config={ui.t("funnel.col.from_previous"): PCT, ui.t("funnel.col.from_first"): PCT},
)
d1, d2 = right.columns(2)
ui.download_table(table, f"funnel-{info.name}", "dl_funnel_csv", d1)
ui.download_chart(fig, f"funnel-{info.name}", "dl_funnel_html", d2)
right.caption(ui.t("population.funnel_all_leads"))  # unlike the tuner's back-test figures

# --- two segments side by side ---------------------------------------------------------------
st.subheader(ui.t("funnel.compare"))
st.caption(ui.t("funnel.compare_help"))
numeric = numeric_columns(info)
columns = [c for c in segment_columns(info) if c not in numeric]
source = info.mapping.column("source")
default_col = columns.index(source) if source in columns else 0
c0, c1, c2 = st.columns(3)
column = c0.selectbox(ui.t("funnel.compare_by"), columns, index=default_col, key="cmp_column")
options = shared.column_options(info, column) if column else []
shown = ui.labels(options, ui.shown_value)
a_values = c1.multiselect(
    ui.t("funnel.segment_a"),
    options,
    key=f"cmp_a:{column}",
    placeholder=ui.t("ui.choose"),
    format_func=shown,
)
b_values = c2.multiselect(
    ui.t("funnel.segment_b"),
    options,
    key=f"cmp_b:{column}",
    placeholder=ui.t("ui.choose"),
    format_func=shown,
)
if column and a_values and b_values:
    a = Filters(equals=((column, tuple(a_values)),))
    b = Filters(equals=((column, tuple(b_values)),))
    steps_a, steps_b = shared.comparison(info, stages, filters, a, b)
    name_a, name_b = ", ".join(map(shown, a_values)), ", ".join(map(shown, b_values))
    compare_fig = charts.funnel_figure(
        [(f"A: {name_a}", steps_a), (f"B: {name_b}", steps_b)], shared.stage_label, *shares
    )
    st.plotly_chart(compare_fig, key="compare_chart")
    compare = pd.DataFrame(
        {
            ui.t("funnel.col.stage"): [shared.stage_label(s.stage) for s in steps_a],
            f"A: {ui.t('funnel.col.leads')}": [s.n for s in steps_a],
            f"A: {ui.t('funnel.col.from_previous')}": [_pct(s.rate_from_previous) for s in steps_a],
            f"B: {ui.t('funnel.col.leads')}": [s.n for s in steps_b],
            f"B: {ui.t('funnel.col.from_previous')}": [_pct(s.rate_from_previous) for s in steps_b],
        }
    )
    st.caption(ui.tm("funnel.compare_names", a=name_a, b=name_b))
    ui.dataframe(
        compare,
        hide_index=True,
        width="stretch",
        column_config={
            f"A: {ui.t('funnel.col.from_previous')}": PCT,
            f"B: {ui.t('funnel.col.from_previous')}": PCT,
        },
    )
    c1, c2, _ = st.columns([1, 1, 2])
    ui.download_table(compare, f"funnel-compare-{info.name}", "dl_compare_csv", c1)
    ui.download_chart(compare_fig, f"funnel-compare-{info.name}", "dl_compare_html", c2)
else:
    st.caption(ui.t("funnel.compare_empty"))

# --- monthly cohorts -------------------------------------------------------------------------
st.subheader(ui.t("funnel.cohorts", stage=shared.stage_label(stages[-1])))
trend = shared.cohorts(info, stages, filters)
if isinstance(trend, str):
    st.info(ui.t(f"analysis.{trend}"))
else:
    p90 = trend.days_to_convert_p90
    st.caption(
        ui.t(
            "funnel.cohorts_help",
            days="–" if p90 is None else f"{p90:.0f}",
            as_of="–" if trend.as_of is None else f"{trend.as_of:%Y-%m-%d}",
        )
    )
    cohort_fig = charts.cohort_figure(
        trend,
        ui.t("funnel.col.rate"),
        ui.t("funnel.immature"),
        ui.t("funnel.mature"),
        ui.t("funnel.wide_interval"),
    )
    st.plotly_chart(cohort_fig, key="cohort_chart")
    ui.download_chart(cohort_fig, f"cohorts-{info.name}", "dl_cohort_html")
    cohort_table = pd.DataFrame(
        {
            ui.t("funnel.col.month"): [c.month.strftime("%Y-%m") for c in trend.cohorts],
            ui.t("funnel.col.leads"): [c.n for c in trend.cohorts],
            ui.t("funnel.col.converted"): [c.converted for c in trend.cohorts],
            ui.t("funnel.col.rate"): [_pct(c.rate) for c in trend.cohorts],
            ui.t("funnel.col.ci"): [
                f"{100 * c.ci_low:.1f}–{100 * c.ci_high:.1f}%" for c in trend.cohorts
            ],
            ui.t("funnel.col.mature"): [
                ui.t("funnel.mature") if c.mature else ui.t("funnel.immature")
                for c in trend.cohorts
            ],
        }
    )
    with st.expander(ui.t("funnel.cohort_table")):
        ui.dataframe(
            cohort_table,
            hide_index=True,
            width="stretch",
            column_config={ui.t("funnel.col.rate"): PCT},
        )
        ui.download_table(cohort_table, f"cohorts-{info.name}", "dl_cohort_csv")

# --- time to convert ---------------------------------------------------------------------------
st.subheader(ui.t("funnel.times"))
transitions = [tr for tr in shared.times(info, stages, filters) if tr.n]
if not transitions:
    st.info(ui.t("funnel.times_none"))
for tr in transitions:
    title = f"{shared.stage_label(tr.from_stage)} → {shared.stage_label(tr.to_stage)}"
    cols = st.columns([1, 3])
    cols[0].metric(
        ui.t("funnel.median_days", step=title),
        "–" if tr.median_days is None else f"{tr.median_days:.1f}",
    )
    cols[0].caption(
        ui.t(
            "funnel.quartiles",
            p25="–" if tr.p25_days is None else f"{tr.p25_days:.1f}",
            p75="–" if tr.p75_days is None else f"{tr.p75_days:.1f}",
            p90="–" if tr.p90_days is None else f"{tr.p90_days:.1f}",
            n=f"{tr.n:,}",
        )
    )
    time_fig = charts.time_figure(tr, ui.t("funnel.days"), ui.t("funnel.col.leads"))
    cols[1].plotly_chart(time_fig, key=f"time_{tr.from_stage}_{tr.to_stage}")
    ui.download_chart(
        time_fig,
        f"time-{tr.from_stage}-{tr.to_stage}-{info.name}",
        f"dl_time_{tr.from_stage}_{tr.to_stage}",
        cols[0],
    )
