"""``funnel audit|auth|serve``: the audit log, what the database requires, and the team server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from funnel import audit
from funnel.access import Access
from funnel.cli.common import actor, db_path, open_store
from funnel.cli.output import clean, display_width, pad, say
from funnel.i18n import t
from funnel.store import StoreError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    au = sub.add_parser("audit", parents=[common], help="the audit log: who changed what, when")
    au.add_argument("--dataset", help="only rows about this dataset (by the name it had then)")
    au.add_argument("--limit", type=int, help="only the last N rows")
    au.add_argument("--json", action="store_true")
    au.set_defaults(run=_audit)

    auth = sub.add_parser("auth", parents=[common], help="whether the database requires sign-in")
    asub = auth.add_subparsers(dest="auth_command", required=True)
    st = asub.add_parser("status", parents=[common], help="what the database requires")
    st.add_argument("--json", action="store_true")
    st.set_defaults(run=_auth_status)
    off = asub.add_parser(
        "off",
        parents=[common],
        help="stop requiring sign-in (recorded in the audit log with --as)",
    )
    off.set_defaults(run=_auth_off)

    sv = sub.add_parser("serve", parents=[common], help="serve the app for a team (make serve)")
    sv.add_argument("--config", help="the server's TOML config (default: $FUNNEL_SERVER_CONFIG)")
    sv.add_argument("--address", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default 8501)")
    sv.add_argument("--data-dir", help="the server's data folder (database, secrets, temp)")
    sv.add_argument("--auth", choices=("on", "off"), help="sign-in with the identity provider")
    sv.add_argument("--app", default="app/main.py", help="the Streamlit entry point")
    sv.set_defaults(run=_serve)


def _audit(args: argparse.Namespace) -> int:
    if not db_path(args).exists():
        raise StoreError("db_missing", path=str(db_path(args)))
    with open_store(args, read_only=True) as store:
        rows = audit.events(store, dataset=args.dataset, limit=args.limit)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    if not rows:
        print(t("audit.none", lang))
        return 0
    who = [clean(r.actor) for r in rows]
    width = max([display_width(t("cli.audit_col.who", lang))] + [display_width(w) for w in who])
    print(
        f"{pad(t('cli.audit_col.at', lang), 19)}  {pad(t('cli.audit_col.who', lang), width)}  "
        f"{t('cli.audit_col.what', lang)}"
    )
    for r, w in zip(rows, who, strict=True):
        print(f"{r.at:%Y-%m-%d %H:%M:%S}  {pad(w, width)}  {describe(r, lang)}")
    return 0


def describe(event: audit.AuditEvent, lang: str) -> str:
    """One row in words: what was done, to what, how the person was known (escaped)."""
    parts = [t(f"audit.action.{event.action}", lang)]
    if event.dataset:
        parts.append(clean(event.dataset))
    label = event.detail.get("label")
    if label:
        parts.append(clean(label))
    if event.detail.get("role"):
        parts.append(t(f"cli.role.{event.detail['role']}", lang))
    if event.detail.get("to"):
        parts.append("→ " + clean(event.detail["to"]))
    if event.fingerprint:
        parts.append(f"[{event.fingerprint}]")
    parts.append(f"({t(f'audit.via.{event.via}', lang)})")
    return " ".join(parts)


def _auth_status(args: argparse.Namespace) -> int:
    with open_store(args, read_only=True) as store:
        access = store.access()
    if args.json:
        print(json.dumps(access.as_dict(), ensure_ascii=False, indent=2))
        return 0
    _print_access(access, args.lang)
    return 0


def _print_access(access: Access, lang: str) -> None:
    if not access.required:
        print(t("cli.auth_status_off", lang))
        return
    print(
        say(
            "cli.auth_status_on",
            lang,
            issuer=access.issuer or "-",
            since=access.since or "-",
            hours=f"{access.max_session_hours:g}",
        )
    )
    for role, rules in access.roles.as_dict().items():
        print(f"  {role}: {', '.join(clean(r) for r in rules) or '-'}")


def _auth_off(args: argparse.Namespace) -> int:
    who = actor(args)
    with open_store(args) as store:
        before = store.access()
        store.set_access(Access.OFF, by=who)
    if before.required:
        print(say("cli.auth_turned_off", args.lang, who=who.id))
    else:
        print(t("cli.auth_was_off", args.lang))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from funnel.serving import check, load_config, serve

    overrides = {
        "address": args.address,
        "port": args.port,
        "data_dir": args.data_dir,
        "auth": args.auth,
    }
    config = load_config(args.config, overrides=overrides)
    app = Path(args.app)
    if not app.is_file():
        print(say("cli.serve_no_app", args.lang, app=str(app)), file=sys.stderr)
        return 2
    check(config)
    print(
        say(
            "cli.serving",
            args.lang,
            url=config.url,
            db=str(config.database),
            auth=t("cli.serve_auth_on" if config.auth else "cli.serve_auth_off", args.lang),
        ),
        file=sys.stderr,
        flush=True,
    )
    serve(config, app.resolve(), by=actor(args))
    return 0
