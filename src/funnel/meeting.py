"""What a meeting takes away from a version: every export, from the store.

:data:`EXPORTS` is the one registry of them (the rule set as YAML/JSON, SQL for a warehouse,
the meeting report, the hand-off list): ``funnel rules export --format`` offers its names and
the Rule sets page its download buttons, so both produce the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from funnel.backtest import verdict
from funnel.funnels import Unavailable, compute_funnel, stages_for
from funnel.handoff import handoff_frame, to_csv_bytes, to_excel_bytes
from funnel.report import ReportInput, build_report, report_diff
from funnel.review import ReviewError, review
from funnel.rules import check_columns
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.source import activity_log
from funnel.sqlexport import activity_columns, check_dataset, ruleset_sql
from funnel.store import DatasetInfo, Store
from funnel.suggest import logistic_beside
from funnel.versions.diff import compare_versions
from funnel.versions.files import version_to_json, version_to_yaml
from funnel.versions.history import list_versions
from funnel.versions.record import Version


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
    check_columns(rs, store.column_facts(info), source=v.label())
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
    judged = verdict(store, info, rs)
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
        verdict=judged,
        logistic=logistic_beside(store, info, rs, part=judged.holdout),
        labels=info.mapping.labels(),
        **_review(store, info, v, lang),
    )


def _review(store: Store, info: DatasetInfo, v: Version, lang: str) -> dict[str, Any]:
    """The report's review of an agreed version of this dataset: the review, or why none."""
    if v.status != "agreed" or v.dataset != info.name:
        return {}
    try:
        return {"review": review(store, info.name, str(v.version_id), lang=lang)}
    except ReviewError as exc:
        return {"review_refusal": exc.message(lang)}


def report_bytes(store: Store, info: DatasetInfo, v: Version, *, lang: str = "en") -> bytes:
    """The self-contained HTML meeting report of a version."""
    return build_report(report_input(store, info, v, lang=lang))


def handoff_bytes(
    store: Store, info: DatasetInfo, v: Version, *, kind: str = "csv", lang: str = "en"
) -> bytes:
    """The hot-lead hand-off list of a version, as injection-safe CSV or Excel."""
    check_columns(v.ruleset, store.column_facts(info), source=v.label())
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
    check_dataset(info)
    log = activity_log(store, info)
    return ruleset_sql(
        v.ruleset,
        v.mapping or info.mapping,
        dialect=dialect,
        table=table,
        activities_table=activities_table,
        activity_types=dict(log.columns) if log is not None else None,
    )


def reads_activities(info: DatasetInfo, v: Version) -> bool:
    """Whether a version's SQL reads an activity table (it has rules on activity counts)."""
    counted = activity_columns(v.mapping or info.mapping)
    return bool(counted.keys() & {r.column for r in v.ruleset.rules})


@dataclass(frozen=True)
class Target:
    """What an export is written from: the store, the version's dataset (None when the
    export does not read it), the reader's language and, for SQL, the warehouse's tables."""

    store: Store
    info: DatasetInfo | None
    lang: str = "en"
    dialect: str = "duckdb"
    table: str = "leads"
    activities_table: str = "activities"

    @property
    def dataset(self) -> DatasetInfo:
        assert self.info is not None, "this export reads the dataset: pass its info"
        return self.info


def _sql(v: Version, to: Target) -> bytes:
    text = version_sql(
        to.dataset,
        v,
        store=to.store,
        dialect=to.dialect,
        table=to.table,
        activities_table=to.activities_table,
    )
    return text.encode("utf-8")


@dataclass(frozen=True)
class Export:
    """One way to take a version away: its name (``--format``; the page's label is
    ``export.<name>``), how its file name ends, its MIME type and its writer.

    ``reads`` says what the writer needs beyond the version: ``"dataset"`` (its mapping and
    activity log, for SQL), ``"leads"`` (every lead scored: slow, so the page builds it only
    when clicked), or ``None``. ``warehouse`` exports take a dialect and table names.
    """

    name: str
    suffix: str
    mime: str
    write: Callable[[Version, Target], bytes]
    reads: str | None = None
    warehouse: bool = False

    def file_name(self, v: Version, dialect: str = "duckdb") -> str:
        """The download's file name: the version's name and number, then the suffix.

        >>> from funnel.rules import RuleSet
        >>> v = Version(RuleSet(name="Q1 / hot"), "demo", 3, "", "", None, "", "", {}, datetime.min)
        >>> export("handoff-csv").file_name(v), export("sql").file_name(v, "postgres")
        ('Q1___hot_v3_hot_leads.csv', 'Q1___hot_v3_postgres.sql')
        """
        slug = "".join(c if c.isalnum() else "_" for c in v.name).strip("_") or "rules"
        dialect_part = f"_{dialect}" if self.warehouse else ""
        return f"{slug}_v{v.number}{dialect_part}{self.suffix}"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The one registry of exports, in the order the page offers them.
EXPORTS: tuple[Export, ...] = (
    Export("yaml", ".yaml", "application/yaml", lambda v, _: version_to_yaml(v).encode()),
    Export("json", ".json", "application/json", lambda v, _: version_to_json(v).encode()),
    Export(
        "report",
        "_report.html",
        "text/html",
        lambda v, to: report_bytes(to.store, to.dataset, v, lang=to.lang),
        reads="leads",
    ),
    Export(
        "handoff-csv",
        "_hot_leads.csv",
        "text/csv",
        lambda v, to: handoff_bytes(to.store, to.dataset, v, kind="csv", lang=to.lang),
        reads="leads",
    ),
    Export(
        "handoff-xlsx",
        "_hot_leads.xlsx",
        XLSX,
        lambda v, to: handoff_bytes(to.store, to.dataset, v, kind="xlsx", lang=to.lang),
        reads="leads",
    ),
    Export("sql", ".sql", "application/sql", _sql, reads="dataset", warehouse=True),
)


def export(name: str) -> Export:
    """The registered export ``name``."""
    return next(e for e in EXPORTS if e.name == name)
