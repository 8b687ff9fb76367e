"""The tuner's session state (two named proposals) and its cached library calls.

The score histogram is cached on the rules alone (not the thresholds), so moving a threshold
slider recomputes every metric from the cached histogram without touching the leads. A weight
move does not touch them either: the leads are grouped once per rule structure into patterns
(:mod:`funnel.scoring.patterns`, shared by every session) that score in numpy.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from app import ui
from funnel.backtest import Holdout, holdout
from funnel.backtest import histogram as backtest_histogram
from funnel.filters import Filters
from funnel.rules import (
    DEFAULT_TIERS,
    RuleSet,
    RuleSetError,
    check_columns,
    decode_ruleset,
    encode_ruleset,
    ruleset_from_dict,
    ruleset_to_dict,
)
from funnel.scoring.compare import Disagreement, disagreement, moved
from funnel.scoring.histogram import ScoreHistogram, moved_between, score_histogram
from funnel.scoring.leads import Explanation, explain_lead, score_leads
from funnel.scoring.matrix import fit_engagement_matrix
from funnel.scoring.patterns import Patterns, lead_patterns, structure_key
from funnel.store import DatasetInfo
from funnel.suggest import Suggestion, suggest_rules, template_for

PROPOSALS = ("marketing", "sales")


def state(info: DatasetInfo) -> dict[str, Any]:
    """This dataset's tuner state: both proposals, which is active, a widget version."""
    all_states: dict[str, dict[str, Any]] = st.session_state.setdefault("_tuner", {})
    if info.name not in all_states:
        start = template_for(info)
        if not start.rules:
            start = replace(start, tiers=DEFAULT_TIERS)
        shared = st.query_params.get("rules")
        if shared and st.query_params.get("dataset") == info.name:
            try:
                candidate = decode_ruleset(shared)
                check_columns(candidate, ui.store().column_facts(info))
                start = candidate
            except RuleSetError as exc:
                st.warning(ui.refusal(exc))
        all_states[info.name] = {
            "proposals": {name: ruleset_to_dict(replace(start, name=name)) for name in PROPOSALS},
            "active": PROPOSALS[0],
            "version": 0,
            "last": None,
            "suggestion": {},  # per proposal: the last "start from the data" result
        }
    return all_states[info.name]


def proposal(info: DatasetInfo, name: str) -> RuleSet:
    return ruleset_from_dict(state(info)["proposals"][name], source=name)


def store_proposal(info: DatasetInfo, name: str, rs: RuleSet, *, new_widgets: bool = False) -> None:
    """Save a proposal; ``new_widgets`` re-creates the sliders (rules added/removed/loaded)."""
    s = state(info)
    s["proposals"][name] = ruleset_to_dict(replace(rs, name=name))
    if new_widgets:
        s["version"] += 1


def share(info: DatasetInfo, rs: RuleSet) -> None:
    """Put the dataset and the active rule set in the URL, so the page can be shared (one
    message to the browser, and none when the URL already says so)."""
    wanted = {"dataset": info.name, "rules": encode_ruleset(rs)}
    if any(st.query_params.get(k) != v for k, v in wanted.items()):
        st.query_params.update(wanted)


# --- cached calls ---------------------------------------------------------------------------------


def _scoring_key(rs: RuleSet) -> str:
    """The part of a rule set that changes scores (thresholds excluded)."""
    return encode_ruleset(replace(rs, tiers=DEFAULT_TIERS, name="", description=""))


