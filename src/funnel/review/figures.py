"""Plotly figures of a review (no Streamlit here): conversion against the promise, hot leads
per week, and how often each rule fires now against during tuning.

Labels arrive translated; tier names and rule labels are user text and are escaped with
:func:`funnel.charts.plain` on their way in.
"""

from __future__ import annotations

import plotly.graph_objects as go

from funnel.charts import ACCENT, MUTED, SECOND, _layout, plain
from funnel.review.engine import Review


def _points(
    name: str,
    x: list[str],
    y: list[float | None],
    low: list[float | None],
    high: list[float | None],
    marker: dict[str, object],
) -> go.Scatter:
    """Rates as markers with their 95% intervals as asymmetric error bars (none without one)."""
    return go.Scatter(
        name=name,
        x=x,
        y=y,
        mode="markers",
        marker={"size": 12, **marker},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [0 if v is None or h is None else h - v for v, h in zip(y, high, strict=True)],
            "arrayminus": [
                0 if v is None or lo is None else v - lo for v, lo in zip(y, low, strict=True)
            ],
        },
        hovertemplate="%{x}: %{y:.1%}<extra>" + plain(name) + "</extra>",
    )


def _bars(
    name: str, x: list[object], y: list[object], color: str, hover: str, **kw: object
) -> go.Bar:
    """One bar trace named ``name`` (``hover`` formats the bar's value)."""
    return go.Bar(
        name=name,
        x=x,
        y=y,
        marker={"color": color},
        hovertemplate=hover + "<extra>" + plain(name) + "</extra>",
        **kw,
    )


def _level(name: str, weeks: list[object], y: float, line: dict[str, str], fmt: str) -> go.Scatter:
    """A horizontal line at ``y`` across the weeks (a promise)."""
    return go.Scatter(
        name=name,
        x=[weeks[0], weeks[-1]],
        y=[y, y],
        mode="lines",
        line=line,
        hovertemplate="%{y:" + fmt + "}<extra>" + plain(name) + "</extra>",
    )


def conversion_figure(r: Review, now: str, promised: str, rate_title: str) -> go.Figure:
    """Each tier's conversion since (decided or mature leads) and the promise, with their 95%
    intervals side by side."""
    names = [plain(x.name) for x in r.tiers]
    fig = go.Figure()
    fig.add_trace(
        _points(
            promised,
            names,
            [x.promised_rate for x in r.tiers],
            [x.promised[3] if x.promised else None for x in r.tiers],
            [x.promised[4] if x.promised else None for x in r.tiers],
            {"color": MUTED, "symbol": "diamond"},
        )
    )
    fig.add_trace(
        _points(
            now,
            names,
            [x.rate for x in r.tiers],
            [x.low for x in r.tiers],
            [x.high for x in r.tiers],
            {"color": ACCENT},
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
    weeks: list[object] = [w.start for w in r.weekly]
    day = "%{x|%Y-%m-%d}: %{y:,}"
    fig = go.Figure()
    fig.add_trace(_bars(hot, weeks, [w.hot for w in r.weekly], ACCENT, day))
    fig.add_trace(_bars(others, weeks, [w.leads - w.hot for w in r.weekly], MUTED, day))
    if r.promise.hot_per_week is not None and weeks:
        line = {"color": SECOND, "dash": "dash"}
        fig.add_trace(_level(promised, weeks, r.promise.hot_per_week, line, ",.1f"))
    cap = r.service_level.max_hot_per_week
    if cap is not None and weeks:
        fig.add_trace(_level(most, weeks, cap, {"color": ACCENT, "dash": "dot"}, ","))
    fig.update_layout(barmode="stack", yaxis={"title": leads_title})
    return _layout(fig, 320)


def drift_figure(r: Review, now: str, then: str, share_title: str) -> go.Figure:
    """The share of leads each rule fires on, new leads against the leads tuned on; rules
    whose difference is real are marked with ⚠."""
    names: list[object] = [plain(("⚠ " if d.comparison.real else "") + d.label) for d in r.rules]
    share = "%{y}: %{x:.1%}"
    fig = go.Figure()
    for name, values, color in (
        (then, [d.comparison.then for d in r.rules], MUTED),
        (now, [d.comparison.now for d in r.rules], ACCENT),
    ):
        fig.add_trace(_bars(name, list(values), names, color, share, orientation="h"))
    fig.update_layout(
        barmode="group",
        xaxis={"title": share_title, "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return _layout(fig, max(260, 60 + 44 * len(r.rules)))
