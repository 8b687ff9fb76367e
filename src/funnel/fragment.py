"""SQL fragments that carry their bound parameters.

A :class:`Fragment` is SQL text with ``?`` marks and the values they bind, in the order the
marks appear. Fragments are put together with ``+``, :func:`join` and :func:`compose`, which
keep each value next to its mark, so no query lists its parameters far from its text.
Identifiers are still quoted by the caller (:func:`funnel.store.quote_ident`); values are
always bound (:func:`bind`), never written into the text.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Fragment:
    """SQL text and the values its ``?`` marks bind, in order.

    >>> where = Fragment("a = ?", (1,)) + " AND " + Fragment("b < ?", (2,))
    >>> where.sql, where.params
    ('a = ? AND b < ?', (1, 2))
    """

    sql: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: Fragment | str) -> Fragment:
        other = _fragment(other)
        return Fragment(self.sql + other.sql, self.params + other.params)

    def __radd__(self, other: str) -> Fragment:
        return Fragment(other + self.sql, self.params)

    @property
    def args(self) -> list[Any]:
        """The parameters as the list a DuckDB cursor's ``execute`` takes."""
        return list(self.params)

    def __str__(self) -> str:
        return self.sql


def bind(value: Any) -> Fragment:
    """One bound value.

    >>> bind("O'Reilly")
    Fragment(sql='?', params=("O'Reilly",))
    """
    return Fragment("?", (value,))


def bind_all(values: Iterable[Any]) -> Fragment:
    """Bound values separated by commas (for ``IN (...)``).

    >>> bind_all(["a", "b"])
    Fragment(sql='?, ?', params=('a', 'b'))
    """
    return join(", ", [bind(v) for v in values])


def join(separator: str, parts: Iterable[Fragment | str], empty: str = "") -> Fragment:
    """The parts joined by ``separator``, their parameters in the same order; ``empty``
    when there are none.

    >>> join(" OR ", [Fragment("a = ?", (1,)), Fragment("b")], empty="FALSE")
    Fragment(sql='a = ? OR b', params=(1,))
    >>> join(" OR ", [], empty="FALSE").sql
    'FALSE'
    """
    items = [_fragment(p) for p in parts]
    if not items:
        return Fragment(empty)
    return Fragment(separator.join(p.sql for p in items), tuple(v for p in items for v in p.params))


def compose(template: str, **parts: Fragment | str) -> Fragment:
    """Fill ``{name}`` fields of ``template`` with fragments (or trusted SQL text).

    Parameters are collected in the order the fields appear in the text, so a field used
    twice binds its values twice; ``{{`` and ``}}`` are literal braces.

    >>> score = Fragment("CASE WHEN x = ? THEN 5 ELSE 0 END", ("SaaS",))
    >>> q = compose("SELECT {s} AS s FROM t WHERE {s} >= {min}", s=score, min=bind(3))
    >>> q.params
    ('SaaS', 'SaaS', 3)
    """
    sql: list[str] = []
    params: list[Any] = []
    for literal, name, spec, conversion in _FORMATTER.parse(template):
        sql.append(literal)
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"compose takes plain fields, not {{{name}!{conversion}:{spec}}}")
        part = _fragment(parts[name])
        sql.append(part.sql)
        params += part.params
    return Fragment("".join(sql), tuple(params))


def balanced(operator: str, parts: Sequence[Fragment], *, chain: int = 64) -> Fragment:
    """Combine parts with a binary ``operator`` without a deep expression tree.

    Up to ``chain`` parts are written as one flat chain (``a + b + c``), as before; more are
    cut into chains of ``chain`` parts, each parenthesised, and those are combined the same
    way, so the depth grows with the logarithm of the number of parts. (DuckDB refuses an
    expression deeper than 1,000; a rule set of 1,000 rules would be one.)

    >>> balanced(" + ", [Fragment(x) for x in "abcde"], chain=2).sql
    '((a + b) + (c + d)) + e'
    >>> balanced(" + ", [Fragment(x) for x in "abc"]).sql
    'a + b + c'
    """
    if len(parts) <= chain:
        return join(operator, parts)
    groups = [
        compose("({part})", part=join(operator, chunk)) if len(chunk) > 1 else chunk[0]
        for chunk in (parts[i : i + chain] for i in range(0, len(parts), chain))
    ]
    return balanced(operator, groups, chain=chain)


def _fragment(part: Fragment | str) -> Fragment:
    return part if isinstance(part, Fragment) else Fragment(part)
