"""The review's figures: how an agreed version did on the leads that arrived since it took
effect, beside what its back-test promised.

A lead *arrived* on its created date (the CRM's own record), or, in a dataset without one,
when funnel first saw it (``_funnel_first_seen``). The leads arrived on or after the version's
effective date are the review's *new* leads; those before are the ones it was tuned on.

Every figure is computed in DuckDB through the scoring helpers the Tuner uses
(:func:`funnel.scoring.histogram.score_histogram` and :func:`evaluate`, the rule set's SQL from
:mod:`funnel.rulesql`), so a conversion figure here is the one the Tuner shows for the same
leads. The promise's conversion counts the leads a back-test counts (decided, or open and
mature: :mod:`funnel.population`); conversion since the date counts only the new leads old
enough to have converted (created by the population's cut-off), won or not, since a recent
period's early wins alone would overstate it; the younger leads are counted separately as
still maturing. Volumes count every lead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from scipy import stats

from funnel.feedback import FEEDBACK
from funnel.fragment import Fragment, bind, compose, join
from funnel.i18n import CodedError, t
from funnel.population import Counted, Population, backtest_population
from funnel.renderers import label
from funnel.review.agenda import pct1
from funnel.review.evidence import (
    ALPHA,
    MIN_RELATIVE,
    Comparison,
    Distributions,
    Lift,
    adjusted,
    compare,
    compare_lifts,
    fisher_p,
    ks,
    with_adjusted,
)
from funnel.rules import NO_PROMISES, RuleSet, ServiceLevel, check_columns
from funnel.rulesql import gates_sql, tier_case_sql
from funnel.scoring.histogram import (
    Evaluation,
    ScoreHistogram,
    evaluate,
    score_histogram,
    tier_index,
)
from funnel.scoring.source import hot_sql, source
from funnel.stats import DEFAULT_MIN_N, wilson
from funnel.store import (
    ARRIVALS,
    FIRST_SEEN_COL,
    OUTCOME_COL,
    DatasetInfo,
    Store,
    quote_ident,
)
from funnel.versions.history import current_version, find_version, list_versions
from funnel.versions.record import Version

#: How many segment values the acceptance table lists (the largest first).
MAX_SEGMENTS = 20
#: A segment value's hot leads are tested against the others' from this many verdicts ...
MIN_SEGMENT_VERDICTS = 10
#: ... among this many segment values at most (those with the most verdicts).
MAX_TESTED_SEGMENTS = 200
#: How many example lead ids a list names.
MAX_EXAMPLES = 10
#: The share of hot leads sales promises to contact in time; a point when clearly below.
CONTACT_KEPT = 0.9


class ReviewError(CodedError):
    """A review that cannot be made; ``code`` selects the message (``review.error.<code>``).

    >>> print(ReviewError("no_agreed", dataset="crm"))  # doctest: +ELLIPSIS
    crm has no agreed version yet, so there is nothing to review. Sign a version ...
    """

    prefix = "review.error"


@dataclass(frozen=True)
class Promise:
    """What the version's back-test promised: per tier, and hot leads a week.

    ``source`` is ``signed`` (the figures stored with the version when it was saved, on data
    that held none of the leads under review) or ``backtest`` (the version's back-test on the
    leads that arrived before its effective date, computed now as the Tuner computes it).
    """

    source: str
    tiers: tuple[tuple[str, int, int, float, float], ...]  # name, counted, won, low, high
    hot_per_week: float | None
    won: int

    def tier(self, name: str) -> tuple[str, int, int, float, float] | None:
        return next((x for x in self.tiers if x[0] == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "hot_per_week": self.hot_per_week,
            "won": self.won,
            "tiers": [
                {
                    "tier": name,
                    "n": n,
                    "won": won,
                    "rate": won / n if n else None,
                    "ci_low": low,
                    "ci_high": high,
                }
                for name, n, won, low, high in self.tiers
            ],
        }


@dataclass(frozen=True)
class TierFigure:
    """A tier's new leads: every one, those counted (old enough to have converted, or
    decided where the data has no maturity cut-off), the won ones among those counted."""

    name: str
    leads: int
    counted: int
    won: int
    low: float
    high: float
    promised: tuple[str, int, int, float, float] | None
    #: the tier's lift over the base rate now against promised (None with too few leads)
    comparison: Lift | None

    @property
    def rate(self) -> float | None:
        return self.won / self.counted if self.counted else None

    @property
    def maturing(self) -> int:
        return self.leads - self.counted

    @property
    def maturing_share(self) -> float | None:
        return self.maturing / self.leads if self.leads else None

    @property
    def promised_rate(self) -> float | None:
        if self.promised is None or not self.promised[1]:
            return None
        return self.promised[2] / self.promised[1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.name,
            "leads": self.leads,
            "counted": self.counted,
            "maturing": self.maturing,
            "maturing_share": self.maturing_share,
            "won": self.won,
            "rate": self.rate,
            "ci_low": self.low,
            "ci_high": self.high,
            "promised_rate": self.promised_rate,
            "promised_ci": None if self.promised is None else [self.promised[3], self.promised[4]],
            "promised_n": None if self.promised is None else self.promised[1],
            "lift": None if self.comparison is None else self.comparison.as_dict(),
        }


@dataclass(frozen=True)
class Acceptance:
    """Sales' verdicts on a group of new leads (a tier or a segment value)."""

    name: str
    leads: int
    accepted: int
    rejected: int
    not_contacted: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def no_verdict(self) -> int:
        return self.leads - self.decided - self.not_contacted

    @property
    def rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.accepted, self.decided)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "name": self.name,
            "leads": self.leads,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "not_contacted": self.not_contacted,
            "no_verdict": self.no_verdict,
            "acceptance_rate": self.rate,
            "ci_low": low,
            "ci_high": high,
        }


