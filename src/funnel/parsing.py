"""Parse user values: numbers, dates, placeholders and category spellings.

One implementation, used by the mapping proposal, by validation (to find bad cells) and by
storage (to type them), so what validation accepts is exactly what gets stored.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Values that mean "missing" in CRM exports (compared case-insensitively, trimmed).
DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "",
    "Select",
    "unknown",
    "N/A",
    "NA",
    "-",
    "--",
    "null",
    "#N/A",
    "NaN",
    "不明",
    "未選択",
    "未設定",
)
_DATE_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日",
    "%Y.%m.%d",
)
#: A day and a month before a four-digit year (05/01/2024, 5.1.2024, 05-01-2024), maybe a time.
_DAY_MONTH = (
    r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{4})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}(?:\.\d+)?))?)?$"
)
#: A time zone after a time (Z, UTC, +09:00, -0500): dropped, keeping the local time written.
_TIME_ZONE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
#: Japanese era dates: 令和6年4月1日, R6.4.1, 平成31/4/30, 令和元年5月1日 (maybe with a time).
_ERA = (
    r"^(?P<era>令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(?P<n>元|\d{1,2})\s*[年./-]\s*"
    r"(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})\s*日?(?:\s+(?P<t>\d{1,2}:\d{2}(?::\d{2})?))?$"
)
_ERA_START = {"令和": 2019, "平成": 1989, "昭和": 1926, "大正": 1912, "明治": 1868}
_ERA_LETTER = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}
#: Excel serial day numbers read as dates in a date column: 1954-10-03 to 2119-01-10.
_SERIALS = (20_000.0, 80_000.0)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
DateOrder = Literal["dmy", "mdy", "ambiguous", "mixed"]
#: A number whose commas separate thousands (``1,200``, ``-12,345.6``; not ``1,5``): the one
#: rule loading reads such numbers by, and the exported SQL matches them with
#: (:data:`funnel.dialects.GROUPED_PATTERN`). Plain ASCII, no backslashes, so every SQL
#: dialect's regular expressions read it alike.
GROUPED_NUMBER = "[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?"
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")


def normalise_token(value: str) -> str:
    """Normalise a value for case/space-insensitive comparison.

    >>> normalise_token("  Closed  Won "), normalise_token("ＹＥＳ")
    ('closed won', 'yes')
    """
    return " ".join(unicodedata.normalize("NFKC", value).split()).casefold()


def placeholder_set(placeholders: Sequence[str]) -> frozenset[str]:
    """Return the normalised placeholder tokens (cached per list)."""
    return _placeholder_set(tuple(placeholders))


@functools.lru_cache(maxsize=64)
def _placeholder_set(placeholders: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_token(p) for p in placeholders)


def is_placeholder(value: str, placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS) -> bool:
    """Tell whether a cell means "missing".

    >>> is_placeholder(" Unknown "), is_placeholder("不明"), is_placeholder("Kanto")
    (True, True, False)
    """
    return normalise_token(value) in placeholder_set(placeholders)


def null_placeholders(
    series: pd.Series, placeholders: Sequence[str] = DEFAULT_PLACEHOLDERS
) -> tuple[pd.Series, dict[str, int]]:
    """Replace placeholder cells with NULL; return the cleaned series and counts per value.

    Each distinct value is judged once (:func:`per_distinct`).

    >>> s, counts = null_placeholders(pd.Series(["Kanto", "Select", " unknown", None]))
    >>> s.tolist(), counts
    (['Kanto', nan, nan, nan], {'Select': 1, 'unknown': 1})
    """
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return series, {}
    text = series.astype("str")
    marks = placeholder_set(placeholders)
    hit = per_distinct(text, lambda values: _placeholders(values, marks)).astype(bool)
    if not hit.any():
        return text, {}
    counts = {str(k): int(v) for k, v in text[hit].str.strip().value_counts().items()}
    return text.mask(hit), counts


def _placeholders(text: pd.Series, marks: frozenset[str]) -> pd.Series:
    """Which cells are placeholders. Exact matches use Arrow kernels; only cells with odd
    spacing take the slow path."""
    hit = text.str.lower().isin(marks)
    spaced = (text.str.len() != text.str.strip().str.len()) | text.str.contains("  ", regex=False)
    spaced = spaced.fillna(False).astype(bool) & text.notna()
    if spaced.any():
        odd = text[spaced]
        hit |= odd.map(normalise_token).isin(marks).reindex(text.index, fill_value=False)
    return hit & text.notna()


def parse_numbers(series: pd.Series) -> pd.Series:
    """Parse numbers written as text once per distinct value (:func:`per_distinct`).

    >>> parse_numbers(pd.Series(["1,200", None])).tolist()
    [1200.0, nan]
    """
    return per_distinct(series, _parse_numbers)


def _parse_numbers(series: pd.Series) -> pd.Series:
    """Parse numbers written as text (thousands separators, full-width digits); NaN if not.

    A comma must separate thousands: a decimal comma (``1,5``, ``1.234,50``) is not a number
    here rather than silently becoming 15 or 1.2345.

    >>> parse_numbers(pd.Series(["1,200", " ３ ", "x", None, "-12,345.6"])).tolist()
    [1200.0, 3.0, nan, nan, -12345.6]
    >>> parse_numbers(pd.Series(["1,5", "1.234,50", "12,34,567"])).tolist()
    [nan, nan, nan]
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(float("nan"), index=series.index)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _finite(pd.to_numeric(series, errors="coerce").astype("float64"))
    fast = _cast_clean_numbers(series)
    if fast is not None:
        return fast
    text = _ascii_digits(series.astype("str")).str.strip()
    commas = text.str.contains(",", regex=False, na=False)
    if commas.any():
        grouped = text.str.fullmatch(GROUPED_NUMBER, na=False)
        text = text.where(~commas | grouped).str.replace(",", "", regex=False)
    return _finite(pd.to_numeric(text, errors="coerce").astype("float64"))


