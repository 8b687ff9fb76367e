"""Overview: headline counts of the selected dataset and of every stored dataset."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import ui
from funnel.ingest import load_demo
from funnel.mapping import role_choice
from funnel.mapping.rows import leak_note
from funnel.problems import Problem

st.title(ui.t("overview.title"))
st.caption(ui.t("app.tagline"))

infos = ui.datasets()
if not infos:
    st.info(ui.t("overview.empty"))
    if st.button(ui.t("overview.create_demo"), type="primary", key="create_demo"):
        bar = st.progress(0.0)
        result = load_demo(ui.store(), "demo", progress=ui.progress_reporter(bar))
        ui.select_dataset(result.dataset.name)
        st.rerun()
    st.stop()

info = ui.current_dataset() or infos[0]
st.subheader(ui.escape_md(info.name))
cols = st.columns(5)
cols[0].metric(ui.t("overview.leads"), f"{info.leads:,}")
cols[1].metric(ui.t("overview.won"), f"{info.won:,}")
cols[2].metric(ui.t("overview.lost"), f"{info.lost:,}")
cols[3].metric(ui.t("overview.open"), f"{info.open:,}")
rate = info.win_rate
cols[4].metric(
    ui.t("overview.win_rate"),
    "–" if rate is None else f"{rate:.1%}",
    help=ui.t("population.funnel_all_leads"),  # every lead, unlike the back-test figures
)
files = ", ".join(str(f.get("name", "")) for f in info.files)
st.caption(
    ui.escape_md(ui.t("overview.files", files=files))
    + " · "
    + ui.escape_md(f"{ui.t('overview.loaded_at')}: {info.loaded_at:%Y-%m-%d %H:%M}")
)
with st.expander(ui.t("overview.mapping"), expanded=False):
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("data.col.column"): [s.name for s in info.mapping.leads],
                ui.t("data.col.role"): [ui.role_label(role_choice(s)) for s in info.mapping.leads],
                ui.t("data.col.leak"): [s.leak for s in info.mapping.leads],
                ui.t("data.col.reason"): [leak_note(s, ui.lang()) for s in info.mapping.leads],
            }
        ),
        hide_index=True,
        width="stretch",
    )
notes = [Problem.from_dict(p) for p in info.report]
if notes:
    with st.expander(ui.t("overview.notes"), expanded=False):
        ui.show_problems(notes)

st.subheader(ui.t("overview.all_datasets"))
ui.dataframe(
    ui.datasets_frame(infos, detailed=True),
    hide_index=True,
    width="stretch",
    column_config={ui.t("overview.win_rate"): st.column_config.NumberColumn(format="%.1f%%")},
)
