"""Filters shared by every analysis: a lead creation date range and values of any column.

A :class:`Filters` renders itself both as a SQL ``WHERE`` condition carrying its bound values
(a :class:`funnel.fragment.Fragment`) and as a plain-language description (shown above every
chart), like datasette's filters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from funnel.fragment import Fragment, bind, bind_all, compose, join
from funnel.i18n import CodedError
from funnel.store import DatasetInfo, Store, quote_ident

#: How a NULL (missing) value is named in filters, segments and the CLI.
MISSING = "(missing)"


class FilterError(CodedError, ValueError):
    """A filter that cannot apply to this dataset; ``code`` selects the message."""

    prefix = "analysis"


@dataclass(frozen=True)
class Filters:
    """Lead filters: created date range (inclusive) and allowed values per column."""

    date_from: date | None = None
    date_to: date | None = None
    equals: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.equals)

    def where(self, info: DatasetInfo, alias: str = "") -> Fragment:
        """The WHERE condition with its bound values (``TRUE`` when nothing is filtered).

        Values are compared as text, so a filter written on the command line matches numbers
        too; ``(missing)`` selects empty cells.
        """
        prefix = f"{alias}." if alias else ""
        clauses: list[Fragment] = []
        if self.date_from or self.date_to:
            created = info.mapping.column("created")
            if created is None:
                raise FilterError("filter_no_dates", dataset=info.name)
            col = prefix + quote_ident(created)
            if self.date_from:
                clauses.append(compose("{col} >= {start}", col=col, start=bind(self.date_from)))
            if self.date_to:
                end = bind(self.date_to + timedelta(days=1))
                clauses.append(compose("{col} < {end}", col=col, end=end))
        for column, values in self.equals:
            if column not in info.columns:
                raise FilterError(
                    "filter_unknown_column", column=column, columns=", ".join(info.columns[:15])
                )
            col = prefix + quote_ident(column)
            wanted = [v for v in values if v != MISSING]
            parts = []
            if wanted:
                listed = bind_all(wanted)
                parts.append(compose("CAST({col} AS VARCHAR) IN ({v})", col=col, v=listed))
            if MISSING in values:
                parts.append(Fragment(f"{col} IS NULL"))
            either = compose("({any})", any=join(" OR ", parts))
            clauses.append(either if parts else Fragment("FALSE"))
        return join(" AND ", clauses, empty="TRUE")

    def describe(self) -> list[tuple[str, str]]:
        """Describe the active filters as (what, values) pairs, for display as plain text."""
        out: list[tuple[str, str]] = []
        if self.date_from or self.date_to:
            start = self.date_from.isoformat() if self.date_from else "…"
            end = self.date_to.isoformat() if self.date_to else "…"
            out.append(("created", f"{start} – {end}"))
        for column, values in self.equals:
            out.append((column, ", ".join(values)))
        return out

    def key(self) -> str:
        """A stable text key (cache keys, URLs).

        >>> Filters(equals=(("source", ("Ads",)),)).key()
        '{"from": null, "to": null, "equals": [["source", ["Ads"]]]}'
        """
        return json.dumps(
            {
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "equals": [[c, list(v)] for c, v in self.equals],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_key(cls, key: str) -> Filters:
        """Rebuild filters from :meth:`key` (a URL or cache key).

        >>> Filters.from_key(Filters(equals=(("source", ("Ads",)),)).key()).equals
        (('source', ('Ads',)),)
        """
        data = json.loads(key)
        return cls(
            date_from=date.fromisoformat(data["from"]) if data.get("from") else None,
            date_to=date.fromisoformat(data["to"]) if data.get("to") else None,
            equals=tuple((str(c), tuple(str(v) for v in vs)) for c, vs in data.get("equals", [])),
        )

    def and_(self, other: Filters) -> Filters:
        """Combine two filters (both must hold)."""
        return Filters(
            date_from=max(filter(None, (self.date_from, other.date_from)), default=None),
            date_to=min(filter(None, (self.date_to, other.date_to)), default=None),
            equals=self.equals + other.equals,
        )


#: No filtering (the default everywhere).
NO_FILTERS = Filters()


def parse_where(items: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Parse ``COL=VALUE`` options; repeating a column allows several values.

    >>> parse_where(["source=Ads", "source=Seminar", "業種=製造業"])
    (('source', ('Ads', 'Seminar')), ('業種', ('製造業',)))
    """
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise FilterError("filter_syntax", item=item)
        column, value = item.split("=", 1)
        out.setdefault(column.strip(), []).append(value.strip())
    return tuple((c, tuple(v)) for c, v in out.items())


def parse_date(text: str | None) -> date | None:
    """Parse a ``YYYY-MM-DD`` option.

    >>> parse_date("2025-04-01")
    datetime.date(2025, 4, 1)
    """
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError("filter_bad_date", value=text) from None


def date_span(store: Store, info: DatasetInfo) -> tuple[date, date] | None:
    """The first and last lead creation dates of a dataset (None without dates)."""
    created = info.mapping.column("created")
    if created is None:
        return None
    col = quote_ident(created)
    with store.cursor() as cur:
        row = cur.execute(f"SELECT min({col}), max({col}) FROM {info.table()}").fetchone()
    if not row or row[0] is None:
        return None
    return row[0].date(), row[1].date()


def column_values(store: Store, info: DatasetInfo, column: str, limit: int = 200) -> list[str]:
    """A column's values, most frequent first (``(missing)`` included when present)."""
    if column not in info.columns:
        raise FilterError(
            "filter_unknown_column", column=column, columns=", ".join(info.columns[:15])
        )
    col = quote_ident(column)
    with store.cursor() as cur:
        rows = cur.execute(
            f"SELECT CAST({col} AS VARCHAR) AS v, count(*) AS n FROM {info.table()} "
            "GROUP BY 1 ORDER BY n DESC, v LIMIT ?",
            [limit],
        ).fetchall()
    return [MISSING if v is None else str(v) for v, _ in rows]


def count_leads(store: Store, info: DatasetInfo, filters: Filters) -> int:
    """How many leads the filters keep."""
    where = filters.where(info)
    with store.cursor() as cur:
        row = cur.execute(
            f"SELECT count(*) FROM {info.table()} WHERE {where.sql}", where.args
        ).fetchone()
    return int(row[0]) if row else 0
