"""Apply an agreed rule set to a new leads file, exactly as the app scores a stored dataset.

The new file goes through the same reading, cleaning and typing as a load (with the mapping
the rule set was tuned on), into a throw-away in-memory database, and is scored by the same
:func:`funnel.scoring.leads.score_leads` — so the CLI and the app cannot disagree on a lead.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.i18n import CodedError, t
from funnel.ingest import Prepared, prepare, read_inputs
from funnel.mapping import ColumnSpec, Mapping
from funnel.mapping.propose import propose_mapping
from funnel.parsing import parse_dates
from funnel.readers import SourceFile
from funnel.rules import RuleSet, RuleSetError, Where, check_columns, ruleset_from_text
from funnel.scoring.leads import score_leads
from funnel.store import DatasetInfo, Store
from funnel.validation import DATE_ROLES
from funnel.versions.files import align_values, version_from_text
from funnel.versions.record import Version
from funnel.yamlfiles import read_text

#: Roles that describe outcomes; a new file is scored without them.
_OUTCOME_ROLES = ("outcome", "closed", "amount")


class ApplyError(CodedError, ValueError):
    """The rules cannot be applied to this file as asked; the message says how to fix it.

    ``code`` selects the message (``apply.<code>`` in :mod:`funnel.i18n`); ``str(exc)`` is the
    English one, ``message(lang)`` the reader's.

    >>> ApplyError("sql_needs_dataset", file="R.yaml").message("ja").split("。")[0]
    'R.yaml には列の割り当てが含まれていません'
    """

    prefix = "apply"


class WebhookError(CodedError):
    """The webhook did not accept the hot leads; the message says what happened.

    ``code`` selects the message (``webhook.<code>``); the CLI exits with 3.
    """

    prefix = "webhook"
    exit_code = 3


@dataclass(frozen=True)
class Scored:
    """A new file's leads scored: one row each, plus what the mapping had to assume."""

    frame: pd.DataFrame  # id, score, tier, reasons, knocked_out
    ruleset: RuleSet
    notes: tuple[str, ...]


def read_rules_text(path: str | Path) -> str:
    """The text of a rule-set file; a missing, unreadable or non-UTF-8 file is refused."""

    def refuse(code: str, **params: Any) -> RuleSetError:
        return RuleSetError(code, where=Where(str(path)), **params)

    return read_text(path, refuse)


def read_rules_file(path: str | Path) -> Version:
    """Read a rule-set file (an exported version, or a plain rule set)."""
    return version_from_text(read_rules_text(path), source=str(path))


def read_rules_for(path: str | Path, store: Store, info: DatasetInfo) -> tuple[RuleSet, list[str]]:
    """Read a rule set to measure on ``info``: its columns must exist there.

    Returns the rule set with values spelled as the dataset spells them, and the values the
    dataset never holds (such a rule simply never applies).
    """
    rs = ruleset_from_text(read_rules_text(path), source=str(path))
    check_columns(rs, store.column_facts(info), source=str(path))
    return align_values(store, info, rs)


