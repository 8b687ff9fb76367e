"""The review as a section of the meeting report (HTML, English or Japanese).

Every value is escaped; the numbers behind the chart are in a table too, so a printout or a
mail preview without scripts has them.
"""

from __future__ import annotations

from html import escape

from funnel.i18n import t
from funnel.review.agenda import agenda, arrival_line, contact_lines
from funnel.review.engine import Review
from funnel.review.figures import conversion_figure
from funnel.review.tables import acceptance_table, drift_table, reasons_table, tier_table


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
    head, rows = tier_table(r, lang)
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
        parts.append(
            _table(
                *acceptance_table(fb.by_tier, t("review.col.tier", lang), lang), "review-acceptance"
            )
        )
        if fb.reasons:
            parts.append(_table(*reasons_table(r, lang), "review-reasons"))
    parts.append(f"<h3>{_e(t('review.section.drift', lang))}</h3>")
    parts.append(_table(*drift_table(r, lang), "review-drift"))
    parts.append("</section>")
    return "\n".join(parts)
