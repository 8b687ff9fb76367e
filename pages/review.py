"""Review: how the agreed version did on the leads since it took effect, and the agenda."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from app import tuning, ui
from funnel.i18n import CodedError
from funnel.review import Review, ReviewError, agenda, review
from funnel.review.agenda import arrival_line, contact_lines, pct
from funnel.review.engine import Acceptance
from funnel.review.figures import conversion_figure, drift_figure, weekly_figure
from funnel.review.tables import ci, times
from funnel.versions.history import list_versions

st.title(ui.t("review.title"))
st.caption(ui.t("review.caption"))
info = ui.current_dataset()
if info is None:
    st.info(ui.t("analysis.empty"))
    st.stop()
assert info is not None
store = ui.store()
lang = ui.lang()

agreed = [v for v in list_versions(store, info.name) if v.status == "agreed"]
if not agreed:
    st.info(ui.refusal(ReviewError("no_agreed", dataset=info.name)))
    st.page_link("../pages/rulesets.py", label=ui.t("review.go_rulesets"))
    st.stop()
current = next((i for i, v in enumerate(agreed) if v.current), 0)
chosen = st.selectbox(
    ui.t("review.version"),
    agreed,
    index=current,
    format_func=lambda v: (
        ui.t(
            "review.version_option",
            label=v.label(),
            since="–" if v.effective_from is None else f"{v.effective_from:%Y-%m-%d}",
        )
        + (ui.t("review.current") if v.current else "")
    ),
    key=f"review_version:{info.dataset_id}",
)
segments = [c for c in info.columns if not c.startswith("_funnel_")]
source = info.mapping.column("source")
segment = st.selectbox(
    ui.t("review.segment"),
    segments,
    index=segments.index(source) if source in segments else 0,
    key=f"review_segment:{info.dataset_id}",
)


@st.cache_data(show_spinner=False, max_entries=32)
def _review(
    dataset_id: int, name: str, loaded: str, version_id: int, segment: str, lang: str
) -> Review:
    return review(ui.store(), name, str(version_id), segment=segment, lang=lang)


try:
    r = _review(
        info.dataset_id,
        info.name,
        info.loaded_at.isoformat() + info.fingerprint,
        chosen.version_id,
        segment,
        lang,
    )
except CodedError as exc:
    st.info(ui.refusal(exc))
    if isinstance(exc, ReviewError) and exc.code == "no_leads_since":
        st.page_link("../pages/data.py", label=ui.t("review.go_data"))
    st.stop()


def open_in_tuner() -> None:
    """Load the reviewed version into the proposal being edited on the Tuner."""
    assert info is not None
    tuning.store_proposal(info, tuning.state(info).active, chosen.ruleset, new_widgets=True)


if st.button(ui.t("review.open_tuner"), key="review_open_tuner", on_click=open_in_tuner):
    st.switch_page("../pages/tuner.py")

st.subheader(ui.escape_md(ui.t("review.head", label=chosen.label(), since=f"{r.since:%Y-%m-%d}")))
st.caption(
    ui.escape_md(
        ui.t(
            "review.cli.head",
            label=chosen.label(),
            dataset=info.name,
            leads=f"{r.leads:,}",
            since=f"{r.since:%Y-%m-%d}",
            by=ui.t(f"review.arrival.{r.arrival}"),
            before=f"{r.before:,}",
        )
    )
    + "  \n"
    + ui.escape_md(ui.t(f"review.promise.{r.promise.source}"))
    + "  \n"
    + ui.escape_md(r.measured_on(lang))
)
cols = st.columns(4)
cols[0].metric(ui.t("review.metric.leads"), f"{r.leads:,}")
per_week = r.hot_per_week
promised = r.promise.hot_per_week
cols[1].metric(
    ui.t("review.metric.hot_per_week"),
    "–" if per_week is None else f"{per_week:,.1f}",
    delta=None if per_week is None or promised is None else f"{per_week - promised:+,.1f}",
    delta_color="off",
    help=ui.t("review.metric.promised", value="–" if promised is None else f"{promised:,.1f}"),
)
cols[2].metric(
    ui.t("review.metric.hot_rate"),
    pct(r.hot.rate),
    help=ui.t("review.metric.promised", value=pct(r.hot.promised_rate)),
)
cols[3].metric(ui.t("review.metric.missed"), f"{r.missed_won:,} / {r.won:,}")

# --- agenda and notes -----------------------------------------------------------------------------
st.subheader(ui.t("review.section.agenda"))
points = agenda(r)
if points:
    st.markdown(
        "\n".join(f"{i}. {ui.escape_md(p.sentence(lang))}" for i, p in enumerate(points, 1))
    )
else:
    st.success(ui.t("review.cli.no_points"))
for key, params in r.notes:
    st.info(ui.escape_md(ui.t(key, **params)))

# --- conversion -----------------------------------------------------------------------------------
st.subheader(ui.t("review.section.conversion"))
fig = conversion_figure(
    r, ui.t("review.col.now"), ui.t("review.col.promised"), ui.t("review.col.rate")
)
st.plotly_chart(fig, width="stretch", key="review_conversion")
ui.dataframe(
    pd.DataFrame(
        {
            ui.t("review.col.tier"): [x.name for x in r.tiers],
            ui.t("review.col.leads"): [x.leads for x in r.tiers],
            ui.t("review.col.counted"): [x.counted for x in r.tiers],
            ui.t("review.col.maturing"): [x.maturing for x in r.tiers],
            ui.t("review.col.won"): [x.won for x in r.tiers],
            ui.t("review.col.rate"): [pct(x.rate) for x in r.tiers],
            ui.t("review.col.ci"): [ci(x.low, x.high, x.counted) for x in r.tiers],
            ui.t("review.col.lift"): [
                times(None if x.comparison is None else x.comparison.now) for x in r.tiers
            ],
            ui.t("review.col.promised"): [pct(x.promised_rate) for x in r.tiers],
            ui.t("review.col.promised_ci"): [
                ci(x.promised[3], x.promised[4], x.promised[1]) if x.promised else "–"
                for x in r.tiers
            ],
            ui.t("review.col.promised_lift"): [
                times(None if x.comparison is None else x.comparison.then) for x in r.tiers
            ],
        }
    ),
    hide_index=True,
    width="stretch",
)

# --- volume ---------------------------------------------------------------------------------------
st.subheader(ui.t("review.section.volume"))
fig = weekly_figure(
    r,
    ui.t("review.chart.hot", tier=r.hot.name),
    ui.t("review.chart.others"),
    ui.t("review.chart.promised_week"),
    ui.t("review.col.leads"),
    ui.t("review.chart.capacity"),
)
st.plotly_chart(fig, width="stretch", key="review_weekly")
if r.capacity is not None:
    st.caption(
        ui.t(
            "review.cli.capacity",
            most=f"{r.capacity.most:,}",
            over=f"{r.capacity.weeks_over:,}",
            weeks=f"{r.capacity.weeks_counted:,}",
        )
    )
for line in [*contact_lines(r, lang), arrival_line(r, lang)]:
    if line:
        st.caption(ui.escape_md(line))
if r.missed_ids:
    st.caption(ui.escape_md(ui.t("review.missed_ids", ids=", ".join(r.missed_ids))))

# --- sales' verdicts ------------------------------------------------------------------------------
st.subheader(ui.t("review.section.feedback"))
fb = r.feedback
if fb is None:
    st.page_link("../pages/data.py", label=ui.t("review.go_data"))
else:

    def acceptance(groups: Sequence[Acceptance], label: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                label: [a.name for a in groups],
                ui.t("review.col.leads"): [a.leads for a in groups],
                ui.t("review.col.accepted"): [a.accepted for a in groups],
                ui.t("review.col.rejected"): [a.rejected for a in groups],
                ui.t("review.col.not_contacted"): [a.not_contacted for a in groups],
                ui.t("review.col.acceptance"): [pct(a.rate) for a in groups],
                ui.t("review.col.ci"): [ci(*a.interval, a.decided) for a in groups],
            }
        )

    left, right = st.columns(2)
    left.caption(ui.t("review.by_tier"))
    ui.dataframe(acceptance(list(fb.by_tier), ui.t("review.col.tier")), left, hide_index=True)
    right.caption(ui.t("review.rejection_reasons"))
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("review.col.reason"): [x or ui.t("feedback.no_reason") for x, _ in fb.reasons],
                ui.t("review.col.leads"): [n for _, n in fb.reasons],
                ui.t("review.col.share"): [pct(n / fb.rejected) for _, n in fb.reasons],
            }
        ),
        right,
        hide_index=True,
    )
    if fb.segment:
        st.caption(ui.escape_md(ui.t("review.by_segment", column=fb.segment)))
        ui.dataframe(acceptance(list(fb.by_segment), fb.segment), hide_index=True, width="stretch")
    if fb.rejected_won:
        st.warning(
            ui.escape_md(
                ui.t(
                    "review.rejected_won",
                    n=f"{fb.rejected_won:,}",
                    ids=", ".join(fb.rejected_won_ids),
                )
            )
        )

# --- drift ----------------------------------------------------------------------------------------
st.subheader(ui.t("review.section.drift"))
st.caption(ui.t("review.drift_caption"))
if r.rules:
    fig = drift_figure(r, ui.t("review.col.now"), ui.t("review.col.then"), ui.t("review.col.share"))
    st.plotly_chart(fig, width="stretch", key="review_drift")
s = r.scores
st.caption(
    ui.t(
        "review.scores",
        now="–" if s.median_now is None else f"{s.median_now:g}",
        then="–" if s.median_then is None else f"{s.median_then:g}",
        distance="–" if s.distance is None else f"{s.distance:.2f}",
        p="–" if s.p_adjusted is None else f"{s.p_adjusted:.3g}",
    )
)
