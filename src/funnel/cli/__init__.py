"""The ``funnel`` command line: the same functions as the app, printable as JSON.

One module per command group (:mod:`~funnel.cli.data`, :mod:`~funnel.cli.analysis`,
:mod:`~funnel.cli.scoring`, :mod:`~funnel.cli.rules`); they parse arguments, call the library
and print. :mod:`~funnel.cli.errors` turns every refusal into a message and an exit code: 0
success, 2 bad input or unusable database, 3 a webhook that did not accept the hot leads, 1 an
unexpected internal error (``FUNNEL_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from funnel.cli import analysis, data, feedback, review, rules, scoring, team
from funnel.cli.common import AS_HELP, DB_HELP, common_options, default_lang
from funnel.cli.errors import handle
from funnel.cli.output import terminal


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="funnel", description="Agree, with data, on what a hot lead is."
    )
    parser.add_argument("--db", help=DB_HELP)
    parser.add_argument("--lang", choices=("en", "ja"), default=default_lang())
    parser.add_argument("--as", dest="as_user", metavar="NAME", help=AS_HELP)
    common = common_options()
    sub = parser.add_subparsers(dest="command", required=True)
    data.register(sub, common)
    feedback.register(sub, common)
    analysis.register(sub, common)
    scoring.register_apply(sub, common)
    rules.register(sub, common)
    review.register(sub, common)
    scoring.register_fit(sub, common)
    data.register_delete(sub, common)
    team.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with terminal(stdout=False):  # argparse repeats what was typed in its errors
        args = build_parser().parse_args(argv)
    data_on_stdout = bool(getattr(args, "json", False) or getattr(args, "data_out", False))
    with terminal(stdout=not data_on_stdout):
        try:
            return int(args.run(args))
        except (Exception, KeyboardInterrupt) as exc:  # never a traceback: one handler decides
            return handle(exc, args.lang)
