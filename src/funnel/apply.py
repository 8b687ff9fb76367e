"""Apply an agreed rule set to a new leads file, exactly as the app scores a stored dataset.

The new file goes through the same reading, cleaning and typing as a load (with the mapping
the rule set was tuned on), into a throw-away in-memory database, and is scored by the same
:func:`funnel.scoring.score_leads` — so the CLI and the app cannot disagree on a lead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.i18n import CodedError, t
from funnel.ingest import Prepared, prepare, read_inputs
from funnel.mapping import ColumnSpec, Mapping, propose_mapping
from funnel.parsing import parse_dates
from funnel.readers import SourceFile
from funnel.rules import RuleSet, RuleSetError, Where, check_columns, ruleset_from_text
from funnel.scoring import score_leads
from funnel.store import DatasetInfo, Store
from funnel.validation import DATE_ROLES
from funnel.versions import Version, align_values, version_from_text
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
    check_columns(rs, info.columns, source=str(path))
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


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = 15.0) -> int:
    """POST ``payload`` as JSON; return the HTTP status, or raise :class:`WebhookError`."""
    if not url.startswith(("http://", "https://")):
        raise WebhookError("bad_url", url=url)
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "funnel"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise WebhookError("refused", url=url, http=exc.code, reason=exc.reason) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError("unreachable", url=url, reason=reason) from None
    if not 200 <= status < 300:
        raise WebhookError("status", url=url, status=status)
    return status
