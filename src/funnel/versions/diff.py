"""What changed between two versions: rule changes in plain language, metrics and the leads
that move between tiers, measured on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from funnel.filters import NO_FILTERS, Filters
from funnel.formats import shown_in
from funnel.i18n import t
from funnel.renderers import identity
from funnel.rules import PROMISES, RuleSet, check_columns
from funnel.scoring.compare import tier_moves
from funnel.scoring.histogram import Evaluation, evaluate, score_histogram
from funnel.store import DatasetInfo, Store
from funnel.versions.record import Version


@dataclass(frozen=True)
class Change:
    """One difference between two rule sets, as sentences (``before`` → ``after``)."""

    kind: str  # added | removed | changed
    before: str | None
    after: str | None


@dataclass(frozen=True)
class VersionDiff:
    """What changed between two versions, measured on the same (current) data."""

    a: Version
    b: Version
    changes: list[Change]
    evaluation_a: Evaluation
    evaluation_b: Evaluation
    moves: list[tuple[str, str, int]]  # (tier in a, tier in b, leads), only where different
    leads: pd.DataFrame  # id, tier_a, tier_b, score_a, score_b (up to ``limit`` rows)

    @property
    def changed_leads(self) -> int:
        return sum(n for _, _, n in self.moves)

    @property
    def entered_hot(self) -> int:
        """Leads hot under b that were not hot under a."""
        hot_a, hot_b = self.a.ruleset.hot.name, self.b.ruleset.hot.name
        return sum(n for f, to, n in self.moves if to == hot_b and f != hot_a)

    @property
    def left_hot(self) -> int:
        """Leads hot under a that are not hot under b."""
        hot_a, hot_b = self.a.ruleset.hot.name, self.b.ruleset.hot.name
        return sum(n for f, to, n in self.moves if f == hot_a and to != hot_b)

    @property
    def metrics(self) -> list[tuple[str, float | None, float | None]]:
        """(metric key, value under a, value under b) for each metric a diff shows."""
        return [
            (m.key, m.value(self.evaluation_a), m.value(self.evaluation_b))
            for m in shown_in("diff")
        ]


def diff_rules(a: RuleSet, b: RuleSet, lang: str = "en", *, tiers: bool = True) -> list[Change]:
    """Rules, gates, caps, decay, the service-level promises and (unless ``tiers`` is False)
    tiers that differ, in plain language."""
    changes: list[Change] = []
    rules_a = {identity(r): r for r in a.rules}
    rules_b = {identity(r): r for r in b.rules}
    for key, rule in rules_a.items():
        other = rules_b.get(key)
        if other is None:
            changes.append(Change("removed", rule.describe(lang), None))
        elif other != rule:
            changes.append(Change("changed", rule.describe(lang), other.describe(lang)))
    changes += [
        Change("added", None, r.describe(lang)) for k, r in rules_b.items() if k not in rules_a
    ]
    gates_a, gates_b = set(a.gates), set(b.gates)
    changes += [Change("removed", g.describe(lang), None) for g in a.gates if g not in gates_b]
    changes += [Change("added", None, g.describe(lang)) for g in b.gates if g not in gates_a]
    for attr, message in (("score_cap", "rule.score_cap"), ("decay_half_life", "rule.decay")):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va != vb:
            kind = "added" if va is None else "removed" if vb is None else "changed"
            changes.append(
                Change(
                    kind,
                    None if va is None else t(message, lang, cap=va, days=va),
                    None if vb is None else t(message, lang, cap=vb, days=vb),
                )
            )
    for promise in PROMISES:
        pa, pb = a.service_level.line(promise, lang), b.service_level.line(promise, lang)
        if pa != pb:
            kind = "added" if pa is None else "removed" if pb is None else "changed"
            changes.append(Change(kind, pa, pb))
    lines_a, lines_b = _tier_lines(a, lang), _tier_lines(b, lang)
    if tiers and lines_a != lines_b:
        for i in range(max(len(lines_a), len(lines_b))):
            la = lines_a[i] if i < len(lines_a) else None
            lb = lines_b[i] if i < len(lines_b) else None
            if la != lb:
                kind = "changed" if la and lb else "added" if lb else "removed"
                changes.append(Change(kind, la, lb))
    return changes


def _tier_lines(rs: RuleSet, lang: str) -> list[str]:
    lines = [line for line in rs.describe(lang)]
    return lines[len(lines) - len(rs.tiers) :]


def compare_versions(
    store: Store,
    info: DatasetInfo,
    a: Version,
    b: Version,
    *,
    filters: Filters = NO_FILTERS,
    lang: str = "en",
    limit: int = 500,
) -> VersionDiff:
    """Diff two versions: rule changes, metric deltas and tier moves on ``info``'s data now."""
    evs = []
    for v in (a, b):
        check_columns(v.ruleset, store.column_facts(info), source=v.label())
        evs.append(evaluate(score_histogram(store, info, v.ruleset, filters), v.ruleset))
    moves, leads = tier_moves(store, info, a.ruleset, b.ruleset, filters, limit=limit)
    changes = diff_rules(a.ruleset, b.ruleset, lang)
    return VersionDiff(a, b, changes, evs[0], evs[1], moves, leads)
