"""The ``funnel`` command line: the same functions as the app, printable as JSON.

Exit codes: 0 success, 2 bad input or unusable database (problems on stderr, in plain words),
1 an unexpected internal error (set ``FUNNEL_DEBUG=1`` for the traceback), 3 a webhook that
did not accept the hot leads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from funnel.apply import (
    ApplyError,
    WebhookError,
    hot_leads,
    post_webhook,
    read_rules_file,
    score_file,
)
from funnel.filters import FilterError, Filters, parse_date, parse_where
from funnel.formats import METRICS, fmt_metric
from funnel.funnels import Unavailable, cohort_trend, compute_funnel, stages_for, time_to_convert
from funnel.handoff import safe_frame
from funnel.i18n import MESSAGES, t
from funnel.ingest import LoadResult, load_demo, load_files, read_inputs
from funnel.mapping import (
    Mapping,
    MappingFileError,
    OutcomeSpec,
    mapping_from_yaml,
    mapping_to_yaml,
    propose_mapping,
)
from funnel.meeting import handoff_bytes, report_bytes, version_sql
from funnel.parsing import DEFAULT_PLACEHOLDERS
from funnel.problems import LoadError, Problem
from funnel.readers import SourceFile
from funnel.rules import RuleSet, RuleSetError, Where, check_columns, ruleset_from_text
from funnel.scoring import evaluate, score_histogram, score_leads
from funnel.segments import Binning, parse_edges, segment_table
from funnel.sqlexport import DIALECTS, SqlExportError, ruleset_sql
from funnel.stats import DEFAULT_MIN_N
from funnel.store import DatasetInfo, Store, StoreError, default_db_path
from funnel.suggest import SuggestError, suggest_rules, template_for
from funnel.versions import (
    Version,
    VersionError,
    align_values,
    compare_versions,
    file_mapping,
    find_version,
    import_version,
    list_versions,
    propose,
    rules_document,
    save_version,
    sign,
    version_to_dict,
    version_to_json,
    version_to_yaml,
)


def build_parser() -> argparse.ArgumentParser:
    db_help = "database file (default: $FUNNEL_DB or data/funnel.duckdb)"
    parser = argparse.ArgumentParser(
        prog="funnel", description="Agree, with data, on what a hot lead is."
    )
    parser.add_argument("--db", help=db_help)
    parser.add_argument("--lang", choices=("en", "ja"), default=os.environ.get("FUNNEL_LANG", "en"))
    # The same options after the command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help=db_help, default=argparse.SUPPRESS)
    common.add_argument("--lang", choices=("en", "ja"), default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", parents=[common], help="generate the demo dataset")
    demo.add_argument("--leads", type=int, default=50_000, help="number of leads (default 50000)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--dataset", default="demo", help="dataset name (default: demo)")
    demo.add_argument(
        "--data-lang",
        choices=("en", "ja"),
        default="en",
        help="language of the generated headers and values",
    )
    demo.add_argument("--out", help="write the leads to this CSV/Parquet file instead of storing")
    demo.add_argument("--encoding", default="utf-8", help="encoding of --out CSV (e.g. cp932)")

    mapping_flags = argparse.ArgumentParser(add_help=False)
    mapping_flags.add_argument("--outcomes", help="a separate outcomes (deals) file")
    mapping_flags.add_argument("--activities", help="an activity log: lead id, timestamp, type")
    mapping_flags.add_argument("--mapping", help="a YAML mapping file (see `funnel mapping`)")
    mapping_flags.add_argument("--outcome", help="the leads file's outcome column")
    mapping_flags.add_argument("--id", dest="id_column", help="the lead id column")
    mapping_flags.add_argument("--created", help="the created-date column")
    mapping_flags.add_argument("--source", help="the source/channel column")
    mapping_flags.add_argument("--won", action="append", default=[], help="a value meaning won")
    mapping_flags.add_argument("--lost", action="append", default=[], help="a value meaning lost")
    mapping_flags.add_argument(
        "--leak",
        action="append",
        default=[],
        help="a column that is not a lead feature (known after the sale)",
    )
    mapping_flags.add_argument(
        "--placeholder", action="append", default=[], help="an extra value meaning missing"
    )
    mapping_flags.add_argument("--encoding", help="force the text encoding (utf-8, cp932, ...)")
    mapping_flags.add_argument("--max-size", type=int, help="largest file in bytes (default 1 GiB)")

    load = sub.add_parser("load", parents=[common, mapping_flags], help="load a CRM export")
    load.add_argument("file")
    load.add_argument("--dataset", help="dataset name (default: the file name)")
    load.add_argument(
        "--keep-last",
        action="store_true",
        help="keep the last row of each repeated id instead of failing",
    )
    load.add_argument("--json", action="store_true", help="print the result as JSON")

    mp = sub.add_parser(
        "mapping",
        parents=[common, mapping_flags],
        help="print the proposed mapping as YAML to edit",
    )
    mp.add_argument("file")

    ds = sub.add_parser("datasets", parents=[common], help="list stored datasets")
    ds.add_argument("--json", action="store_true")

    rn = sub.add_parser("rename", parents=[common], help="rename a dataset")
    rn.add_argument("old")
    rn.add_argument("new")

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--dataset", help="dataset name (default: the most recently loaded)")
    filters.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COL=VALUE",
        help="keep leads whose COL equals VALUE (repeat for several values)",
    )
    filters.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        help="leads created on or after DATE (YYYY-MM-DD)",
    )
    filters.add_argument(
        "--to", dest="date_to", metavar="DATE", help="leads created on or before DATE (YYYY-MM-DD)"
    )
    filters.add_argument("--json", action="store_true", help="print JSON")

    fn = sub.add_parser("funnel", parents=[common, filters], help="leads reaching each stage")
    fn.add_argument("--stages", help="comma-separated stage list, e.g. lead,mql,sql,won")
    fn.add_argument("--cohorts", action="store_true", help="also the monthly cohort trend")
    fn.add_argument("--times", action="store_true", help="also the time between stages")

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

    rules_file = argparse.ArgumentParser(add_help=False)
    rules_file.add_argument(
        "--rules", required=True, metavar="R.yaml", help="a rule set file (YAML or JSON)"
    )

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
    sc.add_argument(
        "--out", metavar="FILE.csv|.parquet", help="where to write (default: CSV on stdout)"
    )

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
    hot.add_argument(
        "--since", metavar="DATE", help="only leads that became hot on or after DATE (YYYY-MM-DD)"
    )
    hot.add_argument("--format", choices=("csv", "json"), default="csv", help="stdout format")
    hot.add_argument("--webhook", metavar="URL", help="POST the hot leads as JSON to URL")

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

    _rules_commands(sub, common)

    su = sub.add_parser(
        "suggest",
        parents=[common, filters],
        help="fit a rule set from the data (logistic regression to points)",
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

    tp = sub.add_parser(
        "template",
        parents=[common, filters],
        help="write the simple starting template for a dataset",
    )
    tp.add_argument("--out", required=True, metavar="R.yaml")

    rm = sub.add_parser("delete", parents=[common], help="delete a dataset")
    rm.add_argument("name")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _rules_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``funnel rules list|show|save|propose|sign|diff|export|import``."""
    rules = sub.add_parser("rules", parents=[common], help="saved rule-set versions and sign-off")
    rsub = rules.add_subparsers(dest="rules_command", required=True)
    ref_help = "a version: its number (12 or #12), 'current', or 'NAME v3'"

    ls = rsub.add_parser("list", parents=[common], help="the history, newest first")
    ls.add_argument("--dataset", help="only this dataset's versions")
    ls.add_argument("--json", action="store_true")

    show = rsub.add_parser("show", parents=[common], help="one version: rules, metrics, sign-offs")
    show.add_argument("ref", help=ref_help)
    show.add_argument("--dataset", help="the dataset, for 'current' and 'NAME v3'")
    show.add_argument("--json", action="store_true")

    save = rsub.add_parser("save", parents=[common], help="save a rule set file as a new draft")
    save.add_argument("--rules", required=True, metavar="R.yaml")
    save.add_argument("--dataset", required=True)
    save.add_argument("--author", required=True)
    save.add_argument("--rationale", default="")
    save.add_argument("--effective-from", metavar="DATE", help="YYYY-MM-DD (default: today)")
    save.add_argument("--json", action="store_true")

    pr = rsub.add_parser("propose", parents=[common], help="propose a draft for sign-off")
    pr.add_argument("ref", help=ref_help)
    pr.add_argument("--dataset")
    pr.add_argument("--name", required=True, help="who proposes it")

    sg = rsub.add_parser("sign", parents=[common], help="sign a proposed version for one side")
    sg.add_argument("ref", help=ref_help)
    sg.add_argument("--dataset")
    sg.add_argument("--role", required=True, choices=("marketing", "sales"))
    sg.add_argument("--name", required=True, help="who signs")
    sg.add_argument("--comment", default="")

    df = rsub.add_parser("diff", parents=[common], help="what changed between two versions")
    df.add_argument("a", help=ref_help)
    df.add_argument("b", help=ref_help)
    df.add_argument("--dataset", help="measure both on this dataset (default: b's)")
    df.add_argument("--json", action="store_true")

    ex = rsub.add_parser("export", parents=[common], help="write a version to a file")
    ex.add_argument("ref", help=ref_help)
    ex.add_argument("--dataset")
    ex.add_argument(
        "--format",
        required=True,
        choices=("yaml", "json", "sql", "report", "handoff-csv", "handoff-xlsx"),
    )
    ex.add_argument("--dialect", default="duckdb", choices=DIALECTS, help="for --format sql")
    ex.add_argument("--table", default="leads", help="for --format sql")
    ex.add_argument(
        "--activities-table",
        default="activities",
        help="for --format sql: the activity log's table",
    )
    ex.add_argument("--out", required=True, metavar="FILE")

    im = rsub.add_parser("import", parents=[common], help="save a rule set file as a new draft")
    im.add_argument("file", metavar="R.yaml")
    im.add_argument("--dataset", required=True)
    im.add_argument("--author", required=True)
    im.add_argument("--json", action="store_true")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = args.lang
    try:
        return int(_COMMANDS[args.command](args))
    except LoadError as exc:
        print_problems(exc.problems, lang, sys.stderr)
        return 2
    except StoreError as exc:
        _error(t("store." + exc.code, lang, **exc.params), lang)
        return 2
    except (RuleSetError, ApplyError, MappingFileError, SqlExportError) as exc:  # name the file
        _error(exc.message(lang), lang)
        return 2
    except VersionError as exc:
        _error(exc.message(lang), lang)
        return 2
    except WebhookError as exc:
        _error(exc.message(lang), lang)
        return 3
    except (FilterError, Unavailable) as exc:
        _error(t("analysis." + exc.code, lang, **exc.params), lang)
        return 2
    except SuggestError as exc:
        _error(t("suggest." + exc.code, lang), lang)
        return 2
    except KeyboardInterrupt:
        print(t("cli.interrupted", lang), file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (funnel ... | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # never show a traceback to a user
        if os.environ.get("FUNNEL_DEBUG"):
            raise
        print(t("cli.internal_error", lang, error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
        print(t("cli.debug_hint", lang), file=sys.stderr)
        return 1


def _error(message: str, lang: str) -> None:
    print(t("cli.error", lang, message=message), file=sys.stderr)


def _note(message: str, lang: str) -> None:
    print(t("cli.note", lang, message=message), file=sys.stderr)


def print_problems(problems: Sequence[Problem], lang: str, out: TextIO) -> None:
    """Print problems as plain sentences, errors first, each with its fix."""
    for p in problems:
        print(t(f"cli.{_LABELS[p.severity]}", lang, message=p.message(lang)), file=out)
        fix = p.fix(lang)
        if fix and p.severity != "info":
            print(t("cli.fix", lang, fix=fix), file=out)


_LABELS = {"error": "error", "warning": "warning", "info": "note"}


def display_width(text: str) -> int:
    """Terminal width of text: East Asian wide characters take two columns.

    >>> display_width("demo"), display_width("日本語デモ")
    (4, 10)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    """Left-align text to a terminal width."""
    return text + " " * max(0, width - display_width(text))


def rpad(text: str, width: int) -> str:
    """Right-align text to a terminal width.

    >>> rpad("won", 5), rpad("受注", 5)
    ('  won', ' 受注')
    """
    return " " * max(0, width - display_width(text)) + text


def _stage(stage: str, lang: str) -> str:
    """A stage as the reader says it; English keeps the stage's code (what --stages takes)."""
    key = f"stage.{stage}"
    return t(key, lang) if lang != "en" and key in MESSAGES else stage


def _store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """Open the database; a reading command falls back to read-only when it is locked.

    A reading command never creates a database: a missing file is reported by name.
    """
    path = Path(args.db) if args.db else default_db_path()
    if read_only and not path.exists():
        raise StoreError("db_missing", path=str(path))
    try:
        return Store(args.db)
    except StoreError as exc:
        if read_only and exc.code in ("db_locked", "db_read_only"):
            return Store(args.db, read_only=True)
        raise


def _progress(lang: str) -> Any:
    last: list[str] = []

    def report(step: str, _fraction: float) -> None:
        if step != (last[-1] if last else None):
            last.append(step)
            print(t(f"progress.{step}", lang), file=sys.stderr, flush=True)

    return report


def _cmd_demo(args: argparse.Namespace) -> int:
    from funnel.demo import generate_leads

    if args.out:
        print(t("progress.generate", args.lang), file=sys.stderr, flush=True)
        frame = generate_leads(args.leads, seed=args.seed, lang=args.data_lang)
        out = Path(args.out)
        if out.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(out, index=False)
        else:
            sep = "\t" if out.suffix.lower() in (".tsv", ".tab") else ","
            frame.to_csv(out, index=False, sep=sep, encoding=args.encoding, date_format="%Y-%m-%d")
        print(t("cli.wrote_leads", args.lang, n=len(frame), file=out), file=sys.stderr)
        return 0
    with _store(args) as store:
        result = load_demo(
            store,
            args.dataset,
            leads=args.leads,
            seed=args.seed,
            lang=args.data_lang,
            progress=_progress(args.lang),
        )
    _print_loaded(result, args.lang, as_json=False)
    return 0


def _apply_flags(mapping: Mapping, args: argparse.Namespace, file: str) -> Mapping:
    """Apply the CLI's --id/--created/--source/--won/--lost/--leak/--placeholder overrides."""
    for flag, role in (("id_column", "id"), ("created", "created"), ("source", "source")):
        col = getattr(args, flag)
        if col:
            _require_column(mapping, col, file)
            mapping = mapping.with_role(col, role)  # type: ignore[arg-type]
    if args.won or args.lost:
        base = mapping.outcome or OutcomeSpec(column=args.outcome)
        mapping = replace(
            mapping,
            outcome=replace(
                base,
                won=tuple(args.won) or base.won,
                lost=tuple(args.lost) or base.lost,
            ),
        )
    for col in args.leak:
        _require_column(mapping, col, file)
        mapping = replace(
            mapping,
            leads=tuple(
                replace(s, leak=True, reason="leak.user") if s.name == col else s
                for s in mapping.leads
            ),
        )
    if args.placeholder:
        mapping = replace(mapping, placeholders=mapping.placeholders + tuple(args.placeholder))
    return mapping


def _require_column(mapping: Mapping, col: str, file: str) -> None:
    names = [s.name for s in mapping.leads]
    if col not in names:
        raise LoadError(
            [
                Problem(
                    "column_missing",
                    file,
                    column=col,
                    params={"available": ", ".join(names[:12])},
                )
            ]
        )


def _mapping_for(
    args: argparse.Namespace,
    leads: SourceFile,
    outcomes: SourceFile | None,
    activities: SourceFile | None,
) -> Mapping:
    if args.mapping:
        path = Path(args.mapping)
        if not path.is_file():
            raise MappingFileError("file_missing", where=str(path))
        mapping = mapping_from_yaml(_text_file(path, "mapping"), source=str(path))
    else:
        placeholders = DEFAULT_PLACEHOLDERS + tuple(args.placeholder)
        if args.outcome and args.outcome not in leads.columns:
            raise LoadError(
                [
                    Problem(
                        "column_missing",
                        leads.name,
                        column=args.outcome,
                        params={"available": ", ".join(leads.columns[:12])},
                    )
                ]
            )
        mapping = propose_mapping(
            leads, outcomes, activities, outcome_column=args.outcome, placeholders=placeholders
        )
        args.placeholder = []
    return _apply_flags(mapping, args, leads.name)


def _cmd_load(args: argparse.Namespace) -> int:
    progress = _progress(args.lang)
    progress("read", 0.0)
    leads, outcomes, activities = read_inputs(
        args.file, args.outcomes, args.activities, max_bytes=args.max_size, encoding=args.encoding
    )
    progress("map", 0.1)
    mapping = _mapping_for(args, leads, outcomes, activities)
    name = args.dataset or Path(args.file).stem
    with _store(args) as store:
        result = load_files(
            store,
            name,
            leads,
            outcomes,
            activities,
            mapping=mapping,
            keep_last=args.keep_last,
            progress=progress,
        )
    _print_loaded(result, args.lang, as_json=args.json)
    return 0


def _print_loaded(result: LoadResult, lang: str, *, as_json: bool) -> None:
    info = result.dataset
    if as_json:
        payload = info.as_dict() | {"notes": [p.as_dict(lang) for p in result.problems]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    print_problems([p for p in result.problems if p.severity != "info"], lang, sys.stderr)
    print(
        t(
            "data.loaded",
            lang,
            name=info.name,
            leads=f"{info.leads:,}",
            won=f"{info.won:,}",
            lost=f"{info.lost:,}",
            open=f"{info.open:,}",
        )
    )


def _cmd_mapping(args: argparse.Namespace) -> int:
    leads, outcomes, activities = read_inputs(
        args.file, args.outcomes, args.activities, max_bytes=args.max_size, encoding=args.encoding
    )
    mapping = _mapping_for(args, leads, outcomes, activities)
    sys.stdout.write(mapping_to_yaml(mapping))
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    if not (Path(args.db) if args.db else default_db_path()).exists():
        rows: list[Any] = []
    else:
        with _store(args, read_only=True) as store:
            rows = store.datasets()
    if args.json:
        print(json.dumps([d.as_dict() for d in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(t("overview.empty", args.lang))
        return 0
    lang = args.lang
    head = {k: t(f"cli.col.{k}", lang) for k in ("name", "leads", "won", "lost", "open")}
    width = max([display_width(head["name"])] + [display_width(d.name) for d in rows])
    print(
        f"{pad(head['name'], width)}  {rpad(head['leads'], 10)}  {rpad(head['won'], 8)}  "
        f"{rpad(head['lost'], 8)}  {rpad(head['open'], 8)}  {t('cli.col.loaded_at', lang)}"
    )
    for d in rows:
        print(
            f"{pad(d.name, width)}  {d.leads:>10,}  {d.won:>8,}  {d.lost:>8,}  {d.open:>8,}  "
            f"{d.loaded_at:%Y-%m-%d %H:%M}"
        )
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    with _store(args) as store:
        info = store.rename(args.old, args.new)
    print(t("data.renamed", args.lang, name=info.name))
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    with _store(args) as store:
        info = store.require(args.name)
        if not args.yes:
            prompt = t("data.delete_confirm", args.lang, name=info.name, leads=f"{info.leads:,}")
            if not sys.stdin.isatty():
                print(t("cli.add_yes", args.lang, prompt=prompt), file=sys.stderr)
                return 2
            if input(f"{prompt} [y/N] ").strip().lower() not in ("y", "yes"):
                return 1
        store.delete(args.name)
    print(t("data.deleted", args.lang, name=args.name))
    return 0


def _analysis_inputs(args: argparse.Namespace, store: Store) -> tuple[DatasetInfo, Filters]:
    if args.dataset:
        info = store.require(args.dataset)
    else:
        infos = store.datasets()
        if not infos:
            raise StoreError("dataset_missing", name="-", known="-")
        info = infos[0]
    filters = Filters(
        date_from=parse_date(args.date_from),
        date_to=parse_date(args.date_to),
        equals=parse_where(args.where),
    )
    return info, filters


def _cmd_funnel(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        info, filters = _analysis_inputs(args, store)
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
    print(f"{info.name}: {_described(filters, lang)}")
    col = {k: t(f"cli.col.{k}", lang) for k in ("stage", "leads", "from_prev", "from_first")}
    print(
        f"{pad(col['stage'], 12)} {rpad(col['leads'], 10)} {rpad(col['from_prev'], 10)} "
        f"{rpad(col['from_first'], 11)} {rpad(t('cli.col.drop_off', lang), 10)}"
    )
    for step in steps:
        print(
            f"{pad(_stage(step.stage, lang), 12)} {step.n:>10,} "
            f"{_pct(step.rate_from_previous):>10} {_pct(step.rate_from_first):>11} "
            f"{step.drop_off:>10,}"
        )
    if trend is not None:
        target, days = _stage(trend.target, lang), trend.days_to_convert_p90
        print("\n" + t("cli.cohorts", lang, target=target, days=days))
        for c in trend.cohorts:
            flag = "" if c.mature else t("cli.immature", lang)
            print(f"{c.month:%Y-%m} {c.n:>8,} {c.converted:>7,} {_pct(c.rate):>7}{flag}")
    for tr in times or []:
        a, b = _stage(tr.from_stage, lang), _stage(tr.to_stage, lang)
        print(t("cli.time_to_convert", lang, a=a, b=b, days=tr.median_days, n=f"{tr.n:,}"))
    return 0


def _described(filters: Filters, lang: str) -> str:
    """The filters as ``col = value, ...``, or "all leads"."""
    return ", ".join(f"{k} = {v}" for k, v in filters.describe()) or t("cli.all_leads", lang)


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("needs at least 2 bins")
    return value


def _pct(x: float | None) -> str:
    """Render a rate as a percentage.

    >>> _pct(0.10525), _pct(None)
    ('10.5%', '–')
    """
    return "–" if x is None else f"{x:.1%}"


def _cmd_segments(args: argparse.Namespace) -> int:
    bins: dict[str, Binning] = {c: Binning(q=args.bins) for c in args.by}
    for item in args.edges:
        col, _, text = item.partition("=")
        try:
            edges = parse_edges(text)
        except ValueError:
            raise FilterError("bad_edges", item=item) from None
        bins[col.strip()] = Binning(edges=edges)
    with _store(args, read_only=True) as store:
        info, filters = _analysis_inputs(args, store)
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
    if args.json:
        print(json.dumps([s.as_dict() for s in table.segments], ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    print(
        t(
            "cli.segments_title",
            lang,
            name=info.name,
            filters=_described(filters, lang),
            a=_stage(table.from_stage, lang),
            b=_stage(table.to_stage, lang),
            by=" × ".join(table.by),
            rate=_pct(table.overall_rate),
            n=f"{table.n:,}",
        )
    )
    col = {k: t(f"cli.col.{k}", lang) for k in ("segment", "leads", "conv", "rate", "ci", "lift")}
    width = max([display_width(col["segment"])] + [display_width(s.label) for s in table.segments])
    print(
        f"{pad(col['segment'], width)}  {rpad(col['leads'], 9)}  {rpad(col['conv'], 7)}  "
        f"{rpad(col['rate'], 6)}  {pad(col['ci'], 16)}{col['lift']}"
    )
    for s in table.segments:
        kind = "small" if s.small_sample else "best" if s.best else "worst" if s.worst else ""
        flag = t(f"cli.flag.{kind}", lang) if kind else ""
        lift = "–" if s.lift is None else f"{s.lift:.2f}"
        print(
            f"{pad(s.label, width)}  {s.n:>9,}  {s.converted:>7,}  {_pct(s.rate):>6}  "
            f"{_pct(s.ci_low):>6}–{_pct(s.ci_high):<6}  {lift:>5}{flag}"
        )
    return 0


def _read_rules(path_text: str, store: Store, info: DatasetInfo, lang: str) -> RuleSet:
    """Read a rule set for ``info``: known columns, values spelled as the dataset spells them.

    Values the dataset never holds are noted on stderr (such a rule simply never applies).
    """
    path = Path(path_text)
    if not path.is_file():
        raise RuleSetError("file_missing", where=Where(str(path)))
    rs = ruleset_from_text(_text_file(path, "rule set"), source=str(path))
    check_columns(rs, info.columns, source=str(path))
    aligned, unknown = align_values(store, info, rs)
    if unknown:
        values = "; ".join(unknown[:10])
        _note(t("cli.unknown_values", lang, file=path, name=info.name, values=values), lang)
    return aligned


def _cmd_evaluate(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        info, filters = _analysis_inputs(args, store)
        rs = _read_rules(args.rules, store, info, args.lang)
        result = evaluate(score_histogram(store, info, rs, filters), rs)
    payload = result.as_dict() | {"capacity_per_week": args.capacity}
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    print(
        t(
            "cli.evaluate_title",
            lang,
            name=info.name,
            rules=rs.name,
            n=f"{result.n:,}",
            rate=_pct(result.base_rate),
        )
    )
    for tier in result.tiers:
        print(
            t(
                "cli.evaluate_tier",
                lang,
                tier=pad(tier.name, 8),
                n=f"{tier.n:>9,}",
                share=_pct(tier.share),
                won=f"{tier.won:>7,}",
                rate=f"{_pct(tier.rate):>6}",
                low=_pct(tier.ci_low),
                high=_pct(tier.ci_high),
            )
        )
    auc = "–" if result.auc is None else f"{result.auc:.3f}"
    lift = "–" if result.lift is None else f"{result.lift:.2f}×"
    print(
        t(
            "cli.evaluate_metrics",
            lang,
            precision=_pct(result.precision),
            recall=_pct(result.recall),
            lift=lift,
            auc=auc,
            missed=f"{result.missed_won:,}",
        )
    )
    if result.hot_per_week is not None:
        fits = ""
        if args.capacity:
            over = result.hot_per_week > args.capacity
            fits = t("cli.over_capacity" if over else "cli.fits_capacity", lang)
        print(t("cli.per_week", lang, n=f"{result.hot_per_week:,.1f}", fits=fits))
    if not result.monotonic:
        print(t("cli.not_monotonic", lang))
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    if args.file:
        if args.dataset or args.where or args.date_from or args.date_to:
            raise ApplyError("score_file_filters")
        scored = score_file(
            read_rules_file(args.rules),
            args.file,
            activities_path=args.activities,
            encoding=args.encoding,
            keep_last=args.keep_last,
            lang=args.lang,
        )
        for note in scored.notes:
            _note(note, args.lang)
        frame = scored.frame
    else:
        with _store(args, read_only=True) as store:
            info, filters = _analysis_inputs(args, store)
            rs = _read_rules(args.rules, store, info, args.lang)
            frame = score_leads(store, info, rs, filters, lang=args.lang)
        frame = frame.drop(columns=["outcome"])
    if args.out:
        _write_table(frame, Path(args.out))
        print(t("cli.wrote_scored", args.lang, n=f"{len(frame):,}", file=args.out), file=sys.stderr)
    else:
        safe_frame(frame).to_csv(sys.stdout, index=False)
    return 0


def _write_table(frame: Any, out: Path) -> None:
    """Write scores; CSV cells a spreadsheet would run as formulas are neutralised."""
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        safe_frame(frame).to_csv(out, index=False)


def _text_file(path: Path, what: str) -> str:
    """Read a YAML/JSON file the user wrote; anything but UTF-8 text is a clear refusal."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        if what == "mapping":
            raise MappingFileError("not_utf8", where=str(path)) from None
        raise RuleSetError("not_utf8", where=Where(str(path))) from None
    except OSError as exc:
        if what == "mapping":
            raise MappingFileError("cannot_read", where=str(path), reason=exc.strerror) from None
        raise RuleSetError("cannot_read", where=Where(str(path)), reason=exc.strerror) from None


def _cmd_hot(args: argparse.Namespace) -> int:
    rules = read_rules_file(args.rules)
    since = parse_date(args.since) if args.since else None
    frame = hot_leads(
        rules,
        args.file,
        activities_path=args.activities,
        since=since,
        encoding=args.encoding,
        keep_last=args.keep_last,
        lang=args.lang,
    )
    hot = frame[["id", "score", "tier", "reasons"]]

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
        print(t("cli.posted", args.lang, n=n, url=args.webhook, status=status), file=sys.stderr)
        return 0
    if args.format == "json":
        print(json.dumps(records(), ensure_ascii=False, indent=2))
    else:
        safe_frame(hot).to_csv(sys.stdout, index=False)
    print(t("cli.hot_count", args.lang, n=n), file=sys.stderr)
    return 0


def _cmd_sql(args: argparse.Namespace) -> int:
    rules = read_rules_file(args.rules)
    tables = {
        "dialect": args.dialect,
        "table": args.table,
        "activities_table": args.activities_table,
    }
    if args.dataset:  # the dataset's mapping and activity log, as the Rule sets page exports
        with _store(args, read_only=True) as store:
            info = store.require(args.dataset)
            check_columns(rules.ruleset, info.columns, source=args.rules)
            text = version_sql(info, replace(rules, mapping=None), store=store, **tables)
    elif rules.mapping is None:
        raise ApplyError("sql_needs_dataset", file=args.rules)
    else:
        text = ruleset_sql(rules.ruleset, rules.mapping, **tables)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(t("cli.wrote", args.lang, file=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


# --- rules: the saved versions ---------------------------------------------------------------


def _cmd_rules(args: argparse.Namespace) -> int:
    return int(_RULES[args.rules_command](args))


def _version_line(v: Version, lang: str) -> str:
    signed = ", ".join(f"{t(f'cli.role.{s.role}', lang)}: {s.name}" for s in v.signoffs) or "–"
    status = t(f"cli.status.{v.status}", lang) + (t("cli.current", lang) if v.current else "")
    return (
        f"#{v.version_id:<4} {pad(v.label(), 28)} {pad(status, 18)} {pad(v.dataset, 16)} "
        f"{v.saved_at:%Y-%m-%d %H:%M}  {v.author}  [{signed}]"
    )


def _version_json(v: Version) -> dict[str, Any]:
    return {"id": v.version_id, "current": v.current, **version_to_dict(v)}


def _rules_list(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        versions = list_versions(store, args.dataset)
    if args.json:
        print(json.dumps([_version_json(v) for v in versions], ensure_ascii=False, indent=2))
    elif not versions:
        print(t("versions.none", args.lang))
    else:
        for v in versions:
            print(_version_line(v, args.lang))
    return 0


def _rules_show(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        v = find_version(store, args.ref, args.dataset)
    if args.json:
        print(json.dumps(_version_json(v), ensure_ascii=False, indent=2))
        return 0
    print(_version_line(v, args.lang))
    if v.rationale:
        print(f"  {v.rationale}")
    for line in v.ruleset.describe(args.lang):
        print(f"  - {line}")
    m = v.metrics
    if m:
        print(
            t(
                "cli.show_metrics",
                args.lang,
                hot=f"{m.get('hot', 0):,}",
                precision=_pct(m.get("precision")),
                recall=_pct(m.get("recall")),
                auc=fmt_metric(m.get("auc"), "auc"),
            )
        )
    return 0


def _rules_save(args: argparse.Namespace) -> int:
    with _store(args) as store:
        info = store.require(args.dataset)
        rs = _read_rules(args.rules, store, info, args.lang)
        v = save_version(
            store,
            info,
            rs,
            author=args.author,
            rationale=args.rationale,
            effective_from=parse_date(args.effective_from) if args.effective_from else None,
        )
    return _print_saved(v, args)


def _print_saved(v: Version, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print(json.dumps(_version_json(v), ensure_ascii=False, indent=2))
    else:
        print(t("versions.saved", args.lang, label=v.label(), id=v.version_id))
    return 0


def _rules_propose(args: argparse.Namespace) -> int:
    with _store(args) as store:
        v = propose(store, find_version(store, args.ref, args.dataset).version_id, args.name)
    print(_version_line(v, args.lang))
    return 0


def _rules_sign(args: argparse.Namespace) -> int:
    with _store(args) as store:
        ref = find_version(store, args.ref, args.dataset)
        v = sign(store, ref.version_id, args.role, args.name, args.comment)
    print(_version_line(v, args.lang))
    return 0


def _rules_diff(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        a = find_version(store, args.a, args.dataset)
        b = find_version(store, args.b, args.dataset)
        info = store.require(args.dataset or b.dataset)
        diff = compare_versions(store, info, a, b, lang=args.lang)
    if args.json:
        payload = {
            "a": a.version_id,
            "b": b.version_id,
            "dataset": info.name,
            "changes": [c.__dict__ for c in diff.changes],
            "metrics": [{"metric": k, "a": x, "b": y} for k, x, y in diff.metrics],
            "tier_moves": [{"from": f, "to": to, "leads": n} for f, to, n in diff.moves],
            "changed_leads": diff.changed_leads,
            "leads": diff.leads.to_dict(orient="records"),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return 0
    lang = args.lang
    print(t("cli.diff_title", lang, a=a.label(), b=b.label(), dataset=info.name))
    for c in diff.changes:
        arrow = " → " if c.before and c.after else ""
        kind = t(f"cli.change.{c.kind}", lang)
        print(f"  {pad(kind, 8)} {c.before or ''}{arrow}{c.after or ''}")
    if not diff.changes:
        print(t("cli.no_rule_changes", lang))
    for (key, x, y), (_, _, _, kind) in zip(diff.metrics, METRICS, strict=True):
        name = pad(t(f"cli.metric.{key}", lang), 12)
        print(f"  {name} {fmt_metric(x, kind):>10} → {fmt_metric(y, kind):>10}")
    for f, to, n in diff.moves:
        print(t("cli.tier_move", lang, n=f"{n:>8,}", a=f, b=to))
    return 0


def _rules_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    with _store(args, read_only=True) as store:
        v = find_version(store, args.ref, args.dataset)
        if args.format == "yaml":
            out.write_text(version_to_yaml(v), encoding="utf-8")
        elif args.format == "json":
            out.write_text(version_to_json(v), encoding="utf-8")
        elif args.format == "sql":
            info = store.require(v.dataset)
            text = version_sql(
                info,
                v,
                dialect=args.dialect,
                table=args.table,
                activities_table=args.activities_table,
                store=store,
            )
            out.write_text(text, encoding="utf-8")
        else:
            info = store.require(v.dataset)
            if args.format == "report":
                out.write_bytes(report_bytes(store, info, v, lang=args.lang))
            else:
                kind = "xlsx" if args.format == "handoff-xlsx" else "csv"
                out.write_bytes(handoff_bytes(store, info, v, kind=kind, lang=args.lang))
    print(t("cli.wrote", args.lang, file=out), file=sys.stderr)
    return 0


def _rules_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise RuleSetError("file_missing", where=Where(str(path)))
    with _store(args) as store:
        info = store.require(args.dataset)
        v = import_version(
            store,
            info,
            _text_file(path, "rule set"),
            source=str(path),
            author=args.author,
        )
    return _print_saved(v, args)


_RULES = {
    "list": _rules_list,
    "show": _rules_show,
    "save": _rules_save,
    "propose": _rules_propose,
    "sign": _rules_sign,
    "diff": _rules_diff,
    "export": _rules_export,
    "import": _rules_import,
}


def _cmd_suggest(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        info, filters = _analysis_inputs(args, store)
        suggestion = suggest_rules(
            store,
            info,
            filters=filters,
            target_conversion=args.target_conversion,
            capacity_per_week=args.capacity,
            max_points=args.max_points,
            baseline=template_for(info),
        )
    named = replace(suggestion.ruleset, name=t("rules.name.suggested", args.lang))
    Path(args.out).write_text(rules_document(named, file_mapping(info)), encoding="utf-8")
    if args.json:
        print(json.dumps(suggestion.as_dict(), ensure_ascii=False, indent=2))
    else:
        s = suggestion
        auc = "–" if s.holdout_auc is None else f"{s.holdout_auc:.3f}"
        base = "–" if s.baseline_auc is None else f"{s.baseline_auc:.3f}"
        print(
            t(
                "cli.suggested",
                args.lang,
                file=args.out,
                rules=len(s.ruleset.rules),
                split=t(f"cli.split.{s.split}", args.lang),
                n=f"{s.holdout_n:,}",
                auc=auc,
                baseline=t("rules.name.template", args.lang),  # the baseline is the template
                base=base,
            )
        )
        if s.no_better:  # nothing gained on leads it was not fitted on
            message = t("cli.suggest_no_better", args.lang, auc=auc, base=base)
            print(t("cli.warning", args.lang, message=message), file=sys.stderr)
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    with _store(args, read_only=True) as store:
        info, _ = _analysis_inputs(args, store)
    template = replace(template_for(info), name=t("rules.name.template", args.lang))
    Path(args.out).write_text(rules_document(template, file_mapping(info)), encoding="utf-8")
    print(t("cli.wrote", args.lang, file=args.out), file=sys.stderr)
    if not template.rules:  # a file to edit, but say why it scores nothing yet
        message = t("cli.template_empty", args.lang, dataset=info.name)
        print(t("cli.warning", args.lang, message=message), file=sys.stderr)
    return 0


_COMMANDS = {
    "demo": _cmd_demo,
    "load": _cmd_load,
    "mapping": _cmd_mapping,
    "datasets": _cmd_datasets,
    "rename": _cmd_rename,
    "delete": _cmd_delete,
    "funnel": _cmd_funnel,
    "segments": _cmd_segments,
    "evaluate": _cmd_evaluate,
    "score": _cmd_score,
    "hot": _cmd_hot,
    "sql": _cmd_sql,
    "rules": _cmd_rules,
    "suggest": _cmd_suggest,
    "template": _cmd_template,
}

if __name__ == "__main__":
    raise SystemExit(main())