def score_file(
    rules: Version,
    leads_path: str | Path,
    *,
    only: Literal["hot"] | None = None,
    since: date | None = None,
    activities_path: str | Path | None = None,
    encoding: str | None = None,
    max_bytes: int | None = None,
    max_memory: int | None = None,
    sheet: str | None = None,
    keep_last: bool = False,
    lang: str = "en",
) -> Scored:
    """Score every lead of a new file with ``rules``; no outcomes needed.

    ``only="hot"`` keeps the hot leads; ``since`` then keeps those that became hot since that
    day. With an activity log, "became hot" means hot now but not when scored on the
    activities before ``since``; without one, hot and created on or after ``since`` (the same
    date filter as the app's). The files are read once; the notes (what the mapping had to
    assume) are in ``lang``.
    """
    if since is not None and only != "hot":
        raise ValueError("since= selects the leads that became hot: pass only='hot'")
    leads, _, activities = read_inputs(
        leads_path,
        None,
        activities_path,
        max_bytes=max_bytes,
        encoding=encoding,
        sheet=sheet,
        max_memory=max_memory,
    )
    # scores never read the leads' dates (a bad date cell must not stop scoring), except the
    # creation date to judge "since" without an activity log
    by_created = since is not None and activities is None
    mapping, notes = _mapping_for(rules, leads, activities, lang=lang, dates=by_created)
    with Store(":memory:") as store:
        now = store.save("new leads", _prepared(rules, leads, mapping, activities, keep_last))
        check_columns(rules.ruleset, store.column_facts(now), source=leads.name)
        rs, _ = align_values(store, now, rules.ruleset)
        if since is not None and by_created and now.mapping.column("created") is None:
            raise ApplyError("since_needs_dates", file=leads.name, since=since.isoformat())
        filters = Filters(date_from=since) if since and by_created else NO_FILTERS
        frame = score_leads(store, now, rs, filters, only=only, lang=lang)
        if since is not None and activities is not None:
            start = datetime.combine(since, datetime.min.time())
            earlier = _activities_before(activities, mapping, start)
            then = store.save("then", _prepared(rules, leads, mapping, earlier, keep_last))
            was_hot = score_leads(store, then, rs, only="hot", lang=lang)["id"]
            frame = frame[~frame["id"].isin(set(was_hot))]
    return Scored(frame.drop(columns=["outcome"]).reset_index(drop=True), rs, tuple(notes))


def _prepared(
    rules: Version,
    leads: SourceFile,
    mapping: Mapping,
    activities: SourceFile | None,
    keep_last: bool,
) -> Prepared:
    """Read the files as a load would; refuse when the rules need a column they lack."""
    prepared = prepare(leads, mapping, None, activities, keep_last=keep_last)
    missing = sorted(rules.ruleset.columns() - set(prepared.columns))
    if missing:
        code = "needs_columns"
        if activities is None and any(c.startswith("activity_") for c in missing):
            code = "needs_columns_activities"
        raise ApplyError(code, file=leads.name, columns=", ".join(missing))
    return prepared


def _mapping_for(
    rules: Version,
    leads: SourceFile,
    activities: SourceFile | None,
    *,
    lang: str = "en",
    dates: bool = True,
) -> tuple[Mapping, list[str]]:
    """The rule set's own mapping, fitted to the new file's columns (no outcomes).

    Without ``dates`` the leads' date columns (created, stages, closed) are ignored, so their
    cells are neither parsed nor checked. The notes (what had to be assumed) are in ``lang``.
    """
    notes: list[str] = []
    base = rules.mapping
    if base is None:
        base = propose_mapping(leads, None, activities)
        notes.append(t("apply.no_mapping", lang, file=leads.name))
    present = set(leads.columns)
    known = {s.name for s in base.leads}
    specs: list[ColumnSpec] = []
    for spec in base.leads:
        if spec.name not in present:
            continue  # derived (activity counts, outcome-file columns) or absent here
        if spec.role in _OUTCOME_ROLES or (not dates and spec.role in DATE_ROLES):
            spec = replace(spec, role="ignore")
        specs.append(spec)
    specs += [ColumnSpec(c, "ignore") for c in leads.columns if c not in known]
    act_specs = base.activities
    if activities is not None and {s.name for s in act_specs} != set(activities.columns):
        act_specs = propose_mapping(leads, None, activities).activities
    mapping = replace(
        base,
        leads=tuple(specs),
        outcome=None,
        outcomes=(),
        activities=act_specs if activities is not None else (),
    )
    return mapping, notes


def _activities_before(activities: SourceFile, mapping: Mapping, before: datetime) -> SourceFile:
    ts = mapping.column("created", "activities")
    if ts is None:
        return activities
    keep = parse_dates(activities.frame[ts]) < pd.Timestamp(before)  # NaT compares False
    return replace(activities, frame=activities.frame[keep.to_numpy(dtype=bool)])


#: How long a whole webhook delivery may take, in seconds (``FUNNEL_WEBHOOK_TIMEOUT``).
DEFAULT_WEBHOOK_SECONDS = 30.0
#: Same-origin 307/308 redirects followed (re-POSTing the same body) before giving up.
_MAX_REDIRECTS = 3


