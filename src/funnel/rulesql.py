"""A rule set as bound DuckDB SQL: each rule's points, the score, the gates and the tier.

Each rule's expression comes from its kind's renderer (:func:`funnel.renderers.bound_sql`);
this module puts them together for a rule set. Every value is bound; every fragment carries
its own parameters (:class:`funnel.fragment.Fragment`).
"""

from __future__ import annotations

from funnel.fragment import Fragment, balanced, bind, bind_all, compose, join
from funnel.renderers import bound_sql
from funnel.rules import Gate, Rule, RuleSet
from funnel.store import quote_ident

#: Activity-log columns mapped to SQL reading their decayed counts.
Decayed = dict[str, str]


def rule_sql(rs: RuleSet, rule: Rule, decayed: Decayed | None = None) -> Fragment:
    """One rule's points; engagement rules read ``decayed[column]`` when given.

    A decayed rule's points are rounded to 0.1 so scores stay few and readable.
    """
    expr = (decayed or {}).get(rule.column) if rule.group == "engagement" else None
    points = bound_sql(rule, expr)
    return compose("round({points}, 1)", points=points) if expr else points


def score_sql(rs: RuleSet, decayed: Decayed | None = None) -> Fragment:
    """The score expression: the sum of every rule's points, capped if asked.

    ``decayed`` maps activity-log columns to SQL reading their decayed counts (see
    :attr:`RuleSet.decay_half_life`); without it every count is read as stored. The sum
    is a shallow tree however many rules there are (:func:`funnel.fragment.balanced`).

    >>> from funnel.rules import CountRule
    >>> score_sql(RuleSet(rules=(CountRule("visits", 3, 5),), score_cap=50))
    Fragment(sql='least((CASE WHEN "visits" >= ? THEN 5 ELSE 0 END), 50)', params=(3,))
    """
    if not rs.rules:
        return Fragment("0")
    parts = [compose("({p})", p=rule_sql(rs, rule, decayed)) for rule in rs.rules]
    total = balanced(" + ", parts)
    if rs.score_cap is not None:
        total = compose("least({total}, {cap})", total=total, cap=str(int(rs.score_cap)))
    return total


def gate_sql(gate: Gate) -> Fragment:
    """True where the lead's column holds one of the gate's values (NULL where missing)."""
    return compose(
        "CAST({col} AS VARCHAR) IN ({values})",
        col=quote_ident(gate.column),
        values=bind_all(gate.values),
    )


def gates_sql(rs: RuleSet) -> Fragment:
    """A boolean expression: the lead is knocked out by a gate."""
    parts = [compose("coalesce({g}, FALSE)", g=gate_sql(g)) for g in rs.gates]
    return balanced(" OR ", parts) if parts else Fragment("FALSE")


def tier_case_sql(rs: RuleSet, score: str, gated: str) -> Fragment:
    """SQL naming each lead's tier from its score and gate columns, exactly as
    :func:`funnel.scoring.histogram.tier_index`.

    >>> from funnel.rules import Tier
    >>> rs = RuleSet(tiers=(Tier("hot", 10), Tier("cold", float("-inf"))))
    >>> tier_case_sql(rs, "s", "g")
    Fragment(sql='CASE WHEN s >= ? AND NOT g THEN ? ELSE ? END', params=(10, 'hot', 'cold'))
    """
    whens = [
        compose(
            "WHEN {score} >= {min}{gate} THEN {name}",
            score=score,
            min=bind(tier.min_score),
            gate=f" AND NOT {gated}" if i == 0 else "",
            name=bind(tier.name),
        )
        for i, tier in enumerate(rs.tiers[:-1])
    ]
    return compose(
        "CASE {whens} ELSE {last} END", whens=join(" ", whens), last=bind(rs.tiers[-1].name)
    )