@dataclass(frozen=True)
class SegmentVerdicts:
    """Sales' verdicts on the hot leads of one segment value against the other hot leads,
    with Fisher's test of the two acceptance rates (adjusted over the segment values)."""

    value: str
    accepted: int
    decided: int
    rest_accepted: int
    rest_decided: int
    p: float | None
    p_adjusted: float | None = None

    @property
    def rejected(self) -> int:
        return self.decided - self.accepted

    @property
    def rest_rejected(self) -> int:
        return self.rest_decided - self.rest_accepted

    @property
    def rejection(self) -> float | None:
        return self.rejected / self.decided if self.decided else None

    @property
    def rest_rejection(self) -> float | None:
        return self.rest_rejected / self.rest_decided if self.rest_decided else None

    @property
    def real(self) -> bool:
        """Rejected more than the other hot leads, beyond chance and by enough to matter."""
        mine, rest = self.rejection, self.rest_rejection
        if self.p_adjusted is None or mine is None or rest is None or mine <= rest:
            return False
        return self.p_adjusted < ALPHA and mine - rest >= MIN_RELATIVE * max(rest, 1e-12)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejection_rate": self.rejection,
            "others_accepted": self.rest_accepted,
            "others_rejected": self.rest_rejected,
            "others_rejection_rate": self.rest_rejection,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "real": self.real,
        }


@dataclass(frozen=True)
class FeedbackFigures:
    """What sales said about the new leads: acceptance by tier and segment, the reasons, and
    the hot leads rejected that were won all the same."""

    by_tier: tuple[Acceptance, ...]
    segment: str | None
    by_segment: tuple[Acceptance, ...]
    reasons: tuple[tuple[str, int], ...]
    rejected_won: int
    rejected_won_ids: tuple[str, ...]
    #: the hot leads' verdicts by segment value, each against the other hot leads
    hot_segments: tuple[SegmentVerdicts, ...] = ()

    @property
    def rejected(self) -> int:
        return sum(a.rejected for a in self.by_tier)

    @property
    def with_verdict(self) -> int:
        return sum(a.decided + a.not_contacted for a in self.by_tier)

    def as_dict(self) -> dict[str, Any]:
        total = self.rejected
        return {
            "by_tier": [a.as_dict() for a in self.by_tier],
            "segment": self.segment,
            "by_segment": [a.as_dict() for a in self.by_segment],
            "rejection_reasons": [
                {"reason": r, "leads": n, "share": n / total if total else None}
                for r, n in self.reasons
            ],
            "hot_rejected_won": self.rejected_won,
            "hot_rejected_won_ids": list(self.rejected_won_ids),
            "hot_acceptance_by_segment": [x.as_dict() for x in self.hot_segments],
        }


@dataclass(frozen=True)
class RuleDrift:
    """How often one rule fires on new leads, against the leads it was tuned on."""

    index: int
    label: str
    comparison: Comparison

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.index, "label": self.label, **self.comparison.as_dict()}


@dataclass(frozen=True)
class Week:
    start: date
    leads: int
    hot: int


@dataclass(frozen=True)
class Capacity:
    """Hot leads sent against the most the version promised a week.

    ``p`` is the exact Poisson probability of sending at least ``hot`` hot leads in ``weeks``
    weeks if marketing sent exactly the promised maximum on average: small means the promise
    was broken beyond chance.
    """

    most: int
    hot: int
    weeks: float
    weeks_over: int
    weeks_counted: int
    p: float

    @property
    def per_week(self) -> float:
        return self.hot / self.weeks if self.weeks else 0.0

    @property
    def broken(self) -> bool:
        return self.per_week > self.most and self.p < ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_hot_per_week": self.most,
            "hot_per_week": self.per_week,
            "weeks_over": self.weeks_over,
            "weeks": self.weeks_counted,
            "p": self.p,
            "broken": self.broken,
        }


@dataclass(frozen=True)
class Contact:
    """How fast sales first contacted the new hot leads, against the promised hours.

    ``due`` counts the hot leads that arrived at least the promised hours before the latest
    arrival in the data (the later ones may still be contacted in time); ``kept`` those of
    them contacted within the hours (a contact dated before the arrival counts as kept).
    """

    column: str
    hours: int | None
    hot: int
    contacted: int
    median_hours: float | None
    due: int
    kept: int

    @property
    def share_kept(self) -> float | None:
        return self.kept / self.due if self.due else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.kept, self.due)

    @property
    def broken(self) -> bool:
        """Fewer than :data:`CONTACT_KEPT` of the due hot leads were contacted in time, beyond
        chance (the Wilson 95% upper bound is below it), among enough leads to say."""
        return self.due >= DEFAULT_MIN_N and self.interval[1] < CONTACT_KEPT

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "column": self.column,
            "promised_hours": self.hours,
            "hot": self.hot,
            "contacted": self.contacted,
            "median_hours": self.median_hours,
            "due": self.due,
            "kept": self.kept,
            "share_kept": self.share_kept,
            "ci_low": low,
            "ci_high": high,
            "broken": self.broken,
        }


