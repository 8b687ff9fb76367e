"""Fine bins of one column, fitted on training leads: the pieces a suggestion's rules are
merged from.

A number is cut at up to 20 readable values near its quantiles (whole numbers for whole
columns, otherwise the roundest number between two neighbouring values), each bin holding at
least 30 leads where a cut can be dropped to get there; each spike value (0 of a mostly-zero
column, a value a third of the leads hold) is a bin of its own, exactly that value. A
category keeps each value held by at least 30 leads (the 40 most common), pools the rest, and
missing values are always a bin of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MAX_CUTS = 20  # readable cuts of a number
MIN_BIN_LEADS = 30  # a bin (that can be merged) holds at least this many leads
MAX_VALUES = 40  # category values kept as bins of their own
#: Index of "a value training never saw" (scored 0: no rule names it).
UNSEEN = -1


def nice_between(low: float, high: float) -> float:
    """The roundest number x with ``low < x <= high`` (fewest significant digits).

    >>> nice_between(37.2, 41.9), nice_between(0, 0.73), nice_between(249, 251)
    (40.0, 0.5, 250.0)
    """
    if not low < high:
        return high
    top = abs(high) if high != 0 else high - low
    exponent = math.floor(math.log10(top)) if top > 0 else 0
    for k in range(exponent + 1, exponent - 12, -1):
        step = 10.0**k
        for unit in (step, step / 2):
            x = math.floor(high / unit) * unit
            if low < x <= high:
                return float(round(x, 12))
    return high


@dataclass(frozen=True)
class Interval:
    """The numbers one bin holds: ``low``/``high`` None are open ends."""

    low: float | None
    low_closed: bool
    high: float | None
    high_closed: bool

    @property
    def point(self) -> bool:
        return self.low is not None and self.low == self.high


@dataclass(frozen=True)
class Binner:
    """One column's fine bins; the missing bin is always the last."""

    column: str
    numeric: bool
    #: numeric: cut points and spike values, sorted (a spike is a bin of its own)
    boundaries: tuple[float, ...] = ()
    spikes: tuple[float, ...] = ()
    #: numeric: each bin's numbers, in value order (the missing bin has none)
    intervals: tuple[Interval, ...] = ()
    #: category: the named values, each a bin, in the order of their bins
    values: tuple[str, ...] = ()
    pooled: bool = False  # category: a bin for every other value
    whole: bool = False  # numeric: every training value is a whole number
    labels: tuple[str, ...] = ()

    @property
    def n_bins(self) -> int:
        return len(self.labels)

    @property
    def missing(self) -> int:
        return self.n_bins - 1

    @property
    def other(self) -> int | None:
        return len(self.values) if self.pooled else None

    def transform(self, series: pd.Series) -> np.ndarray:
        """Each lead's bin (:data:`UNSEEN` for a category value training never held)."""
        if self.numeric:
            v = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            bounds = np.asarray(self.boundaries, dtype=float)
            slot = np.searchsorted(bounds, v, side="right")
            # interval j (between boundaries j-1 and j) and the spike bins, in value order
            interval_bin, spike_bin = _bin_numbers(self.boundaries, self.spikes)
            idx = np.asarray(interval_bin)[slot]
            for value, b in spike_bin.items():
                idx[v == value] = b
            idx[np.isnan(v)] = self.missing
            return idx
        lookup = {v: i for i, v in enumerate(self.values)}
        fallback = self.other if self.other is not None else UNSEEN
        text = series.astype("str")
        known = series.notna().to_numpy()
        out = np.full(len(series), self.missing, dtype=np.int64)
        mapped = text[known].map(lambda x: lookup.get(x, fallback))
        out[known] = mapped.to_numpy(dtype=np.int64)
        return out


def _bin_numbers(
    boundaries: tuple[float, ...], spikes: tuple[float, ...]
) -> tuple[list[int], dict[float, int]]:
    """The bin of each interval between boundaries, and of each spike, in value order."""
    spike_set = set(spikes)
    interval_bin = [0]
    spike_bin: dict[float, int] = {}
    nxt = 1
    for b in boundaries:
        if b in spike_set:
            spike_bin[b] = nxt
            nxt += 1
        interval_bin.append(nxt)
        nxt += 1
    return interval_bin, spike_bin


