"""``funnel evaluate|score|hot|sql|suggest|template``: rule sets measured, applied and fitted."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from funnel.apply import (
    ApplyError,
    post_webhook,
    read_rules_file,
    score_file,
)
from funnel.cli.common import (
    analysis_inputs,
    file_limits,
    filter_options,
    open_store,
    rules_for,
)
from funnel.cli.output import (
    clean,
    display_width,
    metric_lines,
    note,
    pad,
    pct,
    say,
    warning,
    write_table,
)
from funnel.dialects import DIALECTS
from funnel.filters import parse_date
from funnel.formats import shown_in
from funnel.handoff import csv_text
from funnel.i18n import t
from funnel.mapping import require_column
from funnel.meeting import version_sql
from funnel.rules import check_columns
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.leads import score_leads
from funnel.sqlexport import ruleset_sql
from funnel.suggest import Suggestion, compare_suggestion, suggest_rules, template_for
from funnel.versions.files import rules_document
from funnel.versions.history import file_mapping


def _rules_option() -> argparse.ArgumentParser:
    rules_file = argparse.ArgumentParser(add_help=False)
    rules_file.add_argument(
        "--rules", required=True, metavar="R.yaml", help="a rule set file (YAML or JSON)"
    )
    return rules_file


def register_apply(sub: Any, common: argparse.ArgumentParser) -> None:
    """``evaluate``, ``score``, ``hot`` and ``sql``: a rule set measured or applied."""
    filters, rules_file = filter_options(), _rules_option()
    ev = sub.add_parser(
        "evaluate",
        parents=[common, filters, rules_file],
        help="what a rule set would have done on past outcomes",
    )
    ev.add_argument(
        "--capacity",
        type=float,
        metavar="LEADS_PER_WEEK",
        help="sales capacity, to compare with the hot leads per week",
    )
    ev.set_defaults(run=_evaluate)

    sc = sub.add_parser(
        "score",
        parents=[common, filters, rules_file],
        help="score every lead of a dataset, or of a new leads FILE: id, score, tier, reasons",
    )
    sc.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="a new leads file to score with the rule set's own mapping (no outcomes needed)",
    )
    sc.add_argument("--activities", metavar="FILE", help="the new leads' activity log")
    sc.add_argument(
        "--keep-last",
        action="store_true",
        help="keep the last row of each repeated id instead of failing",
    )
    sc.add_argument("--encoding", help="the file's text encoding (default: detected)")
    file_limits(sc)
    sc.add_argument(
        "--out", metavar="FILE.csv|.parquet", help="where to write (default: CSV on stdout)"
    )
    sc.set_defaults(run=_score, data_out=True)

    hot = sub.add_parser(
        "hot",
        parents=[common, rules_file],
        help="the leads of a new file that are hot now (or became hot since a date)",
    )
    hot.add_argument("file", metavar="FILE", help="a leads file (CSV, Excel, Parquet)")
    hot.add_argument("--activities", metavar="FILE", help="the leads' activity log")
    hot.add_argument(
        "--keep-last",
        action="store_true",
        help="keep the last row of each repeated id instead of failing",
    )
    hot.add_argument("--encoding", help="the file's text encoding (default: detected)")
    file_limits(hot)
    hot.add_argument(
        "--since", metavar="DATE", help="only leads that became hot on or after DATE (YYYY-MM-DD)"
    )
    hot.add_argument("--format", choices=("csv", "json"), default="csv", help="stdout format")
    hot.add_argument("--webhook", metavar="URL", help="POST the hot leads as JSON to URL")
    hot.set_defaults(run=_hot, data_out=True)

    sq = sub.add_parser(
        "sql",
        parents=[common, rules_file],
        help="SQL applying the rule set in your warehouse (returns id, score, tier)",
    )
    sq.add_argument(
        "--dialect",
        required=True,
        choices=DIALECTS,
    )
    sq.add_argument("--table", default="leads", help="the table holding the raw lead columns")
    sq.add_argument(
        "--activities-table",
        default="activities",
        help="the table holding the raw activity log, for rules on activity counts",
    )
    sq.add_argument(
        "--dataset", help="take the column mapping from this dataset (default: the rules file's)"
    )
    sq.add_argument("--out", metavar="FILE.sql", help="where to write (default: stdout)")
    sq.set_defaults(run=_sql, data_out=True)


def register_fit(sub: Any, common: argparse.ArgumentParser) -> None:
    """``suggest`` and ``template``: a rule set to start from."""
    filters = filter_options()
    su = sub.add_parser(
        "suggest",
        parents=[common, filters],
        help="suggest at most 25 rules from the data, judged on leads they were not fitted on",
    )
    target = su.add_mutually_exclusive_group()
    target.add_argument(
        "--target-conversion",
        type=float,
        metavar="RATE",
        help="lowest hot threshold whose hot conversion reaches RATE (e.g. 0.8)",
    )
    target.add_argument(
        "--capacity",
        type=float,
        metavar="LEADS_PER_WEEK",
        help="lowest hot threshold whose weekly hot volume fits capacity",
    )
    su.add_argument("--out", required=True, metavar="R.yaml")
    su.add_argument("--max-points", type=int, default=30, help="points of the strongest rule")
    su.add_argument(
        "--exclude",
        action="append",
        metavar="COL",
        help="leave a column out (one the suggestion leans on that is known only after the sale)",
    )
    su.add_argument(
        "--compare",
        action="store_true",
        help="also fit gradient boosting (with and without interactions) on the same columns and "
        "split, and print its holdout AUC beside the suggestion's and logistic regression's "
        "(slower; logistic regression is always fitted)",
    )
    su.set_defaults(run=_suggest)

    tp = sub.add_parser(
        "template",
        parents=[common, filters],
        help="write the simple starting template for a dataset",
    )
    tp.add_argument("--out", required=True, metavar="R.yaml")
    tp.set_defaults(run=_template)


def _evaluate(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        info, filters = analysis_inputs(args, store)
        rs = rules_for(args.rules, store, info, args.lang)
        result = evaluate(score_histogram(store, info, rs, filters), rs)
    payload = result.as_dict() | {"capacity_per_week": args.capacity}
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    print(
        say(
            "cli.evaluate_title",
            lang,
            name=info.name,
            rules=rs.name,
            n=f"{result.counted.total:,}",
            rate=pct(result.base_rate),
        )
    )
    print(result.measured_on(lang))
    for tier in result.tiers:
        print(
            t(
                "cli.evaluate_tier",
                lang,
                tier=pad(clean(tier.name), 8),
                n=f"{tier.n:>9,}",
                share=pct(tier.share),
                won=f"{tier.won:>7,}",
                rate=f"{pct(tier.rate):>6}",
                low=pct(tier.ci_low),
                high=pct(tier.ci_high),
            )
        )
    rows = [(m, m.text(m.value(result))) for m in shown_in("evaluate")]
    print("\n".join(metric_lines(rows, lang)))
    if result.hot_per_week is not None:
        fits = ""
        if args.capacity:
            over = result.hot_per_week > args.capacity
            fits = t("cli.over_capacity" if over else "cli.fits_capacity", lang)
        print(t("cli.per_week", lang, n=f"{result.hot_per_week:,.1f}", fits=fits))
    if not result.monotonic:
        print(t("cli.not_monotonic", lang))
    return 0


def _score(args: argparse.Namespace) -> int:
    if args.file:
        if args.dataset or args.where or args.date_from or args.date_to:
            raise ApplyError("score_file_filters")
        scored = score_file(
            read_rules_file(args.rules),
            args.file,
            activities_path=args.activities,
            encoding=args.encoding,
            max_bytes=args.max_size,
            max_memory=args.max_memory,
            sheet=args.sheet,
            keep_last=args.keep_last,
            lang=args.lang,
        )
        for message in scored.notes:
            note(message, args.lang)
        frame = scored.frame
    else:
        with open_store(args, read_only=True) as store:
            info, filters = analysis_inputs(args, store)
            rs = rules_for(args.rules, store, info, args.lang)
            frame = score_leads(store, info, rs, filters, lang=args.lang)
        frame = frame.drop(columns=["outcome"])
    if args.out:
        write_table(frame, Path(args.out))
        print(
            say("cli.wrote_scored", args.lang, n=f"{len(frame):,}", file=args.out), file=sys.stderr
        )
    else:
        sys.stdout.write(csv_text(frame))
    return 0


def _hot(args: argparse.Namespace) -> int:
    rules = read_rules_file(args.rules)
    since = parse_date(args.since) if args.since else None
    scored = score_file(
        rules,
        args.file,
        only="hot",
        since=since,
        activities_path=args.activities,
        encoding=args.encoding,
        max_bytes=args.max_size,
        max_memory=args.max_memory,
        sheet=args.sheet,
        keep_last=args.keep_last,
        lang=args.lang,
    )
    hot = scored.frame[["id", "score", "tier", "reasons"]]

    def records() -> list[dict[str, Any]]:
        return list(json.loads(hot.to_json(orient="records", force_ascii=False)))

    n = f"{len(hot):,}"
    if args.webhook:
        payload = {
            "rule_set": rules.ruleset.name,
            "version": rules.number or None,
            "since": None if since is None else since.isoformat(),
            "count": len(hot),
            "leads": records(),
        }
        status = post_webhook(args.webhook, payload)
        print(say("cli.posted", args.lang, n=n, url=args.webhook, status=status), file=sys.stderr)
        return 0
    if args.format == "json":
        print(json.dumps(records(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(csv_text(hot))
    print(t("cli.hot_count", args.lang, n=n), file=sys.stderr)
    return 0


def _sql(args: argparse.Namespace) -> int:
    rules = read_rules_file(args.rules)
    tables = {
        "dialect": args.dialect,
        "table": args.table,
        "activities_table": args.activities_table,
    }
    if args.dataset:  # the dataset's mapping and activity log, as the Rule sets page exports
        with open_store(args, read_only=True) as store:
            info = store.require(args.dataset)
            check_columns(rules.ruleset, info.columns, source=args.rules)
            text = version_sql(info, replace(rules, mapping=None), store=store, **tables)
    elif rules.mapping is None:
        raise ApplyError("sql_needs_dataset", file=args.rules)
    else:
        text = ruleset_sql(rules.ruleset, rules.mapping, **tables)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(say("cli.wrote", args.lang, file=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _suggest(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        info, filters = analysis_inputs(args, store)
        for column in args.exclude or ():
            require_column(info.columns, column, info.name)
        suggestion = suggest_rules(
            store,
            info,
            filters=filters,
            target_conversion=args.target_conversion,
            capacity_per_week=args.capacity,
            max_points=args.max_points,
            baseline=template_for(info),
            exclude=tuple(args.exclude or ()),
            lang=args.lang,
        )
        if args.compare:
            suggestion = compare_suggestion(store, info, suggestion)
    named = replace(suggestion.ruleset, name=t("rules.name.suggested", args.lang))
    Path(args.out).write_text(rules_document(named, file_mapping(info)), encoding="utf-8")
    if args.json:
        print(json.dumps(suggestion.as_dict(args.lang), ensure_ascii=False, indent=2))
    else:
        print("\n".join(clean(line) for line in suggestion_report(suggestion, args.out, args.lang)))
    for level, text in suggestion.notes(args.lang):
        (warning if level == "warning" else note)(text, args.lang)
    if suggestion.no_better:  # nothing gained on leads it was not fitted on
        auc = _auc(suggestion.holdout_auc)
        base = _auc(suggestion.baseline_auc)
        warning(t("cli.suggest_no_better", args.lang, auc=auc, base=base), args.lang)
    return 0


def _auc(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _signed(x: float) -> str:
    return f"{x:+.3f}"


def suggestion_report(s: Suggestion, out: str, lang: str) -> list[str]:
    """What ``funnel suggest`` prints: the file, every figure with the leads it is on, the
    comparison with logistic regression (always) and gradient boosting (or how to ask for it),
    and each column's reading."""
    v = s.verdict
    lines = [t("cli.suggest.wrote", lang, file=out, rules=len(s.ruleset.rules))]
    lines.append(
        t(
            "cli.suggest.holdout",
            lang,
            leads=s.holdout.describe(lang),
            n=f"{v.n:,}",
            won=f"{v.won:,}",
        )
    )
    if s.measured_on(lang):
        lines.append("  " + s.measured_on(lang))
    rows: list[tuple[str, Any, Any]] = [("suggestion", v.auc, None)]
    rows += [(m.model, m.auc, m.difference) for m in s.models]
    names = {name: t(f"cli.suggest.name.{name}", lang) for name, _, _ in rows}
    width = max(display_width(x) for x in names.values())
    for name, ci, diff in rows:
        label = pad(names[name], width)
        if ci is None:
            lines.append(t("cli.suggest.baseline", lang, name=label, auc="–"))
            continue
        figures = {"name": label, "auc": _auc(ci.auc), "low": _auc(ci.low), "high": _auc(ci.high)}
        if diff is None:
            lines.append(t("cli.suggest.model", lang, **figures))
        else:
            lines.append(
                t(
                    "cli.suggest.model_diff",
                    lang,
                    diff=_signed(diff.auc),
                    dlow=_signed(diff.low),
                    dhigh=_signed(diff.high),
                    **figures,
                )
            )
    if not s.compared:
        lines.append(t("cli.suggest.not_compared", lang))
    if s.baseline_name is not None:
        name = t("rules.name.template", lang)  # the baseline is the template
        empty = s.baseline_auc is None and s.holdout_auc is not None  # the template had no rule
        key = "cli.suggest.baseline_none" if empty else "cli.suggest.baseline"
        lines.append(t(key, lang, name=name, auc=_auc(s.baseline_auc)))
    lines.append(
        t(
            "cli.suggest.in_sample",
            lang,
            n=f"{s.train_n:,}",
            won=f"{s.train_won:,}",
            auc=_auc(s.in_sample_auc),
        )
    )
    if s.left_out:
        lines.append(t("cli.suggest.left_out", lang))
        lines += [f"  {x.reason(lang)}" for x in s.left_out]
    lines.append(t("cli.suggest.columns", lang))
    lines += [f"  {c.evidence(lang)}" for c in s.columns if c.scored]
    return lines


def _template(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        info, _ = analysis_inputs(args, store)
    template = replace(template_for(info), name=t("rules.name.template", args.lang))
    Path(args.out).write_text(rules_document(template, file_mapping(info)), encoding="utf-8")
    print(say("cli.wrote", args.lang, file=args.out), file=sys.stderr)
    if not template.rules:  # a file to edit, but say why it scores nothing yet
        warning(say("cli.template_empty", args.lang, dataset=info.name), args.lang)
    return 0
