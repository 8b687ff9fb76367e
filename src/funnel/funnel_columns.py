"""A loaded dataset's leads as a few numpy columns, read once and counted per filter state.

The Funnel page's figures are counts and quantiles over the filtered leads: the furthest stage
each reached, its creation month, the days between its stages. Scanning the leads table for
them on every filter change costs about 100 ms of CPU at 1M leads; :class:`LeadColumns` reads
what they need from the table once per loaded dataset (one small column per SQL expression,
the expression's own result, so nothing is recomputed differently) and numpy masks and
``bincount`` count each filter state from those.

A dataset is keyed by its load (schema, load time, fingerprint, mapping): a reload or refresh
writes a new schema, so its columns are read again and the old ones are dropped when memory is
needed. Every column is read in the table's stored order (DuckDB keeps insertion order for a
query without ORDER BY), so row ``i`` of every column is the same lead.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np
import pyarrow.compute as pc

from funnel.filters import MISSING, Filters
from funnel.store import DatasetInfo, Store, quote_ident

#: An integer column's value for NULL (below every day number or month code).
NULL_INT = int(np.iinfo(np.int32).min)
#: Datasets whose columns are kept at once, and the memory they may hold together.
KEPT_DATASETS = 4
KEPT_BYTES = 1 << 30

_EPOCH = date(1970, 1, 1)
T = TypeVar("T")


class LeadColumns:
    """One loaded dataset's leads as numpy columns, each read on first use.

    Shared between sessions and threads: a column never changes once read; reading a new
    one takes a lock so two sessions do not read it twice.
    """

    def __init__(self, store: Store, info: DatasetInfo, rows: int) -> None:
        self.store = store
        self.table = info.table()
        self.rows = rows
        self._columns: dict[Hashable, Any] = {}
        self._lock = threading.RLock()

    @property
    def nbytes(self) -> int:
        """Memory held by the columns read so far (the dictionaries' text not counted)."""
        with self._lock:
            values = list(self._columns.values())
        return sum(_nbytes(v) for v in values)

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``'s value, computed once per dataset for ``key`` (e.g. a stage list's
        levels, derived from other columns)."""
        with self._lock:
            if key not in self._columns:
                self._columns[key] = make()
            found: T = self._columns[key]
            return found

    def flags(self, exprs: Sequence[str]) -> list[np.ndarray]:
        """Each SQL condition per lead (bool; NULL is False)."""
        return self.read([("flag", e) for e in exprs])

    def ints(self, exprs: Sequence[str]) -> list[np.ndarray]:
        """Each integer SQL expression per lead (int32; NULL is :data:`NULL_INT`)."""
        return self.read([("int", e) for e in exprs])

    def ranked(self, exprs: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each numeric SQL expression where it is not NULL, smallest first: ``(rows,
        values)``, the values as DuckDB computed them (float64) and the lead of each. Any
        subset of the leads keeps them in order, so its quantiles need no sorting."""
        return self.read([("ranked", e) for e in exprs])

    def read(self, wanted: Sequence[tuple[str, str]]) -> list[Any]:
        """The columns ``(kind, SQL expression)`` (kinds: ``flag``, ``int``, ``ranked``),
        those not read yet in one scan of the table."""
        with self._lock:
            missing = list(dict.fromkeys(w for w in wanted if w not in self._columns))
            if missing:
                columns = ", ".join(
                    f"{_KINDS[kind][0](expr)} AS c{i}" for i, (kind, expr) in enumerate(missing)
                )
                with self.store.cursor() as cur:
                    found = cur.execute(f"SELECT {columns} FROM {self.table}").fetchnumpy()
                for i, (kind, expr) in enumerate(missing):
                    raw = found[f"c{i}"]
                    self._check(raw)
                    self._columns[(kind, expr)] = _KINDS[kind][1](raw)
            return [self._columns[w] for w in wanted]

    def codes(self, column: str) -> tuple[np.ndarray, list[str]]:
        """A column's values as text (what a filter compares), dictionary-coded: each lead's
        code (int32, -1 for NULL) and the text of each code."""
        key = ("codes", column)
        with self._lock:
            if key not in self._columns:
                sql = f"SELECT CAST({quote_ident(column)} AS VARCHAR) FROM {self.table}"
                with self.store.cursor() as cur:
                    values = cur.sql(sql).to_arrow_table().column(0)
                encoded = pc.dictionary_encode(values).combine_chunks()
                indices = pc.fill_null(encoded.indices, -1).to_numpy().astype(np.int32)
                self._check(indices)
                self._columns[key] = (indices, encoded.dictionary.to_pylist())
            found: tuple[np.ndarray, list[str]] = self._columns[key]
            return found

    def _check(self, column: Any) -> None:
        """Refuse a column that is not one value per lead (the table changed under us)."""
        if len(column) != self.rows:
            raise RuntimeError(f"{self.table}: read {len(column)} rows, expected {self.rows}")


