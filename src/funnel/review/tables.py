"""The review's tables as header and rows of text, in English or Japanese: one formatter for
the terminal (``funnel review``), the report's section and the Review page.

Cells are plain text; each renderer escapes user text its own way (the terminal's control
characters, HTML, Markdown).
"""

from __future__ import annotations

from collections.abc import Sequence

from funnel.i18n import t
from funnel.review.agenda import pct
from funnel.review.engine import Acceptance, Review

Table = tuple[list[str], list[list[str]]]


def ci(low: float | None, high: float | None, n: int) -> str:
    """A 95% interval as text; a dash without leads.

    >>> ci(0.05, 0.142, 300), ci(0.1, 0.2, 0)
    ('5.0%–14%', '–')
    """
    return "–" if not n or low is None or high is None else f"{pct(low)}–{pct(high)}"


def times(x: float | None) -> str:
    """A lift as a number of times the base rate.

    >>> times(2.345), times(None)
    ('2.3×', '–')
    """
    return "–" if x is None else f"{x:.1f}×"


def _head(lang: str, *keys: str) -> list[str]:
    return [t(f"review.col.{k}", lang) for k in keys]


def tier_table(r: Review, lang: str) -> Table:
    """Each tier's new leads, conversion and lift over the base rate beside the promise."""
    head = _head(lang, "tier", "leads", "counted", "maturing", "won", "rate", "ci")
    head += _head(lang, "lift", "promised", "promised_ci", "promised_lift")
    rows = [
        [
            x.name,
            f"{x.leads:,}",
            f"{x.counted:,}",
            f"{x.maturing:,}",
            f"{x.won:,}",
            pct(x.rate),
            ci(x.low, x.high, x.counted),
            times(None if x.comparison is None else x.comparison.now),
            pct(x.promised_rate),
            "–" if x.promised is None else ci(x.promised[3], x.promised[4], x.promised[1]),
            times(None if x.comparison is None else x.comparison.then),
        ]
        for x in r.tiers
    ]
    return head, rows


def acceptance_table(groups: Sequence[Acceptance], first: str, lang: str) -> Table:
    """Sales' verdicts per group (a tier or a segment value); ``first`` heads the names."""
    head = [first, *_head(lang, "leads", "accepted", "rejected", "not_contacted")]
    head += _head(lang, "acceptance", "ci")
    rows = [
        [
            a.name,
            f"{a.leads:,}",
            f"{a.accepted:,}",
            f"{a.rejected:,}",
            f"{a.not_contacted:,}",
            pct(a.rate),
            ci(*a.interval, a.decided),
        ]
        for a in groups
    ]
    return head, rows


def reasons_table(r: Review, lang: str) -> Table:
    """Rejection reasons with their counts and share of the rejections."""
    fb = r.feedback
    if fb is None:
        return [], []
    rows = [
        [reason or t("feedback.no_reason", lang), f"{n:,}", pct(n / fb.rejected)]
        for reason, n in fb.reasons
    ]
    return _head(lang, "reason", "leads", "share"), rows


def drift_table(r: Review, lang: str, *, scores: bool = False) -> Table:
    """Each rule's firing share now against during tuning, its adjusted p and flag; with
    ``scores``, the score distribution's medians as a last row."""
    flag = t("review.flag.real", lang)
    rows = [
        [
            d.label,
            pct(d.comparison.now),
            pct(d.comparison.then),
            "–" if d.comparison.p_adjusted is None else f"{d.comparison.p_adjusted:.3g}",
            flag if d.comparison.real else "",
        ]
        for d in r.rules
    ]
    if scores:
        s = r.scores
        rows.append(
            [
                t("review.col.scores", lang),
                "–" if s.median_now is None else f"{s.median_now:g}",
                "–" if s.median_then is None else f"{s.median_then:g}",
                "–" if s.p_adjusted is None else f"{s.p_adjusted:.3g}",
                flag if s.real else "",
            ]
        )
    return _head(lang, "rule", "now", "then", "p", "flag"), rows