@st.cache_data(show_spinner=False, max_entries=512)
def _histogram(dataset_id: int, name: str, key: str, filters_key: str) -> ScoreHistogram:
    return score_histogram(
        ui.store(), ui.store().require(name), decode_ruleset(key), Filters.from_key(filters_key)
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def _patterns(dataset_id: int, name: str, structure: str, filters_key: str) -> Patterns | None:
    # A resource, not data: shared as is by every session (Streamlit would copy data per call).
    return lead_patterns(
        ui.store(),
        ui.store().require(name),
        decode_ruleset(structure),
        Filters.from_key(filters_key),
    )


def patterns(info: DatasetInfo, rs: RuleSet, filters: Filters) -> Patterns | None:
    """The leads grouped for ``rs``'s structure; None when its scores need SQL."""
    return _patterns(info.dataset_id, info.name, structure_key(rs), filters.key())


def histogram(info: DatasetInfo, rs: RuleSet, filters: Filters) -> ScoreHistogram:
    grouped = patterns(info, rs, filters)
    if grouped is not None:
        return grouped.histogram(rs)
    return _histogram(info.dataset_id, info.name, _scoring_key(rs), filters.key())


@st.cache_data(show_spinner=False, max_entries=256)
def _moved(dataset_id: int, name: str, before: str, after: str, filters_key: str) -> dict[str, int]:
    info = ui.store().require(name)
    return moved(
        ui.store(),
        info,
        decode_ruleset(before),
        decode_ruleset(after),
        Filters.from_key(filters_key),
    )


def moved_since(
    info: DatasetInfo, before: RuleSet, after: RuleSet, filters: Filters
) -> dict[str, int]:
    """Leads that entered and left the hot tier; a threshold move reads the cached histogram."""
    if _scoring_key(before) == _scoring_key(after):
        return moved_between(histogram(info, after, filters), before, after)
    if structure_key(before) == structure_key(after):  # a weight move
        grouped = patterns(info, after, filters)
        if grouped is not None:
            return grouped.moved(before, after)
    return _moved(
        info.dataset_id, info.name, encode_ruleset(before), encode_ruleset(after), filters.key()
    )


@st.cache_data(show_spinner=False, max_entries=128)
def _disagreement(dataset_id: int, name: str, a: str, b: str, filters_key: str) -> Disagreement:
    info = ui.store().require(name)
    return disagreement(
        ui.store(), info, decode_ruleset(a), decode_ruleset(b), Filters.from_key(filters_key)
    )


def compare(info: DatasetInfo, a: RuleSet, b: RuleSet, filters: Filters) -> Disagreement:
    return _disagreement(
        info.dataset_id, info.name, encode_ruleset(a), encode_ruleset(b), filters.key()
    )


@st.cache_data(show_spinner=False, max_entries=128)
def _matrix(dataset_id: int, name: str, rules: str, filters_key: str) -> Any:
    info = ui.store().require(name)
    return fit_engagement_matrix(
        ui.store(), info, decode_ruleset(rules), Filters.from_key(filters_key)
    )


def matrix(info: DatasetInfo, rs: RuleSet, filters: Filters) -> Any:
    return _matrix(info.dataset_id, info.name, _scoring_key(rs), filters.key())


@st.cache_data(show_spinner=False, max_entries=64)
def _missed(dataset_id: int, name: str, rules: str, filters_key: str, lang: str) -> Any:
    info = ui.store().require(name)
    return score_leads(
        ui.store(),
        info,
        decode_ruleset(rules),
        Filters.from_key(filters_key),
        only="missed",
        limit=200,
        lang=lang,
    )


def missed(info: DatasetInfo, rs: RuleSet, filters: Filters) -> Any:
    return _missed(info.dataset_id, info.name, encode_ruleset(rs), filters.key(), ui.lang())


@st.cache_data(show_spinner=False, max_entries=64)
def _explain(dataset_id: int, name: str, rules: str, lead_id: str, lang: str) -> Any:
    return explain_lead(ui.store(), ui.store().require(name), decode_ruleset(rules), lead_id, lang)


def explain(info: DatasetInfo, rs: RuleSet, lead_id: str) -> Explanation | None:
    """One lead's score rule by rule (None for an unknown id), kept across slider moves that
    do not change it."""
    return _explain(info.dataset_id, info.name, encode_ruleset(rs), lead_id, ui.lang())


@st.cache_data(show_spinner=False, max_entries=32)
def _suggest(
    dataset_id: int,
    name: str,
    filters_key: str,
    target: float | None,
    capacity: float | None,
    baseline: str,
    exclude: tuple[str, ...],
) -> Suggestion:
    info = ui.store().require(name)
    return suggest_rules(
        ui.store(),
        info,
        filters=Filters.from_key(filters_key),
        target_conversion=target,
        capacity_per_week=capacity,
        baseline=decode_ruleset(baseline),
        exclude=exclude,
    )


def suggest(
    info: DatasetInfo,
    filters: Filters,
    baseline: RuleSet,
    target: float | None,
    capacity: float | None,
    exclude: tuple[str, ...] = (),
) -> Suggestion:
    return _suggest(
        info.dataset_id,
        info.name,
        filters.key(),
        target,
        capacity,
        encode_ruleset(baseline),
        exclude,
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _held_out(
    dataset_id: int, name: str, key: str, filters_key: str
) -> tuple[Holdout, ScoreHistogram]:
    info = ui.store().require(name)
    filters = Filters.from_key(filters_key)
    part = holdout(ui.store(), info, filters)
    return part, backtest_histogram(ui.store(), info, decode_ruleset(key), filters, part)


def held_out(info: DatasetInfo, rs: RuleSet, filters: Filters) -> tuple[Holdout, ScoreHistogram]:
    """The leads held out, and their scores under ``rs`` (for thresholds that hold on them)."""
    return _held_out(info.dataset_id, info.name, _scoring_key(rs), filters.key())
