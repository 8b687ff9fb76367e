"""What the CLI's commands share: the options every command takes and opening the database."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from funnel.access import Actor
from funnel.apply import read_rules_for
from funnel.cli.output import note
from funnel.filters import Filters, parse_date, parse_where
from funnel.i18n import t
from funnel.rules import RuleSet
from funnel.store import DatasetInfo, Store, StoreError, default_db_path

DB_HELP = "database file (default: $FUNNEL_DB or data/funnel.duckdb)"
AS_HELP = "who the command acts as, recorded in the audit log (default: the OS user)"


def common_options() -> argparse.ArgumentParser:
    """``--db`` and ``--lang`` after the command; SUPPRESS keeps a value given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help=DB_HELP, default=argparse.SUPPRESS)
    common.add_argument("--lang", choices=("en", "ja"), default=argparse.SUPPRESS)
    common.add_argument("--as", dest="as_user", metavar="NAME", default=argparse.SUPPRESS)
    return common


def default_lang() -> str:
    return os.environ.get("FUNNEL_LANG", "en")


def filter_options() -> argparse.ArgumentParser:
    """The analysis commands' ``--dataset``, ``--where``, ``--from``, ``--to`` and ``--json``."""
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
    return filters


def file_limits(parser: argparse.ArgumentParser) -> None:
    """``--max-size``, ``--max-memory`` and ``--sheet``: how a leads file may be read."""
    parser.add_argument("--max-size", type=int, help="largest file in bytes (default 1 GiB)")
    parser.add_argument(
        "--max-memory",
        type=int,
        metavar="BYTES",
        help="most memory a file may take once read "
        "(default $FUNNEL_MAX_MEMORY_BYTES, or 4 GiB or half the machine's memory)",
    )
    parser.add_argument(
        "--sheet", help="the workbook sheet to read (default: the first visible one)"
    )


def db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else default_db_path()


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """Open the database; a reading command opens it read-only.

    A reading command never creates a database (a missing file is reported by name) and never
    writes to one, with one exception: a file from an older funnel is upgraded in place, as
    opening it anywhere would. When the file is locked by another process, the lock is named.
    """
    path = db_path(args)
    if read_only and not path.exists():
        raise StoreError("db_missing", path=str(path))
    if not read_only:
        return Store(path)
    try:
        return Store(path, read_only=True)
    except StoreError as old:
        if old.code != "db_old_schema":
            raise
        try:
            return Store(path)  # the upgrade, in place
        except StoreError as exc:
            if exc.code in ("db_read_only", "db_locked"):
                raise old from None  # it cannot be upgraded now: say how it will be
            raise


def actor(args: argparse.Namespace) -> Actor:
    """Who this command acts as: ``--as NAME``, by default the OS user (``via="cli"``)."""
    return Actor.cli(getattr(args, "as_user", None))


def acting(args: argparse.Namespace, store: Store) -> Actor:
    """Who this writing command acts as; on a database served with sign-in, say so first."""
    who = actor(args)
    if store.access().required:
        note(t("cli.acting_as", args.lang, who=who.id), args.lang)
    return who


def analysis_inputs(args: argparse.Namespace, store: Store) -> tuple[DatasetInfo, Filters]:
    """The dataset named by ``--dataset`` (else the latest loaded) and the filters asked for."""
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


def rules_for(path: str, store: Store, info: DatasetInfo, lang: str) -> RuleSet:
    """Read a rule set for ``info``; values the dataset never holds are noted on stderr."""
    aligned, unknown = read_rules_for(path, store, info)
    if unknown:
        values = "; ".join(unknown[:10])
        note(t("cli.unknown_values", lang, file=path, name=info.name, values=values), lang)
    return aligned
