"""Sales' verdict on the leads it received, as data: one disposition per lead from a feedback file.

A disposition is ``accepted``, ``rejected`` (with a reason) or ``not_contacted``, with when and by
whom when the file says. A feedback file is mapped like outcomes: :func:`propose_feedback`
proposes its columns and which status values mean what, from English and Japanese headers and
values; :func:`prepare_feedback` refuses, naming rows and the fix, ids the dataset does not
have, repeated ids, unknown or missing statuses, unreadable times and times before the lead was
created. A dataset's feedback is replaced as a whole by each file, all or nothing
(:meth:`funnel.store.Store.save_feedback`); reasons are kept as written and counted with their
spellings folded (case, width, spacing).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from funnel.mapping import DISPOSITIONS as DISPOSITIONS
from funnel.mapping import Mapping, norm
from funnel.parsing import (
    DEFAULT_PLACEHOLDERS,
    merge_spellings,
    normalise_token,
    null_placeholders,
    parse_dates,
)
from funnel.problems import MAX_EXAMPLES, LoadError, Problem
from funnel.readers import SourceFile

if TYPE_CHECKING:
    from funnel.access import Actor
    from funnel.store import Store

FEEDBACK = "funnel_feedback"

_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": tuple(
        """leadid id mqlid contactid recordid リードid 顧客id レコードid リード番号
        管理番号""".split()
    ),
    "status": tuple(
        """disposition status leadstatus salesstatus verdict decision acceptance result
        ステータス 対応状況 営業ステータス 判定 受入可否 ステータス区分 対応結果""".split()
    ),
    "reason": tuple(
        """reason rejectionreason disqualificationreason disqualifiedreason lostreason
        rejectreason 理由 却下理由 不採用理由 失格理由 見送り理由""".split()
    ),
    "at": tuple(
        """decidedat decisiondate date updatedat updated reviewedat contactedat dispositiondate
        timestamp 日時 対応日 対応日時 判定日 更新日 更新日時""".split()
    ),
    "by": tuple(
        """owner rep salesrep decidedby reviewedby user assignee 担当者 営業担当 担当
        判定者""".split()
    ),
}

STATUS_WORDS: dict[str, frozenset[str]] = {
    "accepted": frozenset(
        """accepted accept yes sal qualified working contacted converted 受入 受け入れ
        承認 採用 対応中 商談化 ok""".split()
    )
    | {"sales accepted", "in progress"},
    "rejected": frozenset(
        """rejected reject no disqualified unqualified declined 却下 不採用 見送り 対象外
        失格 不適格 ng""".split()
    )
    | {"not qualified"},
    "not_contacted": frozenset(
        """new untouched pending open uncontacted 未対応 未接触 未連絡 未着手 保留""".split()
    )
    | {"not contacted", "not yet contacted", "no contact"},
}


@dataclass(frozen=True)
class FeedbackMapping:
    """Which column of a feedback file holds what, and which status values mean what."""

    id: str | None
    status: str | None
    reason: str | None = None
    at: str | None = None
    by: str | None = None
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    not_contacted: tuple[str, ...] = ()

    def classify(self, value: str) -> str | None:
        """The disposition a status value means, or None.

        >>> FeedbackMapping("id", "s", rejected=("NG",)).classify(" ng ")
        'rejected'
        """
        key = normalise_token(value)
        for disposition in DISPOSITIONS:
            if key in {normalise_token(v) for v in getattr(self, disposition)}:
                return disposition
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "at": self.at,
            "by": self.by,
            "accepted": list(self.accepted),
            "rejected": list(self.rejected),
            "not_contacted": list(self.not_contacted),
        }


def propose_feedback(source: SourceFile, *, status: str | None = None) -> FeedbackMapping:
    """Propose a feedback file's mapping from its headers and status values (EN and JA);
    ``status`` names the status column instead of guessing it.

    >>> frame = pd.DataFrame({"リードID": ["L1"], "対応状況": ["却下"], "却下理由": ["予算なし"]})
    >>> m = propose_feedback(SourceFile("f.csv", frame, "csv"))
    >>> (m.id, m.status, m.reason, m.rejected)
    ('リードID', '対応状況', '却下理由', ('却下',))
    """
    columns = source.columns
    picked: dict[str, str | None] = {"status": status} if status else {}
    used: set[str] = {status} if status else set()
    for role in ("reason", "id", "status", "at", "by"):
        if role in picked:
            continue
        picked[role] = None
        for hint in _COLUMNS[role]:
            match = next((c for c in columns if c not in used and norm(c) == hint), None)
            match = match or next(
                (c for c in columns if c not in used and len(hint) > 3 and hint in norm(c)), None
            )
            if match is not None:
                picked[role] = match
                used.add(match)
                break
    mapping = FeedbackMapping(
        id=picked["id"],
        status=picked["status"],
        reason=picked["reason"],
        at=picked["at"],
        by=picked["by"],
    )
    if mapping.status is None or mapping.status not in source.frame.columns:
        return mapping
    values, _ = null_placeholders(source.frame[mapping.status].astype("str"), DEFAULT_PLACEHOLDERS)
    found: dict[str, list[str]] = {d: [] for d in DISPOSITIONS}
    for value in sorted(str(v) for v in values.dropna().unique()):
        key = normalise_token(value)
        for disposition in DISPOSITIONS:
            if key in STATUS_WORDS[disposition]:
                found[disposition].append(value)
                break
    return replace(
        mapping,
        accepted=tuple(found["accepted"]),
        rejected=tuple(found["rejected"]),
        not_contacted=tuple(found["not_contacted"]),
    )


def with_values(mapping: FeedbackMapping, **values: tuple[str, ...]) -> FeedbackMapping:
    """Add status values a person named (``accepted=("SQL",)``) to a mapping."""
    return replace(mapping, **{d: getattr(mapping, d) + tuple(v) for d, v in values.items() if v})


def prepare_feedback(
    source: SourceFile,
    mapping: FeedbackMapping,
    lead_ids: pd.Series,
    created: pd.Series | None,
    dataset: str,
) -> pd.DataFrame:
    """Check a feedback file against a dataset's leads and return one row per lead.

    ``lead_ids`` are the dataset's ids (as text) and ``created`` their created dates, aligned.
    Every problem is collected, then all are raised together (nothing is stored from a
    refused file).
    """
    file = source.name
    frame = source.frame
    problems: list[Problem] = []
    for role in ("id", "status"):
        column = getattr(mapping, role)
        if column is None:
            problems.append(
                Problem(
                    f"feedback_no_{role}",
                    file,
                    params={"available": ", ".join(source.columns[:12])},
                )
            )
        elif column not in frame.columns:
            problems.append(
                Problem(
                    "column_missing",
                    file,
                    column=column,
                    params={"available": ", ".join(source.columns[:12])},
                )
            )
    for role in ("reason", "at", "by"):
        column = getattr(mapping, role)
        if column is not None and column not in frame.columns:
            problems.append(
                Problem(
                    "column_missing",
                    file,
                    column=column,
                    params={"available": ", ".join(source.columns[:12])},
                )
            )
    if problems:
        raise LoadError(problems)
    assert mapping.id is not None and mapping.status is not None
    rows = pd.Series(frame.index, index=frame.index) + 2  # spreadsheet rows: header is row 1
    ids, _ = null_placeholders(frame[mapping.id].astype("str").str.strip(), DEFAULT_PLACEHOLDERS)
    status, _ = null_placeholders(frame[mapping.status].astype("str"), DEFAULT_PLACEHOLDERS)

    def problem(code: str, column: str, mask: pd.Series, values: pd.Series, **params: Any) -> None:
        if mask.any():
            shown = list(dict.fromkeys(values[mask].astype("str")))
            problems.append(
                Problem(
                    code,
                    file,
                    column=column,
                    rows=tuple(int(r) for r in rows[mask].head(MAX_EXAMPLES)),
                    values=tuple(shown[:MAX_EXAMPLES]),
                    count=int(mask.sum()),
                    params={"name": dataset, **params},
                )
            )

    problem("feedback_missing_id", mapping.id, ids.isna(), rows)
    known = set(lead_ids.astype("str"))
    problem("feedback_unknown_id", mapping.id, ids.notna() & ~ids.isin(known), ids)
    problem("feedback_duplicate_id", mapping.id, ids.notna() & ids.duplicated(keep=False), ids)
    meaning = {v: mapping.classify(v) for v in status.dropna().unique()}
    disposition = status.map(meaning)
    problem("feedback_missing_status", mapping.status, status.isna(), rows)
    unknown = status.notna() & disposition.isna()
    named = [v for v in dict.fromkeys(status[unknown].astype("str"))]
    problem(
        "feedback_unknown_status",
        mapping.status,
        unknown,
        status,
        first=named[0] if named else "",
    )
    decided_at = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    if mapping.at is not None:
        written, _ = null_placeholders(frame[mapping.at].astype("str"), DEFAULT_PLACEHOLDERS)
        decided_at = parse_dates(written).astype("datetime64[us]")
        problem("feedback_bad_time", mapping.at, written.notna() & decided_at.isna(), written)
        if created is not None:
            when = pd.Series(
                pd.to_datetime(created.to_numpy()), index=lead_ids.astype("str").to_numpy()
            )
            lead_created = ids.map(when)
            early = decided_at.notna() & lead_created.notna() & (decided_at < lead_created)
            problem("feedback_before_created", mapping.at, early, ids)
    if problems:
        raise LoadError(problems)
    reason: pd.Series = pd.Series(None, index=frame.index, dtype="str")
    if mapping.reason is not None:
        reason, _ = null_placeholders(frame[mapping.reason].astype("str"), DEFAULT_PLACEHOLDERS)
    folded, _ = merge_spellings(reason.str.strip())
    by = (
        null_placeholders(frame[mapping.by].astype("str"), DEFAULT_PLACEHOLDERS)[0]
        if mapping.by is not None
        else pd.Series(None, index=frame.index, dtype="str")
    )
    return pd.DataFrame(
        {
            "lead_id": ids.astype("str").to_numpy(),
            "disposition": disposition.astype("str").to_numpy(),
            "status": status.astype("str").to_numpy(),
            "reason": reason.astype("str").to_numpy(),
            "reason_group": folded.where(reason.notna()).astype("str").to_numpy(),
            "decided_at": decided_at.to_numpy(),
            "decided_by": by.astype("str").to_numpy(),
        }
    )


@dataclass(frozen=True)
class FeedbackSummary:
    """What sales said about a dataset's leads: leads per disposition, the acceptance rate
    (accepted among those decided) and the rejection reasons with their counts."""

    dataset: str
    file: str
    loaded_at: Any
    counts: dict[str, int]
    reasons: tuple[tuple[str, int], ...]
    #: Leads per source of their verdict: ``file`` (a feedback file), ``export`` (the leads
    #: export's status column).
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.counts.get("accepted", 0) + self.counts.get("rejected", 0)
        return self.counts.get("accepted", 0) / decided if decided else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``funnel feedback show --json``."""
        return {
            "dataset": self.dataset,
            "file": self.file,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds") if self.loaded_at else None,
            "leads": dict(self.counts),
            "acceptance_rate": self.acceptance_rate,
            "rejection_reasons": [{"reason": r, "leads": n} for r, n in self.reasons],
            "sources": dict(self.sources),
        }