@dataclass(frozen=True)
class Arrivals:
    """The new leads scored when they arrived (under the version then in force), beside the
    reviewed version's tiers now: hot then, hot now, and both."""

    recorded: int
    hot_then: int
    hot_now: int
    both: int
    other_version: int  # scored on arrival under another version than the reviewed one

    def as_dict(self) -> dict[str, int]:
        return {
            "recorded": self.recorded,
            "hot_then": self.hot_then,
            "hot_now": self.hot_now,
            "both": self.both,
            "other_version": self.other_version,
        }


@dataclass(frozen=True)
class Order:
    """A tier and the next lower one, their conversions since the date and Fisher's test."""

    higher: TierFigure
    lower: TierFigure
    p: float | None
    p_adjusted: float | None

    @property
    def inverted(self) -> bool:
        """The lower tier converted better."""
        return (self.lower.rate or 0.0) > (self.higher.rate or 0.0)

    @property
    def real(self) -> bool:
        """Inverted beyond chance (after the family's correction)."""
        return self.inverted and self.p_adjusted is not None and self.p_adjusted < ALPHA

    def as_dict(self) -> dict[str, Any]:
        return {
            "higher": self.higher.name,
            "lower": self.lower.name,
            "inverted": self.inverted,
            "p": self.p,
            "p_adjusted": self.p_adjusted,
            "real": self.real,
        }


@dataclass(frozen=True)
class Review:
    """Every figure of a review; :mod:`funnel.review.agenda` turns them into discussion
    points, and ``notes`` says what the data cannot support."""

    dataset: str
    version: Version
    since: date
    arrival: str  # "created" or "first_seen"
    arrival_column: str
    leads: int  # new leads
    before: int  # leads arrived before ``since``
    counted: Counted
    population: Population
    weeks: float | None
    hot_leads: int
    promise: Promise
    tiers: tuple[TierFigure, ...]
    volume: Comparison  # hot share of new leads against the leads tuned on
    recall: Comparison  # share of won deals that were hot, now against promised
    won: int
    missed_won: int
    missed_ids: tuple[str, ...]
    feedback: FeedbackFigures | None
    rules: tuple[RuleDrift, ...]
    scores: Distributions
    score_now: tuple[tuple[float, int], ...]
    score_then: tuple[tuple[float, int], ...]
    weekly: tuple[Week, ...]
    #: the base rate (every counted new lead) against the promise's
    base: Comparison = Comparison(0, 0, 0, 0, None)
    #: each tier beside the next lower one
    order: tuple[Order, ...] = ()
    service_level: ServiceLevel = NO_PROMISES
    capacity: Capacity | None = None
    weeks_in_force: float | None = None
    contact: Contact | None = None
    arrivals: Arrivals | None = None
    lang: str = "en"
    notes: tuple[tuple[str, dict[str, str]], ...] = field(default=())
    #: conversion counts the new leads old enough to have converted (``population.mature_before``)
    aged: bool = False

    @property
    def hot_per_week(self) -> float | None:
        return self.hot_leads / self.weeks if self.weeks else None

    @property
    def hot(self) -> TierFigure:
        return self.tiers[0]

    @property
    def too_few(self) -> bool:
        """Too few hot leads are old enough to judge their conversion."""
        return self.hot.counted < DEFAULT_MIN_N

    def measured_on(self, lang: str = "en") -> str:
        if self.aged and self.population.mature_before is not None:
            p = self.population
            return t(
                "review.measured_aged" if self.counted.left_out else "review.measured_aged_all",
                lang,
                n=f"{self.counted.counted:,}",
                date=f"{p.mature_before:%Y-%m-%d}",
                days=f"{math.ceil(p.days_to_convert or 0):,}",
                out=f"{self.counted.left_out:,}",
            )
        return self.population.describe(self.counted, lang)

    def as_dict(self) -> dict[str, Any]:
        from funnel.review.agenda import agenda

        v = self.version
        return {
            "dataset": self.dataset,
            "version": {
                "id": v.version_id,
                "label": v.label(),
                "status": v.status,
                "effective_from": f"{self.since:%Y-%m-%d}",
            },
            "arrival": {"by": self.arrival, "column": self.arrival_column},
            "leads_since": self.leads,
            "leads_before": self.before,
            "population": self.population.as_dict(self.counted) | {"text": self.measured_on()},
            "weeks": self.weeks,
            "hot_leads": self.hot_leads,
            "hot_per_week": self.hot_per_week,
            "promise": self.promise.as_dict(),
            "volume": self.volume.as_dict(),
            "tiers": [x.as_dict() for x in self.tiers],
            "base_rate": self.base.as_dict(),
            "tier_order": [o.as_dict() for o in self.order],
            "won": self.won,
            "missed_won": self.missed_won,
            "missed_won_ids": list(self.missed_ids),
            "recall": self.recall.as_dict(),
            "feedback": None if self.feedback is None else self.feedback.as_dict(),
            "promises": self.service_level.as_dict(),
            "capacity": None if self.capacity is None else self.capacity.as_dict(),
            "weeks_in_force": self.weeks_in_force,
            "first_contact": None if self.contact is None else self.contact.as_dict(),
            "hot_when_arrived": None if self.arrivals is None else self.arrivals.as_dict(),
            "drift": {
                "rules": [r.as_dict() for r in self.rules],
                "scores": self.scores.as_dict(),
            },
            "weekly": [
                {"week": f"{w.start:%Y-%m-%d}", "leads": w.leads, "hot": w.hot} for w in self.weekly
            ],
            "agenda": [p.as_dict(self.lang) for p in agenda(self)],
            "notes": [{"key": k, "text": t(k, self.lang, **p)} for k, p in self.notes],
        }


