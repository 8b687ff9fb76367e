"""Refresh a stored dataset from a newer export of the same CRM, by lead id, keeping history.

A refresh matches the new files' leads to the stored ones by lead id: leads only in the new
files are added, leads in both take the new files' values (their outcome and stages included),
and leads missing from the new files are kept as they were. Each lead keeps when funnel first
saw it (``_funnel_first_seen``) and since when its current outcome has been recorded
(``_funnel_outcome_since``), so a review can tell "hot when it arrived" from "hot under
today's rules".

:func:`check_compatible` refuses new files that cannot update the stored dataset (no lead id,
another id column, a stored column missing or holding another kind of value);
:func:`plan_refresh` counts what a refresh would do without writing anything; the store writes
the merged dataset with :func:`merge_tables` inside the transaction that swaps it in, after
planning again there (:meth:`funnel.store.Store.refresh`). A refresh that would change an outcome
already recorded (won or lost) is refused unless accepted, naming the counts and the leads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

from funnel.i18n import CodedError, t
from funnel.mapping import Mapping
from funnel.problems import MAX_EXAMPLES, LoadError, Problem
from funnel.store import (
    FIRST_SEEN_COL,
    OUTCOME_COL,
    OUTCOME_SINCE_COL,
    RESERVED_PREFIX,
    DatasetInfo,
    kind_of,
    quote_ident,
)

#: Outcomes that are recorded facts: changing one asks first.
DECIDED = ("won", "lost")
#: How many example leads a plan names.
MAX_IDS = 10


class RefreshError(CodedError):
    """A refresh that was not done; ``code`` selects the message (``refresh.<code>``).

    >>> print(RefreshError("plan_moved", dataset="crm"))
    crm changed since the counts were shown; nothing was stored. Check the update again.
    """

    prefix = "refresh"

    def localized(self, lang: str) -> dict[str, Any]:
        """A plan's outcome changes named in the reader's words (``受注 → 失注``)."""
        plan = self.params.get("plan")
        if not isinstance(plan, RefreshPlan):
            return self.params
        return self.params | {
            "count": f"{plan.recorded_changed:,}",
            "transitions": plan.transitions(lang),
            "examples": plan.example_text(lang),
        }


@dataclass(frozen=True)
class RefreshPlan:
    """What a refresh does to a stored dataset, counted by lead id before anything is written.

    ``recorded`` lists the changes of outcomes already recorded as ``(before, after, leads)``;
    ``examples`` names up to :data:`MAX_IDS` of those leads as ``(id, before, after)``.
    """

    dataset: str
    rows: int
    before: int
    added: int
    changed: int
    unchanged: int
    missing: int
    outcomes_changed: int
    recorded: tuple[tuple[str, str, int], ...] = ()
    examples: tuple[tuple[str, str, str], ...] = ()
    missing_examples: tuple[str, ...] = field(default=())

    @property
    def recorded_changed(self) -> int:
        """Leads whose recorded (won or lost) outcome the refresh changes."""
        return sum(n for _, _, n in self.recorded)

    @property
    def after(self) -> int:
        """Leads in the dataset after the refresh (missing leads are kept)."""
        return self.before + self.added

    def counts(self) -> tuple[int, ...]:
        """The figures a person confirmed: a refresh whose plan moved since is refused."""
        return (
            self.rows,
            self.before,
            self.added,
            self.changed,
            self.unchanged,
            self.missing,
            self.outcomes_changed,
            self.recorded_changed,
        )

    def done_params(self, info: DatasetInfo) -> dict[str, str]:
        """The ``refresh.done`` message's parameters: this plan's counts and the dataset after it
        (the Data page and ``funnel load --refresh`` say the same sentence)."""
        counts = {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "outcomes": self.outcomes_changed,
            "leads": info.leads,
            "won": info.won,
            "lost": info.lost,
            "open": info.open,
        }
        return {"name": info.name} | {k: f"{v:,}" for k, v in counts.items()}

    def transitions(self, lang: str = "en") -> str:
        """The recorded outcome changes in one line: ``won → lost: 3, lost → open: 1``.

        >>> plan = RefreshPlan("d", 1, 1, 0, 1, 0, 0, 1, (("won", "lost", 3),))
        >>> plan.transitions(), plan.transitions("ja")
        ('won → lost: 3', '受注 → 失注: 3')
        """
        return ", ".join(
            f"{_label(a, lang)} → {_label(b, lang)}: {n:,}" for a, b, n in self.recorded
        )

    def example_text(self, lang: str = "en") -> str:
        """The named leads of the recorded changes: ``L1 (won → lost), ...``."""
        return ", ".join(
            f"{i} ({_label(a, lang)} → {_label(b, lang)})" for i, a, b in self.examples
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``funnel load --refresh --json``."""
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "leads_before": self.before,
            "leads_after": self.after,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "outcomes_changed": self.outcomes_changed,
            "recorded_outcomes_changed": self.recorded_changed,
            "recorded_changes": [{"from": a, "to": b, "leads": n} for a, b, n in self.recorded],
            "recorded_examples": [{"id": i, "from": a, "to": b} for i, a, b in self.examples],
            "missing_examples": list(self.missing_examples),
        }


