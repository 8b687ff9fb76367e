"""``funnel review``: how the agreed version did since it took effect, and the agenda."""

from __future__ import annotations

import argparse
import json
from typing import Any

from funnel.cli.common import open_store
from funnel.cli.output import clean, display_width, pad, rpad, say
from funnel.i18n import t
from funnel.review import Review, agenda, review
from funnel.review.agenda import arrival_line, contact_lines, pct


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    rv = sub.add_parser(
        "review",
        parents=[common],
        help="how the agreed version did on the leads since it took effect, and the agenda",
    )
    rv.add_argument("--dataset", required=True)
    rv.add_argument(
        "--version",
        metavar="VERSION",
        help="a version id or 'name v3' (default: the current agreed version)",
    )
    rv.add_argument(
        "--segment",
        metavar="COLUMN",
        help="the column acceptance is broken down by (default: the source column)",
    )
    rv.add_argument("--json", action="store_true", help="print every figure as JSON")
    rv.set_defaults(run=_review)


def _review(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        r = review(store, args.dataset, args.version, segment=args.segment, lang=args.lang)
    if args.json:
        print(json.dumps(r.as_dict(), ensure_ascii=False, indent=2))
        return 0
    for line in lines(r, args.lang):
        print(line)
    return 0


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(display_width(x) for x in col) for col in zip(head, *rows, strict=True)]
    out = []
    for row in [head, *rows]:
        cells = [pad(row[0], widths[0])] + [
            rpad(c, w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _ci(low: float, high: float, n: int) -> str:
    return "–" if not n else f"{pct(low)}–{pct(high)}"


def lines(r: Review, lang: str) -> list[str]:
    """The review as text for a terminal (user text escaped)."""
    v = r.version
    out = [
        say(
            "review.cli.head",
            lang,
            label=v.label(),
            dataset=r.dataset,
            leads=f"{r.leads:,}",
            since=f"{r.since:%Y-%m-%d}",
            by=t(f"review.arrival.{r.arrival}", lang),
            before=f"{r.before:,}",
        ),
        t(f"review.promise.{r.promise.source}", lang),
        r.measured_on(lang),
        "",
    ]
    head = [t(f"review.col.{c}", lang) for c in ("tier", "leads", "counted", "maturing")]
    head += [t(f"review.col.{c}", lang) for c in ("won", "rate", "ci", "promised", "promised_ci")]
    rows = [
        [
            clean(x.name),
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
    out += _table(head, rows)
    per_week = "–" if r.hot_per_week is None else f"{r.hot_per_week:,.1f}"
    promised = "–" if r.promise.hot_per_week is None else f"{r.promise.hot_per_week:,.1f}"
    out += [
        "",
        t("review.cli.volume", lang, per_week=per_week, promised=promised),
        t("review.cli.missed", lang, won=f"{r.won:,}", missed=f"{r.missed_won:,}"),
    ]
    if r.capacity is not None:
        out.insert(
            len(out) - 1,
            t(
                "review.cli.capacity",
                lang,
                most=f"{r.capacity.most:,}",
                over=f"{r.capacity.weeks_over:,}",
                weeks=f"{r.capacity.weeks_counted:,}",
            ),
        )
    out += [clean(line) for line in contact_lines(r, lang)]
    if r.arrivals is not None:
        out.append(clean(arrival_line(r, lang)))
    fb = r.feedback
    if fb is not None:
        out += ["", t("review.cli.acceptance", lang)]
        head = [t(f"review.col.{c}", lang) for c in ("group", "leads", "accepted", "rejected")]
        head += [t(f"review.col.{c}", lang) for c in ("not_contacted", "acceptance", "ci")]
        groups = list(fb.by_tier) + list(fb.by_segment)
        rows = [
            [
                clean(a.name) if i < len(fb.by_tier) else f"{clean(fb.segment)} = {clean(a.name)}",
                f"{a.leads:,}",
                f"{a.accepted:,}",
                f"{a.rejected:,}",
                f"{a.not_contacted:,}",
                pct(a.rate),
                _ci(*a.interval, a.decided),
            ]
            for i, a in enumerate(groups)
        ]
        out += _table(head, rows)
        if fb.reasons:
            out += ["", t("review.cli.reasons", lang)]
            rows = [
                [clean(reason) or t("feedback.no_reason", lang), f"{n:,}", pct(n / fb.rejected)]
                for reason, n in fb.reasons
            ]
            head = [t(f"review.col.{c}", lang) for c in ("reason", "leads", "share")]
            out += _table(head, rows)
    out += ["", t("review.cli.drift", lang)]
    head = [t(f"review.col.{c}", lang) for c in ("rule", "now", "then", "p", "flag")]
    rows = [
        [
            clean(d.label),
            pct(d.comparison.now),
            pct(d.comparison.then),
            "–" if d.comparison.p_adjusted is None else f"{d.comparison.p_adjusted:.3g}",
            t("review.flag.real", lang) if d.comparison.real else "",
        ]
        for d in r.rules
    ]
    s = r.scores
    rows.append(
        [
            t("review.col.scores", lang),
            "–" if s.median_now is None else f"{s.median_now:g}",
            "–" if s.median_then is None else f"{s.median_then:g}",
            "–" if s.p_adjusted is None else f"{s.p_adjusted:.3g}",
            t("review.flag.real", lang) if s.real else "",
        ]
    )
    out += _table(head, rows)
    points = agenda(r)
    out += ["", t("review.cli.agenda", lang)]
    if points:
        out += [f"{i}. {clean(p.sentence(lang))}" for i, p in enumerate(points, start=1)]
    else:
        out.append(t("review.cli.no_points", lang))
    if r.notes:
        out += ["", t("review.cli.notes", lang)]
        out += [f"- {say(k, lang, **p)}" for k, p in r.notes]
    return out
