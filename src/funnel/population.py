"""Which leads a back-test counts: those whose outcome is decided, or old enough to be.

A won or lost lead is decided. A lead still open (or absent from a won-only outcomes file)
may yet be won, so counting it as "not won" would understate every conversion figure: an
opportunity export whose open deals count as lost shows a base rate well below the closed-deal
win rate. An open lead is therefore counted — as not won — only once it is *mature*: older
than the dataset's own time to convert (the 90th percentile of days from created to won, as
the Funnel page's cohorts use), counted back from the latest date in the data. Younger open
leads are left out, and every figure says how many.

Back-test figures (AUC, tier conversion, precision and recall, lift, missed won deals, the
threshold helpers, a version's metrics, the report, the suggestion's training and holdout) use
:attr:`Population.condition`; funnel and segment conversion keep every lead.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from funnel.fragment import Fragment, bind, compose
from funnel.funnels import days_to_convert
from funnel.i18n import t
from funnel.store import OUTCOME_COL, DatasetInfo, Store, quote_ident

#: How open leads are treated, and why:
#: ``all_decided``: no lead is open, every lead counts;
#: ``mature``: open leads count (as not won) once older than the time to convert;
#: ``decided_only``: open leads cannot be judged (no created date, or no won lead with a closed
#: date to learn the time to convert), so they are left out;
#: ``open_as_lost``: as ``decided_only``, but nothing is marked lost (a won-only outcomes file
#: without dates): leaving the open leads out would leave only won leads, so every lead not
#: won counts as not won, as funnel did before, and the figures say so.
Rule = Literal["all_decided", "mature", "decided_only", "open_as_lost"]


@dataclass(frozen=True)
class Counted:
    """How many (filtered) leads a back-test counts, and how many it leaves out."""

    total: int
    counted: int

    @property
    def left_out(self) -> int:
        return self.total - self.counted


@dataclass(frozen=True)
class Population:
    """The leads a back-test counts, as a SQL condition on the leads table, and why."""

    rule: Rule
    days_to_convert: float | None = None
    mature_before: datetime | None = None  # open leads created on or before count
    created: str | None = None

    @property
    def condition(self) -> Fragment:
        """A SQL condition, TRUE for the leads a back-test counts (columns of the leads table).

        >>> print(Population("mature", 30.0, datetime(2025, 1, 31), "created").condition.sql)
        ("_funnel_outcome" IN ('won', 'lost') OR ("_funnel_outcome" = 'open' AND "created" <= ?))
        >>> Population("all_decided").condition.sql
        'TRUE'
        """
        outcome = quote_ident(OUTCOME_COL)
        decided = f"{outcome} IN ('won', 'lost')"
        if self.rule == "mature" and self.created is not None:
            return compose(
                "({decided} OR ({outcome} = 'open' AND {created} <= {cutoff}))",
                decided=decided,
                outcome=outcome,
                created=quote_ident(self.created),
                cutoff=bind(self.mature_before),
            )
        if self.rule == "decided_only":
            return Fragment(f"({decided})")
        return Fragment("TRUE")

    def count(self, store: Store, info: DatasetInfo, where: Fragment | None = None) -> Counted:
        """Count the leads matching ``where`` (the page's filters), and those counted."""
        query = compose(
            "SELECT count(*), count(*) FILTER (WHERE {condition}) FROM {leads} WHERE {where}",
            condition=self.condition,
            leads=info.table(),
            where=where if where is not None else Fragment("TRUE"),
        )
        with store.cursor() as cur:
            row = cur.execute(query.sql, query.args).fetchone()
        total, counted = (int(row[0]), int(row[1])) if row else (0, 0)
        return Counted(total, counted)

    def describe(self, counted: Counted, lang: str = "en") -> str:
        """One sentence saying which leads a figure counts and how many are left out.

        >>> Population("mature", 54.2, datetime(2018, 4, 5), "d").describe(Counted(8000, 6210))
        'Measured on 6,210 decided or mature leads; 1,790 still open or too recent are left out.'
        >>> Population("all_decided").describe(Counted(400, 400))
        'Measured on all 400 leads (every outcome is decided).'
        """
        n, out = f"{counted.counted:,}", f"{counted.left_out:,}"
        if counted.left_out == 0:
            if self.rule == "open_as_lost":
                return t("population.all_open_as_lost", lang, n=n)
            if self.rule == "all_decided":
                return t("population.all_decided", lang, n=n)
            return t("population.all_counted", lang, n=n)
        rule = "decided_only" if self.rule == "decided_only" else "mature"
        return t(f"population.left_out_{rule}", lang, n=n, out=out)

    def rule_text(self, lang: str = "en") -> str:
        """How open leads are treated, in one sentence (the detail under :meth:`describe`).

        >>> text = Population("mature", 54.2, datetime(2018, 4, 5), "d").rule_text()
        >>> text.endswith("within 55 days): created on or before 2018-04-05.")
        True
        """
        if self.rule == "mature":
            assert self.mature_before is not None and self.days_to_convert is not None
            return t(
                "population.rule_mature",
                lang,
                days=f"{math.ceil(self.days_to_convert):,}",
                date=f"{self.mature_before:%Y-%m-%d}",
            )
        return t(f"population.rule_{self.rule}", lang)

    def as_dict(self, counted: Counted | None = None) -> dict[str, Any]:
        """The JSON block every back-test figure carries under ``"population"``."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "days_to_convert": self.days_to_convert,
            "mature_before": None
            if self.mature_before is None
            else f"{self.mature_before:%Y-%m-%d}",
        }
        if counted is not None:
            out |= {
                "leads": counted.total,
                "counted": counted.counted,
                "left_out": counted.left_out,
            }
        return out


def stored_description(metrics: dict[str, Any], lang: str = "en") -> str:
    """Which leads a saved version's metrics counted, in ``lang`` ("" for versions saved
    before the metrics said so).

    >>> block = {"rule": "mature", "days_to_convert": 54.2, "mature_before": "2018-04-05",
    ...          "leads": 8000, "counted": 6210, "left_out": 1790}
    >>> stored_description({"population": block})[:40]
    'Measured on 6,210 decided or mature lead'
    """
    block = metrics.get("population")
    if not isinstance(block, dict) or block.get("rule") not in get_args(Rule):
        return ""
    try:
        counted = Counted(int(block["leads"]), int(block["counted"]))
    except (KeyError, TypeError, ValueError):
        return ""
    return Population(block["rule"]).describe(counted, lang)


_CACHE: dict[tuple[str, str, str], Population] = {}  # small: one entry per dataset load
_CACHE_LOCK = threading.Lock()


def backtest_population(store: Store, info: DatasetInfo) -> Population:
    """The leads a back-test of this dataset counts (see the module's docstring)."""
    key = (str(store.path), info.schema, info.fingerprint + info.loaded_at.isoformat())
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    population = _decide(store, info)
    with _CACHE_LOCK:
        _CACHE[key] = population
    return population


def _decide(store: Store, info: DatasetInfo) -> Population:
    outcome = quote_ident(OUTCOME_COL)
    with store.cursor() as cur:
        row = cur.execute(
            f"SELECT count(*) FILTER (WHERE {outcome} = 'open'), "
            f"count(*) FILTER (WHERE {outcome} = 'lost') FROM {info.table()}"
        ).fetchone()
    open_, lost = (int(row[0]), int(row[1])) if row else (0, 0)
    if open_ == 0:
        return Population("all_decided")
    created = info.mapping.column("created")
    days, as_of = days_to_convert(store, info)
    if created is not None and days is not None and as_of is not None:
        # whole days, rounded up, as the cohorts count them
        cutoff = as_of - timedelta(days=math.ceil(days))
        return Population("mature", days, cutoff, created)
    return Population("open_as_lost" if lost == 0 else "decided_only")
