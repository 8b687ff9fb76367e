"""Scores lead by lead: the scored list with each lead's top reasons, and one lead's
score explained rule by rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.fragment import Fragment, bind, compose, join
from funnel.renderers import label
from funnel.rules import Rule, RuleSet, labelled
from funnel.rulesql import gate_sql, gates_sql
from funnel.scoring.histogram import tier_index
from funnel.scoring.source import hot_sql, source
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident

#: Prefix of the lead's own columns in :func:`score_leads`'s query (renamed back after).
_OWN = "__own_"


def score_leads(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters = NO_FILTERS,
    *,
    only: str | None = None,
    limit: int | None = None,
    reasons: int = 3,
    lang: str = "en",
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per lead: id, score, tier, the top reasons, the knock-out gate if any, the
    outcome, then the lead's own ``columns`` (stored name → name in the result, which must
    not be one of those), read in the same query.

    ``only``: ``"hot"`` for hot leads, ``"missed"`` for won leads that were not hot. Leads
    come best first (score descending, then id).
    """
    id_col = info.mapping.column("id") or info.columns[0]
    src = source(store, info, rs)
    score, gated = src.score(rs), gates_sql(rs)
    outcome = quote_ident(OUTCOME_COL)
    hot = hot_sql(rs, score, gated)
    picks = {
        None: Fragment("TRUE"),
        "hot": hot,
        "missed": compose("NOT {hot} AND {outcome} = 'won'", hot=hot, outcome=outcome),
    }
    points = [compose(f", ({{p}}) AS r{i}", p=src.rule(rs, r)) for i, r in enumerate(rs.rules)]
    columns = columns or {}
    own = [f", {quote_ident(c)} AS {quote_ident(f'{_OWN}{j}')}" for j, c in enumerate(columns)]
    query = compose(
        """
        {with_}
        SELECT CAST({id} AS VARCHAR) AS id, ({score})::DOUBLE AS score, ({gated}) AS gated,
               {outcome} AS outcome{points}{own}
        FROM {leads} WHERE ({where}) AND {pick}
        ORDER BY score DESC, id{limit}
        """,
        with_=src.with_(),
        id=quote_ident(id_col),
        score=score,
        gated=gated,
        outcome=outcome,
        points=join("", points),
        own="".join(own),
        leads=src.table,
        where=filters.where(info),
        pick=picks[only],
        limit=Fragment("") if limit is None else compose(" LIMIT {n}", n=bind(limit)),
    )
    frame: pd.DataFrame = store.fetch_frame(query.sql, query.args)
    idx = tier_index(frame["score"].to_numpy(), frame["gated"].to_numpy(dtype=bool), rs)
    frame["tier"] = [rs.tiers[i].name for i in idx]
    frame["reasons"] = _reasons(frame, rs.rules, reasons, lang)
    frame["knocked_out"] = frame["gated"].astype(bool)
    frame = frame.rename(columns={f"{_OWN}{j}": name for j, name in enumerate(columns.values())})
    kept = ["id", "score", "tier", "reasons", "knocked_out", "outcome", *columns.values()]
    return whole_scores(frame[kept].reset_index(drop=True))


def whole_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``score`` column as whole numbers when every score is one.

    Scores are sums of whole points unless activity points decay (rounded to 0.1): a list
    of whole scores then prints ``4``, not ``4.0``, in CSV, JSON and Excel alike.

    >>> whole_scores(pd.DataFrame({"score": [4.0, -2.0]}))["score"].tolist()
    [4, -2]
    >>> whole_scores(pd.DataFrame({"score": [4.0, 2.5]}))["score"].tolist()
    [4.0, 2.5]
    """
    score = frame["score"]
    if not pd.api.types.is_float_dtype(score.dtype):
        return frame
    values = score.to_numpy(dtype=float)
    if not (np.isfinite(values).all() and (values % 1 == 0).all()):
        return frame
    out = frame.copy()
    out["score"] = score.astype("int64")
    return out


def _reasons(frame: pd.DataFrame, rules: Sequence[Rule], k: int, lang: str) -> list[str]:
    if not rules or frame.empty:
        return [""] * len(frame)
    points = frame[[f"r{i}" for i in range(len(rules))]].to_numpy(dtype=float)
    labels = [label(r, lang) for r in rules]
    order = np.argsort(-np.abs(points), axis=1)[:, :k]
    out = []
    for row, picks in zip(points, order, strict=True):
        out.append("; ".join(f"{labels[j]} ({row[j]:+.0f})" for j in picks if row[j] != 0))
    return out


@dataclass(frozen=True)
class Explanation:
    """One lead's score, rule by rule."""

    lead_id: str
    score: float
    tier: str
    outcome: str | None
    points: list[tuple[str, float]]  # (rule sentence, points), in rule order
    gates: list[str]  # sentences of the gates that apply


def explain_lead(
    store: Store, info: DatasetInfo, rs: RuleSet, lead_id: str, lang: str = "en"
) -> Explanation | None:
    """Explain a lead's score and tier (None when the id is unknown)."""
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    src = source(store, info, rs)
    points = [
        compose(f", ({{p}})::DOUBLE AS r{i}", p=src.rule(rs, r)) for i, r in enumerate(rs.rules)
    ]
    gates = [
        compose(f", coalesce({{g}}, FALSE) AS g{j}", g=gate_sql(g)) for j, g in enumerate(rs.gates)
    ]
    query = compose(
        "{with_} SELECT {outcome} AS outcome, ({score})::DOUBLE AS score, ({gated}) AS gated"
        "{points}{gates} FROM {leads} WHERE CAST({id} AS VARCHAR) = {lead} LIMIT 1",
        with_=src.with_(),
        outcome=quote_ident(OUTCOME_COL),
        score=src.score(rs),
        gated=gates_sql(rs),
        points=join("", points),
        gates=join("", gates),
        leads=src.table,
        id=id_col,
        lead=bind(lead_id),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    if row is None:
        return None
    outcome, total, gated = row[0], float(row[1]), bool(row[2])
    values = [float(v or 0) for v in row[3 : 3 + len(rs.rules)]]
    hits = [bool(v) for v in row[3 + len(rs.rules) :]]
    idx = tier_index(np.array([total]), np.array([gated]), rs)[0]
    units = info.mapping.labels()  # "Each web visit", not "Each web_visits"
    return Explanation(
        lead_id=lead_id,
        score=total,
        tier=rs.tiers[int(idx)].name,
        outcome=outcome,
        points=[
            (labelled(r, units, lang).describe(lang), v)
            for r, v in zip(rs.rules, values, strict=True)
        ],
        gates=[g.describe(lang) for g, hit in zip(rs.gates, hits, strict=True) if hit],
    )
