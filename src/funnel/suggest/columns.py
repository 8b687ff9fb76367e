"""How the suggestion reads each column, decided from its values, with the evidence in words.

Identifiers, generated keys, empty and constant columns are never scored; whole numbers with
few different values are codes (a region, a device), scored as categories; a number that is 0
for most leads gets a range of its own for 0, as does any value a third of the leads hold.
Thresholds are measured in /work/research/suggest (REPORT.md §2): no honest column of the
bank, Olist, demo or synthetic files was read as an identifier or a code by mistake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from funnel.codes import CODE_MAX_VALUES, CODE_NAMED_MAX_VALUES, looks_like_code, named_count
from funnel.i18n import t
from funnel.mapping import Mapping
from funnel.mapping.leaks import READ_PREFIX, LeftOut
from funnel.parsing import null_placeholders, parse_numbers
from funnel.store import DatasetInfo, Store, quote_ident

Kind = Literal[
    "empty",
    "constant",
    "identifier",
    "generated_key",
    "named_identifier",
    "flag",
    "code",
    "category",
    "mostly_zero",
    "count",
    "number",
]
#: Kinds never scored.
UNSCORED: tuple[Kind, ...] = (
    "empty",
    "constant",
    "identifier",
    "generated_key",
    "named_identifier",
)
#: Kinds scored in ranges of a number (the others are scored by their values).
NUMERIC: tuple[Kind, ...] = ("mostly_zero", "count", "number")

MIN_FILLED = 0.02  # filled for fewer leads than this: too empty to score
UNIQUE_RATIO = 0.9  # different values per filled lead at or above this: an identifier
UNIQUE_MIN_FILLED = 50  # ... once at least this many leads have a value
KEY_SHARE = 0.9  # share of values that look like generated keys (hex, UUID, tokens)
KEY_MIN_VALUES = 12  # ... with more than this many different values
KEY_PATTERN = re.compile(
    r"^(?:[0-9a-f]{16,}|[0-9A-F]{16,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|[A-Za-z0-9_\-]{20,})$"
)
SPIKE_SHARE = 0.3  # a value held by this share of leads gets a range of its own
MOSTLY_ZERO = 0.5  # 0 for at least this share of leads: '0' and 'above 0' apart
ID_NAME = re.compile(
    r"(^|[^a-z])(id|uuid|guid|hash|key|token|email|mail|phone|tel|url)($|[^a-z])|番号$|ｉｄ$"
)
KEY_SAMPLE = 2000  # values checked for the generated-key shape
NUMBER_ROLES = ("number", "behaviour")  # mapping roles stored as numbers
READ_ROWS = 300_000  # leads read to list what the reading leaves out (as many as a fit reads)


@dataclass(frozen=True)
class ColumnType:
    """How one column is scored, and why (``evidence(lang)``)."""

    column: str
    kind: Kind
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    #: Values of a number that get a range of their own (0, or a value most leads hold).
    spikes: tuple[float, ...] = ()
    #: Every value is a whole number (cuts can then be whole numbers too).
    whole: bool = False
    #: The evidence message when it is not the kind's own (``suggest.type.<message>``).
    message: str = ""

    @property
    def scored(self) -> bool:
        return self.kind not in UNSCORED

    @property
    def numeric(self) -> bool:
        """Scored in ranges (not by its values)."""
        return self.kind in NUMERIC

    def evidence(self, lang: str = "en") -> str:
        """The sentence saying how the column is read and why.

        >>> type_column("default", pd.Series(["no", "yes", "no"] * 20)).evidence()
        'default: two values — scored as a category'
        """
        key = f"suggest.type.{self.message or self.kind}"
        text = t(key, lang, column=self.column, **self.params)
        if self.spikes and self.numeric and self.kind != "mostly_zero":
            each = [
                t("suggest.type.spike", lang, value=_num(v), share=share)
                for v, share in self.params.get("spike_shares", ())
            ]
            text = t("suggest.type.with_spikes", lang, text=text, spikes="; ".join(each))
        return text

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "column": self.column,
            "read_as": self.kind,
            "scored": self.scored,
            "evidence": self.evidence(lang),
        }


def _pct(x: float) -> str:
    """A share as people read it.

    >>> _pct(0.853), _pct(0.004), _pct(0.0)
    ('85%', '0.4%', '0%')
    """
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _numbers(series: pd.Series) -> pd.Series | None:
    """The column's values as floats, when it holds numbers (not booleans, not text)."""
    if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(series.dtype):
        return None
    return series.astype("float64")


