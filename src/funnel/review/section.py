"""The review as a section of the meeting report (HTML, English or Japanese).

Every value is escaped; the numbers behind the chart are in a table too, so a printout or a
mail preview without scripts has them.
"""

from __future__ import annotations

from html import escape

from funnel.i18n import t
from funnel.review.agenda import agenda, arrival_line, contact_lines, pct
from funnel.review.engine import Review
from funnel.review.figures import conversion_figure


def _e(value: object) -> str:
    return escape(str(value), quote=True)


_NUM = ' class="num"'


def _table(head: list[str], rows: list[list[str]], css: str) -> str:
    th = "".join(f"<th{_NUM if i else ''}>{_e(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>"
        + "".join(f"<td{_NUM if i else ''}>{_e(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _ci(low: float, high: float, n: int) -> str:
    return f"{pct(low)}–{pct(high)}" if n else "–"


def review_section(r: Review | None, lang: str, refusal: str = "") -> str:
    """The report's review section: the figures, the agenda and the notes; with no review,
    the sentence saying why (``refusal``), or nothing."""
    if r is None:
        if not refusal:
            return ""
        title = t("review.report.title_plain", lang)
        return (
            f'<section id="review">\n<h2>{_e(title)}</h2>\n<p class="note">{_e(refusal)}</p>\n'
            "</section>"
        )
    v = r.version
    since = f"{r.since:%Y-%m-%d}"
    parts = [
        '<section id="review">',
        f"<h2>{_e(t('review.report.title', lang, since=since))}</h2>",
        '<p class="note">'
        + _e(
            t(
                "review.cli.head",
                lang,
                label=v.label(),
                dataset=r.dataset,
                leads=f"{r.leads:,}",
                since=since,
                by=t(f"review.arrival.{r.arrival}", lang),
                before=f"{r.before:,}",
            )
        )
        + "<br>"
        + _e(t(f"review.promise.{r.promise.source}", lang))
        + "<br>"
        + _e(r.measured_on(lang))
        + "</p>",
        f"<h3>{_e(t('review.section.agenda', lang))}</h3>",
    ]
    points = agenda(r)
    if points:
        items = "".join(f"<li>{_e(p.sentence(lang))}</li>" for p in points)
        parts.append(f'<ol class="agenda">{items}</ol>')
    else:
        parts.append(f'<p class="text">{_e(t("review.cli.no_points", lang))}</p>')
    if r.notes:
        items = "".join(f"<li>{_e(t(k, lang, **p))}</li>" for k, p in r.notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    fig = conversion_figure(
        r, t("review.col.now", lang), t("review.col.promised", lang), t("review.col.rate", lang)
    )
    div = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id="chart-review",
        config={"displaylogo": False, "responsive": True},
    )
    head = [t(f"review.col.{c}", lang) for c in ("tier", "leads", "counted", "maturing", "won")]
    head += [t(f"review.col.{c}", lang) for c in ("rate", "ci", "promised", "promised_ci")]
    rows = [
        [
            x.name,
            f"{x.leads:,}",
            f"{x.counted:,}",
            f"{x.maturing:,}",
            f"{x.won:,}",
            pct(x.rate),
            _ci(x.low, x.high, x.counted),
            pct(x.promised_rate),
            "–" if x.promised is None else _ci(x.promised[3], x.promised[4], x.promised[1]),
        ]
        for x in r.tiers
    ]
    parts.append(
        f'<figure id="figure-review"><figcaption>'
        f"{_e(t('review.section.conversion', lang))}</figcaption>"
        f'<div class="chart">{div}</div>{_table(head, rows, "review-tiers")}</figure>'
    )
    per_week = "–" if r.hot_per_week is None else f"{r.hot_per_week:,.1f}"
    promised = "–" if r.promise.hot_per_week is None else f"{r.promise.hot_per_week:,.1f}"
    parts.append(
        f'<p class="text">{_e(t("review.cli.volume", lang, per_week=per_week, promised=promised))}'
        f"<br>{_e(t('review.cli.missed', lang, won=f'{r.won:,}', missed=f'{r.missed_won:,}'))}"
        "</p>"
    )
    if r.capacity is not None:
        cap = r.capacity
        text = t(
            "review.cli.capacity",
            lang,
            most=f"{cap.most:,}",
            over=f"{cap.weeks_over:,}",
            weeks=f"{cap.weeks_counted:,}",
        )
        parts.append(f'<p class="text">{_e(text)}</p>')
    for line in [*contact_lines(r, lang), arrival_line(r, lang)]:
        if line:
            parts.append(f'<p class="text">{_e(line)}</p>')
    fb = r.feedback
    if fb is not None:
        parts.append(f"<h3>{_e(t('review.section.feedback', lang))}</h3>")
        head = [t(f"review.col.{c}", lang) for c in ("tier", "leads", "accepted", "rejected")]
        head += [t(f"review.col.{c}", lang) for c in ("not_contacted", "acceptance", "ci")]
        rows = [
            [
                a.name,
                f"{a.leads:,}",
                f"{a.accepted:,}",
                f"{a.rejected:,}",
                f"{a.not_contacted:,}",
                pct(a.rate),
                _ci(*a.interval, a.decided),
            ]
            for a in fb.by_tier
        ]
        parts.append(_table(head, rows, "review-acceptance"))
        if fb.reasons:
            head = [t(f"review.col.{c}", lang) for c in ("reason", "leads", "share")]
            rows = [
                [reason or t("feedback.no_reason", lang), f"{n:,}", pct(n / fb.rejected)]
                for reason, n in fb.reasons
            ]
            parts.append(_table(head, rows, "review-reasons"))
    parts.append(f"<h3>{_e(t('review.section.drift', lang))}</h3>")
    head = [t(f"review.col.{c}", lang) for c in ("rule", "now", "then", "p", "flag")]
    rows = [
        [
            d.label,
            pct(d.comparison.now),
            pct(d.comparison.then),
            "–" if d.comparison.p_adjusted is None else f"{d.comparison.p_adjusted:.3g}",
            t("review.flag.real", lang) if d.comparison.real else "",
        ]
        for d in r.rules
    ]
    parts.append(_table(head, rows, "review-drift"))
    parts.append("</section>")
    return "\n".join(parts)
