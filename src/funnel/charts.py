"""Plotly figures for funnels, cohorts, times and segments (no Streamlit here).

Labels arrive already translated; category values are user data and go into figures as data,
never into HTML templates. Plotly renders a subset of HTML in every text it draws (tick labels,
hovers, legends, titles, annotations), so ``<a href=...>`` in a category value or a tier name
would become a live link: every user text is escaped with :func:`plain` on its way in, and is
shown exactly as written.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import plotly.graph_objects as go

from funnel.funnels import CohortTrend, Step, Transition
from funnel.scoring.histogram import Evaluation
from funnel.scoring.matrix import Matrix
from funnel.segments import SegmentTable

ACCENT = "#E4572E"
SECOND = "#2E86AB"
MUTED = "#B8B8B8"
Label = Callable[[str], str]


class _Interval(Protocol):
    @property
    def rate(self) -> float | None: ...
    @property
    def ci_low(self) -> float: ...
    @property
    def ci_high(self) -> float: ...


def plain(text: object) -> str:
    """User text as Plotly must receive it to show it literally (its markup escaped).

    >>> plain('<a href="https://x">win</a> & co')
    '&lt;a href="https://x"&gt;win&lt;/a&gt; &amp; co'
    """
    return html.escape(str(text), quote=False)


def _interval_bars(points: Sequence[_Interval], **style: Any) -> dict[str, Any]:
    """Asymmetric error bars from each point's rate to its 95% interval."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [p.ci_high - (p.rate or 0) for p in points],
        "arrayminus": [(p.rate or 0) - p.ci_low for p in points],
        **style,
    }


def _rate_heatmap(
    z: list[list[float | None]],
    x: list[str],
    y: list[str],
    text: list[list[str]],
    rate_title: str,
    hovertemplate: str,
) -> go.Heatmap:
    """A conversion-rate heatmap with each cell's own text and a percent colour bar."""
    return go.Heatmap(
        z=z,
        x=x,
        y=y,
        text=text,
        texttemplate="%{text}",
        colorscale="OrRd",
        colorbar={"title": {"text": rate_title}, "tickformat": ".0%"},
        hovertemplate=hovertemplate,
    )


def _layout(
    fig: go.Figure, height: int = 360, *, y_title: str = "", y2_title: str = ""
) -> go.Figure:
    """The shared look: margins that grow to hold every label, the legend under the chart,
    and y-axis titles written level above their axis (never turned sideways, which Japanese
    reads badly, and never over the tick labels)."""
    for text, x, anchor in ((y_title, 0, "left"), (y2_title, 1, "right")):
        if text:
            fig.add_annotation(
                text=plain(text),  # may be user text (a column's name)
                xref="paper",
                yref="paper",
                x=x,
                y=1,
                xanchor=anchor,
                yanchor="bottom",
                yshift=8,
                showarrow=False,
                font={"size": 12},
            )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if (y_title or y2_title) else 24, "b": 10},
        # under the chart, in its own room (the container's bottom: margins grow to fit it)
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
        },
        font={"family": "Noto Sans CJK JP, Noto Sans, sans-serif"},
    )
    return fig


def _legend_only(name: str, colour: str) -> go.Scatter:
    """A legend entry for a colour some bars carry (no data of its own)."""
    return go.Scatter(
        x=[None],
        y=[None],
        name=name,
        mode="markers",
        marker={"symbol": "square", "size": 12, "color": colour},
        hoverinfo="skip",
    )