def type_column(name: str, series: pd.Series) -> ColumnType:
    """Decide how a column is scored, from its values (and, for codes and ids, its name).

    >>> type_column("region_code", pd.Series([1, 5, 9, 2] * 30)).kind
    'code'
    >>> type_column("pricing_visits", pd.Series([0] * 90 + [1, 2, 3] * 10)).evidence()
    "pricing_visits: 0 for 75% of leads — '0' and 'above 0' are scored separately"
    """
    filled = series.notna()
    n, k = len(series), int(filled.sum())
    if k < max(MIN_FILLED * n, 1):
        return ColumnType(name, "empty", {"share": _pct(k / max(n, 1))})
    values = series[filled]
    distinct = int(values.nunique())
    if distinct <= 1:
        return ColumnType(name, "constant")
    key = unicodedata.normalize("NFKC", name).lower()
    number = _numbers(values)
    whole = number is not None and bool(np.all(np.mod(number.to_numpy(), 1) == 0))
    ratio = distinct / k
    counts = {"values": f"{distinct:,}", "leads": f"{k:,}", "share": _pct(ratio)}
    if ratio >= UNIQUE_RATIO and (number is None or whole) and k >= UNIQUE_MIN_FILLED:
        return ColumnType(name, "identifier", counts)
    if number is None:
        text = values.astype("str")
        sample = text.head(KEY_SAMPLE)
        share = float(sample.str.fullmatch(KEY_PATTERN).mean())
        if share >= KEY_SHARE and distinct > KEY_MIN_VALUES:
            example = str(sample.iloc[0])
            example = example if len(example) <= 12 else example[:12] + "…"
            return ColumnType(
                name,
                "generated_key",
                {"share": _pct(share), "example": example, "values": f"{distinct:,}"},
            )
        if distinct == 2:
            return ColumnType(name, "flag")
        return ColumnType(name, "category", {"values": f"{distinct:,}"})
    if ID_NAME.search(key) and whole and ratio >= 0.5 and distinct > CODE_NAMED_MAX_VALUES:
        return ColumnType(name, "named_identifier", {"share": _pct(ratio)})
    if distinct == 2:
        return ColumnType(name, "flag", whole=whole)
    if looks_like_code(name, distinct, whole):
        low, high = _num(float(number.min())), _num(float(number.max()))
        params = {"values": distinct, "low": low, "high": high}
        message = "code_named" if distinct > CODE_MAX_VALUES else ""
        return ColumnType(name, "code", params, whole=True, message=message)
    shares = number.value_counts(normalize=True)
    pairs = zip(shares.index.to_numpy(dtype=float), shares.to_numpy(dtype=float), strict=True)
    spikes = {float(v): float(s) for v, s in pairs if s >= SPIKE_SHARE}
    zero = float(shares.get(0.0, 0.0))
    if zero >= MOSTLY_ZERO:
        spikes[0.0] = zero
        return ColumnType(
            name, "mostly_zero", {"share": _pct(zero)}, tuple(sorted(spikes)), whole=whole
        )
    kind: Kind = "count" if named_count(name) and whole else "number"
    return ColumnType(
        name,
        kind,
        {
            "values": f"{distinct:,}",
            "spike_shares": tuple((v, _pct(s)) for v, s in sorted(spikes.items())),
        },
        tuple(sorted(spikes)),
        whole=whole,
    )


def read_left_out(mapping: Mapping, frame: pd.DataFrame) -> list[LeftOut]:
    """The columns the mapping would score that this reading of their values leaves out (an
    identifier, generated keys, empty or constant), each with the suggestion's own sentence —
    for the lists of what is left out (:func:`funnel.mapping.leaks.left_out`'s ``read``).

    >>> from funnel.mapping import ColumnSpec
    >>> m = Mapping(leads=(ColumnSpec("plan", "attribute"), ColumnSpec("ref", "attribute")))
    >>> f = pd.DataFrame({"plan": ["a", "b"] * 30, "ref": [f"{i:032x}" for i in range(60)]})
    >>> [item.line() for item in read_left_out(m, f)]
    ['ref: 60 different values for 60 leads (100% unique) — an identifier, never scored']
    """
    out: list[LeftOut] = []
    for spec in mapping.features():
        if spec.name not in frame.columns:
            continue
        kind = type_column(spec.name, frame[spec.name])
        if not kind.scored:
            params = tuple((k, str(v)) for k, v in kind.params.items())
            out.append(LeftOut(spec.name, f"{READ_PREFIX}{kind.message or kind.kind}", params))
    return out


def stored_left_out(store: Store, info: DatasetInfo, rows: int = READ_ROWS) -> list[LeftOut]:
    """:func:`read_left_out` on a stored dataset, read on a seeded sample of ``rows`` leads."""
    names = [s.name for s in info.mapping.features() if s.name in info.columns]
    if not names:
        return []
    select = ", ".join(quote_ident(c) for c in names)
    frame = store.fetch_frame(  # in stored order, as the file was (the example it shows)
        f"SELECT {select} FROM (SELECT rowid AS __row, {select} FROM {info.table()} "
        f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (7)) ORDER BY __row"
    )
    return read_left_out(info.mapping, frame)


def file_left_out(mapping: Mapping, frame: pd.DataFrame, rows: int = READ_ROWS) -> list[LeftOut]:
    """:func:`read_left_out` on a file not yet loaded (its cells as text): missing-value
    placeholders cleared and numbers parsed as the load will, on a seeded sample of ``rows``."""
    if len(frame) > rows:
        frame = frame.sample(rows, random_state=7).sort_index()  # in the file's order
    typed: dict[str, pd.Series] = {}
    for spec in mapping.features():
        if spec.name in frame.columns:
            series = frame[spec.name]
            if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(
                series.dtype
            ):  # text (a database's columns come typed)
                series = null_placeholders(series, mapping.placeholders)[0]
                if spec.role in NUMBER_ROLES:
                    series = parse_numbers(series)
            typed[spec.name] = series
    return read_left_out(mapping, pd.DataFrame(typed))
