"""Helpers shared by test modules (import as ``tests.support``)."""

from __future__ import annotations

import hashlib
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from funnel.rules import (
    CategoryRule,
    CompareRule,
    CountRule,
    PerUnitRule,
    RangeRule,
    Rule,
    SetRule,
)
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


def _category_points(rule: CategoryRule, col: pd.Series) -> pd.Series:
    return (col.notna() & col.astype(str).eq(rule.value)).astype(int) * rule.points


def _range_points(rule: RangeRule, col: pd.Series) -> pd.Series:
    x = col.astype(float)
    hit = x.notna()
    if rule.low is not None:
        hit &= x >= rule.low
    if rule.high is not None:
        hit &= x < rule.high
    return hit.astype(int) * rule.points


def _set_points(rule: SetRule, col: pd.Series) -> pd.Series:
    return (col.notna() & col.astype(str).isin(rule.one_of)).astype(int) * rule.points


_OPERATORS = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _compare_points(rule: CompareRule, col: pd.Series) -> pd.Series:
    x = col.astype(float)
    return (x.notna() & _OPERATORS[rule.op](x, rule.value)).astype(int) * rule.points


def _per_unit_points(rule: PerUnitRule, col: pd.Series) -> pd.Series:
    raw = col.fillna(0).astype(float) * rule.points
    if rule.cap is not None:
        raw = raw.clip(upper=abs(rule.cap)) if rule.points >= 0 else raw.clip(-abs(rule.cap))
    return raw


def _count_points(rule: CountRule, col: pd.Series) -> pd.Series:
    x = col.astype(float)
    return (x.notna() & (x >= rule.at_least)).astype(int) * rule.points


#: Each kind's points computed by hand in pandas, to check its SQL against (missing values earn
#: nothing); tests/unit/test_rule_kinds.py checks every kind has one.
ORACLES: dict[str, Callable[[Any, pd.Series], pd.Series]] = {
    CategoryRule.kind: _category_points,
    RangeRule.kind: _range_points,
    SetRule.kind: _set_points,
    CompareRule.kind: _compare_points,
    PerUnitRule.kind: _per_unit_points,
    CountRule.kind: _count_points,
}


def rule_points(rule: Rule, f: pd.DataFrame) -> pd.Series:
    """One rule's points per lead, in pandas (missing values earn nothing)."""
    return ORACLES[rule.kind](rule, f[rule.column])


def backtest_counted(
    created: pd.Series, outcome: pd.Series, closed: pd.Series, *dates: pd.Series
) -> pd.Series:
    """Which leads a back-test counts, computed by hand (see funnel.population): won or lost,
    or still open and created at least the 90th percentile of created→won days (rounded up)
    before the latest date anywhere in the data (``dates``: the stage dates).

    ``outcome`` holds won/lost/open in any case; dates may be text or timestamps.
    """
    c = pd.to_datetime(created)
    d = pd.to_datetime(closed)
    label = outcome.astype(str).str.lower()
    won_days = ((d - c).dt.total_seconds() / 86400)[label.eq("won") & (d >= c)]
    if won_days.empty:
        return label.isin(["won", "lost"])
    latest = max(x.max() for x in (c, d, *(pd.to_datetime(x) for x in dates)))
    cutoff = latest - pd.Timedelta(days=math.ceil(float(won_days.quantile(0.9))))
    return label.isin(["won", "lost"]) | (label.eq("open") & (c <= cutoff))