def _as_bool(values: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=bool))


def _as_int32(values: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.int32))


def _as_ranked(values: Any) -> tuple[np.ndarray, np.ndarray]:
    data = np.ma.asarray(values)
    rows = np.flatnonzero(~np.ma.getmaskarray(data))
    present = np.asarray(data.data, dtype=np.float64)[rows]
    order = np.argsort(present)  # ties in any order: equal values either way
    return rows[order].astype(np.int32 if len(data) < 2**31 else np.int64), present[order]


#: How each kind of column is selected and kept.
_KINDS: dict[str, tuple[Callable[[str], str], Callable[[Any], Any]]] = {
    "flag": (lambda e: f"coalesce({e}, FALSE)", _as_bool),
    "int": (lambda e: f"coalesce(CAST({e} AS INTEGER), {NULL_INT})", _as_int32),
    "ranked": (lambda e: f"CAST({e} AS DOUBLE)", _as_ranked),
}


def _nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    return 0


# --- the kept datasets -------------------------------------------------------------------------

_KEPT: OrderedDict[tuple[Hashable, ...], LeadColumns] = OrderedDict()
_KEPT_LOCK = threading.Lock()


def load_key(store: Store, info: DatasetInfo) -> tuple[Hashable, ...]:
    """One load of one dataset in one database: what is computed from its rows can be kept
    under this key (a reload or refresh gets a new one)."""
    where: Hashable = str(store.path) if str(store.path) != ":memory:" else id(store)
    return (
        where,
        info.dataset_id,
        info.schema,
        info.loaded_at,
        info.fingerprint,
        info.leads,
        repr(info.mapping),
    )


def lead_columns(store: Store, info: DatasetInfo) -> LeadColumns:
    """The columns of this load of the dataset, kept for the next filter state.

    The key is the load itself (schema, time, fingerprint, mapping), so a dataset reloaded
    or refreshed gets new columns; the least recently used datasets are dropped beyond
    :data:`KEPT_DATASETS` or :data:`KEPT_BYTES`.
    """
    key = load_key(store, info)
    with _KEPT_LOCK:
        found = _KEPT.get(key)
        if found is not None:
            _KEPT.move_to_end(key)
            return found
        found = _KEPT[key] = LeadColumns(store, info, info.leads)
        while len(_KEPT) > 1 and (
            len(_KEPT) > KEPT_DATASETS or sum(c.nbytes for c in _KEPT.values()) > KEPT_BYTES
        ):
            _KEPT.popitem(last=False)
        return found


def forget_all() -> None:
    """Drop every kept dataset's columns (tests; a process that needs the memory back)."""
    with _KEPT_LOCK:
        _KEPT.clear()


# --- what the pages ask of them ----------------------------------------------------------------


def day_sql(column: str) -> str:
    """SQL for a date or timestamp column's day number (days since 1970-01-01).

    >>> day_sql("created")
    '(CAST("created" AS DATE) - DATE \\'1970-01-01\\')'
    """
    return f"(CAST({quote_ident(column)} AS DATE) - DATE '1970-01-01')"


def keep(columns: LeadColumns, info: DatasetInfo, filters: Filters) -> np.ndarray | None:
    """The leads ``filters`` keep (bool per lead), or None when they keep every lead.

    What :meth:`Filters.where` selects, counted from the kept columns: a created-date range
    compares day numbers (a timestamp is on or after a day exactly when its own day is), a
    column's values compare its text, ``(missing)`` selects NULL.
    """
    filters.where(info)  # the same errors for an unknown column or a dateless dataset
    mask: np.ndarray | None = None

    def both(part: np.ndarray) -> None:
        nonlocal mask
        mask = part if mask is None else np.logical_and(mask, part, out=mask)

    if filters.date_from or filters.date_to:
        created = info.mapping.column("created")
        assert created is not None  # where() refused the filters otherwise
        (day,) = columns.ints([day_sql(created)])
        if filters.date_from:
            both(day >= (filters.date_from - _EPOCH).days)
        if filters.date_to:
            both(day < (filters.date_to - _EPOCH).days + 1)
            if not filters.date_from:  # NULL_INT is below every day
                both(day != NULL_INT)
    for column, values in filters.equals:
        codes, texts = columns.codes(column)
        wanted = set(values)
        allowed = np.array([t in wanted for t in texts] + [MISSING in wanted], dtype=bool)
        both(allowed.take(codes))
    return mask


