"""Helpers shared by test modules (import as ``tests.support``)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import operator
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from funnel.cli import main as funnel_main
from funnel.rules import (
    CategoryRule,
    CompareRule,
    CountRule,
    PerUnitRule,
    RangeRule,
    Rule,
    SetRule,
)
from funnel.store import DatasetInfo, Store
from funnel.tunerstate import TunerState


@dataclass(frozen=True)
class Snapshot:
    """What a stored dataset looks like: catalog counts plus checksums of its tables."""

    schema: str
    counts: tuple[int, int, int, int]
    leads_sha: str
    outcomes_sha: str


def cli(*argv: str | Path) -> tuple[int, str, str]:
    """``funnel ARGV`` in this process: exit code, stdout, stderr (never a traceback)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = funnel_main([str(a) for a in argv])
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


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
    label = outcome.astype(str).str.lower()
    cutoff = mature_cutoff(created, outcome, closed, *dates)
    if cutoff is None:
        return label.isin(["won", "lost"])
    return label.isin(["won", "lost"]) | (label.eq("open") & (c <= cutoff))


def mature_cutoff(
    created: pd.Series, outcome: pd.Series, closed: pd.Series, *dates: pd.Series
) -> pd.Timestamp | None:
    """The latest created date old enough to have converted, by hand (see funnel.population):
    the latest date anywhere in the data less the 90th percentile of created→won days (rounded
    up); None without a won lead with a closed date."""
    c = pd.to_datetime(created)
    d = pd.to_datetime(closed)
    label = outcome.astype(str).str.lower()
    won_days = ((d - c).dt.total_seconds() / 86400)[label.eq("won") & (d >= c)]
    if won_days.empty:
        return None
    latest = max(x.max() for x in (c, d, *(pd.to_datetime(x) for x in dates)))
    return latest - pd.Timedelta(days=math.ceil(float(won_days.quantile(0.9))))


# --- the tuner's session state in an AppTest ---------------------------------------------------


def tuner_state(at: Any, dataset: str) -> TunerState:
    """The tuner's state for ``dataset`` in an AppTest session."""
    found: TunerState = at.session_state["_tuner"][dataset]
    return found


