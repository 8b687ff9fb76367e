"""``funnel review``: how the agreed version did since it took effect, and the agenda."""

from __future__ import annotations

import argparse
import json
from typing import Any

from funnel.cli.common import open_store
from funnel.cli.output import clean, display_width, pad, rpad, say
from funnel.i18n import t
from funnel.review import Review, agenda, review
from funnel.review.agenda import arrival_line, contact_lines
from funnel.review.tables import (
    Table,
    acceptance_table,
    drift_table,
    reasons_table,
    tier_table,
)


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


def _cleaned(table: Table) -> Table:
    """A table with its first column (user text: tier, segment, reason, rule) made safe for a
    terminal."""
    head, rows = table
    return head, [[clean(row[0]), *row[1:]] for row in rows]


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
    out += _table(*_cleaned(tier_table(r, lang)))
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
        head, rows = acceptance_table(fb.by_tier, t("review.col.group", lang), lang)
        _, by_segment = acceptance_table(fb.by_segment, "", lang)
        rows += [[f"{fb.segment} = {row[0]}", *row[1:]] for row in by_segment]
        out += _table(*_cleaned((head, rows)))
        if fb.reasons:
            out += ["", t("review.cli.reasons", lang)]
            out += _table(*_cleaned(reasons_table(r, lang)))
    out += ["", t("review.cli.drift", lang)]
    out += _table(*_cleaned(drift_table(r, lang, scores=True)))
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