# --- building a review ----------------------------------------------------------------------


def reviewed_version(store: Store, dataset: str, ref: str | None = None) -> Version:
    """The version a review is about: ``ref`` (an id or ``name v3``), else the current agreed
    one; refused when it is not agreed or belongs to another dataset."""
    info = store.require(dataset)
    if ref is None:
        found = current_version(store, info.name)
        if found is None:
            raise ReviewError("no_agreed", dataset=info.name)
        return found
    v = find_version(store, ref, info.name)
    if v.dataset != info.name:
        raise ReviewError("other_dataset", label=v.label(), dataset=info.name, other=v.dataset)
    if v.status != "agreed":
        raise ReviewError("not_agreed", label=v.label(), dataset=info.name)
    return v


def arrival_of(info: DatasetInfo) -> tuple[str, str]:
    """How a lead's arrival is dated: ``("created", column)`` or ``("first_seen", column)``."""
    created = info.mapping.column("created")
    return ("created", created) if created else ("first_seen", FIRST_SEEN_COL)


def review(
    store: Store,
    dataset: str,
    version: str | None = None,
    *,
    segment: str | None = None,
    lang: str = "en",
) -> Review:
    """Review a version (default: the current agreed one) on the leads arrived since it took
    effect. ``segment`` names the column acceptance is broken down by (default: the source)."""
    info = store.require(dataset)
    v = reviewed_version(store, info.name, version)
    rs = v.ruleset
    check_columns(rs, store.column_facts(info), source=v.label())
    since = v.effective_from or (v.agreed_at or v.saved_at).date()
    arrival, column = arrival_of(info)
    col = quote_ident(column)
    start = _start(v, since, arrival)
    new = compose("{c} >= {start}", c=col, start=bind(start))
    old = compose("{c} < {start}", c=col, start=bind(start))
    hist_new = score_histogram(store, info, rs, extra=new)
    leads = int(hist_new.leads.sum())
    if leads == 0:
        with store.cursor() as cur:
            row = cur.execute(f"SELECT max({col}) FROM {info.table()}").fetchone()
        latest = row[0] if row else None
        raise ReviewError(
            "no_leads_since",
            dataset=info.name,
            label=v.label(),
            since=f"{since:%Y-%m-%d}",
            latest="–" if latest is None else f"{latest:%Y-%m-%d}",
        )
    hist_old = score_histogram(store, info, rs, extra=old)
    now_eval = evaluate(hist_new, rs)
    old_eval = evaluate(hist_old, rs)
    promise = _promise(v, rs, old_eval, _signed_before(store, info, v, new))
    population = backtest_population(store, info)
    # Conversion since the date counts only the new leads old enough to have converted, won or
    # not: a young lead already won would count while a young lead still open would not, and
    # wins are decided sooner than losses, so "decided or mature" overstates a recent period's
    # conversion (45% against a promised 7% on the demo two months on).
    aged = _aged(population, new)
    if aged is not None:
        hist_conv = score_histogram(store, info, rs, extra=aged)
        conv_eval = evaluate(hist_conv, rs)
        counted = Counted(leads, int(hist_conv.leads.sum()))
    else:
        conv_eval, counted = now_eval, hist_new.counted
    tiers = _tiers(hist_new, conv_eval, rs, promise)
    base = _base(tiers, promise)
    order = _order(tiers)
    hot = tiers[0]
    hot_leads = hot.leads
    before_leads = int(hist_old.leads.sum())
    hot_before = int(hist_old.leads[tier_index(hist_old.score, hist_old.gated, rs) == 0].sum())
    volume = compare(hot_leads, leads, hot_before, before_leads)
    promised_hot = promise.tier(rs.tiers[0].name)
    hot_won = now_eval.tiers[0].won  # every won deal (decided), old enough or not
    recall = compare(hot_won, now_eval.won, promised_hot[2] if promised_hot else 0, promise.won)
    recall = _adjust([recall])[0]
    volume = _adjust([volume])[0]
    rules, scores = _drift(store, info, rs, new, old, hist_new, hist_old, lang)
    missed = _ids(store, info, rs, new, "missed")
    feedback = _feedback(store, info, rs, new, segment)
    weekly = _weekly(store, info, rs, new, col)
    promised = rs.service_level
    capacity = _capacity(promised, hot_leads, hist_new.weeks, weekly)
    weeks_in_force = _weeks_in_force(store, info, col, since)
    contact = _contact(store, info, rs, new, col)
    arrived = _arrivals(store, info, v, new)
    notes = _notes(v, tiers, feedback, population, leads, now_eval, contact, order, since)
    return Review(
        dataset=info.name,
        version=v,
        since=since,
        arrival=arrival,
        arrival_column=column,
        leads=leads,
        before=before_leads,
        counted=counted,
        aged=aged is not None,
        population=population,
        weeks=hist_new.weeks,
        hot_leads=hot_leads,
        promise=promise,
        tiers=tiers,
        base=base,
        order=order,
        volume=volume,
        recall=recall,
        won=now_eval.won,
        missed_won=now_eval.missed_won,
        missed_ids=missed,
        feedback=feedback,
        rules=rules,
        scores=scores,
        score_now=_dist(hist_new),
        score_then=_dist(hist_old),
        weekly=weekly,
        service_level=promised,
        capacity=capacity,
        weeks_in_force=weeks_in_force,
        contact=contact,
        arrivals=arrived,
        lang=lang,
        notes=notes,
    )


