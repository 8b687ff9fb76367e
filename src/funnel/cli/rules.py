"""``funnel rules list|show|save|propose|sign|diff|export|import``: saved versions, sign-off."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from funnel.apply import read_rules_text
from funnel.cli.common import acting, open_store
from funnel.cli.output import clean, metric_lines, pad, say
from funnel.dialects import DIALECTS
from funnel.filters import parse_date
from funnel.formats import metric, shown_in
from funnel.i18n import t
from funnel.meeting import EXPORTS, Target, export
from funnel.population import stored_description
from funnel.rules import PROMISES, ruleset_from_text, service_level_from_dict
from funnel.versions.diff import compare_versions
from funnel.versions.files import check_values, import_version, version_to_dict
from funnel.versions.history import find_version, list_versions, save_version
from funnel.versions.record import Version
from funnel.versions.signoff import propose, sign


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    rules = sub.add_parser("rules", parents=[common], help="saved rule-set versions and sign-off")
    rsub = rules.add_subparsers(dest="rules_command", required=True)
    ref_help = "a version: its number (12 or #12), 'current', or 'NAME v3'"

    ls = rsub.add_parser("list", parents=[common], help="the history, newest first")
    ls.add_argument("--dataset", help="only this dataset's versions")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(run=_list)

    show = rsub.add_parser("show", parents=[common], help="one version: rules, metrics, sign-offs")
    show.add_argument("ref", help=ref_help)
    show.add_argument("--dataset", help="the dataset, for 'current' and 'NAME v3'")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)

    save = rsub.add_parser("save", parents=[common], help="save a rule set file as a new draft")
    save.add_argument("--rules", required=True, metavar="R.yaml")
    save.add_argument("--dataset", required=True)
    save.add_argument("--author", required=True)
    save.add_argument("--rationale", default="")
    save.add_argument("--effective-from", metavar="DATE", help="YYYY-MM-DD (default: today)")
    promises = save.add_argument_group(
        "service-level promises, signed with the version (each replaces the file's; 0 removes it)"
    )
    promises.add_argument(
        "--contact-within-hours",
        type=int,
        metavar="N",
        help="sales contacts a hot lead within N hours",
    )
    promises.add_argument(
        "--max-hot-per-week",
        type=int,
        metavar="M",
        help="marketing sends at most M hot leads a week",
    )
    promises.add_argument(
        "--review-every-weeks",
        type=int,
        metavar="K",
        help="the teams review the definition every K weeks",
    )
    save.add_argument("--json", action="store_true")
    save.set_defaults(run=_save)

    pr = rsub.add_parser("propose", parents=[common], help="propose a draft for sign-off")
    pr.add_argument("ref", help=ref_help)
    pr.add_argument("--dataset")
    pr.add_argument("--name", required=True, help="who proposes it")
    pr.set_defaults(run=_propose)

    sg = rsub.add_parser("sign", parents=[common], help="sign a proposed version for one side")
    sg.add_argument("ref", help=ref_help)
    sg.add_argument("--dataset")
    sg.add_argument("--role", required=True, choices=("marketing", "sales"))
    sg.add_argument("--name", required=True, help="who signs")
    sg.add_argument("--comment", default="")
    sg.set_defaults(run=_sign)

    df = rsub.add_parser("diff", parents=[common], help="what changed between two versions")
    df.add_argument("a", help=ref_help)
    df.add_argument("b", help=ref_help)
    df.add_argument("--dataset", help="measure both on this dataset (default: b's)")
    df.add_argument("--json", action="store_true")
    df.set_defaults(run=_diff)

    ex = rsub.add_parser("export", parents=[common], help="write a version to a file")
    ex.add_argument("ref", help=ref_help)
    ex.add_argument("--dataset")
    ex.add_argument("--format", required=True, choices=[e.name for e in EXPORTS])
    ex.add_argument("--dialect", default="duckdb", choices=DIALECTS, help="for --format sql")
    ex.add_argument("--table", default="leads", help="for --format sql")
    ex.add_argument(
        "--activities-table",
        default="activities",
        help="for --format sql: the activity log's table",
    )
    ex.add_argument("--out", required=True, metavar="FILE")
    ex.set_defaults(run=_export)

    im = rsub.add_parser("import", parents=[common], help="save a rule set file as a new draft")
    im.add_argument("file", metavar="R.yaml")
    im.add_argument("--dataset", required=True)
    im.add_argument("--author", required=True)
    im.add_argument("--json", action="store_true")
    im.set_defaults(run=_import)


def _version_line(v: Version, lang: str) -> str:
    """One version on one line; every name in it is escaped (a carriage return or an escape
    sequence in a name could otherwise make a draft look agreed)."""
    signed = (
        ", ".join(f"{t(f'cli.role.{s.role}', lang)}: {clean(s.name)}" for s in v.signoffs) or "–"
    )
    status = t(f"cli.status.{v.status}", lang) + (t("cli.current", lang) if v.current else "")
    return (
        f"#{v.version_id:<4} {pad(clean(v.label()), 28)} {pad(status, 18)} "
        f"{pad(clean(v.dataset), 16)} {v.saved_at:%Y-%m-%d %H:%M}  {clean(v.author)}  [{signed}]"
    )


def _version_json(v: Version) -> dict[str, Any]:
    return {"id": v.version_id, "current": v.current, **version_to_dict(v)}


def _list(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        versions = list_versions(store, args.dataset)
    if args.json:
        print(json.dumps([_version_json(v) for v in versions], ensure_ascii=False, indent=2))
    elif not versions:
        print(t("versions.none", args.lang))
    else:
        for v in versions:
            print(_version_line(v, args.lang))
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        v = find_version(store, args.ref, args.dataset)
    if args.json:
        print(json.dumps(_version_json(v), ensure_ascii=False, indent=2))
        return 0
    print(_version_line(v, args.lang))
    if v.rationale:
        print(f"  {clean(v.rationale)}")
    for line in v.ruleset.describe(args.lang):
        print(f"  - {clean(line)}")
    promises = v.ruleset.service_level.describe(args.lang)
    print(
        f"  {t('promise.title', args.lang)}:" if promises else f"  {t('promise.none', args.lang)}"
    )
    for line in promises:
        print(f"  - {line}")
    if v.metrics:  # as measured when it was saved
        counted = stored_description(v.metrics, args.lang)
        if counted:  # which leads the figures below counted
            print(f"  {counted}")
        rows = [(m, m.text(v.metrics.get(m.key))) for m in shown_in("show")]
        print("\n".join(metric_lines(rows, args.lang)))
    return 0


def _save(args: argparse.Namespace) -> int:
    rules = ruleset_from_text(read_rules_text(args.rules), source=args.rules)
    given = {key: getattr(args, key) for key in PROMISES if getattr(args, key) is not None}
    if given:  # the options' values over the file's; 0 takes a promise away
        promised = rules.service_level.as_dict() | given
        wanted = {k: v for k, v in promised.items() if v != 0}
        rules = replace(
            rules, service_level=service_level_from_dict(wanted, source="--" + "/--".join(given))
        )
    with open_store(args) as store:
        info = store.require(args.dataset)
        v = save_version(
            store,
            info,
            check_values(store, info, rules, source=args.rules),  # as import does
            author=args.author,
            rationale=args.rationale,
            effective_from=parse_date(args.effective_from) if args.effective_from else None,
            by=acting(args, store),
        )
    return _print_saved(v, args)


def _print_saved(v: Version, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print(json.dumps(_version_json(v), ensure_ascii=False, indent=2))
    else:
        print(say("versions.saved", args.lang, label=v.label(), id=v.version_id))
    return 0


def _propose(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        ref = find_version(store, args.ref, args.dataset)
        v = propose(store, ref.version_id, args.name, by=acting(args, store))
    print(_version_line(v, args.lang))
    return 0


def _sign(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        ref = find_version(store, args.ref, args.dataset)
        v = sign(store, ref.version_id, args.role, args.name, args.comment, by=acting(args, store))
    print(_version_line(v, args.lang))
    return 0


def _diff(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
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
            "metrics": [
                {"metric": k, "a": x, "b": y, "improved": metric(k).improved(x, y)}
                for k, x, y in diff.metrics
            ],
            "tier_moves": [{"from": f, "to": to, "leads": n} for f, to, n in diff.moves],
            "changed_leads": diff.changed_leads,
            "leads": diff.leads.to_dict(orient="records"),
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return 0
    lang = args.lang
    print(say("cli.diff_title", lang, a=a.label(), b=b.label(), dataset=info.name))
    for c in diff.changes:
        arrow = " → " if c.before and c.after else ""
        kind = t(f"cli.change.{c.kind}", lang)
        print(f"  {pad(kind, 8)} {clean(c.before or '')}{arrow}{clean(c.after or '')}")
    if not diff.changes:
        print(t("cli.no_rule_changes", lang))
    rows = [(metric(key), x, y) for key, x, y in diff.metrics]
    changes = [(m, f"{m.text(x):>10} → {m.text(y):>10}") for m, x, y in rows]
    print("\n".join(metric_lines(changes, lang)))
    for f, to, n in diff.moves:
        print(say("cli.tier_move", lang, n=f"{n:>8,}", a=f, b=to))
    return 0


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    chosen = export(args.format)
    with open_store(args, read_only=True) as store:
        v = find_version(store, args.ref, args.dataset)
        target = Target(
            store,
            store.require(v.dataset) if chosen.reads else None,
            lang=args.lang,
            dialect=args.dialect,
            table=args.table,
            activities_table=args.activities_table,
        )
        out.write_bytes(chosen.write(v, target))
    print(say("cli.wrote", args.lang, file=str(out)), file=sys.stderr)
    return 0


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    text = read_rules_text(path)  # a missing or unreadable file before opening the database
    with open_store(args) as store:
        info = store.require(args.dataset)
        v = import_version(
            store, info, text, source=str(path), author=args.author, by=acting(args, store)
        )
    return _print_saved(v, args)
