"""Helpers shared by test modules (import as ``tests.support``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from funnel.rules import CategoryRule, PerUnitRule, RangeRule, Rule
from funnel.store import Store


@dataclass(frozen=True)
class Snapshot:
    """What a stored dataset looks like: catalog counts plus checksums of its tables."""

    schema: str
    counts: tuple[int, int, int, int]
    leads_sha: str
    outcomes_sha: str


def table_sha(store: Store, sql: str) -> str:
    """Checksum a query's result, to prove stored data did not change."""
    frame = store.fetch_frame(sql)
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def snapshot(store: Store, name: str) -> Snapshot:
    """Capture a stored dataset's catalog counts and table checksums."""
    info = store.require(name)
    return Snapshot(
        schema=info.schema,
        counts=(info.leads, info.won, info.lost, info.open),
        leads_sha=table_sha(store, f"SELECT * FROM {info.table('leads')}"),
        outcomes_sha=table_sha(store, f"SELECT * FROM {info.table('outcomes')}"),
    )


def rule_points(rule: Rule, f: pd.DataFrame) -> pd.Series:
    """One rule's points per lead, in pandas (missing values earn nothing)."""
    col = f[rule.column]
    if isinstance(rule, CategoryRule):
        hit = col.notna() & col.astype(str).eq(rule.value)
        return hit.astype(int) * rule.points
    if isinstance(rule, RangeRule):
        x = col.astype(float)
        hit = x.notna()
        if rule.low is not None:
            hit &= x >= rule.low
        if rule.high is not None:
            hit &= x < rule.high
        return hit.astype(int) * rule.points
    if isinstance(rule, PerUnitRule):
        raw = col.fillna(0).astype(float) * rule.points
        if rule.cap is not None:
            raw = raw.clip(upper=abs(rule.cap)) if rule.points >= 0 else raw.clip(-abs(rule.cap))
        return raw
    x = col.astype(float)
    return (x.notna() & (x >= rule.at_least)).astype(int) * rule.points
