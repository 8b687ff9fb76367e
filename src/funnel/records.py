"""Leads as records: the rows a sales manager can act on.

A record is a lead's id, created date and source, the lead's own values of the columns the rules
read, its score, tier and outcome, and only the rules that fired, with their points. The tuner
shows the won deals a definition would have missed, the leads two proposals disagree on and the
lead being explained this way; the same lists download in the hand-off format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.handoff import handoff_frame
from funnel.rules import RuleSet
from funnel.scoring.leads import score_leads
from funnel.store import DatasetInfo, Store, quote_ident

#: The columns every record has, in order around the lead's own values (``attributes``).
LEADING = ("id", "created", "source")
TRAILING = ("score", "tier", "outcome", "fired")
#: The lists a record table can show.
LISTS = ("hot", "missed", "all")
_KEY = "_funnel_key"


def attribute_columns(info: DatasetInfo, rs: RuleSet) -> list[str]:
    """The lead's own columns a record shows besides id, created and source: the columns the
    rules and gates read, in rule order."""
    fixed = {info.mapping.column(role) for role in ("id", "created", "source")}
    columns = [r.column for r in rs.rules] + [g.column for g in rs.gates]
    return [c for c in dict.fromkeys(columns) if c not in fixed and c in info.columns]


def _record_name(column: str) -> str:
    """A lead column named like a record's own column is shown as ``<name> (lead)``.

    >>> _record_name("score"), _record_name("industry")
    ('score (lead)', 'industry')
    """
    return f"{column} (lead)" if column in LEADING + TRAILING else column


def lead_records(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    only: str = "hot",
    not_hot_in: RuleSet | None = None,
    ids: Sequence[str] | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """One list of leads as records, best score first (then id).

    ``only`` is ``"hot"``, ``"missed"`` (won but not hot) or ``"all"``; ``not_hot_in`` drops
    the leads that rule set calls hot too (``rs`` hot and ``not_hot_in`` not: where two
    proposals disagree); ``ids`` keeps only those leads. ``fired`` lists every rule that gave
    the lead points, with the points; ``outcome`` is ``won``, ``lost``, ``open`` or empty.
    """
    id_col = info.mapping.column("id") or info.columns[0]
    if ids is not None:  # only these leads are scored
        filters = replace(filters, equals=(*filters.equals, (id_col, tuple(map(str, ids)))))
    scored = score_leads(
        store,
        info,
        rs,
        filters,
        only=None if only == "all" else only,
        reasons=len(rs.rules),
        lang=lang,
    )
    if not_hot_in is not None:
        other = score_leads(store, info, not_hot_in, filters, only="hot", reasons=0)
        scored = scored[~scored["id"].isin(set(other["id"]))]
    scored = scored.rename(columns={"reasons": "fired"})
    mapping = info.mapping
    own = {
        "created": mapping.column("created"),
        "source": mapping.column("source"),
        **{_record_name(c): c for c in attribute_columns(info, rs)},
    }
    present = {k: c for k, c in own.items() if c is not None}
    if present and not scored.empty:
        select = ", ".join(f"{quote_ident(c)} AS {quote_ident(k)}" for k, c in present.items())
        sql = (
            f"SELECT CAST({quote_ident(id_col)} AS VARCHAR) AS {quote_ident(_KEY)}, {select} "
            f"FROM {info.table()} WHERE CAST({quote_ident(id_col)} AS VARCHAR) IN "
            "(SELECT id FROM record_ids)"
        )
        with store.cursor() as cur:
            cur.register("record_ids", pd.DataFrame({"id": scored["id"].astype(str)}))
            values = cur.execute(sql).df()
            cur.unregister("record_ids")
        scored = scored.merge(values, how="left", left_on="id", right_on=_KEY).drop(columns=_KEY)
    else:
        for key in present:
            scored[key] = pd.Series(dtype="object")
    columns = ["id", *present, *TRAILING]
    return scored[columns].reset_index(drop=True)


def records_handoff(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    records: pd.DataFrame,
    filters: Filters = NO_FILTERS,
    *,
    lang: str = "en",
) -> pd.DataFrame:
    """The hand-off list (id, score, tier, reasons, then the lead's own columns) of exactly the
    leads in ``records``, in their order."""
    every = handoff_frame(store, info, rs, filters, only=None, lang=lang)
    order = {lead: i for i, lead in enumerate(records["id"].astype(str))}
    kept = every[every["id"].astype(str).isin(order)]
    return kept.iloc[kept["id"].astype(str).map(order).argsort()].reset_index(drop=True)


def search_leads(
    store: Store, info: DatasetInfo, text: str, columns: Sequence[str] = (), limit: int = 50
) -> list[str]:
    """The ids of leads whose id, or one of ``columns``, contains ``text`` (any case); an exact
    id comes first."""
    text = text.strip()
    if not text:
        return []
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    wanted = [id_col, *(quote_ident(c) for c in columns if c in info.columns)]
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where = " OR ".join(f"CAST({c} AS VARCHAR) ILIKE ? ESCAPE '\\'" for c in wanted)
    sql = (
        f"SELECT CAST({id_col} AS VARCHAR) AS id FROM {info.table()} WHERE {where} "
        f"ORDER BY CAST({id_col} AS VARCHAR) <> ?, length(CAST({id_col} AS VARCHAR)), 1 LIMIT ?"
    )
    with store.cursor() as cur:
        rows = cur.execute(sql, [*([pattern] * len(wanted)), text, limit]).fetchall()
    return [str(r[0]) for r in rows]