def _start(v: Version, since: date, arrival: str) -> date | datetime:
    """Where the leads under review start: the effective date; by first-seen time, also no
    earlier than the signing (a lead loaded the day a version was signed, before it was
    signed, is one the version was tuned on).

    >>> from funnel.versions.record import Signoff
    >>> from funnel.rules import RuleSet
    >>> at = datetime(2026, 5, 1, 10, 0)
    >>> v = Version(RuleSet(), "d", 1, "a", "", date(2026, 5, 1), "d", "", {}, at,
    ...             signoffs=(Signoff("marketing", "m", at), Signoff("sales", "s", at)))
    >>> _start(v, date(2026, 5, 1), "first_seen"), _start(v, date(2026, 5, 1), "created")
    (datetime.datetime(2026, 5, 1, 10, 0, 1), datetime.date(2026, 5, 1))
    """
    if arrival != "first_seen" or v.agreed_at is None:
        return since
    signed = v.agreed_at + timedelta(seconds=1)  # times are kept to the second
    return max(datetime.combine(since, time.min), signed)


def _adjust(items: list[Comparison]) -> list[Comparison]:
    fixed = adjusted([c.p for c in items])
    return [
        Comparison(c.k_now, c.n_now, c.k_then, c.n_then, c.p, p)
        for c, p in zip(items, fixed, strict=True)
    ]


