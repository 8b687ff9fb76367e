"""The CLI's one error handler: every refusal becomes a message and an exit code.

Exit codes: 2 bad input or unusable database (problems on stderr, in plain words), 3 a webhook
that did not accept the hot leads, 1 an unexpected internal error (``FUNNEL_DEBUG=1`` shows the
traceback), 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from funnel.apply import ApplyError, WebhookError
from funnel.cli.output import error, print_problems
from funnel.dialects import SqlExportError
from funnel.filters import FilterError
from funnel.funnels import Unavailable
from funnel.i18n import t
from funnel.mapping import MappingFileError
from funnel.problems import LoadError
from funnel.rules import RuleSetError
from funnel.store import StoreError
from funnel.suggest import SuggestError
from funnel.versions import VersionError


def handle(exc: Exception | KeyboardInterrupt, lang: str) -> int:
    """Tell the user what went wrong, on stderr, and return the exit code."""
    if isinstance(exc, LoadError):
        print_problems(exc.problems, lang, sys.stderr)
        return 2
    if isinstance(exc, StoreError):
        error(t("store." + exc.code, lang, **exc.params), lang)
        return 2
    if isinstance(exc, RuleSetError | ApplyError | MappingFileError | SqlExportError):
        error(exc.message(lang), lang)
        return 2
    if isinstance(exc, VersionError):
        error(exc.message(lang), lang)
        return 2
    if isinstance(exc, WebhookError):
        error(exc.message(lang), lang)
        return 3
    if isinstance(exc, FilterError | Unavailable):
        error(t("analysis." + exc.code, lang, **exc.params), lang)
        return 2
    if isinstance(exc, SuggestError):
        error(t("suggest." + exc.code, lang), lang)
        return 2
    if isinstance(exc, KeyboardInterrupt):
        print(t("cli.interrupted", lang), file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):  # the reader went away (funnel ... | head): not ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if os.environ.get("FUNNEL_DEBUG"):
        raise exc
    print(t("cli.internal_error", lang, error=f"{type(exc).__name__}: {exc}"), file=sys.stderr)
    print(t("cli.debug_hint", lang), file=sys.stderr)
    return 1
