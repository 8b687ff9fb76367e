"""``funnel feedback load|show``: sales' verdict on the leads, stored as data."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from funnel.cli.common import acting, db_path, file_limits, open_store
from funnel.cli.output import clean, display_width, pad, rpad, say
from funnel.feedback import (
    FeedbackSummary,
    feedback_summary,
    load_feedback,
    propose_feedback,
    with_values,
)
from funnel.i18n import t
from funnel.readers import read_file
from funnel.store import StoreError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    fb = sub.add_parser("feedback", parents=[common], help="sales' verdict on the leads")
    actions = fb.add_subparsers(dest="feedback_command", required=True)
    load = actions.add_parser(
        "load",
        parents=[common],
        help="store a feedback file (one row per lead id: accepted, rejected with a reason, "
        "not contacted), replacing the dataset's feedback",
    )
    load.add_argument("file")
    load.add_argument("--dataset", required=True, help="the dataset whose leads the file is about")
    for role, text in (
        ("id", "the lead id column"),
        ("status", "the status column"),
        ("reason", "the rejection reason column"),
        ("at", "the column with when the verdict was given"),
        ("by", "the column with who gave it"),
    ):
        load.add_argument(f"--{role}", dest=f"{role}_column", metavar="COLUMN", help=text)
    for disposition in ("accepted", "rejected", "not-contacted"):
        load.add_argument(
            f"--{disposition}",
            action="append",
            default=[],
            metavar="VALUE",
            help=f"a status value meaning {disposition.replace('-', ' ')} (repeatable)",
        )
    load.add_argument("--encoding", help="force the text encoding (utf-8, cp932, ...)")
    file_limits(load)
    load.add_argument("--json", action="store_true", help="print the summary as JSON")
    load.set_defaults(run=_load)
    show = actions.add_parser("show", parents=[common], help="the stored feedback, summed up")
    show.add_argument("--dataset", required=True)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)


def _load(args: argparse.Namespace) -> int:
    source = read_file(
        args.file,
        max_bytes=args.max_size,
        encoding=args.encoding,
        sheet=args.sheet,
        max_memory=args.max_memory,
    )
    named = {r: getattr(args, f"{r}_column") for r in ("id", "status", "reason", "at", "by")}
    mapping = propose_feedback(source, status=named["status"])
    mapping = replace(mapping, **{r: c for r, c in named.items() if c})
    mapping = with_values(
        mapping,
        accepted=tuple(args.accepted),
        rejected=tuple(args.rejected),
        not_contacted=tuple(args.not_contacted),
    )
    with open_store(args) as store:
        summary = load_feedback(store, args.dataset, source, mapping, by=acting(args, store))
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return 0
    counts = summary.counts
    print(
        say(
            "feedback.loaded",
            args.lang,
            name=summary.dataset,
            leads=f"{sum(counts.values()):,}",
            accepted=f"{counts['accepted']:,}",
            rejected=f"{counts['rejected']:,}",
            not_contacted=f"{counts['not_contacted']:,}",
        )
    )
    _print_reasons(summary, args.lang)
    return 0


def _show(args: argparse.Namespace) -> int:
    if not db_path(args).exists():
        raise StoreError("db_missing", path=str(db_path(args)))
    with open_store(args, read_only=True) as store:
        summary = feedback_summary(store, args.dataset)
        name = store.require(args.dataset).name
    if args.json:
        print(json.dumps(summary.as_dict() if summary else None, ensure_ascii=False, indent=2))
        return 0
    if summary is None:
        print(say("feedback.none", args.lang, name=name))
        return 0
    lang = args.lang
    for key in ("accepted", "rejected", "not_contacted"):
        print(f"{pad(t(f'feedback.metric.{key}', lang), 16)}  {summary.counts[key]:>8,}")
    rate = summary.acceptance_rate
    shown = "–" if rate is None else f"{100 * rate:.1f}%"
    print(f"{pad(t('feedback.metric.acceptance', lang), 16)}  {shown:>8}")
    _print_reasons(summary, lang)
    at = f"{summary.loaded_at:%Y-%m-%d %H:%M}"
    print(say("feedback.from", lang, file=summary.file, at=at), file=sys.stderr)
    if summary.sources.get("export"):  # verdicts read from the leads export's status column
        print(
            say("feedback.from_export", lang, n=f"{summary.sources['export']:,}"), file=sys.stderr
        )
    return 0


def _print_reasons(summary: FeedbackSummary, lang: str) -> None:
    if not summary.reasons:
        return
    head = t("feedback.col.reason", lang)
    names = [clean(r) if r else t("feedback.no_reason", lang) for r, _ in summary.reasons]
    width = max([display_width(head)] + [display_width(n) for n in names])
    print()
    print(f"{pad(head, width)}  {rpad(t('feedback.col.leads', lang), 8)}")
    for name, (_, n) in zip(names, summary.reasons, strict=True):
        print(f"{pad(name, width)}  {n:>8,}")