def funnel_figure(
    series: Sequence[tuple[str, Sequence[Step]]],
    stage_label: Label,
    of_initial: str = "of initial",
    of_previous: str = "of previous",
) -> go.Figure:
    """A funnel chart; several named series are drawn side by side, each in a column of its
    own (its own scale, its name above it), so neither hides or crowds the other.

    Each bar reads its count, its share of the first stage and of the stage before, with the
    words for those shares given in the reader's language.
    """
    fig = go.Figure()
    colours = [ACCENT, SECOND]
    text = (
        f"%{{value:,}}<br>%{{percentInitial:.0%}} {of_initial}"
        f"<br>%{{percentPrevious:.0%}} {of_previous}"
    )
    columns = max(len(series), 1)
    gap = 0.04 if columns > 1 else 0.0
    width = (1 - gap * (columns - 1)) / columns
    for i, (name, steps) in enumerate(series):
        axis = "x" if i == 0 else f"x{i + 1}"
        left = i * (width + gap)
        fig.add_trace(
            go.Funnel(
                name=plain(name),
                y=[plain(stage_label(s.stage)) for s in steps],
                x=[s.n for s in steps],
                texttemplate=text,
                marker={"color": colours[i % len(colours)]},
                xaxis=axis,
                cliponaxis=False,
            )
        )
        fig.update_layout(
            {
                "xaxis" if i == 0 else f"xaxis{i + 1}": {
                    "domain": [left, left + width],
                    "anchor": "y",
                    "visible": False,
                }
            }
        )
        if columns > 1:
            fig.add_annotation(
                text=plain(name),
                xref="paper",
                yref="paper",
                x=left + width / 2,
                y=1,
                xanchor="center",
                yanchor="bottom",
                yshift=6,
                showarrow=False,
                font={"size": 13, "color": colours[i % len(colours)]},
            )
    fig.update_layout(showlegend=False)
    stages = max((len(s) for _, s in series), default=0)
    fig = _layout(fig, 320 + 24 * stages)
    if columns > 1:
        fig.update_layout(margin={"t": 40})
    return fig


def wide_intervals(points: Sequence[_Interval]) -> list[bool]:
    """Which points' 95% intervals are too wide to read as a level: wider than 20 points and
    than twice the usual (median) width, as a first month with a handful of leads has.

    >>> class P:
    ...     def __init__(self, lo, hi): self.rate, self.ci_low, self.ci_high = (lo + hi) / 2, lo, hi
    >>> wide_intervals([P(0.0, 0.49), P(0.05, 0.10), P(0.04, 0.09), P(0.06, 0.12)])
    [True, False, False, False]
    """
    widths = [p.ci_high - p.ci_low for p in points]
    usual = sorted(widths)[len(widths) // 2] if widths else 0.0
    return [w > max(0.2, 2 * usual) for w in widths]


def cohort_figure(
    trend: CohortTrend,
    rate_title: str,
    immature_name: str,
    mature_name: str,
    wide_name: str = "",
) -> go.Figure:
    """Conversion by creation month with 95% intervals; immature months drawn apart.

    A month whose interval is too wide to read (:func:`wide_intervals`) is an open marker,
    named in the legend (``wide_name``), and does not set the axis: it runs to the data of the
    other months, so one thin month cannot squash the rest.
    """
    fig = go.Figure()
    wide = dict(zip((c.month for c in trend.cohorts), wide_intervals(trend.cohorts), strict=True))
    for mature, name, colour in ((True, mature_name, ACCENT), (False, immature_name, MUTED)):
        points = [c for c in trend.cohorts if c.mature == mature]
        if not points:
            continue
        fig.add_trace(
            go.Scatter(
                name=name,
                x=[c.month for c in points],
                y=[c.rate for c in points],
                mode="markers+lines" if mature else "markers",
                marker={
                    "color": colour,
                    "size": 8,
                    "symbol": ["circle-open" if wide[c.month] else "circle" for c in points],
                },
                line={"color": colour},
                error_y=_interval_bars(points, color=colour),
                customdata=[[c.n, c.converted] for c in points],
                hovertemplate="%{x|%Y-%m}: %{y:.1%} (%{customdata[1]:,} / %{customdata[0]:,})"
                "<extra></extra>",
            )
        )
    if any(wide.values()):
        if wide_name:
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    name=wide_name,
                    mode="markers",
                    marker={"symbol": "circle-open", "size": 8, "color": "#555"},
                    hoverinfo="skip",
                )
            )
        readable = [c for c in trend.cohorts if not wide[c.month]]
        top = max(
            [c.ci_high for c in readable] + [c.rate or 0.0 for c in trend.cohorts], default=1.0
        )
        fig.update_yaxes(range=[0, min(1.0, top * 1.15) or 1.0])
    fig.update_xaxes(tickformat="%Y-%m")  # months as numbers, read the same in any language
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _layout(fig, y_title=rate_title)


