"""Each lead's score and tier under the version in force when it arrived.

A review asks "was it hot when it arrived?" as well as "is it hot under today's rules?". When
a load or refresh brings leads funnel had not seen, and an agreed version of the dataset is in
force then (agreed, and effective on that day), each new lead's score and tier under that
version are appended to ``funnel_arrivals`` and never changed. Leads that arrived while no
version was in force have no row. Recording is idempotent: it scores only leads without a row,
each under the version in force at its first-seen time, so a load interrupted before it
scored catches up at the next.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from funnel.fragment import bind, compose
from funnel.i18n import CodedError
from funnel.rules import RuleSet, check_columns
from funnel.rulesql import gates_sql
from funnel.scoring.histogram import tier_index
from funnel.scoring.source import source
from funnel.store import ARRIVALS, FIRST_SEEN_COL, DatasetInfo, Store, quote_ident
from funnel.versions.history import list_versions
from funnel.versions.record import Version


def version_in_force(store: Store, dataset: str, at: datetime) -> Version | None:
    """The agreed version of ``dataset`` in force at ``at``: of those agreed by then and
    effective on that day, the one agreed last."""
    effective = [
        v
        for v in list_versions(store, dataset)
        if v.agreed_at is not None
        and v.agreed_at <= at
        and (v.effective_from is None or v.effective_from <= at.date())
    ]
    return max(effective, key=lambda v: (v.agreed_at, v.version_id), default=None)


def record_arrivals(store: Store, info: DatasetInfo) -> int:
    """Score the leads of ``info`` that have no arrival row under the version in force when
    they were first seen; return how many rows were written.

    A version whose rules the data can no longer be scored with (a column the newer export
    lacks) records nothing for those leads: the load itself never fails for this.
    """
    if store.read_only:
        return 0
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    seen = quote_ident(FIRST_SEEN_COL)
    times = store.fetch_frame(
        f"SELECT {seen} AS at, count(*) AS n FROM {info.table()} "
        f"WHERE CAST({id_col} AS VARCHAR) NOT IN "
        f"(SELECT lead_id FROM {ARRIVALS} WHERE dataset = ?) GROUP BY 1 ORDER BY 1",
        [info.name],
    )
    written = 0
    for at in times["at"]:
        when = pd.Timestamp(at).to_pydatetime()
        v = version_in_force(store, info.name, when)
        if v is None:
            continue
        try:
            check_columns(v.ruleset, store.column_facts(info), source=v.label())
            frame = _scores(store, info, v.ruleset, when)
        except (CodedError, duckdb.Error):  # rules the data can no longer be scored with
            continue
        frame.insert(0, "dataset", info.name)
        frame.insert(2, "version_id", v.version_id)
        frame.insert(3, "arrived_at", when)
        with store.transaction() as cur:
            cur.register("_funnel_in_arrivals", frame)
            cur.execute(
                f"INSERT INTO {ARRIVALS} SELECT dataset, id, version_id, arrived_at, score, tier "
                "FROM _funnel_in_arrivals "
                f"WHERE id NOT IN (SELECT lead_id FROM {ARRIVALS} WHERE dataset = ?)",
                [info.name],
            )
            cur.unregister("_funnel_in_arrivals")
        written += len(frame)
    return written


def _scores(store: Store, info: DatasetInfo, rs: RuleSet, seen: datetime) -> pd.DataFrame:
    """Score and tier of the leads first seen at ``seen`` (id, score, tier)."""
    id_col = info.mapping.column("id") or info.columns[0]
    src = source(store, info, rs)
    query = compose(
        """
        {with_}
        SELECT CAST({id} AS VARCHAR) AS id, ({score})::DOUBLE AS score, ({gated}) AS gated
        FROM {leads} WHERE {seen} = {at}
        """,
        with_=src.with_(),
        id=quote_ident(id_col),
        score=src.score(rs),
        gated=gates_sql(rs),
        leads=src.table,
        seen=quote_ident(FIRST_SEEN_COL),
        at=bind(seen),
    )
    frame: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    idx = tier_index(frame["score"].to_numpy(), frame["gated"].to_numpy(dtype=bool), rs)
    frame["tier"] = [rs.tiers[i].name for i in idx]
    return frame[["id", "score", "tier"]]


def scores_then_and_now(store: Store, info: DatasetInfo, now: RuleSet) -> pd.DataFrame:
    """Every lead's score and tier when it arrived beside its score and tier under ``now``.

    Columns: ``id``, ``first_seen``, ``version_id``, ``arrived_at``, ``score_then``,
    ``tier_then`` (missing where no version was in force when the lead arrived), ``score_now``,
    ``tier_now``. One row per lead of ``info``, in id order.
    """
    check_columns(now, store.column_facts(info), source=now.name)
    id_col = info.mapping.column("id") or info.columns[0]
    src = source(store, info, now)
    query = compose(
        """
        {with_}
        SELECT CAST({id} AS VARCHAR) AS id, {seen} AS first_seen,
               ({score})::DOUBLE AS score_now, ({gated}) AS gated
        FROM {leads}
        """,
        with_=src.with_(),
        id=quote_ident(id_col),
        seen=quote_ident(FIRST_SEEN_COL),
        score=src.score(now),
        gated=gates_sql(now),
        leads=src.table,
    )
    leads: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    idx = tier_index(leads["score_now"].to_numpy(), leads["gated"].to_numpy(dtype=bool), now)
    leads["tier_now"] = [now.tiers[i].name for i in idx]
    then = store.fetch_frame(
        f"SELECT lead_id AS id, version_id, arrived_at, score AS score_then, tier AS tier_then "
        f"FROM {ARRIVALS} WHERE dataset = ?",
        [info.name],
    )
    out = leads.drop(columns="gated").merge(then, on="id", how="left")
    columns = ["id", "first_seen", "version_id", "arrived_at", "score_then", "tier_then"]
    return out[[*columns, "score_now", "tier_now"]].sort_values("id", ignore_index=True)


def contact_times(store: Store, info: DatasetInfo) -> pd.DataFrame | None:
    """Each lead's first contact by sales and the hours from its arrival to it.

    Columns: ``id``, ``arrived_at`` (the created date where the dataset has one, else when
    funnel first saw the lead), ``first_contact`` (missing: not contacted yet) and
    ``hours_to_contact``. None when the dataset maps no first-contact column
    (:data:`funnel.mapping.Role` ``first_contact``). A contact dated before the lead arrived
    (a CRM that created the lead after the call) gives negative hours, kept as written.
    """
    contact = info.mapping.column("first_contact")
    if contact is None or contact not in info.columns:
        return None
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    created = info.mapping.column("created")
    arrived = quote_ident(created if created in info.columns else FIRST_SEEN_COL)
    frame: pd.DataFrame = store.fetch_frame(
        f"SELECT CAST({id_col} AS VARCHAR) AS id, CAST({arrived} AS TIMESTAMP) AS arrived_at, "
        f"CAST({quote_ident(contact)} AS TIMESTAMP) AS first_contact, "
        f"(epoch(CAST({quote_ident(contact)} AS TIMESTAMP)) - epoch(CAST({arrived} AS TIMESTAMP)))"
        f" / 3600.0 AS hours_to_contact FROM {info.table()} ORDER BY id"
    )
    return frame
