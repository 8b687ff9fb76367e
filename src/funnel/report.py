"""The meeting report: one self-contained HTML file marketing and sales can file and print.

It holds the definition of a hot lead in plain language, what it would have done on past
leads (tiers with 95% intervals, precision, recall, lift, AUC, base rate), the charts, both
sign-offs and the changes since the previous agreed version. The file works offline: styles are
inline, plotly.js is embedded once in the head and every chart reuses it; no external font,
script, image or stylesheet is referenced. Every piece of user text (rule values, names,
comments, column and tier names) is HTML-escaped; chart data goes through Plotly's JSON, which
escapes ``<``.

:class:`ReportInput` holds plain values only, so the app and the CLI assemble it from whatever
stores versions and sign-offs; :func:`build_report` does no database access.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from html import escape
from typing import Any

import plotly.graph_objects as go

from funnel.backtest import Verdict
from funnel.charts import deciles_figure, funnel_figure, tiers_figure
from funnel.formats import fmt_count, fmt_number, fmt_pct, fmt_when, shown_in
from funnel.funnels import Step
from funnel.i18n import MESSAGES, t
from funnel.review.engine import Review
from funnel.review.section import review_section
from funnel.rules import RuleSet
from funnel.scoring.histogram import Evaluation
from funnel.suggest.checks import ModelFigure
from funnel.versions.diff import diff_rules
from funnel.versions.record import ROLES, Signoff

#: A metric before and after, as printed: (label, before, after).
MetricChange = tuple[str, str, str]
#: A tier's threshold before and after (None: the tier did not exist / takes the rest).
ThresholdChange = tuple[str, float | None, float | None]


@dataclass(frozen=True)
class ReportDiff:
    """What changed since the previous agreed version, as plain text and numbers."""

    previous_number: int | str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    thresholds: tuple[ThresholdChange, ...] = ()
    metrics: tuple[MetricChange, ...] = ()
    tier_changes: int | None = None
    entered_hot: int | None = None
    left_hot: int | None = None


@dataclass(frozen=True)
class ReportInput:
    """Everything the report shows, as plain values."""

    title: str
    lang: str
    ruleset: RuleSet
    evaluation: Evaluation
    dataset_name: str
    dataset_fingerprint: str = ""
    version_name: str = ""
    version_number: int | str | None = None
    status: str = ""
    author: str = ""
    rationale: str = ""
    effective_from: date | datetime | None = None
    signoffs: Sequence[Signoff] = ()
    #: Decile rows as from :func:`funnel.scoring.histogram.decile_table`; empty: the
    #: evaluation's own.
    deciles: Sequence[Mapping[str, Any]] = ()
    #: The dataset's funnel from :func:`funnel.funnels.compute_funnel`, or None for no chart.
    funnel: Sequence[Step] | None = None
    diff: ReportDiff | None = None
    #: The rule set's AUC on the held-out leads (:func:`funnel.backtest.verdict`), or None.
    verdict: Verdict | None = None
    #: Plain logistic regression on the columns the rules read, fitted on the training leads
    #: and judged on the same held-out ones (:func:`funnel.suggest.logistic_beside`), or None.
    logistic: ModelFigure | None = None
    #: How the version did since it took effect (:func:`funnel.review.review`), or None;
    #: ``review_refusal`` says why there is none for an agreed version ("" for no section).
    review: Review | None = None
    review_refusal: str = ""
    #: Each count column's unit label (:meth:`funnel.mapping.Mapping.labels`), for sentences
    #: counting its units ("Each web visit").
    labels: Mapping[str, str] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


# --- formatting -------------------------------------------------------------------------------


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _status(status: str, lang: str) -> str:
    key = f"report.status.{status.strip().lower()}"
    return t(key, lang) if key in MESSAGES else status


# --- the diff ---------------------------------------------------------------------------------


def report_diff(
    previous_number: int | str,
    before: RuleSet,
    after: RuleSet,
    *,
    lang: str = "en",
    before_eval: Evaluation | None = None,
    after_eval: Evaluation | None = None,
    tier_changes: int | None = None,
    entered_hot: int | None = None,
    left_hot: int | None = None,
) -> ReportDiff:
    """Compare two rule sets (and optionally their evaluations) for the report.

    A rule is *changed* when one with the same kind, column and condition has other points or
    another cap; a gate when the same column knocks out other values. ``entered_hot`` and
    ``left_hot`` count the leads that entered and left the hot tier (the report shows them
    when both are given).
    """
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []
    for change in diff_rules(before, after, lang, tiers=False):
        if change.kind == "added":
            added.append(change.after or "")
        elif change.kind == "removed":
            removed.append(change.before or "")
        else:
            changed.append(f"{change.before} → {change.after}")
    thresholds = _threshold_changes(before, after)
    metrics: list[MetricChange] = []
    if before_eval is not None and after_eval is not None:
        for m in shown_in("diff"):
            b, a = m.value(before_eval), m.value(after_eval)
            if b != a:
                metrics.append((m.label(lang), m.text(b), m.text(a)))
    return ReportDiff(
        previous_number=previous_number,
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        thresholds=thresholds,
        metrics=tuple(metrics),
        tier_changes=tier_changes,
        entered_hot=entered_hot,
        left_hot=left_hot,
    )


def _threshold_changes(before: RuleSet, after: RuleSet) -> tuple[ThresholdChange, ...]:
    def cut(rs: RuleSet) -> dict[str, float | None]:
        return {x.name: (None if math.isinf(x.min_score) else x.min_score) for x in rs.tiers}

    b, a = cut(before), cut(after)
    names = [*a, *(n for n in b if n not in a)]
    return tuple(
        (name, b.get(name), a.get(name))
        for name in names
        if name not in a or name not in b or a[name] != b[name]
    )


# --- the HTML ---------------------------------------------------------------------------------

_CSS = """
:root { --accent: #E4572E; --second: #2E86AB; --muted: #6b6b6b; --line: #d9d9d9; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic UI", "Yu Gothic", Meiryo,
       "Segoe UI", system-ui, -apple-system, "Helvetica Neue", Arial, sans-serif;
       color: #1f1f1f; margin: 0 auto; max-width: 980px; padding: 24px 28px 40px;
       line-height: 1.55; font-size: 15px; }
