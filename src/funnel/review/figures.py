"""Plotly figures of a review (no Streamlit here): conversion against the promise, hot leads
per week, and how often each rule fires now against during tuning.

Labels arrive translated; tier names and rule labels are user text and are escaped with
:func:`funnel.charts.plain` on their way in.
"""

from __future__ import annotations

import plotly.graph_objects as go

from funnel.charts import ACCENT, MUTED, SECOND, _layout, plain
from funnel.review.engine import Review


def conversion_figure(r: Review, now: str, promised: str, rate_title: str) -> go.Figure:
    """Each tier's conversion since (decided or mature leads) and the promise, with their 95%
    intervals side by side."""
    names = [plain(x.name) for x in r.tiers]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name=promised,
            x=names,
            y=[x.promised_rate for x in r.tiers],
            mode="markers",
            marker={"color": MUTED, "size": 12, "symbol": "diamond"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [
                    (x.promised[4] - (x.promised_rate or 0)) if x.promised else 0 for x in r.tiers
                ],
                "arrayminus": [
                    ((x.promised_rate or 0) - x.promised[3]) if x.promised else 0 for x in r.tiers
                ],
            },
            hovertemplate="%{x}: %{y:.1%}<extra>" + plain(promised) + "</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            name=now,
            x=names,
            y=[x.rate for x in r.tiers],
            mode="markers",
            marker={"color": ACCENT, "size": 12},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [x.high - (x.rate or 0) if x.rate is not None else 0 for x in r.tiers],
                "arrayminus": [x.rate - x.low if x.rate is not None else 0 for x in r.tiers],
            },
            hovertemplate="%{x}: %{y:.1%}<extra>" + plain(now) + "</extra>",
        )
    )
    fig.update_layout(
        yaxis={"title": rate_title, "tickformat": ".0%", "rangemode": "tozero"},
        scattermode="group",
    )
    fig.update_xaxes(type="category")
    return _layout(fig, 320)


def weekly_figure(
    r: Review, hot: str, others: str, promised: str, leads_title: str, most: str = ""
) -> go.Figure:
    """New leads per week of arrival, the hot ones apart, the back-test's hot leads a week and
    the most the version promised to send (``most`` names that line)."""
    weeks = [w.start for w in r.weekly]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name=hot,
            x=weeks,
            y=[w.hot for w in r.weekly],
            marker={"color": ACCENT},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra>" + plain(hot) + "</extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            name=others,
            x=weeks,
            y=[w.leads - w.hot for w in r.weekly],
            marker={"color": MUTED},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra>" + plain(others) + "</extra>",
        )
    )
    if r.promise.hot_per_week is not None and weeks:
        fig.add_trace(
            go.Scatter(
                name=promised,
                x=[weeks[0], weeks[-1]],
                y=[r.promise.hot_per_week] * 2,
                mode="lines",
                line={"color": SECOND, "dash": "dash"},
                hovertemplate="%{y:,.1f}<extra>" + plain(promised) + "</extra>",
            )
        )
    cap = r.service_level.max_hot_per_week
    if cap is not None and weeks:
        fig.add_trace(
            go.Scatter(
                name=most,
                x=[weeks[0], weeks[-1]],
                y=[cap, cap],
                mode="lines",
                line={"color": ACCENT, "dash": "dot"},
                hovertemplate="%{y:,}<extra>" + plain(most) + "</extra>",
            )
        )
    fig.update_layout(barmode="stack", yaxis={"title": leads_title})
    return _layout(fig, 320)


def drift_figure(r: Review, now: str, then: str, share_title: str) -> go.Figure:
    """The share of leads each rule fires on, new leads against the leads tuned on; rules
    whose difference is real are marked with ⚠."""
    names = [plain(("⚠ " if d.comparison.real else "") + d.label) for d in r.rules]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name=then,
            y=names,
            x=[d.comparison.then for d in r.rules],
            orientation="h",
            marker={"color": MUTED},
            hovertemplate="%{y}: %{x:.1%}<extra>" + plain(then) + "</extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            name=now,
            y=names,
            x=[d.comparison.now for d in r.rules],
            orientation="h",
            marker={"color": ACCENT},
            hovertemplate="%{y}: %{x:.1%}<extra>" + plain(now) + "</extra>",
        )
    )
    fig.update_layout(
        barmode="group",
        xaxis={"title": share_title, "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return _layout(fig, max(260, 60 + 44 * len(r.rules)))