def create_table(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the feedback table (a schema migration step)."""
    cur.execute(
        f"""CREATE TABLE IF NOT EXISTS {FEEDBACK} (
            dataset VARCHAR NOT NULL,
            lead_id VARCHAR NOT NULL,
            disposition VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            reason VARCHAR,
            reason_group VARCHAR,
            decided_at TIMESTAMP,
            decided_by VARCHAR,
            file VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL
        )"""
    )


#: The feedback table's columns, in order (``source`` was added by store schema 8).
COLUMNS = (
    "dataset, lead_id, disposition, status, reason, reason_group, decided_at, decided_by, "
    "file, loaded_at, source"
)
#: Where a disposition came from: a feedback file, or the leads export's status column.
SOURCES = ("file", "export")


def add_source_column(cur: duckdb.DuckDBPyConnection) -> None:
    """Note where each disposition came from; those stored before came from a file (schema 8)."""
    cur.execute(f"ALTER TABLE {FEEDBACK} ADD COLUMN IF NOT EXISTS source VARCHAR DEFAULT 'file'")
    cur.execute(f"UPDATE {FEEDBACK} SET source = 'file' WHERE source IS NULL")


def sync_export_dispositions(
    cur: duckdb.DuckDBPyConnection,
    dataset: str,
    leads_table: str,
    mapping: Mapping,
    file: str,
    now: Any,
) -> int:
    """Write the dataset's dispositions read from its leads export, inside the caller's write.

    One row per lead whose status (or reason) says a verdict, with ``source = 'export'``,
    for the leads that have no verdict from a feedback file (a file, sales' own word, wins);
    what was read from an earlier export is replaced. Reasons are a rejection's reason column,
    else the tail of its status (``Disqualified - No budget``), folded as a file's are.
    Returns the rows written.
    """
    from funnel.mapping.dispositions import disposition_pairs
    from funnel.store import quote_ident

    cur.execute(f"DELETE FROM {FEEDBACK} WHERE dataset = ? AND source = 'export'", [dataset])
    spec, id_col = mapping.disposition, mapping.column("id")
    if spec is None or id_col is None or not spec.columns():
        return 0

    def text(column: str | None, alias: str = "") -> str:
        if column is None:
            return "CAST(NULL AS VARCHAR)"
        return f"CAST({alias}{quote_ident(column)} AS VARCHAR)"

    pairs = cur.execute(
        f"SELECT {text(spec.column)} AS status, {text(spec.reason)} AS reason, count(*) AS n "
        f"FROM {leads_table} GROUP BY ALL"
    ).df()
    read = disposition_pairs(spec, pairs)
    read = read[read["disposition"].notna()][
        ["status", "reason", "disposition", "status_text", "reason_text", "reason_group"]
    ]
    if read.empty:
        return 0
    cur.register("_funnel_in_export_dispositions", read)
    try:
        cur.execute(
            f"""INSERT INTO {FEEDBACK} ({COLUMNS})
            SELECT ?, CAST(l.{quote_ident(id_col)} AS VARCHAR), p.disposition, p.status_text,
                   p.reason_text, p.reason_group, NULL, NULL, ?, ?, 'export'
            FROM {leads_table} AS l
            JOIN _funnel_in_export_dispositions AS p
              ON {text(spec.column, "l.")} IS NOT DISTINCT FROM p.status
             AND {text(spec.reason, "l.")} IS NOT DISTINCT FROM p.reason
            WHERE CAST(l.{quote_ident(id_col)} AS VARCHAR) NOT IN (
                SELECT lead_id FROM {FEEDBACK} WHERE dataset = ? AND source = 'file'
            )""",
            [dataset, file, now, dataset],
        )
    finally:
        cur.unregister("_funnel_in_export_dispositions")
    row = cur.execute(
        f"SELECT count(*) FROM {FEEDBACK} WHERE dataset = ? AND source = 'export'", [dataset]
    ).fetchone()
    return int(row[0]) if row else 0


def load_feedback(
    store: Store,
    dataset: str,
    source: SourceFile,
    mapping: FeedbackMapping | None = None,
    *,
    by: Actor | None = None,
) -> FeedbackSummary:
    """Check a feedback file against ``dataset`` and store it as the dataset's feedback,
    replacing what was stored before, all or nothing; return the summary."""
    from funnel.store import quote_ident

    info = store.require(dataset)
    mapping = mapping or propose_feedback(source)
    id_col = info.mapping.column("id") or info.columns[0]
    created_col = info.mapping.column("created")
    cols = [quote_ident(id_col)] + ([quote_ident(created_col)] if created_col else [])
    leads = store.fetch_frame(f"SELECT {', '.join(cols)} FROM {info.table()}")
    frame = prepare_feedback(
        source,
        mapping,
        leads[id_col].astype("str"),
        leads[created_col] if created_col else None,
        info.name,
    )
    store.save_feedback(info.name, frame, source.name, by=by)
    summary = feedback_summary(store, info.name)
    assert summary is not None  # just stored
    return summary


def feedback_summary(store: Store, dataset: str) -> FeedbackSummary | None:
    """The stored feedback of ``dataset`` summed up, or None when none was loaded."""
    info = store.require(dataset)
    counts = store.fetch_frame(
        f"SELECT disposition, source, count(*) AS n, any_value(file) AS file, "
        f"max(loaded_at) AS at FROM {FEEDBACK} WHERE dataset = ? GROUP BY 1, 2 "
        "ORDER BY source DESC",  # the feedback file's name first ('file' after 'export')
        [info.name],
    )
    if counts.empty:
        return None
    reasons = store.fetch_frame(
        f"SELECT coalesce(reason_group, '') AS reason, count(*) AS n FROM {FEEDBACK} "
        "WHERE dataset = ? AND disposition = 'rejected' GROUP BY 1 ORDER BY 2 DESC, 1",
        [info.name],
    )
    return FeedbackSummary(
        dataset=info.name,
        file=str(counts["file"].iloc[0]),
        loaded_at=counts["at"].max().to_pydatetime(),
        counts={d: int(counts.loc[counts["disposition"] == d, "n"].sum()) for d in DISPOSITIONS},
        sources={k: int(counts.loc[counts["source"] == k, "n"].sum()) for k in SOURCES},
        reasons=tuple(
            (str(r), int(n)) for r, n in zip(reasons["reason"], reasons["n"], strict=True)
        ),
    )


def status_values(source: SourceFile, column: str | None) -> list[str]:
    """The distinct status values of a feedback file's column, sorted (for picking their
    meaning); none when the column is not named or not in the file."""
    if column is None or column not in source.frame.columns:
        return []
    values, _ = null_placeholders(source.frame[column].astype("str"), DEFAULT_PLACEHOLDERS)
    return sorted(str(v) for v in values.dropna().unique())
