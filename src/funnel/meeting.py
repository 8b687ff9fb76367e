"""What a meeting takes away from a version: the report and the hand-off list, from the store.

Shared by the Rule sets page and ``funnel rules export`` so both produce the same files.
"""

from __future__ import annotations

from datetime import datetime

from funnel.funnels import Unavailable, compute_funnel, stages_for
from funnel.handoff import handoff_frame, to_csv_bytes, to_excel_bytes
from funnel.report import ReportInput, build_report, report_diff
from funnel.rules import check_columns
from funnel.scoring import activity_log, evaluate, score_histogram
from funnel.sqlexport import check_dataset, ruleset_sql
from funnel.store import DatasetInfo, Store
from funnel.versions import Version, compare_versions, list_versions


def previous_agreed(store: Store, v: Version) -> Version | None:
    """The agreed version of the same dataset agreed just before ``v`` (or before now)."""
    until = v.agreed_at or datetime.max
    earlier = [
        x
        for x in list_versions(store, v.dataset)
        if x.version_id != v.version_id and x.agreed_at is not None and x.agreed_at <= until
    ]
    return max(earlier, key=lambda x: (x.agreed_at, x.version_id), default=None)


def report_input(store: Store, info: DatasetInfo, v: Version, *, lang: str = "en") -> ReportInput:
    """Everything the meeting report shows, measured on ``info``'s data now."""
    rs = v.ruleset
    check_columns(rs, info.columns, source=v.label())
    try:
        steps = compute_funnel(store, info, stages_for(store, info))
    except Unavailable:
        steps = None
    before = previous_agreed(store, v)
    diff = None
    if before is not None and not (before.ruleset.columns() - set(info.columns)):
        versus = compare_versions(store, info, before, v, lang=lang, limit=0)
        evaluation = versus.evaluation_b
        diff = report_diff(
            before.label(),
            before.ruleset,
            rs,
            lang=lang,
            before_eval=versus.evaluation_a,
            after_eval=evaluation,
            tier_changes=versus.changed_leads,
            entered_hot=versus.entered_hot,
            left_hot=versus.left_hot,
        )
    else:
        evaluation = evaluate(score_histogram(store, info, rs), rs)
    return ReportInput(
        title=v.label(),
        lang=lang,
        ruleset=rs,
        evaluation=evaluation,
        dataset_name=info.name,
        dataset_fingerprint=info.fingerprint,
        version_name=v.name,
        version_number=v.number,
        status=v.status,
        author=v.author,
        rationale=v.rationale,
        effective_from=v.effective_from,
        signoffs=v.signoffs,
        funnel=steps,
        diff=diff,
    )


def report_bytes(store: Store, info: DatasetInfo, v: Version, *, lang: str = "en") -> bytes:
    """The self-contained HTML meeting report of a version."""
    return build_report(report_input(store, info, v, lang=lang))


def handoff_bytes(
    store: Store, info: DatasetInfo, v: Version, *, kind: str = "csv", lang: str = "en"
) -> bytes:
    """The hot-lead hand-off list of a version, as injection-safe CSV or Excel."""
    check_columns(v.ruleset, info.columns, source=v.label())
    frame = handoff_frame(store, info, v.ruleset, only="hot", lang=lang)
    return to_excel_bytes(frame) if kind == "xlsx" else to_csv_bytes(frame)


def version_sql(
    info: DatasetInfo,
    v: Version,
    *,
    store: Store,
    dialect: str,
    table: str = "leads",
    activities_table: str = "activities",
) -> str:
    """The SQL applying a version in a warehouse table shaped like ``info``'s leads file.

    Uses the mapping the version was tuned with (the dataset's when it has none), and refuses
    a dataset whose file had no id column (:func:`funnel.sqlexport.check_dataset`). Counts
    from an activity log read ``activities_table``; each counted column's activity type is
    taken from the log stored in ``store`` (from the column's name for a dataset loaded
    without one).
    """
    check_dataset(info.name, info.report)
    log = activity_log(store, info)
    return ruleset_sql(
        v.ruleset,
        v.mapping or info.mapping,
        dialect=dialect,
        table=table,
        activities_table=activities_table,
        activity_types=dict(log.columns) if log is not None else None,
    )