def time_figure(transition: Transition, x_title: str, y_title: str) -> go.Figure:
    """Distribution of days between two stages, median marked."""
    fig = go.Figure(
        go.Bar(
            x=[b for b, _ in transition.histogram],
            y=[n for _, n in transition.histogram],
            width=transition.bucket_days * 0.9,
            offset=0,
            marker={"color": SECOND},
            hovertemplate="%{x}–: %{y:,}<extra></extra>",
        )
    )
    if transition.median_days is not None:
        fig.add_vline(x=transition.median_days, line={"color": ACCENT, "dash": "dash"})
    fig.update_xaxes(title=plain(x_title))
    return _layout(fig, 260, y_title=y_title)


def segment_bar_figure(
    table: SegmentTable, rate_title: str, overall_name: str, small_name: str
) -> go.Figure:
    """Rate per segment with 95% error bars; small segments greyed (with a legend entry), the
    overall rate as a line."""
    segs = table.segments
    fig = go.Figure(
        go.Bar(
            name=rate_title,
            x=[plain(s.label) for s in segs],
            y=[s.rate for s in segs],
            marker={
                "color": [MUTED if s.small_sample else ACCENT for s in segs],
                "pattern": {"shape": ["/" if s.small_sample else "" for s in segs]},
            },
            error_y=_interval_bars(segs),
            customdata=[[s.n, s.converted, small_name if s.small_sample else ""] for s in segs],
            hovertemplate="%{x}: %{y:.1%} (%{customdata[1]:,} / %{customdata[0]:,}) "
            "%{customdata[2]}<extra></extra>",
        )
    )
    if any(s.small_sample for s in segs):
        fig.add_trace(_legend_only(small_name, MUTED))
    if table.overall_rate is not None:
        fig.add_hline(
            y=table.overall_rate,
            line={"color": SECOND, "dash": "dash"},
            annotation_text=f"{overall_name} {table.overall_rate:.1%}",
        )
    fig.update_xaxes(
        type="category", categoryorder="array", categoryarray=[plain(s.label) for s in segs]
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_layout(showlegend=any(s.small_sample for s in segs))
    return _layout(fig, 400, y_title=rate_title)


def segment_heatmap_figure(table: SegmentTable, rate_title: str, small_name: str) -> go.Figure:
    """Rate by two columns; cells under the minimum are grey with their n shown."""
    rows = list(dict.fromkeys(s.keys[0] for s in table.segments))
    cols = list(
        dict.fromkeys(
            s.keys[1] for s in sorted(table.segments, key=lambda s: (s.order[1], s.keys[1]))
        )
    )
    row_labels, col_labels = [plain(r) for r in rows], [plain(c) for c in cols]
    cell = {s.keys: s for s in table.segments}
    z: list[list[float | None]] = []
    grey: list[list[float | None]] = []
    text: list[list[str]] = []
    for r in rows:
        z_row: list[float | None] = []
        g_row: list[float | None] = []
        t_row: list[str] = []
        for c in cols:
            s = cell.get((r, c))
            if s is None:
                z_row.append(None)
                g_row.append(None)
                t_row.append("")
            elif s.small_sample:
                z_row.append(None)
                g_row.append(1.0)
                t_row.append(f"n={s.n}")
            else:
                z_row.append(s.rate)
                g_row.append(None)
                t_row.append(f"{(s.rate or 0):.1%}<br>n={s.n:,}")
        z.append(z_row)
        grey.append(g_row)
        text.append(t_row)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=grey,
            x=col_labels,
            y=row_labels,
            showscale=False,
            colorscale=[[0, "#E6E6E6"], [1, "#E6E6E6"]],
            hoverinfo="skip",
            name=small_name,
        )
    )
    fig.add_trace(
        _rate_heatmap(
            z, col_labels, row_labels, text, rate_title, "%{y} × %{x}: %{z:.1%}<extra></extra>"
        )
    )
    fig.update_xaxes(type="category", title=plain(table.by[1]))
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, 220 + 34 * len(rows), y_title=table.by[0])


