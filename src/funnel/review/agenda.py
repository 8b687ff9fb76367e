"""The review meeting's agenda: the few discussion points that follow from a review's
figures, each with its evidence in a sentence (English or Japanese).

A point is raised only when the data supports it: a tier's lift over the base rate, or a share,
that differs from the promise or from the leads tuned on by a real difference
(:mod:`funnel.review.evidence`); a base rate that moved for every lead; a lower tier
converting better than a higher one beyond chance; one segment's hot leads rejected by sales
far more than the others';
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


def pct1(x: float | None) -> str:
    """A share to one decimal, for two rates set side by side that round alike.

    >>> pct1(0.1453), pct1(0.1532), pct1(None)
    ('14.5%', '15.3%', '–')
    """
    return "–" if x is None else f"{100 * x:.1f}%"


def _n(x: float | int | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def _x(x: float | None) -> str:
    """A lift as a number of times the base rate (the sentence adds the sign)."""
    return "–" if x is None else f"{x:.1f}"


def _p(x: float | None) -> str:
    return "–" if x is None else f"{x:.2g}"


def agenda(r: Review) -> list[Point]:
    """The discussion points a review's figures support, most important first."""
    since = f"{r.since:%Y-%m-%d}"
    points: list[Point] = []
    top = r.hot
    base = r.base
    if base.real and top.comparison is not None:
        points.append(
            Point(
                "base_up" if (base.now or 0) > (base.then or 0) else "base_down",
                {
                    "since": since,
                    "now": pct(base.now),
                    "then": pct(base.then),
                    "n": _n(base.n_now),
                    "tier": top.name,
                    "lift": _x(top.comparison.now),
                    "promised": _x(top.comparison.then),
                },
            )
        )
    for tier in r.tiers:
        lift = tier.comparison
        if lift is None or not lift.real:
            continue
        points.append(
            Point(
                "lift_below" if (lift.now or 0) < (lift.then or 0) else "lift_above",
                {
                    "tier": tier.name,
                    "since": since,
                    "rate": pct(tier.rate),
                    "n": _n(tier.counted),
                    "base": pct(base.now),
                    "lift": _x(lift.now),
                    "low": _x(lift.low),
                    "high": _x(lift.high),
                    "promised": _x(lift.then),
                    "promised_rate": pct(tier.promised_rate),
                    "promised_base": pct(base.then),
                },
            )
        )
    for o in r.order:
        if not o.real:
            continue
        points.append(
            Point(
                "tier_order",
                {
                    "since": since,
                    "lower": o.lower.name,
                    "higher": o.higher.name,
                    "lower_rate": pct1(o.lower.rate),
                    "lower_low": pct(o.lower.low),
                    "lower_high": pct(o.lower.high),
                    "lower_n": _n(o.lower.counted),
                    "higher_rate": pct1(o.higher.rate),
                    "higher_low": pct(o.higher.low),
                    "higher_high": pct(o.higher.high),
                    "higher_n": _n(o.higher.counted),
                    "p": _p(o.p_adjusted),
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
        for seg in fb.hot_segments:
            if not seg.real:
                continue
            points.append(
                Point(
                    "segment_rejected",
                    {
                        "tier": r.hot.name,
                        "segment": fb.segment or "",
                        "value": seg.value,
                        "rate": pct(seg.rejection),
                        "rejected": _n(seg.rejected),
                        "n": _n(seg.decided),
                        "rest": pct(seg.rest_rejection),
                        "rest_rejected": _n(seg.rest_rejected),
                        "rest_n": _n(seg.rest_decided),
                        "p": _p(seg.p_adjusted),
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