def _signed_before(store: Store, info: DatasetInfo, v: Version, new: Fragment) -> bool:
    """Whether the figures stored with ``v`` were measured before any lead under review was
    seen: none of those leads was in the data when the version was saved.

    Times are kept to the second; a lead first seen in the second the version was saved
    counts as seen (the back-test computed now is then used, which is always measured on
    the leads before the effective date)."""
    query = compose(
        "SELECT count(*) FROM {leads} WHERE ({new}) AND {seen} <= {saved}",
        leads=info.table(),
        new=new,
        seen=quote_ident(FIRST_SEEN_COL),
        saved=bind(v.saved_at),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    return row is not None and int(row[0]) == 0


def _promise(v: Version, rs: RuleSet, before: Evaluation, signed: bool) -> Promise:
    """The figures stored with the version when they name its tiers and were measured on
    leads before the review's (``signed``), else its back-test on the leads arrived before
    its effective date, computed now the same way as the Tuner."""
    stored = v.metrics.get("tiers") if signed and isinstance(v.metrics, dict) else None
    names = [x.name for x in rs.tiers]
    try:
        if isinstance(stored, list) and [x["tier"] for x in stored] == names:
            tiers = tuple(
                (
                    str(x["tier"]),
                    int(x["n"]),
                    int(x["won"]),
                    float(x["ci_low"]),
                    float(x["ci_high"]),
                )
                for x in stored
            )
            per_week = v.metrics.get("hot_per_week")
            return Promise(
                "signed",
                tiers,
                None if per_week is None else float(per_week),
                int(v.metrics.get("won") or sum(x[2] for x in tiers)),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return Promise(
        "backtest",
        tuple((x.name, x.n, x.won, x.ci_low, x.ci_high) for x in before.tiers),
        before.hot_per_week,
        before.won,
    )


def _aged(population: Population, new: Fragment) -> Fragment | None:
    """The new leads created on or before the population's maturity cut-off (old enough to
    have converted, whatever their outcome), or None when the dataset has no such cut-off."""
    if population.rule != "mature" or population.created is None:
        return None
    return compose(
        "({new}) AND {created} <= {cutoff}",
        new=new,
        created=quote_ident(population.created),
        cutoff=bind(population.mature_before),
    )


def _tiers(
    hist: ScoreHistogram, ev: Evaluation, rs: RuleSet, promise: Promise
) -> tuple[TierFigure, ...]:
    """Each tier's new leads, and its lift over the base rate now against promised: a base
    rate that moved for every lead (a better quarter, a price change) moves no tier."""
    idx = tier_index(hist.score, hist.gated, rs)
    won_all, n_all = sum(x.won for x in ev.tiers), sum(x.n for x in ev.tiers)
    then_won, then_n = sum(x[2] for x in promise.tiers), sum(x[1] for x in promise.tiers)
    lifts: list[Lift | None] = []
    for stat in ev.tiers:
        promised = promise.tier(stat.name)
        few = promised is None or stat.n < DEFAULT_MIN_N or promised[1] < DEFAULT_MIN_N
        lifts.append(
            None
            if few or promised is None
            else compare_lifts(
                (stat.won, stat.n, won_all, n_all), (promised[2], promised[1], then_won, then_n)
            )
        )
    lifts = with_adjusted(lifts)
    return tuple(
        TierFigure(
            name=stat.name,
            leads=int(hist.leads[idx == i].sum()),
            counted=stat.n,
            won=stat.won,
            low=stat.ci_low,
            high=stat.ci_high,
            promised=promise.tier(stat.name),
            comparison=lifts[i],
        )
        for i, stat in enumerate(ev.tiers)
    )


def _base(tiers: tuple[TierFigure, ...], promise: Promise) -> Comparison:
    """The base rate (every counted lead) since the date against the promise's."""
    k_then, n_then = sum(x[2] for x in promise.tiers), sum(x[1] for x in promise.tiers)
    base = compare(sum(x.won for x in tiers), sum(x.counted for x in tiers), k_then, n_then)
    return _adjust([base])[0]


def _order(tiers: tuple[TierFigure, ...]) -> tuple[Order, ...]:
    """Each tier beside the next lower one where both have enough counted leads; Fisher's
    test of their conversions, adjusted as one family."""
    pairs = [
        (a, b)
        for a, b in zip(tiers, tiers[1:], strict=False)
        if a.counted >= DEFAULT_MIN_N and b.counted >= DEFAULT_MIN_N
    ]
    p = [fisher_p(a.won, a.counted, b.won, b.counted) for a, b in pairs]
    return tuple(
        Order(a, b, pv, padj) for (a, b), pv, padj in zip(pairs, p, adjusted(p), strict=True)
    )


def _dist(hist: ScoreHistogram) -> tuple[tuple[float, int], ...]:
    """Every lead per score (gated or not), ascending."""
    if hist.score.size == 0:
        return ()
    uniq, inverse = np.unique(hist.score, return_inverse=True)
    counts = np.bincount(inverse, weights=hist.leads, minlength=len(uniq))
    return tuple((float(s), int(c)) for s, c in zip(uniq, counts, strict=True))


def _drift(
    store: Store,
    info: DatasetInfo,
    rs: RuleSet,
    new: Fragment,
    old: Fragment,
    hist_new: ScoreHistogram,
    hist_old: ScoreHistogram,
    lang: str,
) -> tuple[tuple[RuleDrift, ...], Distributions]:
    """Each rule's firing share and the score distribution, new leads against the leads
    before; one family of tests, adjusted together."""
    src = source(store, info, rs)
    fires = [
        compose(f", count(*) FILTER (WHERE ({{p}}) <> 0) AS f{i}", p=src.rule(rs, r))
        for i, r in enumerate(rs.rules)
    ]
    query = compose(
        "{with_} SELECT ({new}) AS is_new, count(*) {fires} FROM {leads} "
        "WHERE ({new}) OR ({old}) GROUP BY 1",
        with_=src.with_(),
        new=new,
        fires=join("", fires),
        leads=src.table,
        old=old,
    )
    with store.cursor() as cur:
        rows = {bool(r[0]): r[1:] for r in cur.execute(query.sql, query.args).fetchall()}
    now = rows.get(True, (0,) * (len(rs.rules) + 1))
    then = rows.get(False, (0,) * (len(rs.rules) + 1))
    comparisons = [
        compare(int(now[i + 1]), int(now[0]), int(then[i + 1]), int(then[0]))
        for i in range(len(rs.rules))
    ]
    scores = ks(_arrays(hist_new), _arrays(hist_old))
    fixed = adjusted([c.p for c in comparisons] + [scores.p])
    drifts = tuple(
        RuleDrift(
            i,
            label(r, lang),
            Comparison(c.k_now, c.n_now, c.k_then, c.n_then, c.p, p),
        )
        for i, (r, c, p) in enumerate(zip(rs.rules, comparisons, fixed, strict=False))
    )
    scores = Distributions(
        scores.median_now, scores.median_then, scores.distance, scores.p, fixed[-1]
    )
    return drifts, scores


def _arrays(hist: ScoreHistogram) -> tuple[np.ndarray, np.ndarray]:
    pairs = _dist(hist)
    return (
        np.asarray([p[0] for p in pairs], dtype=float),
        np.asarray([p[1] for p in pairs], dtype=np.int64),
    )


def _scored(store: Store, info: DatasetInfo, rs: RuleSet, new: Fragment, extra: str) -> Fragment:
    """A WITH clause ending in ``scored``: every new lead's id (as text), score, gate, tier,
    whether it is hot, its outcome and the ``extra`` columns."""
    src = source(store, info, rs)
    id_col = quote_ident(info.mapping.column("id") or info.columns[0])
    inner = compose(
        """scored AS (
            SELECT *, {tier} AS tier, {hot} AS hot FROM (
                SELECT CAST({id} AS VARCHAR) AS id, ({score})::DOUBLE AS score,
                       ({gated}) AS gated, {outcome} AS outcome{extra}
                FROM {leads} WHERE {new}
            )
        )""",
        tier=tier_case_sql(rs, "score", "gated"),
        hot=hot_sql(rs, "score", "gated"),
        id=id_col,
        score=src.score(rs),
        gated=gates_sql(rs),
        outcome=quote_ident(OUTCOME_COL),
        extra=extra,
        leads=src.table,
        new=new,
    )
    return src.with_(inner)


def _ids(store: Store, info: DatasetInfo, rs: RuleSet, new: Fragment, what: str) -> tuple[str, ...]:
    """Example ids of the new won leads that were not hot."""
    assert what == "missed"
    query = compose(
        "{scored} SELECT id FROM scored WHERE outcome = 'won' AND NOT hot "
        "ORDER BY score DESC, id LIMIT {n}",
        scored=_scored(store, info, rs, new, ""),
        n=bind(MAX_EXAMPLES),
    )
    with store.cursor() as cur:
        return tuple(str(r[0]) for r in cur.execute(query.sql, query.args).fetchall())


def _feedback(
    store: Store, info: DatasetInfo, rs: RuleSet, new: Fragment, segment: str | None
) -> FeedbackFigures | None:
    """Sales' verdicts on the new leads, or None when the dataset has no feedback on them."""
    column = segment if segment is not None else info.mapping.column("source")
    if column is not None and column not in info.columns:
        raise ReviewError("unknown_segment", column=column, dataset=info.name)
    extra = (
        f", CAST({quote_ident(column)} AS VARCHAR) AS segment"
        if column
        else ", NULL::VARCHAR AS segment"
    )
    head = compose(
        """{scored}, judged AS (
            SELECT s.*, f.disposition, f.reason_group
            FROM scored s LEFT JOIN {feedback} f ON f.dataset = {name} AND f.lead_id = s.id
        )""",
        scored=_scored(store, info, rs, new, extra),
        feedback=FEEDBACK,
        name=bind(info.name),
    )
    counts = """count(*), count(*) FILTER (WHERE disposition = 'accepted'),
        count(*) FILTER (WHERE disposition = 'rejected'),
        count(*) FILTER (WHERE disposition = 'not_contacted')"""
    by_tier = compose(
        "{head} SELECT tier, " + counts + " , count(disposition) FROM judged GROUP BY 1",
        head=head,
    )
    by_segment = compose(
        "{head} SELECT coalesce(segment, '(missing)'), "
        + counts
        + " FROM judged GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {n}",
        head=head,
        n=bind(MAX_SEGMENTS),
    )
    reasons = compose(
        "{head} SELECT coalesce(reason_group, ''), count(*) FROM judged "
        "WHERE disposition = 'rejected' GROUP BY 1 ORDER BY 2 DESC, 1",
        head=head,
    )
    hot_segments = compose(
        "{head} SELECT coalesce(segment, '(missing)'), "
        "count(*) FILTER (WHERE disposition = 'accepted'), "
        "count(*) FILTER (WHERE disposition IN ('accepted', 'rejected')) "
        "FROM judged WHERE hot GROUP BY 1 HAVING count(*) FILTER "
        "(WHERE disposition IN ('accepted', 'rejected')) >= {least} ORDER BY 3 DESC, 1 LIMIT {n}",
        head=head,
        least=bind(MIN_SEGMENT_VERDICTS),
        n=bind(MAX_TESTED_SEGMENTS),
    )
    rejected_won = compose(
        "{head} SELECT id FROM judged WHERE hot AND disposition = 'rejected' "
        "AND outcome = 'won' ORDER BY id",
        head=head,
    )
    with store.cursor() as cur:
        tiers = {str(r[0]): r[1:] for r in cur.execute(by_tier.sql, by_tier.args).fetchall()}
        if sum(int(r[4]) for r in tiers.values()) == 0:
            return None
        segments = cur.execute(by_segment.sql, by_segment.args).fetchall()
        reason_rows = cur.execute(reasons.sql, reasons.args).fetchall()
        won_ids = [str(r[0]) for r in cur.execute(rejected_won.sql, rejected_won.args).fetchall()]
        hot_rows = cur.execute(hot_segments.sql, hot_segments.args).fetchall() if column else []
    none = (0, 0, 0, 0, 0)
    hot = tiers.get(rs.tiers[0].name, none)
    hot_accepted, hot_decided = int(hot[1]), int(hot[1]) + int(hot[2])
    return FeedbackFigures(
        by_tier=tuple(
            Acceptance(x.name, *(int(c) for c in tiers.get(x.name, none)[:4])) for x in rs.tiers
        ),
        segment=column,
        by_segment=tuple(
            Acceptance(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in segments
        )
        if column
        else (),
        reasons=tuple((str(r[0]), int(r[1])) for r in reason_rows),
        rejected_won=len(won_ids),
        rejected_won_ids=tuple(won_ids[:MAX_EXAMPLES]),
        hot_segments=_segment_tests(hot_rows, hot_accepted, hot_decided),
    )


def _segment_tests(
    rows: list[tuple[Any, ...]], accepted: int, decided: int
) -> tuple[SegmentVerdicts, ...]:
    """Each segment value's hot verdicts against the other hot leads' (Fisher), adjusted as
    one family (Benjamini-Hochberg)."""
    found = []
    for value, a, d in rows:
        a, d = int(a), int(d)
        ra, rd = accepted - a, decided - d
        found.append(SegmentVerdicts(str(value), a, d, ra, rd, fisher_p(a, d, ra, rd)))
    fixed = adjusted([x.p for x in found])
    return tuple(
        SegmentVerdicts(x.value, x.accepted, x.decided, x.rest_accepted, x.rest_decided, x.p, p)
        for x, p in zip(found, fixed, strict=True)
    )


def _weekly(
    store: Store, info: DatasetInfo, rs: RuleSet, new: Fragment, col: str
) -> tuple[Week, ...]:
    """New leads and hot leads per week of arrival (weeks start on Monday)."""
    query = compose(
        "{scored} SELECT week, count(*), count(*) FILTER (WHERE hot) FROM scored "
        "GROUP BY 1 ORDER BY 1",
        scored=_scored(store, info, rs, new, f", date_trunc('week', {col})::DATE AS week"),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    return tuple(Week(r[0], int(r[1]), int(r[2])) for r in rows if r[0] is not None)


def _capacity(
    promised: ServiceLevel, hot: int, weeks: float | None, weekly: tuple[Week, ...]
) -> Capacity | None:
    """Hot leads sent against the promised weekly maximum (None when none was promised)."""
    most = promised.max_hot_per_week
    if most is None or not weeks:
        return None
    p = float(stats.poisson.sf(hot - 1, most * weeks)) if hot else 1.0
    return Capacity(
        most=most,
        hot=hot,
        weeks=weeks,
        weeks_over=sum(1 for w in weekly if w.hot > most),
        weeks_counted=len(weekly),
        p=p,
    )


def _contact(
    store: Store, info: DatasetInfo, rs: RuleSet, new: Fragment, col: str
) -> Contact | None:
    """Hours from arrival to sales' first contact of the new hot leads (None when the data
    has no first-contact column)."""
    column = info.mapping.column("first_contact")
    if column is None or column not in info.columns:
        return None
    promised = rs.service_level.contact_within_hours
    window = float(promised) if promised is not None else 0.0
    contact = f"CAST({quote_ident(column)} AS TIMESTAMP)"
    extra = (
        f", (epoch({contact}) - epoch(CAST({col} AS TIMESTAMP))) / 3600.0 AS hours"
        f", CAST({col} AS TIMESTAMP) AS arrived"
    )
    query = compose(
        """{scored}, latest AS (SELECT max(CAST({c} AS TIMESTAMP)) AS at FROM {leads})
        SELECT count(*) FILTER (WHERE hot),
               count(*) FILTER (WHERE hot AND hours IS NOT NULL),
               median(hours) FILTER (WHERE hot AND hours IS NOT NULL),
               count(*) FILTER (WHERE hot AND epoch(latest.at) - epoch(arrived)
                                >= {window} * 3600.0),
               count(*) FILTER (WHERE hot AND epoch(latest.at) - epoch(arrived)
                                >= {window} * 3600.0 AND hours <= {window})
        FROM scored, latest""",
        scored=_scored(store, info, rs, new, extra),
        c=col,
        leads=info.table(),
        window=bind(window),
    )
    with store.cursor() as cur:
        row = cur.execute(query.sql, query.args).fetchone()
    assert row is not None
    hot, contacted, median, due, kept = row
    return Contact(
        column=column,
        hours=promised,
        hot=int(hot),
        contacted=int(contacted),
        median_hours=None if median is None else float(median),
        due=int(due) if promised is not None else 0,
        kept=int(kept) if promised is not None else 0,
    )


def _arrivals(store: Store, info: DatasetInfo, v: Version, new: Fragment) -> Arrivals | None:
    """The new leads' tiers when they arrived (``funnel_arrivals``) beside the reviewed
    version's now; None when none of them was scored on arrival."""
    rs = v.ruleset
    query = compose(
        """{scored}
        SELECT a.version_id, a.tier, s.hot, count(*)
        FROM scored s JOIN {arrivals} a ON a.dataset = {name} AND a.lead_id = s.id
        GROUP BY ALL""",
        scored=_scored(store, info, rs, new, ""),
        arrivals=ARRIVALS,
        name=bind(info.name),
    )
    with store.cursor() as cur:
        rows = cur.execute(query.sql, query.args).fetchall()
    if not rows:
        return None
    hot_names = {x.version_id: x.ruleset.tiers[0].name for x in list_versions(store, info.name)}
    recorded = hot_then = hot_now = both = other = 0
    for version_id, tier, hot, n in rows:
        n = int(n)
        was = hot_names.get(int(version_id)) == tier
        recorded += n
        hot_then += n if was else 0
        hot_now += n if hot else 0
        both += n if was and hot else 0
        other += n if int(version_id) != v.version_id else 0
    return Arrivals(recorded, hot_then, hot_now, both, other)


def _weeks_in_force(store: Store, info: DatasetInfo, col: str, since: date) -> float | None:
    """Weeks from the effective date to the latest arrival in the data (its "today")."""
    with store.cursor() as cur:
        row = cur.execute(f"SELECT max({col}) FROM {info.table()}").fetchone()
    latest = row[0] if row else None
    if latest is None:
        return None
    day = latest.date() if isinstance(latest, datetime) else latest
    return max((day - since).days + 1, 0) / 7


def _notes(
    v: Version,
    tiers: tuple[TierFigure, ...],
    feedback: FeedbackFigures | None,
    population: Population,
    leads: int,
    ev: Evaluation,
    contact: Contact | None = None,
    order: tuple[Order, ...] = (),
    since: date | None = None,
) -> tuple[tuple[str, dict[str, str]], ...]:
    """What the data cannot support, said plainly (never an agenda point)."""
    notes: list[tuple[str, dict[str, str]]] = []
    for o in order:
        if o.inverted and not o.real:
            notes.append(
                (
                    "review.note.order_unclear",
                    {
                        "lower": o.lower.name,
                        "higher": o.higher.name,
                        "lower_rate": pct1(o.lower.rate),
                        "higher_rate": pct1(o.higher.rate),
                        "since": "–" if since is None else f"{since:%Y-%m-%d}",
                        "p": "–" if o.p_adjusted is None else f"{o.p_adjusted:.2g}",
                    },
                )
            )
    hot = tiers[0]
    counted = sum(x.counted for x in tiers)
    if counted == 0:
        notes.append(("review.note.all_maturing", {"leads": f"{leads:,}"}))
    elif hot.counted < DEFAULT_MIN_N:
        notes.append(
            (
                "review.note.too_few_mature",
                {
                    "n": f"{hot.counted:,}",
                    "maturing": f"{hot.maturing:,}",
                    "min": f"{DEFAULT_MIN_N}",
                },
            )
        )
    if feedback is None:
        notes.append(("review.note.no_feedback", {}))
    promised = v.ruleset.service_level
    if not promised:
        notes.append(("review.note.no_promise", {"label": v.label()}))
    elif promised.max_hot_per_week is None:
        notes.append(("review.note.no_capacity", {"label": v.label()}))
    if contact is None and promised.contact_within_hours is not None:
        hours = f"{promised.contact_within_hours:,}"
        notes.append(("review.note.contact_unmeasured", {"hours": hours}))
    elif contact is None:
        notes.append(("review.note.no_contact", {}))
    return tuple(notes)


def as_of(value: date | datetime) -> str:
    """A date as the review prints it."""
    return f"{value:%Y-%m-%d}"
