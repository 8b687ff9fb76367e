"""``funnel funnel|segments``: where leads drop, and which segments convert."""

from __future__ import annotations

import argparse
import json
from typing import Any

from funnel.cli.common import analysis_inputs, filter_options, open_store
from funnel.cli.output import clean, described, display_width, note, pad, pct, rpad, stage
from funnel.filters import FilterError
from funnel.funnels import cohort_trend, compute_funnel, stages_for, time_to_convert
from funnel.i18n import t
from funnel.segments import Binning, parse_edges, ranking_evidence, segment_table
from funnel.stats import DEFAULT_MIN_N


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    filters = filter_options()
    fn = sub.add_parser("funnel", parents=[common, filters], help="leads reaching each stage")
    fn.add_argument("--stages", help="comma-separated stage list, e.g. lead,mql,sql,won")
    fn.add_argument("--cohorts", action="store_true", help="also the monthly cohort trend")
    fn.add_argument("--times", action="store_true", help="also the time between stages")
    fn.set_defaults(run=_funnel)

    sg = sub.add_parser("segments", parents=[common, filters], help="conversion by segment")
    sg.add_argument(
        "--by",
        action="append",
        required=True,
        metavar="COL",
        help="the column to segment by (give twice for two columns)",
    )
    sg.add_argument("--from-stage", help="population: leads reaching this stage (default first)")
    sg.add_argument("--to-stage", help="conversion: reaching this stage (default last, won)")
    sg.add_argument(
        "--min-n",
        type=int,
        default=DEFAULT_MIN_N,
        help="segments with fewer leads are marked small (default 30)",
    )
    sg.add_argument(
        "--bins",
        type=_at_least_two,
        default=5,
        help="quantile bins for numeric columns (2 or more)",
    )
    sg.add_argument(
        "--edges",
        action="append",
        default=[],
        metavar="COL=E1,E2,...",
        help="custom bin edges for a numeric column",
    )
    sg.set_defaults(run=_segments)


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("needs at least 2 bins")
    return value


def _funnel(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        info, filters = analysis_inputs(args, store)
        stages = (
            [s.strip() for s in args.stages.split(",") if s.strip()]
            if args.stages
            else stages_for(store, info)
        )
        steps = compute_funnel(store, info, stages, filters)
        trend = cohort_trend(store, info, stages, filters) if args.cohorts else None
        times = time_to_convert(store, info, stages, filters) if args.times else None
    if args.json:
        payload: Any = [s.as_dict() for s in steps]
        if trend is not None or times is not None:
            payload = {"funnel": payload}
            if trend is not None:
                payload["cohorts"] = [
                    {**c.__dict__, "month": c.month.date().isoformat()} for c in trend.cohorts
                ]
                payload["days_to_convert_p90"] = trend.days_to_convert_p90
            if times is not None:
                payload["times"] = [
                    {k: v for k, v in tr.__dict__.items() if k != "histogram"} for tr in times
                ]
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return 0
    lang = args.lang
    print(f"{clean(info.name)}: {described(filters, lang)}")
    col = {k: t(f"cli.col.{k}", lang) for k in ("stage", "leads", "from_prev", "from_first")}
    print(
        f"{pad(col['stage'], 12)} {rpad(col['leads'], 10)} {rpad(col['from_prev'], 10)} "
        f"{rpad(col['from_first'], 11)} {rpad(t('cli.col.drop_off', lang), 10)}"
    )
    for step in steps:
        print(
            f"{pad(stage(step.stage, lang), 12)} {step.n:>10,} "
            f"{pct(step.rate_from_previous):>10} {pct(step.rate_from_first):>11} "
            f"{step.drop_off:>10,}"
        )
    print(t("population.funnel_all_leads", lang))
    if trend is not None:
        target, days = stage(trend.target, lang), trend.days_to_convert_p90
        print("\n" + t("cli.cohorts", lang, target=target, days=days))
        for c in trend.cohorts:
            flag = "" if c.mature else t("cli.immature", lang)
            print(f"{c.month:%Y-%m} {c.n:>8,} {c.converted:>7,} {pct(c.rate):>7}{flag}")
    for tr in times or []:
        a, b = stage(tr.from_stage, lang), stage(tr.to_stage, lang)
        print(t("cli.time_to_convert", lang, a=a, b=b, days=tr.median_days, n=f"{tr.n:,}"))
    return 0


def _segments(args: argparse.Namespace) -> int:
    bins: dict[str, Binning] = {c: Binning(q=args.bins) for c in args.by}
    for item in args.edges:
        col, _, text = item.partition("=")
        try:
            edges = parse_edges(text)
        except ValueError:
            raise FilterError("bad_edges", item=item) from None
        bins[col.strip()] = Binning(edges=edges)
    with open_store(args, read_only=True) as store:
        info, filters = analysis_inputs(args, store)
        table = segment_table(
            store,
            info,
            args.by,
            filters,
            from_stage=args.from_stage,
            to_stage=args.to_stage,
            min_n=args.min_n,
            bins=bins,
        )
    lang = args.lang
    if args.json:
        ranking = table.ranking
        record = {
            "by": list(table.by),
            "from_stage": table.from_stage,
            "to_stage": table.to_stage,
            "n": table.n,
            "converted": table.converted,
            "overall_rate": table.overall_rate,
            "min_n": table.min_n,
            "after_sale": list(table.after_sale),
            "codes": table.codes,
            "best": None if ranking.best is None else ranking.best.segment,
            "worst": None if ranking.worst is None else ranking.worst.segment,
            "ranking": ranking.as_dict(),
            "evidence": ranking_evidence(table, lang),
            "segments": [s.as_dict() for s in table.segments],
        }
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return 0
    print(
        t(
            "cli.segments_title",
            lang,
            name=clean(info.name),
            filters=described(filters, lang),
            a=stage(table.from_stage, lang),
            b=stage(table.to_stage, lang),
            by=" × ".join(clean(b) for b in table.by),
            rate=pct(table.overall_rate),
            n=f"{table.n:,}",
        )
    )
    if table.after_sale:
        columns = clean(", ".join(table.after_sale))
        note(t("segments.after_sale", lang, columns=columns), lang)
    for column, values in table.codes.items():
        note(t("segments.codes", lang, column=clean(column), values=values), lang)
    col = {k: t(f"cli.col.{k}", lang) for k in ("segment", "leads", "conv", "rate", "ci", "lift")}
    labels = [clean(s.label) for s in table.segments]
    width = max([display_width(col["segment"])] + [display_width(label) for label in labels])
    print(
        f"{pad(col['segment'], width)}  {rpad(col['leads'], 9)}  {rpad(col['conv'], 7)}  "
        f"{rpad(col['rate'], 6)}  {pad(col['ci'], 16)}{col['lift']}"
    )
    for s, label in zip(table.segments, labels, strict=True):
        kind = "small" if s.small_sample else "best" if s.best else "worst" if s.worst else ""
        flag = t(f"cli.flag.{kind}", lang) if kind else ""
        lift = "–" if s.lift is None else f"{s.lift:.2f}"
        print(
            f"{pad(label, width)}  {s.n:>9,}  {s.converted:>7,}  {pct(s.rate):>6}  "
            f"{pct(s.ci_low):>6}–{pct(s.ci_high):<6}  {lift:>5}{flag}"
        )
    for line in ranking_evidence(table, lang):
        print(clean(line))
    print(t("population.funnel_all_leads", lang))
    return 0
