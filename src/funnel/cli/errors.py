"""The CLI's one error handler: every refusal becomes a message and an exit code.

A :class:`~funnel.problems.LoadError` lists every problem of the files, each with its fix; any
other refusal is a :class:`~funnel.i18n.CodedError`, printed in the reader's language, whose
class says the exit code (2 bad input or unusable database, 3 a webhook that did not accept
the hot leads). Anything else is an internal error: exit 1, and ``FUNNEL_DEBUG=1`` shows the
traceback.
"""

from __future__ import annotations

import os
import sys

from funnel.cli.output import error, print_problems, say
from funnel.i18n import CodedError, t
from funnel.problems import LoadError


def handle(exc: Exception | KeyboardInterrupt, lang: str) -> int:
    """Tell the user what went wrong, on stderr, and return the exit code."""
    if isinstance(exc, LoadError):
        print_problems(exc.problems, lang, sys.stderr)
        return 2
    if isinstance(exc, CodedError):
        error(exc.message(lang), lang)
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        print(t("cli.interrupted", lang), file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):  # the reader went away (funnel ... | head): not ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if os.environ.get("FUNNEL_DEBUG"):
        raise exc
    print(say("cli.internal_error", lang, error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
    print(t("cli.debug_hint", lang), file=sys.stderr)
    return 1