def tuner_prefix(at: Any, info: DatasetInfo, proposal: str | None = None) -> str:
    """The key prefix of the tuner's rule widgets for a proposal (the active one by default)."""
    generations = at.session_state["_tuner_widgets"] if "_tuner_widgets" in at.session_state else {}
    active = proposal or tuner_state(at, info.name).active
    return f"{info.dataset_id}:{active}:{generations.get(info.name, 0)}"


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or folder read-only for this process (``chattr +i`` when root)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    done = subprocess.run([chattr or "chattr", "+i", str(path)], capture_output=True, text=True)
    if chattr is None or done.returncode:
        pytest.skip(f"cannot make {path.name} read-only for root here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


# --- awkward datasets: every page must open on each of them without a traceback ---------------


def _rows(n: int, make: Any) -> str:
    return "\n".join(make(i) for i in range(1, n + 1)) + "\n"


#: name → a leads CSV that loads, but leaves some page with little or nothing to show. Dates are
#: January and March 2024 only, so a February date filter leaves no lead at all.
AWKWARD_FILES: dict[str, str] = {
    # a closed-deals file uploaded as leads: an id, a date and attributes, no outcome, one stage
    "one-stage": "mql_id,won_date,business_segment,lead_type,declared_monthly_revenue\n"
    + _rows(
        60,
        lambda i: (
            f"M{i:03d},2024-{1 if i % 2 else 3:02d}-{i % 27 + 1:02d},"
            f"{'pet' if i % 3 else 'car'},{'online' if i % 2 else 'offline'},{i * 100}"
        ),
    ),
    # stages before the sale but no outcome at all
    "no-outcome": "lead_id,created_at,mql_date,source,industry,web_visits\n"
    + _rows(
        60,
        lambda i: (
            f"L{i},2024-{1 if i % 2 else 3:02d}-{i % 27 + 1:02d},"
            f"{'2024-04-01' if i % 3 == 0 else ''},{'Web' if i % 2 else 'Event'},"
            f"{'IT' if i % 5 else 'Retail'},{i % 7}"
        ),
    ),
    "no-dates": "lead_id,source,industry,web_visits,outcome\n"
    + _rows(
        60,
        lambda i: (
            f"L{i},{'Web' if i % 2 else 'Event'},{'IT' if i % 5 else 'Retail'},{i % 7},"
            f"{'Won' if i % 4 == 0 else 'Lost'}"
        ),
    ),
    "no-features": "lead_id,created_at,outcome\n"
    + _rows(
        60,
        lambda i: (
            f"L{i},2024-{1 if i % 2 else 3:02d}-{i % 27 + 1:02d},{'Won' if i % 4 == 0 else 'Lost'}"
        ),
    ),
    "all-won": "lead_id,created_at,source,industry,web_visits,outcome\n"
    + _rows(
        60,
        lambda i: (
            f"L{i},2024-{1 if i % 2 else 3:02d}-{i % 27 + 1:02d},"
            f"{'Web' if i % 2 else 'Event'},{'IT' if i % 5 else 'Retail'},{i % 7},Won"
        ),
    ),
    # an ordinary dataset; the tests filter it to a month without leads, or to Web and Retail
    # (every Retail lead came from an Event)
    "empty-after-filter": "lead_id,created_at,mql_date,source,industry,web_visits,outcome\n"
    + _rows(
        80,
        lambda i: (
            f"L{i},2024-{1 if i % 2 else 3:02d}-{i % 27 + 1:02d},"
            f"{'2024-04-01' if i % 3 == 0 else ''},{'Web' if i % 2 else 'Event'},"
            f"{'IT' if i % 10 else 'Retail'},{i % 7},{'Won' if i % 4 == 0 else 'Lost'}"
        ),
    ),
}
#: The dataset the tests filter, the created-date range without leads, and the values of two
#: columns no lead has together.
FILTERED = "empty-after-filter"
EMPTY_RANGE = ("2024-02-01", "2024-02-20")
EMPTY_VALUES = (("source", "Web"), ("industry", "Retail"))


def store_awkward(store: Store) -> dict[str, DatasetInfo]:
    """Load every :data:`AWKWARD_FILES` dataset the way the Data page does (proposed mapping)."""
    from funnel.ingest import load_files
    from funnel.readers import read_bytes

    return {
        name: load_files(store, name, read_bytes(text.encode(), f"{name}.csv")).dataset
        for name, text in AWKWARD_FILES.items()
    }


# --- charts as the browser lays them out ----------------------------------------------------------

#: In the page, for every Plotly chart: its visible texts outside its own box, axis titles over a
#: tick label or turned sideways, a legend over the plot, and (given ``maxWidth``) a chart wider.
CHART_CHECK = """(maxWidth) => {
  const inside = (r, box) => r.left >= box.left - 1 && r.right <= box.right + 1
      && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom
      && b.top < a.bottom;
  const seen = (el) => {
    const r = el.getBoundingClientRect();
    return el.textContent.trim() && r.width > 0 && r.height > 0 ? r : null;
  };
  const problems = [];
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
  for (const chart of charts) {
    const box = chart.getBoundingClientRect();
    const texts = Array.from(chart.querySelectorAll('svg text'));
    for (const t of texts) {
      const r = seen(t);
      if (r && !inside(r, box)) problems.push(
        `${chart.id}: "${t.textContent}" outside the chart ` +
        `(${Math.round(r.left - box.left)}..${Math.round(r.right - box.left)} of ` +
        `${Math.round(box.width)} wide, ${Math.round(r.top - box.top)}..` +
        `${Math.round(r.bottom - box.top)} of ${Math.round(box.height)} high)`);
    }
    for (const t of chart.querySelectorAll('.g-xtitle text, .g-ytitle text, .g-y2title text')) {
      if (seen(t) && (t.getAttribute('transform') || '').includes('rotate')) problems.push(
        `${chart.id}: the axis title "${t.textContent}" is turned sideways`);
    }
    const area = chart.querySelector('.draglayer .nsewdrag');
    const plot = area ? area.getBoundingClientRect() : null;
    for (const t of chart.querySelectorAll('.legendtext')) {
      const r = seen(t);
      if (r && plot && meets(r, plot)) problems.push(
        `${chart.id}: the legend "${t.textContent}" lies over the plot`);
    }
    if (maxWidth && box.width > maxWidth + 1) problems.push(
      `${chart.id}: ${Math.round(box.width)} px wide, wider than ${maxWidth} px`);
    const ticks = Array.from(chart.querySelectorAll('.xtick text, .ytick text, .y2tick text'));
    const titles = Array.from(chart.querySelectorAll(
      '.g-xtitle text, .g-ytitle text, .g-y2title text, .annotation-text, .legendtext'));
    for (const title of titles) {
      const a = seen(title);
      if (!a) continue;
      for (const tick of ticks) {
        const b = seen(tick);
        if (b && meets(a, b)) problems.push(
          `${chart.id}: "${title.textContent}" lies over the tick label "${tick.textContent}"`);
      }
    }
  }
  return {charts: charts.length, problems};
}"""


def chart_problems(page: Any, max_width: int = 0) -> dict[str, Any]:
    """Every chart's layout problems on a Playwright page (see :data:`CHART_CHECK`), measured by
    the browser's own layout; ``{"charts": how many, "problems": [sentences]}``."""
    page.wait_for_timeout(500)  # responsive charts settle on their width
    found: dict[str, Any] = page.evaluate(CHART_CHECK, max_width)
    return found
