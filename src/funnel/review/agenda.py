"""The review meeting's agenda: the few discussion points that follow from a review's
figures, each with its evidence in a sentence (English or Japanese).

A point is raised only when the data supports it: a conversion or share that differs from
the promise or from the leads tuned on by a real difference (:mod:`funnel.review.evidence`),
a rejection reason that is a large part of enough rejections, hot leads rejected that were
won all the same, more hot leads a week than promised beyond chance, a review later than the
cadence signed. With too few mature leads there is no conversion point; the review's notes
say so instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funnel.i18n import t

if TYPE_CHECKING:
    from funnel.review.engine import Review

#: A rejection reason is a point when it is at least this share of the rejections ...
REASON_SHARE = 0.25
#: ... and there are at least this many rejections.
MIN_REJECTIONS = 10
#: Hot leads rejected then won: a point from this many.
MIN_REJECTED_WON = 3
#: Sales' acceptance of hot leads: a point when the interval's upper bound is below this.
LOW_ACCEPTANCE = 0.5
#: ... among at least this many verdicts.
MIN_VERDICTS = 30


@dataclass(frozen=True)
class Point:
    """One discussion point: its kind and the figures its sentence shows."""

    kind: str
    params: dict[str, str]

    def sentence(self, lang: str = "en") -> str:
        return t(f"review.agenda.{self.kind}", lang, **self.params)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"kind": self.kind, "text": self.sentence(lang), "figures": dict(self.params)}


def pct(x: float | None) -> str:
    """A share as a whole percentage (one decimal below 10%).

    >>> pct(0.0912), pct(0.14), pct(None)
    ('9.1%', '14%', '–')
    """
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if x < 0.1 else f"{x:.0%}"


def _n(x: float | int | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def agenda(r: Review) -> list[Point]:
    """The discussion points a review's figures support, most important first."""
    since = f"{r.since:%Y-%m-%d}"
    points: list[Point] = []
    for tier in r.tiers:
        c = tier.comparison
        if c is None or not c.real or tier.promised is None:
            continue
        points.append(
            Point(
                "conversion_below" if (c.now or 0) < (c.then or 0) else "conversion_above",
                {
                    "tier": tier.name,
                    "since": since,
                    "rate": pct(tier.rate),
                    "low": pct(tier.low),
                    "high": pct(tier.high),
                    "n": _n(tier.counted),
                    "promised": pct(tier.promised_rate),
                    "promised_low": pct(tier.promised[3]),
                    "promised_high": pct(tier.promised[4]),
                },
            )
        )
    if r.recall.real and not r.too_few and (r.recall.now or 0) < (r.recall.then or 0):
        points.append(
            Point(
                "missed",
                {
                    "since": since,
                    "recall": pct(r.recall.now),
                    "promised": pct(r.recall.then),
                    "missed": _n(r.missed_won),
                    "won": _n(r.won),
                },
            )
        )
    if r.volume.real:
        points.append(
            Point(
                "volume_up" if (r.volume.now or 0) > (r.volume.then or 0) else "volume_down",
                {
                    "since": since,
                    "per_week": _n(r.hot_per_week, 1),
                    "share": pct(r.volume.now),
                    "then": pct(r.volume.then),
                    "promised": _n(r.promise.hot_per_week, 1),
                },
            )
        )
    cap = r.capacity
    if cap is not None and cap.broken:
        points.append(
            Point(
                "capacity",
                {
                    "since": since,
                    "per_week": _n(cap.per_week, 1),
                    "most": _n(cap.most),
                    "over": _n(cap.weeks_over),
                    "weeks": _n(cap.weeks_counted),
                },
            )
        )
    contact = r.contact
    if contact is not None and contact.hours is not None and contact.broken:
        low, high = contact.interval
        points.append(
            Point(
                "contact",
                {
                    "since": since,
                    "share": pct(contact.share_kept),
                    "low": pct(low),
                    "high": pct(high),
                    "hours": _n(contact.hours),
                    "n": _n(contact.due),
                    "median": _n(contact.median_hours, 1),
                },
            )
        )
    every = r.service_level.review_every_weeks
    if every is not None and r.weeks_in_force is not None and r.weeks_in_force > every:
        points.append(
            Point(
                "overdue",
                {"every": _n(every), "weeks": _n(r.weeks_in_force, 0), "since": since},
            )
        )
    fb = r.feedback
    if fb is not None:
        if fb.rejected_won >= MIN_REJECTED_WON:
            points.append(
                Point(
                    "rejected_won",
                    {
                        "n": _n(fb.rejected_won),
                        "tier": r.hot.name,
                        "ids": ", ".join(fb.rejected_won_ids[:5]),
                    },
                )
            )
        total = fb.rejected
        if total >= MIN_REJECTIONS and fb.reasons:
            reason, n = fb.reasons[0]
            if reason and n / total >= REASON_SHARE:
                points.append(
                    Point(
                        "reason",
                        {"reason": reason, "share": pct(n / total), "n": _n(n), "of": _n(total)},
                    )
                )
        hot = fb.by_tier[0]
        low, high = hot.interval
        if hot.decided >= MIN_VERDICTS and high < LOW_ACCEPTANCE:
            points.append(
                Point(
                    "acceptance",
                    {
                        "tier": hot.name,
                        "rate": pct(hot.rate),
                        "low": pct(low),
                        "high": pct(high),
                        "n": _n(hot.decided),
                    },
                )
            )
    for rule in r.rules:
        c = rule.comparison
        if not c.real or c.now is None or c.then is None:
            continue
        ratio = c.now / c.then if c.then else None
        points.append(
            Point(
                "rule_less" if c.now < c.then else "rule_more",
                {
                    "rule": rule.label,
                    "now": pct(c.now),
                    "then": pct(c.then),
                    "ratio": "–" if ratio is None else f"{ratio:.1f}",
                },
            )
        )
    if r.scores.real:
        points.append(
            Point(
                "scores",
                {
                    "median": _n(r.scores.median_now, 0),
                    "then": _n(r.scores.median_then, 0),
                    "distance": f"{r.scores.distance or 0:.2f}",
                },
            )
        )
    return points


def contact_lines(r: Review, lang: str = "en") -> list[str]:
    """Sales' first contact of the new hot leads in sentences (none without the data)."""
    c = r.contact
    if c is None:
        return []
    lines = [
        t(
            "review.cli.contact",
            lang,
            column=c.column,
            contacted=_n(c.contacted),
            hot=_n(c.hot),
            median=_n(c.median_hours, 1),
        )
    ]
    if c.hours is not None:
        low, high = c.interval
        lines.append(
            t(
                "review.cli.contact_kept",
                lang,
                hours=_n(c.hours),
                share=pct(c.share_kept),
                low=pct(low),
                high=pct(high),
                n=_n(c.due),
            )
        )
    return lines


def arrival_line(r: Review, lang: str = "en") -> str:
    """The new leads hot when they arrived beside hot under the reviewed version ("" when
    none was scored on arrival)."""
    a = r.arrivals
    if a is None:
        return ""
    return t(
        "review.cli.arrivals",
        lang,
        leads=_n(r.leads),
        recorded=_n(a.recorded),
        then=_n(a.hot_then),
        now=_n(a.hot_now),
        both=_n(a.both),
        label=r.version.label(),
    )