def _label(outcome: str, lang: str) -> str:
    return t(f"refresh.outcome.{outcome}", lang)


def carry_mapping(stored: Mapping, proposed: Mapping) -> Mapping:
    """The mapping for refreshing ``stored`` with new files: the stored decisions where they
    still apply, the proposal for what is new.

    Each column the stored mapping names keeps its role, leak flag and stage; the outcome keeps
    its stored values when it comes from the same file and column; placeholders and the first
    stage stay. Columns funnel derived at load (activity counts, deal details joined from an
    outcomes file) are derived again from the new files, so they come from the proposal.
    """

    def overlay(new: Sequence[Any], old: Sequence[Any]) -> tuple[Any, ...]:
        kept = {s.name: s for s in old}
        return tuple(kept.get(s.name, s) for s in new)

    from funnel.mapping.dispositions import carry_disposition

    outcome = proposed.outcome
    before = stored.outcome
    if (
        before is not None
        and outcome is not None
        and (before.file, before.column, before.won_only)
        == (outcome.file, outcome.column, outcome.won_only)
    ):
        outcome = before
    return replace(
        proposed,
        leads=overlay(proposed.leads, stored.leads),
        outcomes=overlay(proposed.outcomes, stored.outcomes),
        activities=overlay(proposed.activities, stored.activities),
        outcome=outcome,
        placeholders=stored.placeholders,
        first_stage=stored.first_stage,
        disposition=carry_disposition(stored, proposed),
    )


def combined_fingerprint(before: str, new: str) -> str:
    """The fingerprint of a refreshed dataset: what it was, then what it was refreshed with.

    >>> combined_fingerprint("aa", "bb") == combined_fingerprint("aa", "bb") != "bb"
    True
    """
    return hashlib.sha256(f"{before}+{new}".encode()).hexdigest()[:16]


# --- checks and counts, on a cursor inside the store's transaction ----------------------------