def to_html(fig: go.Figure) -> bytes:
    """A self-contained HTML file of a figure (works offline)."""
    html: str = fig.to_html(include_plotlyjs=True, full_html=True)
    return html.encode("utf-8")


def tiers_figure(evaluation: Evaluation, leads_title: str, rate_title: str) -> go.Figure:
    """Leads per tier (bars) and each tier's conversion with its 95% interval (points)."""
    names = [plain(t.name) for t in evaluation.tiers]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name=leads_title,
            x=names,
            y=[t.n for t in evaluation.tiers],
            marker={"color": MUTED},
            yaxis="y",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            name=rate_title,
            x=names,
            y=[t.rate for t in evaluation.tiers],
            yaxis="y2",
            mode="markers",
            marker={"color": ACCENT, "size": 12},
            error_y=_interval_bars(evaluation.tiers),
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
    )
    fig.update_xaxes(type="category")
    return _layout(fig, 320, y_title=leads_title, y2_title=rate_title)


def deciles_figure(
    evaluation: Evaluation, rate_title: str, decile_title: str, rise_name: str = ""
) -> go.Figure:
    """Conversion by score decile (1 = highest scores); a decile converting better than the one
    above it is drawn in a warning colour, named in the legend (``rise_name``)."""
    rates = [d["rate"] for d in evaluation.deciles]
    colours = []
    for i, r in enumerate(rates):
        rise = i > 0 and r is not None and rates[i - 1] is not None and r > rates[i - 1] + 1e-9
        colours.append(SECOND if rise else ACCENT)
    fig = go.Figure(
        go.Bar(
            name=rate_title,
            x=[str(d["decile"]) for d in evaluation.deciles],
            y=rates,
            marker={"color": colours},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    rises = SECOND in colours
    if rises and rise_name:
        fig.add_trace(_legend_only(rise_name, SECOND))
    fig.update_xaxes(
        title=decile_title,
        type="category",
        categoryorder="array",
        categoryarray=[str(d["decile"]) for d in evaluation.deciles],
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_layout(showlegend=rises and bool(rise_name))
    return _layout(fig, 300, y_title=rate_title)


def threshold_figure(
    evaluation: Evaluation,
    thresholds: Sequence[tuple[str, float]],
    precision_name: str,
    recall_name: str,
    score_title: str,
) -> go.Figure:
    """Precision and recall of "hot" for every possible threshold, current ones marked."""
    curve = evaluation.curve
    x = [c["threshold"] for c in curve]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name=precision_name,
            x=x,
            y=[c["precision"] for c in curve],
            line={"color": ACCENT, "shape": "hv"},
        )
    )
    fig.add_trace(
        go.Scatter(
            name=recall_name,
            x=x,
            y=[c["recall"] for c in curve],
            line={"color": SECOND, "shape": "hv"},
        )
    )
    for name, value in thresholds:
        fig.add_vline(x=value, line={"color": "#555", "dash": "dot"}, annotation_text=plain(name))
    fig.update_xaxes(title=score_title)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return _layout(fig, 320)


def matrix_figure(
    matrix: Matrix, fit_title: str, engagement_title: str, rate_title: str
) -> go.Figure:
    """The fit × engagement matrix (A1 … C3): conversion per cell, n shown; one row or column
    per band the scores have."""
    fits = [b.name for b in matrix.fit]
    engs = [b.name for b in matrix.engagement]
    by = {(c.fit, c.engagement): c for c in matrix.cells}
    z = [[by[(f, e)].rate if (f, e) in by else None for e in engs] for f in fits]
    text = [
        [
            f"{f}{e}<br>{(by[(f, e)].rate or 0):.1%}<br>n={by[(f, e)].n:,}" if (f, e) in by else ""
            for e in engs
        ]
        for f in fits
    ]
    fig = go.Figure(
        _rate_heatmap(z, engs, fits, text, rate_title, "%{y}%{x}: %{z:.1%}<extra></extra>")
    )
    fig.update_xaxes(title=engagement_title, type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, 320, y_title=fit_title)
