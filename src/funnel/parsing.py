"""Parse user values: numbers, dates, placeholders and category spellings.

One implementation, used by the mapping proposal, by validation (to find bad cells) and by
storage (to type them), so what validation accepts is exactly what gets stored.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
)
_THOUSANDS = r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"
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

    Exact matches use Arrow kernels; only cells with odd spacing take the slow path.

    >>> s, counts = null_placeholders(pd.Series(["Kanto", "Select", " unknown", None]))
    >>> s.tolist(), counts
    (['Kanto', nan, nan, nan], {'Select': 1, 'unknown': 1})
    """
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return series, {}
    text = series.astype("str")
    marks = placeholder_set(placeholders)
    hit = text.str.lower().isin(marks)  # Arrow-native kernels: fast on a million ids
    spaced = (text.str.len() != text.str.strip().str.len()) | text.str.contains("  ", regex=False)
    spaced = spaced.fillna(False).astype(bool) & text.notna()
    if spaced.any():
        odd = text[spaced]
        hit |= odd.map(normalise_token).isin(marks).reindex(text.index, fill_value=False)
    hit &= text.notna()
    if not hit.any():
        return text, {}
    counts = {str(k): int(v) for k, v in text[hit].str.strip().value_counts().items()}
    return text.mask(hit), counts


def parse_numbers(series: pd.Series) -> pd.Series:
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
        grouped = text.str.fullmatch(_THOUSANDS, na=False)
        text = text.where(~commas | grouped).str.replace(",", "", regex=False)
    return _finite(pd.to_numeric(text, errors="coerce").astype("float64"))


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


def parse_dates(series: pd.Series) -> pd.Series:
    """Parse dates and timestamps in the formats CRM exports use; NaT if not a date.

    Time zones are converted to UTC and dropped.

    >>> values = parse_dates(pd.Series(["2024-01-05", "2024/02/03 10:00", "2024年3月4日", "x"]))
    >>> [str(v) for v in values]
    ['2024-01-05 00:00:00', '2024-02-03 10:00:00', '2024-03-04 00:00:00', 'NaT']
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = pd.to_datetime(series, errors="coerce", utc=True).dt.tz_localize(None)
        return out.astype("datetime64[us]")
    text = _ascii_digits(series.astype("str").str.strip())
    text = text.where(text.str.contains(r"\d", regex=True, na=False))  # no digit, no date
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    for fmt in _DATE_FORMATS:
        missing = parsed.isna() & text.notna()
        if not missing.any():
            break
        parsed = parsed.fillna(pd.to_datetime(text[missing], format=fmt, errors="coerce", utc=True))
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


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
    text = series.astype("str").str.strip()
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