h1 { font-size: 1.7em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 1.8em 0 .6em; padding-bottom: .2em;
     border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.badge { display: inline-block; padding: .1em .6em; border-radius: 1em; font-size: .85em;
         border: 1px solid var(--second); color: var(--second); font-weight: 600; }
.badge.status-agreed { border-color: #2e7d32; color: #2e7d32; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1.2em;
          margin: .8em 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: .9em; overflow-wrap: anywhere; }
ol.definition li { margin: .25em 0; }
table { border-collapse: collapse; margin: .4em 0 1em; min-width: 50%; }
th, td { border-bottom: 1px solid var(--line); padding: .3em .7em; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.unsigned td { color: #b3261e; font-weight: 600; background: #fdecea; }
.note { color: var(--muted); }
.warning { color: #8a4b00; background: #fff4e0; padding: .4em .7em; border-radius: 4px; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: .6em 0 1.2em; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: .3em; }
/* a chart is never wider than an A4 page's text (180 mm): it prints as it is shown */
.chart { width: 100%; max-width: 180mm; }
footer { margin-top: 2.5em; color: var(--muted); font-size: .85em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  section, table, figure, dl { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .modebar, .modebar-container { display: none !important; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 15mm; }
"""


def build_report(data: ReportInput) -> bytes:
    """Render the meeting report as one self-contained, offline, printable HTML file (UTF-8)."""
    from plotly.offline import get_plotlyjs

    lang = "ja" if data.lang == "ja" else "en"
    charts = _charts(data, lang)
    body = [
        _header(data, lang),
        _definition(data, lang),
        _metrics(data, lang),
        _charts_section(charts, data, lang),
        _signoffs(data, lang),
        _changes(data, lang),
        review_section(data.review, lang, data.review_refusal),
        f"<footer>{_e(t('report.footer', lang, at=fmt_when(data.generated_at)))}</footer>",
    ]
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(data.title)}</title>\n<style>{_CSS}</style>\n"
        # plotly.js, once for every chart; MathJax is never fetched
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n"
        f"<script>{get_plotlyjs()}</script>\n"
        "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
    return page.encode("utf-8")


def _header(data: ReportInput, lang: str) -> str:
    status = data.status.strip()
    rows: list[tuple[str, str]] = []
    if data.version_name or data.version_number is not None:
        version = data.version_name
        if data.version_number is not None:
            version = (
                f"{version} (v{data.version_number})" if version else f"v{data.version_number}"
            )
        rows.append((t("report.version", lang), _e(version)))
    if status:
        css = "status-" + "".join(ch for ch in status.lower() if ch.isalnum())
        rows.append(
            (
                t("report.status", lang),
                f'<span class="badge {css}">{_e(_status(status, lang))}</span>',
            )
        )
    if data.author:
        rows.append((t("report.author", lang), _e(data.author)))
    if data.effective_from is not None:
        rows.append((t("report.effective_from", lang), _e(fmt_when(data.effective_from))))
    rows.append((t("report.dataset", lang), _e(data.dataset_name)))
    if data.dataset_fingerprint:
        rows.append((t("report.fingerprint", lang), f"<code>{_e(data.dataset_fingerprint)}</code>"))
    rows.append((t("report.generated_at", lang), _e(fmt_when(data.generated_at))))
    meta = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<header>\n<h1>{_e(data.title)}</h1>\n<dl class="meta">{meta}</dl>\n</header>'


def _definition(data: ReportInput, lang: str) -> str:
    items = "".join(f"<li>{_e(line)}</li>" for line in data.ruleset.describe(lang, data.labels))
    parts = [
        f'<section id="definition">\n<h2>{_e(t("report.definition", lang))}</h2>',
        f'<p class="note">{_e(t("report.rule_set", lang))}: {_e(data.ruleset.name)}</p>',
    ]
    if data.ruleset.description:
        parts.append(f'<p class="text">{_e(data.ruleset.description)}</p>')
    parts.append(f'<ol class="definition">{items}</ol>')
    if data.rationale:
        parts.append(f"<h3>{_e(t('report.rationale', lang))}</h3>")
        parts.append(f'<p class="text">{_e(data.rationale)}</p>')
    parts.append(f'<h3 id="promises">{_e(t("promise.title", lang))}</h3>')
    promises = data.ruleset.service_level.describe(lang)
    if promises:
        parts.append('<ul class="promises">' + "".join(f"<li>{_e(p)}</li>" for p in promises))
        parts.append("</ul>")
    else:
        parts.append(f'<p class="note">{_e(t("promise.none", lang))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _num_cell(text: str, value: float | int | None) -> str:
    if value is None:
        raw = ""
    elif isinstance(value, int) or float(value).is_integer():
        raw = str(int(value))
    else:
        raw = repr(float(value))
    return f'<td class="num" data-value="{_e(raw)}">{_e(text)}</td>'


def _metrics(data: ReportInput, lang: str) -> str:
    ev = data.evaluation
    head = "".join(
        f"<th{cls}>{_e(t(k, lang))}</th>"
        for k, cls in (
            ("report.col.tier", ""),
            ("report.col.leads", ' class="num"'),
            ("report.col.share", ' class="num"'),
            ("report.col.won", ' class="num"'),
            ("report.col.rate", ' class="num"'),
            ("report.col.ci", ' class="num"'),
        )
    )
    rows = []
    for tier in ev.tiers:
        ci = f"{fmt_pct(tier.ci_low)} – {fmt_pct(tier.ci_high)}" if tier.n else "—"
        rows.append(
            f'<tr data-tier="{_e(tier.name)}"><td>{_e(tier.name)}</td>'
            + _num_cell(fmt_count(tier.n), tier.n)
            + _num_cell(fmt_pct(tier.share), tier.share)
            + _num_cell(fmt_count(tier.won), tier.won)
            + _num_cell(fmt_pct(tier.rate), tier.rate)
            + f'<td class="num" data-low="{tier.ci_low!r}" data-high="{tier.ci_high!r}">'
            f"{_e(ci)}</td></tr>"
        )
    key_metrics: list[tuple[str, str, float | int | None, str]] = []
    for m in shown_in("report"):
        value = m.value(ev)
        if m.key == "hot_per_week" and value is None:  # the leads span no weeks: no row
            continue
        key_metrics.append((m.key, m.label(lang), value, m.text(value)))
    metric_rows = "".join(
        f'<tr data-metric="{key}"><td>{_e(label)}</td>{_num_cell(text, value)}</tr>'
        for key, label, value, text in key_metrics
    )
    note = t("report.metrics_note", lang, n=fmt_count(ev.n), won=fmt_count(ev.won))
    if ev.population is not None:  # which leads these figures count, and why
        note += f" {ev.measured_on(lang)} {ev.population.rule_text(lang)}"
    parts = [
        f'<section id="metrics">\n<h2>{_e(t("report.metrics", lang))}</h2>',
        f'<p class="note">{_e(note)} {_e(t("report.in_sample", lang))}</p>',
        *_verdict(data.verdict, lang),
        *_logistic(data.logistic, lang),
        f'<table class="tiers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>",
        f'<table class="key-metrics"><thead><tr><th>{_e(t("report.col.metric", lang))}</th>'
        f'<th class="num">{_e(t("report.col.value", lang))}</th></tr></thead>'
        f"<tbody>{metric_rows}</tbody></table>",
    ]
    if not ev.monotonic:
        parts.append(f'<p class="warning">{_e(t("report.not_monotonic", lang))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _verdict(v: Verdict | None, lang: str) -> list[str]:
    """The holdout verdict; with no signal, plainly that no hot tier means anything."""
    if v is None:
        return []
    if v.no_signal and v.auc is not None:
        return [
            f'<p class="warning" id="no-signal">{_e(v.sentence(lang))} '
            f"{_e(t('report.no_hot_tier', lang))}</p>"
        ]
    return [f'<p class="note" id="holdout">{_e(v.sentence(lang))}</p>']


def _logistic(m: ModelFigure | None, lang: str) -> list[str]:
    """Plain logistic regression beside the rules, on the same held-out leads."""
    if m is None:
        return []
    return [f'<p class="note" id="logistic">{_e(m.sentence(lang))}</p>']


def _charts(data: ReportInput, lang: str) -> list[tuple[str, go.Figure]]:
    ev = data.evaluation
    if data.deciles:
        ev = replace(ev, deciles=[dict(d) for d in data.deciles])
    out: list[tuple[str, go.Figure]] = []
    if data.funnel:
        fig = funnel_figure(
            [("", list(data.funnel))],
            lambda s: t(f"stage.{s}", lang),
            t("funnel.of_initial", lang),
            t("funnel.of_previous", lang),
        )
        fig.update_layout(showlegend=False)
        out.append(("funnel", fig))
    out.append(
        (
            "tiers",
            tiers_figure(ev, t("report.col.leads", lang), t("report.col.rate", lang)),
        )
    )
    if ev.deciles:
        out.append(
            (
                "deciles",
                deciles_figure(
                    ev,
                    t("report.col.rate", lang),
                    t("report.col.decile", lang),
                    t("charts.decile_rise", lang),
                ),
            )
        )
    return out


def _charts_section(charts: list[tuple[str, go.Figure]], data: ReportInput, lang: str) -> str:
    parts = [f'<section id="charts">\n<h2>{_e(t("report.charts", lang))}</h2>']
    for name, fig in charts:
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(
            f'<figure id="figure-{name}"><figcaption>{_e(t(f"report.chart.{name}", lang))}'
            f'</figcaption><div class="chart">{div}</div>{_chart_table(name, data, lang)}</figure>'
        )
    parts.append("</section>")
    return "\n".join(parts)


def _chart_table(name: str, data: ReportInput, lang: str) -> str:
    """The numbers behind a chart, so a printout or a mail preview without scripts has them."""
    if name == "funnel" and data.funnel:
        head = (
            f"<th>{_e(t('report.col.stage', lang))}</th>"
            f"<th class='num'>{_e(t('report.col.leads', lang))}</th>"
            f"<th class='num'>{_e(t('report.col.from_previous', lang))}</th>"
        )
        rows = "".join(
            f"<tr><td>{_e(t(f'stage.{s.stage}', lang))}</td>"
            + _num_cell(fmt_count(s.n), s.n)
            + _num_cell(fmt_pct(s.rate_from_previous), s.rate_from_previous)
            + "</tr>"
            for s in data.funnel
        )
        # unlike the back-test figures above, the funnel counts every lead, and says so
        note = f'<p class="note">{_e(t("population.funnel_all_leads", lang))}</p>'
        return (
            f'<table class="funnel"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            + note
        )
    if name == "deciles":
        deciles = data.deciles or data.evaluation.deciles
        head = (
            f"<th>{_e(t('report.col.decile', lang))}</th>"
            f"<th class='num'>{_e(t('report.col.leads', lang))}</th>"
            f"<th class='num'>{_e(t('report.col.rate', lang))}</th>"
        )
        rows = "".join(
            f"<tr><td>{_e(d['decile'])}</td>"
            + _num_cell(fmt_count(d["n"]), d["n"])
            + _num_cell(fmt_pct(d["rate"]), d["rate"])
            + "</tr>"
            for d in deciles
        )
        return f'<table class="deciles"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return ""


def _signoffs(data: ReportInput, lang: str) -> str:
    head = "".join(
        f"<th>{_e(t(k, lang))}</th>"
        for k in ("report.role", "report.col.name", "report.col.signed_at", "report.col.comment")
    )
    rows, waiting = [], []
    for role in ROLES:
        role_label = t(f"report.role.{role}", lang)
        signed = [s for s in data.signoffs if s.role == role]
        if not signed:
            waiting.append(role_label)
            rows.append(
                f'<tr class="unsigned" data-role="{role}"><td>{_e(role_label)}</td>'
                f'<td colspan="3">{_e(t("report.not_signed", lang))}</td></tr>'
            )
        for s in signed:
            rows.append(
                f'<tr class="signed" data-role="{role}"><td>{_e(role_label)}</td>'
                f"<td>{_e(s.name)}</td><td>{_e(fmt_when(s.at))}</td>"
                f'<td class="text">{_e(s.comment)}</td></tr>'
            )
    for s in data.signoffs:
        if s.role not in ROLES:  # another role the caller tracks: shown as given
            rows.append(
                f'<tr class="signed" data-role="{_e(s.role)}"><td>{_e(s.role)}</td>'
                f"<td>{_e(s.name)}</td><td>{_e(fmt_when(s.at))}</td>"
                f'<td class="text">{_e(s.comment)}</td></tr>'
            )
    if waiting:
        summary = (
            f'<p class="warning">{_e(t("report.waiting_for", lang, roles=", ".join(waiting)))}</p>'
        )
    else:
        summary = f'<p class="note">{_e(t("report.all_signed", lang))}</p>'
    return (
        f'<section id="signoffs">\n<h2>{_e(t("report.signoffs", lang))}</h2>\n{summary}\n'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>\n</section>"
    )


def _changes(data: ReportInput, lang: str) -> str:
    diff = data.diff
    if diff is None:
        return (
            f'<section id="changes">\n<h2>{_e(t("report.changes_title", lang))}</h2>\n'
            f'<p class="first-version">{_e(t("report.first_version", lang))}</p>\n</section>'
        )
    parts = [
        f'<section id="changes">\n<h2>{_e(t("report.changes", lang, number=diff.previous_number))}'
        "</h2>"
    ]
    lists = (
        ("added", diff.added, "+ "),
        ("removed", diff.removed, "− "),
        ("changed", diff.changed, ""),
    )
    if not (diff.added or diff.removed or diff.changed):
        parts.append(f'<p class="note">{_e(t("report.no_rule_changes", lang))}</p>')
    for key, lines, mark in lists:
        if lines:
            items = "".join(f"<li>{_e(mark + line)}</li>" for line in lines)
            parts.append(f'<h3>{_e(t(f"report.{key}", lang))}</h3><ul class="{key}">{items}</ul>')
    before_after = (
        f"<th class='num'>{_e(t('report.col.before', lang))}</th>"
        f"<th class='num'>{_e(t('report.col.after', lang))}</th>"
    )
    if diff.thresholds:
        rows = "".join(
            f"<tr><td>{_e(name)}</td><td class='num'>{_e(fmt_number(b))}</td>"
            f"<td class='num'>{_e(fmt_number(a))}</td></tr>"
            for name, b, a in diff.thresholds
        )
        parts.append(
            f'<h3>{_e(t("report.thresholds", lang))}</h3><table class="thresholds"><thead><tr>'
            f"<th>{_e(t('report.col.tier', lang))}</th>{before_after}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if diff.metrics:
        rows = "".join(
            f"<tr><td>{_e(label)}</td><td class='num'>{_e(b)}</td><td class='num'>{_e(a)}</td></tr>"
            for label, b, a in diff.metrics
        )
        parts.append(
            f'<h3>{_e(t("report.metric_changes", lang))}</h3><table class="metric-changes">'
            f"<thead><tr><th>{_e(t('report.col.metric', lang))}</th>{before_after}</tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    if diff.tier_changes is not None:
        parts.append(f"<p>{_e(t('report.tier_changes', lang, n=fmt_count(diff.tier_changes)))}</p>")
    if diff.entered_hot is not None and diff.left_hot is not None:
        moved = t(
            "report.moved_hot",
            lang,
            entered=fmt_count(diff.entered_hot),
            left=fmt_count(diff.left_hot),
        )
        parts.append(f"<p>{_e(moved)}</p>")
    parts.append("</section>")
    return "\n".join(parts)