def column_kinds(cur: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """What each column of a table or registered frame holds: number, text, date or flag."""
    rows = cur.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {str(r[0]): kind_of(str(r[1])) for r in rows}


def check_compatible(
    cur: duckdb.DuckDBPyConnection,
    info: DatasetInfo,
    mapping: Mapping,
    new_leads: str,
    file: str,
    made_up_ids: bool,
) -> None:
    """Refuse new files that cannot update ``info`` by lead id, naming every reason and fix."""
    problems: list[Problem] = []
    if info.ids_made_up:
        problems.append(Problem("refresh_stored_without_id", file, params={"name": info.name}))
    if made_up_ids:
        problems.append(Problem("refresh_without_id", file, params={"name": info.name}))
    if problems:
        raise LoadError(problems)
    old_id, new_id = info.mapping.column("id"), mapping.column("id")
    if old_id != new_id:
        problems.append(
            Problem(
                "refresh_id_changed",
                file,
                column=new_id,
                params={"name": info.name, "before": old_id or "-"},
            )
        )
    old = {c: k for c, k in column_kinds(cur, info.table()).items()}
    new = column_kinds(cur, new_leads)
    lost = [c for c in info.columns if c not in new]
    if lost:
        problems.append(
            Problem(
                "refresh_columns_missing",
                file,
                values=tuple(lost[:MAX_EXAMPLES]),
                count=len(lost),
                params={"name": info.name},
            )
        )
    for column in info.columns:
        if column in new and column in old and old[column] != new[column]:
            problems.append(
                Problem(
                    "refresh_column_kind",
                    file,
                    column=column,
                    params={"name": info.name, "kind_before": old[column], "kind_now": new[column]},
                )
            )
    if problems:
        raise LoadError(problems)


def _key(alias: str, id_col: str) -> str:
    return f"CAST({alias}.{quote_ident(id_col)} AS VARCHAR)"


def plan_refresh(
    cur: duckdb.DuckDBPyConnection, info: DatasetInfo, id_col: str, new_leads: str, rows: int
) -> RefreshPlan:
    """Count what refreshing ``info`` with the registered ``new_leads`` would do (reads only).

    A lead counts as changed when any column both files have, or its outcome, closing date or
    amount, differs (``IS DISTINCT FROM``: a value becoming empty is a change).
    """
    new_cols = set(column_kinds(cur, new_leads))
    shared = [c for c in info.columns if c in new_cols and c != id_col]
    shared += [c for c in new_cols if c.startswith(RESERVED_PREFIX)]
    differs = " OR ".join(f"o.{quote_ident(c)} IS DISTINCT FROM n.{quote_ident(c)}" for c in shared)
    out = quote_ident(OUTCOME_COL)
    # the full outer join once, kept as one slim row per lead (its key on each side, whether
    # a shared column differs, its outcome before and now); every count below reads that
    plan = "_funnel_refresh_plan"
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE {plan} AS
        SELECT o._k AS old_k, n._k AS new_k, ({differs or "false"}) AS differs,
               o.{out} AS old_out, n.{out} AS new_out
        FROM (SELECT *, {_key("t", id_col)} AS _k FROM {info.table()} t) o
        FULL OUTER JOIN (SELECT *, {_key("t", id_col)} AS _k FROM {new_leads} t) n
        ON o._k = n._k"""
    )
    try:
        both = "old_k IS NOT NULL AND new_k IS NOT NULL"
        recorded = f"{both} AND old_out IN ('won', 'lost') AND old_out IS DISTINCT FROM new_out"
        counts = cur.execute(
            f"""SELECT
                count(*) FILTER (WHERE old_k IS NOT NULL),
                count(*) FILTER (WHERE old_k IS NULL),
                count(*) FILTER (WHERE {both} AND differs),
                count(*) FILTER (WHERE {both} AND NOT differs),
                count(*) FILTER (WHERE new_k IS NULL),
                count(*) FILTER (WHERE {both} AND old_out IS DISTINCT FROM new_out)
            FROM {plan}"""
        ).fetchone()
        assert counts is not None
        before, added, changed, unchanged, missing, outcomes_changed = (int(c) for c in counts)
        transitions = cur.execute(
            f"SELECT old_out, coalesce(new_out, 'open'), count(*) FROM {plan} "
            f"WHERE {recorded} GROUP BY ALL ORDER BY 3 DESC, 1, 2"
        ).fetchall()
        examples = cur.execute(
            f"SELECT old_k, old_out, coalesce(new_out, 'open') FROM {plan} WHERE {recorded} "
            "ORDER BY old_k LIMIT ?",
            [MAX_IDS],
        ).fetchall()
        gone = cur.execute(
            f"SELECT old_k FROM {plan} WHERE new_k IS NULL ORDER BY old_k LIMIT ?", [MAX_IDS]
        ).fetchall()
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {plan}")
    return RefreshPlan(
        dataset=info.name,
        rows=rows,
        before=before,
        added=added,
        changed=changed,
        unchanged=unchanged,
        missing=missing,
        outcomes_changed=outcomes_changed,
        recorded=tuple((str(a), str(b), int(n)) for a, b, n in transitions),
        examples=tuple((str(i), str(a), str(b)) for i, a, b in examples),
        missing_examples=tuple(str(r[0]) for r in gone),
    )


def merge_tables(
    cur: duckdb.DuckDBPyConnection,
    info: DatasetInfo,
    id_col: str,
    schema: str,
    new: dict[str, str],
    now: datetime,
) -> None:
    """Write the refreshed dataset's tables into ``schema``: the new files' rows, and the
    stored rows of the leads missing from them (``new`` maps a table to its registered frame).

    A lead's first-seen time is kept; its outcome-since time moves to ``now`` when its outcome
    changed. Columns only the new files have are empty for the leads kept from before.
    """
    target = quote_ident(schema)
    out, first, since = (quote_ident(c) for c in (OUTCOME_COL, FIRST_SEEN_COL, OUTCOME_SINCE_COL))
    new_ids = f"(SELECT {_key('t', id_col)} FROM {new['leads']} t)"
    cur.execute(
        f"""CREATE TABLE {target}.leads AS
        SELECT n.*,
            coalesce(o._first, ?::TIMESTAMP) AS {first},
            CASE WHEN o._k IS NULL OR o._out IS DISTINCT FROM n.{out} THEN ?::TIMESTAMP
                 ELSE o._since END AS {since}
        FROM {new["leads"]} n
        LEFT JOIN (
            SELECT {_key("t", id_col)} AS _k, t.{out} AS _out, t.{first} AS _first,
                   t.{since} AS _since
            FROM {info.table()} t
        ) o ON o._k = {_key("n", id_col)}
        UNION ALL BY NAME
        SELECT * FROM {info.table()} t WHERE {_key("t", id_col)} NOT IN {new_ids}""",
        [now, now],
    )
    cur.execute(
        f"""CREATE TABLE {target}.outcomes AS
        SELECT * FROM {new["outcomes"]}
        UNION ALL BY NAME
        SELECT * FROM {info.table("outcomes")} WHERE lead_id NOT IN {new_ids}"""
    )
    stored = {
        str(r[0])
        for r in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [info.schema],
        ).fetchall()
    }
    parts = [f"SELECT * FROM {new['activities']}"] if "activities" in new else []
    if "activities" in stored:
        parts.append(f"SELECT * FROM {info.table('activities')} WHERE lead_id NOT IN {new_ids}")
    if parts:
        cur.execute(f"CREATE TABLE {target}.activities AS " + " UNION ALL BY NAME ".join(parts))