def _intervals(boundaries: tuple[float, ...], spikes: tuple[float, ...]) -> list[Interval]:
    spike_set = set(spikes)
    out: list[Interval] = []
    edges: list[float | None] = [None, *boundaries, None]
    for j in range(len(boundaries) + 1):
        low, high = edges[j], edges[j + 1]
        out.append(Interval(low, low is not None and low not in spike_set, high, False))
        if j < len(boundaries) and boundaries[j] in spike_set:
            b = boundaries[j]
            out.append(Interval(b, True, b, True))
    return out


def _label(interval: Interval) -> str:
    if interval.point:
        return f"= {interval.low:g}"
    low = "" if interval.low is None else f"{interval.low:g}"
    high = "" if interval.high is None else f"{interval.high:g}"
    return f"{'[' if interval.low_closed else '('}{low}, {high})"


MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other values)"


def fit_numeric(
    column: str,
    series: pd.Series,
    spikes: tuple[float, ...] = (),
    *,
    max_cuts: int = MAX_CUTS,
    min_leads: int = MIN_BIN_LEADS,
) -> Binner:
    """Readable cuts near the quantiles of the non-spike values, spikes as bins of their own."""
    v = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)
    whole = bool(np.all(np.mod(v, 1) == 0)) if len(v) else False
    uniq = np.unique(v)
    spikes = tuple(sorted(s for s in spikes if s in set(uniq.tolist())))
    rest = v[~np.isin(v, spikes)] if spikes else v
    cuts: set[float] = set()
    if len(rest):
        qs = np.unique(np.quantile(rest, np.linspace(0, 1, max_cuts + 1)[1:-1], method="lower"))
        for q in qs:  # cut just above q: [.., q] | (q, ..], at a readable number
            above = uniq[uniq > q]
            if len(above):
                cuts.add(float(math.floor(q) + 1) if whole else nice_between(q, float(above[0])))
    cuts = {c for c in cuts if c > uniq[0] and c not in spikes} if len(uniq) else set()
    cut_list = sorted(cuts)
    while cut_list:  # drop cuts until every interval a cut bounds holds min_leads
        bounds = tuple(sorted({*cut_list, *spikes}))
        intervals = [iv for iv in _intervals(bounds, spikes) if not iv.point]
        counts = _interval_counts(v, bounds, spikes)
        droppable = []
        for j, n in enumerate(counts):
            if n >= min_leads:
                continue
            sides = [intervals[j].low, intervals[j].high]
            options = [c for c in sides if c is not None and c in cuts]
            if options:
                droppable.append((n, j, options))
        if not droppable:
            break
        _, j, options = min(droppable)
        low = intervals[j].low
        # drop the cut towards the smaller neighbour
        beside = [counts[j - 1] if c == low else counts[j + 1] for c in options]
        drop = options[int(np.argmin(beside))]
        cut_list.remove(drop)
        cuts.discard(drop)
    bounds = tuple(sorted({*cut_list, *spikes}))
    intervals = _intervals(bounds, spikes)
    labels = tuple(_label(iv) for iv in intervals) + (MISSING_LABEL,)
    return Binner(
        column,
        True,
        boundaries=bounds,
        spikes=spikes,
        intervals=tuple(intervals),
        whole=whole,
        labels=labels,
    )


def _interval_counts(
    v: np.ndarray, bounds: tuple[float, ...], spikes: tuple[float, ...]
) -> list[int]:
    """Leads in each interval (spikes excluded) between the boundaries."""
    rest = v[~np.isin(v, spikes)] if spikes else v
    slot = np.searchsorted(np.asarray(bounds, dtype=float), rest, side="right")
    return [int(x) for x in np.bincount(slot, minlength=len(bounds) + 1)]


def fit_category(
    column: str, series: pd.Series, *, min_leads: int = MIN_BIN_LEADS, max_values: int = MAX_VALUES
) -> Binner:
    """A bin per value held by ``min_leads`` leads (the most common first), one for the rest."""
    counts = series.dropna().astype("str").value_counts(sort=False)
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    kept = tuple(str(v) for v, n in counts.items() if n >= min_leads)[:max_values]
    pooled = len(kept) < len(counts)
    labels = kept + ((OTHER_LABEL,) if pooled else ()) + (MISSING_LABEL,)
    return Binner(column, False, values=kept, pooled=pooled, labels=labels)