class Chosen:
    """The values a mask keeps of a :meth:`LeadColumns.ranked` column, counted in place:
    ``before[i]`` is how many of the first ``i`` values are kept, so the k-th smallest kept
    value and the kept values in a range are found without copying them out."""

    def __init__(self, values: np.ndarray, kept: np.ndarray | None = None) -> None:
        self.values = values  # smallest first
        self.before: np.ndarray | None = None
        if kept is not None:
            self.before = np.zeros(len(values) + 1, dtype=np.int64)
            np.cumsum(kept, out=self.before[1:])
        self.n = len(values) if self.before is None else int(self.before[-1])

    def smallest(self, ks: Sequence[int]) -> list[float]:
        """The ``k``-th smallest kept value (from 0) for each ``k``."""
        at = np.asarray(ks, dtype=np.int64)
        if self.before is not None:  # the first position with k + 1 kept up to it
            at = np.searchsorted(self.before, at + 1) - 1
        return [float(v) for v in self.values[at]]

    def quantiles(self, qs: Sequence[float]) -> list[float]:
        """DuckDB's ``quantile_cont`` of the kept values, to the last bit: the value at
        position ``(n - 1) * q``, interpolated between its two neighbours as DuckDB does
        (:func:`_interpolate`; numpy's ``quantile`` rounds differently in the last bit)."""
        positions = [(self.n - 1) * float(q) for q in qs]
        ks = sorted({k for p in positions for k in (math.floor(p), math.ceil(p))})
        value = dict(zip(ks, self.smallest(ks), strict=True))
        out = []
        for p in positions:
            lo, hi = math.floor(p), math.ceil(p)
            out.append(value[lo] if lo == hi else _interpolate(value[lo], value[hi], p - lo))
        return out

    def histogram(
        self, bucket: int, upto: float, starts: tuple[np.ndarray, np.ndarray] | None = None
    ) -> list[tuple[float, int]]:
        """The kept values up to ``upto`` counted per bucket of ``bucket`` days, each at
        ``floor(days / bucket) * bucket`` as SQL counts them: ``(bucket start, count)`` in
        order, empty buckets left out. ``starts`` is :func:`bucket_starts` of the values
        (computed here when not given)."""
        found, first = starts if starts is not None else bucket_starts(self.values, bucket)
        end = int(np.searchsorted(self.values, upto, side="right"))
        k = int(np.searchsorted(first, end))
        bounds = np.append(first[:k], end)
        counts = np.diff(bounds) if self.before is None else np.diff(self.before[bounds])
        shown = counts > 0
        return [
            (float(s) * bucket, int(c))
            for s, c in zip(found[:k][shown], counts[shown], strict=True)
        ]


def bucket_starts(ordered: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Values in ascending order cut into buckets of ``bucket``: each bucket's
    ``floor(value / bucket)`` and the position of its first value.

    >>> bucket_starts(np.array([0.5, 1.2, 6.9, 8.0]), 7)
    (array([0., 1.]), array([0, 3]))
    """
    starts = np.floor(ordered / bucket)  # ascending too
    first = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]]) if len(starts) else starts
    return starts[first.astype(np.int64)], first.astype(np.int64)


def quantiles_cont(ordered: np.ndarray, qs: Sequence[float]) -> list[float]:
    """DuckDB's ``quantile_cont`` of non-empty values in ascending order (:class:`Chosen`).

    >>> quantiles_cont(np.array([1.0, 2.0, 3.0, 4.0]), [0.0, 0.5, 0.9, 1.0])
    [1.0, 2.5, 3.7, 4.0]
    """
    return Chosen(ordered).quantiles(qs)


def _interpolate(lo: float, hi: float, d: float) -> float:
    """DuckDB's interpolation of doubles, ``lo * (1.0 - d) + hi * d``, as its build computes
    it: the first product fused into the sum (one rounding), the second rounded on its own.
    Checked against DuckDB's own ``quantile_cont`` in the tests.

    >>> _interpolate(161.84123842592592, 162.6718287037037, 0.8999999999999773)
    162.58876967592593
    """
    return float(Fraction(lo) * Fraction(1.0 - d) + Fraction(hi * d))


def histogram(ordered: np.ndarray, bucket: int) -> list[tuple[float, int]]:
    """Values in ascending order counted per bucket of ``bucket`` days (:class:`Chosen`).

    >>> histogram(np.array([0.5, 1.2, 6.9, 8.0]), 7)
    [(0.0, 3), (7.0, 1)]
    """
    if not len(ordered):
        return []
    return Chosen(ordered).histogram(bucket, float(ordered[-1]))
