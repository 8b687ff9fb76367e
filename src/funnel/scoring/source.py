"""Where a scoring query reads leads from: the leads table, or the leads joined with their
activity counts decayed with age.

Also :func:`hot_sql`, the one condition "reaches the first (hot) tier and is not knocked out".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from funnel.fragment import Fragment, bind, compose, join
from funnel.rules import Rule, RuleSet
from funnel.rulesql import rule_sql, score_sql
from funnel.store import DatasetInfo, Store, quote_ident


@dataclass(frozen=True)
class ActivityLog:
    """A dataset's activity log: which lead column counts which activity type, and its end."""

    columns: dict[str, str]  # lead column (activity_<type>) → activity type
    last: datetime | None  # the latest activity: "now" for the decay of historical data


_LOGS: dict[tuple[str, str, str], ActivityLog | None] = {}  # small: one entry per dataset

_LOGS_LOCK = threading.Lock()


def activity_log(store: Store, info: DatasetInfo) -> ActivityLog | None:
    """Describe the dataset's activity log, or None when it was loaded without one.

    The load derives one ``activity_<type>`` count column per activity type, in sorted type
    order, appended last to the mapping; this pairs them back up.
    """
    key = (str(store.path), info.schema, info.fingerprint + info.loaded_at.isoformat())
    with _LOGS_LOCK:
        if key in _LOGS:
            return _LOGS[key]
    with store.cursor() as cur:
        found = cur.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = 'activities'",
            [info.schema],
        ).fetchone()
        log: ActivityLog | None = None
        if found and found[0]:
            table = info.table("activities")
            types = cur.execute(f"SELECT DISTINCT activity_type FROM {table}").fetchall()
            last = cur.execute(f"SELECT max(occurred_at) FROM {table}").fetchone()
            derived = [s.name for s in info.mapping.leads if s.role == "behaviour"]
            kinds = sorted(str(k[0]) for k in types)
            tail = derived[len(derived) - len(kinds) :] if kinds else []
            log = ActivityLog(
                columns=dict(zip(tail, kinds, strict=True)),
                last=last[0] if last else None,
            )
    with _LOGS_LOCK:
        _LOGS[key] = log
    return log


@dataclass(frozen=True)
class Source:
    """Where a query reads leads from: the leads table, or a CTE put first that joins it with
    decayed activity counts."""

    cte: Fragment  # empty, or "name AS (...)"
    table: str
    decayed: dict[float, dict[str, str]]  # half-life → activity column → decayed count SQL

    def with_(self, *more: Fragment) -> Fragment:
        """The query's WITH clause: this source's CTE and ``more``."""
        items = [c for c in (self.cte, *more) if c.sql]
        return compose("WITH {items}", items=join(",\n", items)) if items else Fragment("")

    def score(self, rs: RuleSet) -> Fragment:
        return score_sql(rs, self._decay(rs))

    def rule(self, rs: RuleSet, rule: Rule) -> Fragment:
        return rule_sql(rs, rule, self._decay(rs))

    def _decay(self, rs: RuleSet) -> dict[str, str] | None:
        return None if rs.decay_half_life is None else self.decayed.get(rs.decay_half_life)


def source(store: Store, info: DatasetInfo, *rulesets: RuleSet) -> Source:
    """Read the leads table, joined with decayed activity counts where a rule set decays.

    A decayed count is the sum over a lead's activities of ``0.5 ** (age / half-life)``, the
    age in days counted back from the log's last activity (future-dated activities count 1).
    """
    plain = Source(Fragment(""), info.table(), {})
    lives = sorted({rs.decay_half_life for rs in rulesets if rs.decay_half_life is not None})
    if not lives:
        return plain
    log = activity_log(store, info)
    used = {r.column for rs in rulesets for r in rs.rules if r.group == "engagement"}
    columns = [c for c in (log.columns if log else {}) if c in used]
    if log is None or log.last is None or not columns:
        return plain
    sums: list[Fragment] = []
    decayed: dict[float, dict[str, str]] = {}
    for i, life in enumerate(lives):
        decayed[life] = {}
        for j, column in enumerate(columns):
            alias = f"__decay_{i}_{j}"
            sums.append(
                compose(
                    "sum(pow(0.5, greatest(epoch(CAST({last} AS TIMESTAMP)) - epoch(occurred_at),"
                    " 0) / 86400.0 / {life})) FILTER (WHERE activity_type = {type}) AS {alias}",
                    last=bind(log.last),
                    life=bind(life),
                    type=bind(log.columns[column]),
                    alias=alias,
                )
            )
            decayed[life][column] = f"coalesce({alias}, 0)"
    cte = compose(
        """__leads AS (
        SELECT l.*, d.* EXCLUDE (lead_id) FROM {leads} AS l
        LEFT JOIN (
            SELECT lead_id, {sums} FROM {activities} GROUP BY lead_id
        ) AS d ON CAST(l.{id} AS VARCHAR) = d.lead_id
    )""",
        leads=info.table(),
        sums=join(", ", sums),
        activities=info.table("activities"),
        id=quote_ident(info.mapping.column("id") or info.columns[0]),
    )
    return Source(cte, "__leads", decayed)


def hot_sql(rs: RuleSet, score: Fragment | str, gated: Fragment | str) -> Fragment:
    """True where a lead with this score and gate is in the rule set's first (hot) tier.

    >>> from funnel.rules import Tier
    >>> hot_sql(RuleSet(tiers=(Tier("hot", 10), Tier("cold", float("-inf")))), "s", "g")
    Fragment(sql='((s) >= ? AND NOT (g))', params=(10,))
    """
    return compose(
        "(({score}) >= {min} AND NOT ({gated}))",
        score=score,
        min=bind(rs.hot.min_score),
        gated=gated,
    )