def webhook_seconds() -> float:
    """The configured time bound of one webhook delivery."""
    raw = os.environ.get("FUNNEL_WEBHOOK_TIMEOUT", "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return DEFAULT_WEBHOOK_SECONDS
    return seconds if 0 < seconds < 3600 else DEFAULT_WEBHOOK_SECONDS


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float | None = None) -> int:
    """POST ``payload`` as JSON; return the HTTP status, or raise :class:`WebhookError`.

    The whole delivery — connecting, sending, every redirect and reading the answer — must
    finish within ``timeout`` seconds: a server trickling its answer a byte at a time is cut
    off, not waited for. A redirect is followed only when it keeps the POST and its body
    (307 or 308) on the same origin; any other redirect is refused, because following it as
    urllib does would send a GET without the leads and report success. Every failure,
    malformed answers included, is a :class:`WebhookError` naming the reason.
    """
    if not url.startswith(("http://", "https://")):
        raise WebhookError("bad_url", url=url)
    seconds = timeout if timeout is not None else webhook_seconds()
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    deadline = _Deadline(seconds)
    opener = urllib.request.build_opener(
        _NoRedirects(), _DeadlineHTTP(deadline), _DeadlineHTTPS(deadline)
    )
    target = url
    try:
        for _hop in range(_MAX_REDIRECTS + 1):
            request = urllib.request.Request(
                target,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "funnel"},
            )
            try:
                with opener.open(request, timeout=seconds) as response:
                    status = int(response.status)
                    response.read(1 << 16)  # the answer must arrive too, within the deadline
                break
            except urllib.error.HTTPError as exc:
                location = exc.headers.get("Location", "") if exc.headers else ""
                if exc.code in (307, 308) and location and _same_origin(target, location):
                    target = urllib.parse.urljoin(target, location)
                    continue
                if 300 <= exc.code < 400:
                    raise WebhookError(
                        "redirected", url=url, status=exc.code, location=location or "-"
                    ) from None
                raise WebhookError("refused", url=url, http=exc.code, reason=exc.reason) from None
        else:
            raise WebhookError("redirected", url=url, status=307, location=target)
    except WebhookError:
        raise
    except Exception as exc:  # every other failure is the webhook's, named, never a traceback
        raise _webhook_failure(url, exc, deadline) from None
    finally:
        deadline.cancel()
    if not 200 <= status < 300:
        raise WebhookError("status", url=url, status=status)
    return status


def _webhook_failure(url: str, exc: Exception, deadline: _Deadline) -> WebhookError:
    """The :class:`WebhookError` for an exception met while delivering."""
    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")[:200]
    if deadline.expired:
        return WebhookError("too_slow", url=url, seconds=f"{deadline.seconds:g}")
    if isinstance(exc, http.client.InvalidURL | ValueError | UnicodeError) and not isinstance(
        exc, OSError
    ):
        return WebhookError("invalid_url", url=url, reason=detail)
    if isinstance(exc, http.client.HTTPException):  # a malformed or cut-off answer
        return WebhookError("bad_response", url=url, reason=detail)
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return WebhookError("too_slow", url=url, seconds=f"{deadline.seconds:g}")
    return WebhookError("unreachable", url=url, reason=str(reason)[:200] or type(exc).__name__)


def _same_origin(a: str, b: str) -> bool:
    """Tell whether a redirect target stays on the same scheme, host and port.

    >>> _same_origin("https://x.example/hook", "/hook2"), _same_origin("http://a/h", "http://b/h")
    (True, False)
    """
    first = urllib.parse.urlsplit(a)
    second = urllib.parse.urlsplit(urllib.parse.urljoin(a, b))
    return (first.scheme, first.hostname, first.port) == (
        second.scheme,
        second.hostname,
        second.port,
    )


class _Deadline:
    """Cuts off every connection it watches once ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            if sock is not None:
                self._sockets.append(sock)
            expired = self.expired
        if expired and sock is not None:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:  # a reader blocked on this socket wakes up with an error
            _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect inside urllib: :func:`post_webhook` decides."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _DeadlineHTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _DeadlineHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_watched(http.client.HTTPSConnection, self.deadline), req)


def _watched(base: Any, deadline: _Deadline) -> Any:
    """A connection class whose socket the deadline can cut off."""

    class Watched(base):  # type: ignore[misc]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Watched
