"""``funnel demo|load|mapping|datasets|rename|delete``: the stored datasets."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from funnel.cli.common import acting, db_path, file_limits, open_store
from funnel.cli.output import (
    clean,
    display_width,
    note,
    pad,
    print_problems,
    progress,
    rpad,
    say,
)
from funnel.handoff import csv_text
from funnel.i18n import t
from funnel.ingest import LoadResult, choose_mapping, load_demo, read_inputs
from funnel.loads import LoadRecord, history_row
from funnel.mapping import Mapping, Overrides
from funnel.mapping.files import mapping_to_yaml
from funnel.mapping.leaks import LeftOut, left_out
from funnel.mapping.sample import ProposalSample, proposal_sample
from funnel.problems import printable as escape
from funnel.readers import SourceFile
from funnel.sources import Inputs, Source, SourceError, default_name, masked
from funnel.sources import load as load_sources
from funnel.sources import read_inputs as read_sources
from funnel.suggest.columns import file_left_out, stored_left_out
from funnel.wrongfile import outcomes_file_problem


def register(sub: Any, common: argparse.ArgumentParser) -> None:
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
    demo.set_defaults(run=_demo)

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
        "--open",
        action="append",
        default=[],
        help="a value meaning still open (an open stage); repeat for several",
    )
    mapping_flags.add_argument(
        "--leak",
        action="append",
        default=[],
        help="a column that is not a lead feature (known after the sale)",
    )
    mapping_flags.add_argument(
        "--not-leak",
        action="append",
        default=[],
        metavar="COL",
        help="score a column flagged as a leak: it is known before the sale",
    )
    mapping_flags.add_argument(
        "--placeholder", action="append", default=[], help="an extra value meaning missing"
    )
    verdict = mapping_flags.add_argument_group(
        "sales' verdict and first contact in the leads file (proposed from headers and values)"
    )
    verdict.add_argument(
        "--first-contact", metavar="COL", help="the date sales first touched the lead"
    )
    verdict.add_argument("--lead-status", metavar="COL", help="the column read as sales' verdict")
    for flag, meaning in (
        ("--accepted", "accepted by sales"),
        ("--rejected", "rejected (disqualified) by sales"),
        ("--not-contacted", "not contacted yet"),
    ):
        verdict.add_argument(
            flag,
            action="append",
            default=[],
            metavar="VALUE",
            help=f"a status value meaning {meaning}",
        )
    mapping_flags.add_argument("--encoding", help="force the text encoding (utf-8, cp932, ...)")
    file_limits(mapping_flags)

    load = sub.add_parser(
        "load",
        parents=[common, mapping_flags],
        help="load a CRM export (a new dataset, a replacement, or --refresh by lead id)",
    )
    load.add_argument("file", nargs="?", help="the leads file (or use --from)")
    load.add_argument("--dataset", help="dataset name (default: the file name)")
    _source_flags(load)
    load.add_argument(
        "--keep-last",
        action="store_true",
        help="keep the last row of each repeated id instead of failing",
    )
    load.add_argument(
        "--refresh",
        action="store_true",
        help="update the existing --dataset by lead id (new leads added, changed ones updated, "
        "missing ones kept, history kept) instead of replacing it",
    )
    load.add_argument(
        "--accept-changed-outcomes",
        action="store_true",
        help="with --refresh: go ahead although won or lost outcomes already recorded change",
    )
    load.add_argument("--json", action="store_true", help="print the result as JSON")
    load.set_defaults(run=_load)

    mp = sub.add_parser(
        "mapping",
        parents=[common, mapping_flags],
        help="print the proposed mapping as YAML to edit",
    )
    mp.add_argument("file", nargs="?", help="the leads file (or use --from)")
    _source_flags(mp)
    mp.set_defaults(run=_mapping, data_out=True)

    ds = sub.add_parser(
        "datasets", parents=[common], help="list stored datasets (--history: every load)"
    )
    ds.add_argument("--json", action="store_true")
    ds.add_argument(
        "--history",
        action="store_true",
        help="list every load instead: when, files and their SHA-256, leads added/changed/"
        "unchanged/missing",
    )
    ds.add_argument("--dataset", help="with --history: only this dataset's loads")
    ds.set_defaults(run=_datasets)

    rn = sub.add_parser("rename", parents=[common], help="rename a dataset")
    rn.add_argument("old")
    rn.add_argument("new")
    rn.set_defaults(run=_rename)


def _source_flags(load: argparse.ArgumentParser) -> None:
    """``--from`` and what to read from it (data where it lives, :mod:`funnel.sources`)."""
    group = load.add_argument_group(
        "data where it lives",
        "read the leads (and outcomes, activities) from a database, Spark or many files; the "
        "password comes from PGPASSWORD, ~/.pgpass or the string, and is never stored or shown",
    )
    group.add_argument(
        "--from",
        dest="origin",
        metavar="WHERE",
        help="postgresql://user@host:5432/db, spark-local, spark://host:7077, sc://host (Spark "
        "Connect), or a folder or quoted glob of CSV/Parquet exports ('exports/*.csv')",
    )
    for prefix, what in (("", "leads"), ("outcomes-", "outcomes"), ("activities-", "activities")):
        dest = prefix.replace("-", "_")
        group.add_argument(f"--{prefix}table", dest=f"{dest}table", help=f"the {what} table")
        group.add_argument(f"--{prefix}query", dest=f"{dest}query", help=f"a query for the {what}")
        group.add_argument(
            f"--{prefix}path",
            dest=f"{dest}path",
            help=f"with Spark: a Parquet or Delta path holding the {what}",
        )
    group.add_argument(
        "--format",
        dest="path_format",
        choices=("parquet", "delta"),
        default="parquet",
        help="the format of the --path options (default parquet)",
    )


def register_delete(sub: Any, common: argparse.ArgumentParser) -> None:
    """``funnel delete`` (listed last in ``funnel --help``, as it always was)."""
    rm = sub.add_parser("delete", parents=[common], help="delete a dataset")
    rm.add_argument("name")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(run=_delete)


def _demo(args: argparse.Namespace) -> int:
    from funnel.demo import generate_leads

    if args.out:
        print(t("progress.generate", args.lang), file=sys.stderr, flush=True)
        frame = generate_leads(args.leads, seed=args.seed, lang=args.data_lang)
        out = Path(args.out)
        if out.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(out, index=False)
        else:
            sep = "\t" if out.suffix.lower() in (".tsv", ".tab") else ","
            text = csv_text(frame, sep=sep, date_format="%Y-%m-%d")
            out.write_bytes(text.encode(args.encoding))
        print(say("cli.wrote_leads", args.lang, n=len(frame), file=str(out)), file=sys.stderr)
        return 0
    with open_store(args) as store:
        result = load_demo(
            store,
            args.dataset,
            leads=args.leads,
            seed=args.seed,
            lang=args.data_lang,
            progress=progress(args.lang),
            by=acting(args, store),
        )
        read = stored_left_out(store, result.dataset)
    _print_loaded(result, args.lang, as_json=False, read=read)
    return 0


def _mapping_for(
    args: argparse.Namespace,
    leads: SourceFile,
    outcomes: SourceFile | None,
    activities: SourceFile | None,
    stored: Mapping | None = None,
) -> Mapping:
    overrides = Overrides(
        id_column=args.id_column,
        created=args.created,
        source=args.source,
        outcome=args.outcome,
        won=tuple(args.won),
        lost=tuple(args.lost),
        open=tuple(args.open),
        leaks=tuple(args.leak),
        not_leaks=tuple(args.not_leak),
        placeholders=tuple(args.placeholder),
        first_contact=args.first_contact,
        lead_status=args.lead_status,
        accepted=tuple(args.accepted),
        rejected=tuple(args.rejected),
        not_contacted=tuple(args.not_contacted),
    )
    return choose_mapping(
        leads, outcomes, activities, mapping_file=args.mapping, overrides=overrides, stored=stored
    )


def _read_files(
    args: argparse.Namespace,
) -> tuple[SourceFile, SourceFile | None, SourceFile | None]:
    """The leads file and its outcomes and activity files, as ``load`` and ``mapping`` read
    them (size, memory, encoding and sheet from the flags)."""
    if args.file is None:
        raise SourceError("leads_missing")
    return read_inputs(
        args.file,
        args.outcomes,
        args.activities,
        max_bytes=args.max_size,
        encoding=args.encoding,
        sheet=args.sheet,
        max_memory=args.max_memory,
    )


def _load(args: argparse.Namespace) -> int:
    """``funnel load``: read the files (or, with ``--from``, where the data lives), then store
    them through the one load every source shares."""
    report = progress(args.lang)
    report("read", 0.0)
    if args.origin is not None:
        leads, outcomes, activities = _sources_of(args)
        inputs = read_sources(
            leads,
            outcomes,
            activities,
            max_bytes=args.max_size,
            max_memory=args.max_memory,
            encoding=args.encoding,
        )
        name = args.dataset or default_name(leads)
    else:
        inputs = Inputs(*_read_files(args), counted=None)
        name = args.dataset or Path(args.file).stem
    report("map", 0.1)
    with open_store(args) as store:
        before = store.require(name) if args.refresh else store.dataset(name)
        stored = before.mapping if args.refresh and before is not None else None
        mapping = _mapping_for(args, inputs.leads, inputs.outcomes, inputs.activities, stored)
        result = load_sources(
            store,
            name,
            inputs,
            mapping=mapping,
            keep_last=args.keep_last,
            refresh=args.refresh,
            accept_changed_outcomes=args.accept_changed_outcomes,
            progress=report,
            by=acting(args, store),
        )
        read = stored_left_out(store, result.dataset)
    sample = proposal_sample(len(inputs.leads.frame)) if args.mapping is None else None
    _print_loaded(result, args.lang, as_json=args.json, sample=sample, read=read)
    if before is not None and not args.refresh and not args.json:
        info = result.dataset
        note(
            say(
                "refresh.replaced_note",
                args.lang,
                name=info.name,
                before=f"{before.leads:,}",
                leads=f"{info.leads:,}",
            ),
            args.lang,
        )
    return 0


def _sources_of(args: argparse.Namespace) -> tuple[Source, Source | None, Source | None]:
    """The leads, outcomes and activities ``funnel load --from`` reads."""
    origin = args.origin
    files = Source(origin).engine == "files"
    if args.file is not None:
        raise SourceError("file_and_from")

    def one(prefix: str, given: str | None) -> Source | None:
        table, query, path = (getattr(args, f"{prefix}{k}") for k in ("table", "query", "path"))
        if files:
            if table or query or path:
                raise SourceError("files_take_no_table", where=masked(origin))
            return Source(given) if given else None
        if not (table or query or path):
            if given:  # an outcomes or activity file beside a database's leads
                return Source(given)
            return None
        return Source(origin, table=table, query=query, path=path, format=args.path_format)

    if files:
        leads = Source(origin)
    else:
        leads = Source(
            origin, table=args.table, query=args.query, path=args.path, format=args.path_format
        )
    return leads, one("outcomes_", args.outcomes), one("activities_", args.activities)


def _print_loaded(
    result: LoadResult,
    lang: str,
    *,
    as_json: bool,
    sample: ProposalSample | None = None,
    read: Sequence[LeftOut] = (),
) -> None:
    """What a load stored and left out (``read``: the columns the suggestion's reading of the
    stored values leaves out); with ``sample``, that the proposal read a sample."""
    info = result.dataset
    kept_out = left_out(info.mapping, read)
    plan = result.refresh
    if as_json:
        payload = info.as_dict() | {
            "notes": [p.as_dict(lang) for p in result.problems],
            "left_out": [item.as_dict(lang) for item in kept_out],
        }
        if plan is not None:
            payload["refresh"] = plan.as_dict()
        if sample is not None:
            payload["proposal_sample"] = sample.as_dict()
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if sample is not None:
        note(sample.sentence(lang), lang)
    shown = [p for p in result.problems if p.severity != "info" or p.code.startswith("sheet_")]
    print_problems(shown, lang, sys.stderr)  # notes only for the sheet read, if any
    if plan is not None:
        print(say("refresh.done", lang, **plan.done_params(info)))
        _print_left_out(kept_out, lang, sys.stdout)
        return
    print(
        say(
            "data.loaded",
            lang,
            name=info.name,
            leads=f"{info.leads:,}",
            won=f"{info.won:,}",
            lost=f"{info.lost:,}",
            open=f"{info.open:,}",
        )
    )
    _print_left_out(kept_out, lang, sys.stdout)


def _print_left_out(items: list[LeftOut], lang: str, out: TextIO) -> None:
    """The columns kept out of scoring, one per line with why; then those scored although
    flagged, and how to change either."""
    left = [item for item in items if not item.scored]
    kept = [item for item in items if item.scored]
    if left:
        print(t("left.header", lang), file=out)
        for item in left:
            print("  " + escape(item.line(lang)), file=out)
    if kept:
        print(t("left.kept_header", lang), file=out)
        for item in kept:
            print("  " + escape(item.line(lang)), file=out)
    if any(item.overrulable for item in items):
        print(t("left.cli_hint", lang), file=out)


def _mapping(args: argparse.Namespace) -> int:
    if args.origin is not None:  # an engine's activity log is mapped on a sample of its rows
        inputs = read_sources(
            *_sources_of(args),
            max_bytes=args.max_size,
            max_memory=args.max_memory,
            encoding=args.encoding,
        )
        leads, outcomes, activities = inputs.leads, inputs.outcomes, inputs.activities
    else:
        leads, outcomes, activities = _read_files(args)
    mapping = _mapping_for(args, leads, outcomes, activities)
    wrong = outcomes_file_problem(leads, mapping)
    print_problems([wrong] if wrong else [], args.lang, sys.stderr)
    sys.stdout.write(mapping_to_yaml(mapping))
    _print_left_out(left_out(mapping, file_left_out(mapping, leads.frame)), args.lang, sys.stderr)
    sample = proposal_sample(len(leads.frame)) if args.mapping is None else None
    if sample is not None:
        note(sample.sentence(args.lang), args.lang)
    return 0


def _datasets(args: argparse.Namespace) -> int:
    if args.history:
        return _history(args)
    if not db_path(args).exists():
        rows: list[Any] = []
    else:
        with open_store(args, read_only=True) as store:
            rows = store.datasets()
    if args.json:
        print(json.dumps([d.as_dict() for d in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(t("overview.empty", args.lang))
        return 0
    lang = args.lang
    head = {k: t(f"cli.col.{k}", lang) for k in ("name", "leads", "won", "lost", "open")}
    names = {d.name: clean(d.name) for d in rows}
    width = max([display_width(head["name"])] + [display_width(n) for n in names.values()])
    print(
        f"{pad(head['name'], width)}  {rpad(head['leads'], 10)}  {rpad(head['won'], 8)}  "
        f"{rpad(head['lost'], 8)}  {rpad(head['open'], 8)}  {t('cli.col.loaded_at', lang)}"
    )
    for d in rows:
        print(
            f"{pad(names[d.name], width)}  {d.leads:>10,}  {d.won:>8,}  {d.lost:>8,}  "
            f"{d.open:>8,}  {d.loaded_at:%Y-%m-%d %H:%M}"
        )
    return 0


def _history(args: argparse.Namespace) -> int:
    """``funnel datasets --history``: every load, oldest first."""
    if not db_path(args).exists():
        records: list[LoadRecord] = []
    else:
        with open_store(args, read_only=True) as store:
            records = store.load_history(args.dataset)
    if args.json:
        print(json.dumps([r.as_dict() for r in records], ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    if not records:
        print(t("loads.empty", lang))
        return 0
    rows = [history_row(r, lang) for r in records]
    keys = list(rows[0])
    head = {k: t(f"loads.col.{k}", lang) for k in keys}
    cells = [{k: clean(v) for k, v in row.items()} for row in rows]
    width = {k: max([display_width(head[k])] + [display_width(c[k]) for c in cells]) for k in keys}
    left = ("loaded_at", "dataset", "mode", "files")
    for row in [head, *cells]:
        line = "  ".join(
            pad(row[k], width[k]) if k in left else rpad(row[k], width[k]) for k in keys
        )
        print(line.rstrip())
    return 0


def _rename(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        info = store.rename(args.old, args.new, by=acting(args, store))
    print(say("data.renamed", args.lang, name=info.name))
    return 0


def _delete(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        info = store.require(args.name)
        if not args.yes:
            prompt = say("data.delete_confirm", args.lang, name=info.name, leads=f"{info.leads:,}")
            if not sys.stdin.isatty():
                print(t("cli.add_yes", args.lang, prompt=prompt), file=sys.stderr)
                return 2
            if input(f"{prompt} [y/N] ").strip().lower() not in ("y", "yes"):
                return 1
        store.delete(args.name, by=acting(args, store))
    print(say("data.deleted", args.lang, name=args.name))
    return 0
