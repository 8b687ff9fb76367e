"""Leak detection: lead columns that look recorded during or after the sale.

Such a column predicts the outcome only because the outcome already happened, so it must not
score leads. A flag carries its reason (``leak.<why>``, rendered by the UI).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from funnel.mapping import FEATURE_ROLES, ColumnSpec, Mapping, norm
from funnel.parsing import null_placeholders
from funnel.readers import SourceFile

# Names of columns recorded during or after the sale.
_LEAK_HINTS = tuple(
    """lostreason wonreason closereason lossreason salesstatus dealstage leadstatus status
    tags leadquality 失注理由 受注理由 商談ステータス ステータス""".split()
)


LEAK_SAMPLE_ROWS = 200_000


def flag_leaks(mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None = None) -> Mapping:
    """Flag lead columns that look recorded after the sale, saying why in ``reason``.

    A column is flagged when its name says so (status, lost reason, tags...), when it is filled
    for won leads only (or never for won leads), or when one of its common values is almost
    always won. Files above 200,000 rows are checked on a seeded sample of that size.
    """
    won = outcome_flags(mapping, leads, outcomes)
    frame = leads.frame
    if len(frame) > LEAK_SAMPLE_ROWS:  # a seeded sample is ample for these checks
        rows = frame.sample(n=LEAK_SAMPLE_ROWS, random_state=0).index
        frame = frame.loc[rows]
        won = won.loc[rows] if won is not None else None
    specs = []
    for spec in mapping.leads:
        if spec.role in FEATURE_ROLES and not spec.leak and spec.role != "source":
            reason = _leak_reason(spec, frame[spec.name], won)
            if reason:
                spec = replace(spec, leak=True, reason=reason)
        specs.append(spec)
    return replace(mapping, leads=tuple(specs))


def outcome_flags(
    mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None = None
) -> pd.Series | None:
    """Return a boolean won flag per lead row (None where the outcome is unknown)."""
    spec = mapping.outcome
    if spec is None:
        return None
    if spec.file == "leads" and spec.column in leads.frame.columns:
        return spec.labels(leads.frame[spec.column]).eq("won")
    id_col = mapping.column("id")
    out_id = mapping.column("id", "outcomes")
    if outcomes is None or id_col is None or out_id is None:
        return None
    if spec.won_only:
        won_ids = set(outcomes.frame[out_id].dropna().astype("str"))
    elif spec.column is not None:
        o = outcomes.frame
        won_mask = spec.labels(o[spec.column]).eq("won")
        won_ids = set(o.loc[won_mask, out_id].dropna().astype("str"))
    else:
        return None
    return leads.frame[id_col].astype("str").isin(won_ids)


def _leak_reason(spec: ColumnSpec, series: pd.Series, won: pd.Series | None) -> str | None:
    key = norm(spec.name)
    if any(h == key or (len(h) > 5 and h in key) for h in _LEAK_HINTS):
        return "leak.name"
    if won is None:
        return None
    won = won.astype(bool)
    n_won, n_other = int(won.sum()), int((~won).sum())
    if n_won < 10 or n_other < 10:
        return None
    filled = null_placeholders(series)[0].notna()
    fill_won = float(filled[won].mean())
    fill_other = float(filled[~won].mean())
    if fill_won >= 0.2 and fill_other <= 0.01:
        return "leak.only_won"
    if fill_won == 0.0 and fill_other >= 0.05:
        return "leak.never_won"
    if spec.role == "attribute":
        base = n_won / (n_won + n_other)
        if base < 0.5:
            values = series.astype("str").str.strip().str.lower()
            stats = (
                pd.DataFrame({"v": values, "w": won})
                .groupby("v", dropna=True)["w"]
                .agg(["size", "mean"])
            )
            strong = stats[(stats["size"] >= max(30, 0.01 * len(series))) & (stats["mean"] >= 0.97)]
            if not strong.empty:
                return "leak.value_always_won"
    return None