def per_distinct(series: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``parse(series)``, computed once per distinct value of a text column.

    ``parse`` must treat each value alone, or decide from the set of values in the column
    (as the day/month order does), never from how often a value occurs. Export columns
    repeat a few hundred values (dates, categories, counts) a million times, so this turns
    a million parses into a few hundred; a column of mostly distinct values is parsed as is.

    >>> per_distinct(pd.Series(["1", "2", "1", None], dtype="str"), parse_numbers).tolist()
    [1.0, 2.0, 1.0, nan]
    """
    if not pd.api.types.is_string_dtype(series.dtype) or len(series) < _DISTINCT_FROM:
        return parse(series)
    head = series.iloc[:_DISTINCT_FROM]
    if 2 * head.nunique() > len(head):  # ids, free text: factorising would not pay
        return parse(series)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if 2 * len(uniques) > len(series):
        return parse(series)
    missing = pd.Series([None], dtype=series.dtype)
    values = pd.concat([pd.Series(uniques.array), missing], ignore_index=True)  # -1: missing
    parsed = parse(values)
    return pd.Series(parsed.array.take(codes), index=series.index, name=series.name)


#: Columns shorter than this are parsed as they are (factorising would cost more).
_DISTINCT_FROM = 10_000


def _cast_clean_numbers(series: pd.Series) -> pd.Series | None:
    """Cast a column of plain numbers with Arrow (fast); None if any cell needs the slow path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(series, type=pa.string(), from_pandas=True)
        values = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    out = pd.Series(values.to_numpy(zero_copy_only=False), index=series.index, dtype="float64")
    return _finite(out)


def _finite(values: pd.Series) -> pd.Series:
    """Treat infinities as "not a number" (they cannot be a count or an amount)."""
    return values.where(~np.isinf(values))


def _ascii_digits(text: pd.Series) -> pd.Series:
    """Turn full-width digits and signs into ASCII (only where there are any)."""
    wide = text.str.contains("[０-９．，－＋]", regex=True, na=False)
    if not wide.any():
        return text
    return text.where(~wide, text[wide].str.translate(_FULLWIDTH))


def parse_dates(series: pd.Series, *, serials: bool = False) -> pd.Series:
    """Parse dates once per distinct value (:func:`per_distinct`); see :func:`_parse_dates`.

    >>> [str(v) for v in parse_dates(pd.Series(["2024-01-05", None]))]
    ['2024-01-05 00:00:00', 'NaT']
    """
    return per_distinct(series, lambda values: _parse_dates(values, serials=serials))


def _parse_dates(series: pd.Series, *, serials: bool = False) -> pd.Series:
    """Parse dates and timestamps in the formats CRM exports use; NaT if not a date.

    A time zone is dropped, keeping the local time as written: a lead created at 00:30 on the
    1st in Tokyo (``+09:00``) belongs to that day and month, not to the UTC day before. Day and
    month before the year (``05/01/2024``) are read in the order the whole column shows
    (:func:`date_order`); Japanese era dates (``令和6年4月1日``, ``R6.4.1``) are read; with
    ``serials`` (a column known to hold dates), Excel's serial day numbers are too.

    >>> values = parse_dates(pd.Series(["2024-01-05", "2024/02/03 10:00", "2024年3月4日", "x"]))
    >>> [str(v) for v in values]
    ['2024-01-05 00:00:00', '2024-02-03 10:00:00', '2024-03-04 00:00:00', 'NaT']
    >>> [str(v) for v in parse_dates(pd.Series(["2024-03-01T00:30:00+09:00", "令和6年4月1日"]))]
    ['2024-03-01 00:30:00', '2024-04-01 00:00:00']
    >>> [str(v) for v in parse_dates(pd.Series(["13/01/2024", "05/02/2024"]))]
    ['2024-01-13 00:00:00', '2024-02-05 00:00:00']
    >>> [str(v) for v in parse_dates(pd.Series(["45383", "x"]), serials=True)]
    ['2024-04-01 00:00:00', 'NaT']
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = pd.to_datetime(series, errors="coerce")
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_localize(None)  # the local time the data was written in
        return out.astype("datetime64[us]")
    text = _ascii_digits(series.astype("str").str.strip())
    text = text.where(text.str.contains(r"\d", regex=True, na=False))  # no digit, no date
    if not text.notna().any():  # a text column: nothing below can find a date
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    text = _without_time_zone(text)
    text = _era_to_iso(text)
    parts = _day_month_parts(text)
    day_month = None if parts is None else _day_month_dates(text, parts, _order(parts))
    if day_month is not None:  # parsed already: keep them from the other formats
        text = text.where(~text.index.isin(day_month.index))
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    for fmt in _DATE_FORMATS:
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed = parsed.fillna(pd.to_datetime(text[missing], format=fmt, errors="coerce"))
    if day_month is not None:
        parsed = parsed.astype("datetime64[us]")
        parsed.loc[day_month.index] = day_month
    if serials:
        missing = parsed.isna() & text.notna()
        if missing.any():
            parsed = parsed.fillna(excel_serials(text[missing]))
    return parsed.astype("datetime64[us]")


def excel_serials(values: pd.Series) -> pd.Series:
    """Excel's serial day numbers (1900 date system) as dates; NaT for anything else.

    >>> [str(v) for v in excel_serials(pd.Series(["45383.5", "12", "abc"]))]
    ['2024-04-01 12:00:00', 'NaT', 'NaT']
    """
    days = parse_numbers(values)
    days = days.where((days >= _SERIALS[0]) & (days <= _SERIALS[1]))
    return (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).astype("datetime64[us]")


def date_order(text: pd.Series) -> DateOrder | None:
    """How a column writes day and month before the year, judged on all its values.

    ``dmy`` when some value has a first number above 12, ``mdy`` when some value has a second
    number above 12, ``mixed`` when values show both, ``ambiguous`` when none can tell (every
    day is 12 or less) and the two readings differ; None when no value is written that way.

    >>> date_order(pd.Series(["13/01/2024", "02/03/2024"])), date_order(pd.Series(["01/31/2024"]))
    ('dmy', 'mdy')
    >>> date_order(pd.Series(["05/01/2024", "02/03/2024"])), date_order(pd.Series(["2024-01-05"]))
    ('ambiguous', None)
    """
    parts = _day_month_parts(text)
    return None if parts is None else _order(parts)


def _order(parts: pd.DataFrame) -> DateOrder:
    first, second = parts["a"], parts["b"]
    dmy = bool(((first > 12) & (second <= 12)).any())
    mdy = bool(((second > 12) & (first <= 12)).any())
    if dmy and mdy:
        return "mixed"
    if dmy or mdy:
        return "dmy" if dmy else "mdy"
    return "ambiguous" if bool((first != second).any()) else "mdy"


def _arrow(text: pd.Series) -> pa.Array:
    """The text as one Arrow array (a column built from pieces hands over a chunked one).

    >>> pieces = pd.concat([pd.Series(["1"], dtype="str"), pd.Series(["2"], dtype="str")])
    >>> type(_arrow(pieces)).__name__
    'StringArray'
    """
    arr = pa.array(text, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _without_time_zone(text: pd.Series) -> pd.Series:
    """Drop a time zone written after a time, keeping the local time (RE2, one pass)."""
    arr = _arrow(text)
    if not pc.any(pc.match_substring_regex(arr, _TIME_ZONE)).as_py():
        return text
    local = pc.replace_substring_regex(arr, pattern=_TIME_ZONE, replacement=r"\1")
    return pd.Series(local.to_pandas(), index=text.index, dtype=text.dtype)


def _day_month_parts(text: pd.Series) -> pd.DataFrame | None:
    """The day/month/year values' numbers (a, b, y) and time (t), indexed like ``text``.

    None when the column has no such value (the usual case, found in one RE2 pass).
    """
    arr = _arrow(text)
    hit = pc.fill_null(pc.match_substring_regex(arr, _DAY_MONTH), False)
    if not pc.any(hit).as_py():
        return None
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    found = pc.extract_regex(pc.take(arr, pa.array(rows)), _DAY_MONTH)

    def number(field: str) -> np.ndarray:
        values = pc.if_else(pc.equal(found.field(field), ""), None, found.field(field))
        return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False))

    return pd.DataFrame({f: number(f) for f in ("a", "b", "y", "H", "M", "S")}, index=rows)


def _day_month_dates(text: pd.Series, parts: pd.DataFrame, order: DateOrder) -> pd.Series:
    """Day/month/year values as dates, in the column's order (mdy when it cannot tell)."""
    first, second = parts["a"], parts["b"]
    if order == "dmy":
        day, month = first, second
    elif order == "mixed":  # each value as the only reading it allows (mdy when both do)
        swap = (first > 12) & (second <= 12)
        day, month = second.where(~swap, first), first.where(~swap, second)
    else:
        day, month = second, first
    dates = pd.to_datetime(
        pd.DataFrame({"year": parts["y"], "month": month, "day": day}), errors="coerce"
    )
    seconds = parts["H"].fillna(0) * 3600 + parts["M"].fillna(0) * 60 + parts["S"].fillna(0)
    late = (parts["H"] > 23) | (parts["M"] > 59) | (parts["S"] >= 60)
    dates = dates.where(~late) + pd.to_timedelta(seconds, unit="s")
    dates.index = text.index[parts.index]
    return dates.astype("datetime64[us]")


def _era_to_iso(text: pd.Series) -> pd.Series:
    """Rewrite Japanese era dates (令和6年4月1日, R6.4.1, 令和元年) as ISO dates."""
    arr = _arrow(text)
    hit = pc.fill_null(pc.match_substring_regex(arr, _ERA), False)
    if not pc.any(hit).as_py():
        return text
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    found = pc.extract_regex(pc.take(arr, pa.array(rows)), _ERA)
    era = pd.Series(found.field("era").to_pandas()).str.upper().map(lambda e: _ERA_LETTER.get(e, e))
    number = pd.Series(found.field("n").to_pandas()).replace("元", "1").astype(int)
    month = pd.Series(found.field("m").to_pandas()).astype(int)
    day = pd.Series(found.field("d").to_pandas()).astype(int)
    time = pd.Series(found.field("t").to_pandas())
    year = era.map(_ERA_START) + number - 1
    iso = (
        year.astype(str)
        + "-"
        + month.map("{:02d}".format)
        + "-"
        + day.map("{:02d}".format)
        + (" " + time.where(time.fillna("") != "", None)).fillna("")
    )
    out = text.astype(object)
    out.iloc[rows] = iso.to_numpy()
    return out.astype(text.dtype)


@dataclass(frozen=True)
class Merge:
    """Category spellings merged into one (differing only by case or spaces)."""

    kept: str
    merged: tuple[str, ...]
    rows: int


def merge_spellings(series: pd.Series) -> tuple[pd.Series, list[Merge]]:
    """Trim values and merge spellings that differ only by case or inner spacing.

    The most frequent spelling wins (ties: the first in sorted order).

    >>> s, merges = merge_spellings(pd.Series(["SaaS", "saas ", "SaaS", "Retail"]))
    >>> s.tolist(), merges
    (['SaaS', 'SaaS', 'SaaS', 'Retail'], [Merge(kept='SaaS', merged=('saas',), rows=1)])
    """
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return series, []
    text = per_distinct(series.astype("str"), lambda values: values.str.strip())
    counts = text.value_counts(dropna=True)
    if counts.empty:
        return text, []
    table = pd.DataFrame({"value": counts.index.astype("str"), "n": counts.to_numpy()})
    table["key"] = table["value"].map(normalise_token)
    groups = table.groupby("key", sort=False)
    replace: dict[str, str] = {}
    merges: list[Merge] = []
    for _, group in groups:
        if len(group) < 2:
            continue
        group = group.sort_values(["n", "value"], ascending=[False, True])
        kept = str(group["value"].iloc[0])
        others = tuple(str(v) for v in group["value"].iloc[1:])
        for other in others:
            replace[other] = kept
        merges.append(Merge(kept, others, int(group["n"].iloc[1:].sum())))
    if not replace:
        return text, []
    return text.replace(replace), merges
