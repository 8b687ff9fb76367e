"""The tuner's state in this session and its cached library calls.

The state is a frozen :class:`~funnel.tunerstate.TunerState` per dataset. A session opens it
from the page's link, else from the store, else from the simple template; every change is kept
in the store (so a reload, a new tab or a server restart shows the meeting as it was) and
written into the URL (so a link shares the exact state).

The score histogram is cached on the rules alone (not the thresholds), so moving a threshold
slider recomputes every metric from the cached histogram without touching the leads. A weight
move does not touch them either: the leads are grouped once per rule structure into patterns
(:mod:`funnel.scoring.patterns`, shared by every session) that score in numpy.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from app import auth, ui
from funnel.backtest import Holdout, holdout
from funnel.backtest import histogram as backtest_histogram
from funnel.filters import NO_FILTERS, Filters
from funnel.i18n import CodedError
from funnel.records import attribute_columns, lead_records, search_leads
from funnel.records import records_handoff as lead_handoff
from funnel.rules import DEFAULT_TIERS, RuleSet, RuleSetError, decode_ruleset
from funnel.scoring.compare import Disagreement, disagreement, moved
from funnel.scoring.histogram import ScoreHistogram, moved_between, score_histogram
from funnel.scoring.leads import Explanation, explain_lead
from funnel.scoring.matrix import Matrix, fit_engagement_matrix
from funnel.scoring.patterns import Patterns, lead_patterns, structure_key
from funnel.store import DatasetInfo
from funnel.suggest import Suggestion, suggest_rules, template_for
from funnel.tunerstate import (
    PROPOSALS,
    QUERY_KEYS,
    Proposal,
    Saved,
    StateError,
    TunerState,
    load_state,
    save_state,
)

__all__ = ["PROPOSALS", "Proposal", "TunerState"]

_STATES = "_tuner"  # dataset name → TunerState
_WRITTEN = "_tuner_written"  # dataset name → the state the store holds (or need not hold)
_WIDGETS = "_tuner_widgets"  # dataset name → generation of the rule widgets
_DIFFERS = "_tuner_differs"  # dataset name → the stored state a shared link differs from


def _session(key: str) -> dict[str, Any]:
    found: dict[str, Any] = st.session_state.setdefault(key, {})
    return found


def starting_rules(info: DatasetInfo) -> RuleSet:
    """The simple template (with the default tiers, named in the page's language, when it finds
    no behaviour column)."""
    start = template_for(info)
    if start.rules:
        return start
    tiers = tuple(replace(x, name=ui.t(f"tier.default.{x.name}")) for x in DEFAULT_TIERS)
    return replace(start, tiers=tiers)


def _opening(info: DatasetInfo) -> TunerState:
    """The state a session starts from: the link's, else the stored one, else the template.

    A problem with either is said once, in the page's language.
    """
    saved: Saved | None = None
    try:
        saved = load_state(ui.store(), info)
    except (StateError, RuleSetError) as exc:
        st.warning(ui.t("tuner.saved_unusable", dataset=info.name, reason=ui.refusal(exc)))
    link: TunerState | None = None
    if st.query_params.get("dataset") == info.name:
        try:
            link = TunerState.from_query(st.query_params.to_dict())
            if link is not None:
                link.check(ui.store().column_facts(info), source="shared link")
        except RuleSetError as exc:
            st.warning(ui.refusal(exc))
            link = None
    written = _session(_WRITTEN)
    if link is None or (saved is not None and link.same_as(saved.state)):
        chosen = saved.state if saved is not None else TunerState.starting(starting_rules(info))
    else:
        chosen = link
        if saved is not None:  # say so, and keep the stored one until something changes
            _session(_DIFFERS)[info.name] = saved
    written[info.name] = chosen
    return chosen


def state(info: DatasetInfo) -> TunerState:
    """This dataset's tuner state in this session."""
    states = _session(_STATES)
    if info.name not in states:
        states[info.name] = _opening(info)
    found: TunerState = states[info.name]
    return found


def set_state(info: DatasetInfo, new: TunerState, *, new_widgets: bool = False) -> None:
    """Replace the state; ``new_widgets`` re-creates the rule widgets (rules added, removed or
    loaded), so they show the new values instead of the ones typed before."""
    _session(_STATES)[info.name] = new
    if new_widgets:
        generations = _session(_WIDGETS)
        generations[info.name] = generations.get(info.name, 0) + 1


def widgets(info: DatasetInfo) -> int:
    """The generation of the rule widgets (part of their keys)."""
    return int(_session(_WIDGETS).get(info.name, 0))


def proposal(info: DatasetInfo, name: str) -> RuleSet:
    return state(info).rules(name)


def store_proposal(info: DatasetInfo, name: str, rs: RuleSet, *, new_widgets: bool = False) -> None:
    """Save one proposal's rules (its suggestion note kept)."""
    set_state(info, state(info).with_rules(name, rs), new_widgets=new_widgets)


def differs(info: DatasetInfo) -> Saved | None:
    """The stored state, when this session opened a link showing another one (until the
    session changes something: then the stored state becomes this one)."""
    found: Saved | None = _session(_DIFFERS).get(info.name)
    return found


def open_saved(info: DatasetInfo) -> None:
    """Show the stored state instead of the link's."""
    saved = _session(_DIFFERS).pop(info.name, None)
    if saved is not None:
        _session(_WRITTEN)[info.name] = saved.state
        set_state(info, saved.state, new_widgets=True)


def persist(info: DatasetInfo) -> None:
    """Keep the state in the store when it changed, and put it in the URL (one message to the
    browser, and none when the URL already says so)."""
    current = state(info)
    written = _session(_WRITTEN)
    if written.get(info.name) != current:
        store = ui.store()
        # read-only: the page says so at the top; a viewer tunes for themselves (the roles let
        # only those who edit versions change the team's meeting); the URL still shares either
        if not store.read_only and auth.may("edit_versions"):
            try:
                save_state(store, info, current, by=auth.actor())
            except CodedError as exc:
                st.warning(ui.refusal(exc))
                return
        written[info.name] = current
        _session(_DIFFERS).pop(info.name, None)
    wanted = {"dataset": info.name, **current.to_query()}
    stale = [k for k in QUERY_KEYS if k in st.query_params and k not in wanted]
    if stale or any(st.query_params.get(k) != v for k, v in wanted.items()):
        for key in stale:
            del st.query_params[key]
        st.query_params.update(wanted)


# --- cached calls ---------------------------------------------------------------------------------
# Arguments are hashed by ui.HASH_FUNCS: a dataset by its id (new on every reload), a rule set by
# its encoded form, filters by their key.


def scoring_part(rs: RuleSet) -> RuleSet:
    """The part of a rule set that changes scores (thresholds, names excluded)."""
    return replace(rs, tiers=DEFAULT_TIERS, name="", description="")


@st.cache_data(show_spinner=False, max_entries=512, hash_funcs=ui.HASH_FUNCS)
def _histogram(info: DatasetInfo, scoring: RuleSet, filters: Filters) -> ScoreHistogram:
    return score_histogram(ui.store(), info, scoring, filters)


@st.cache_resource(show_spinner=False, max_entries=4, hash_funcs=ui.HASH_FUNCS)
def _patterns(info: DatasetInfo, structure: str, filters: Filters) -> Patterns | None:
    # A resource, not data: shared as is by every session (Streamlit would copy data per call).
    return lead_patterns(ui.store(), info, decode_ruleset(structure), filters)


def patterns(info: DatasetInfo, rs: RuleSet, filters: Filters) -> Patterns | None:
    """The leads grouped for ``rs``'s structure; None when its scores need SQL."""
    return _patterns(info, structure_key(rs), filters)


def histogram(info: DatasetInfo, rs: RuleSet, filters: Filters) -> ScoreHistogram:
    grouped = patterns(info, rs, filters)
    if grouped is not None:
        return grouped.histogram(rs)
    return _histogram(info, scoring_part(rs), filters)


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=ui.HASH_FUNCS)
def _moved(info: DatasetInfo, before: RuleSet, after: RuleSet, filters: Filters) -> dict[str, int]:
    return moved(ui.store(), info, before, after, filters)


def moved_since(
    info: DatasetInfo, before: RuleSet, after: RuleSet, filters: Filters
) -> dict[str, int]:
    """Leads that entered and left the hot tier; a threshold move reads the cached histogram."""
    if scoring_part(before) == scoring_part(after):
        return moved_between(histogram(info, after, filters), before, after)
    if structure_key(before) == structure_key(after):  # a weight move
        grouped = patterns(info, after, filters)
        if grouped is not None:
            return grouped.moved(before, after)
    return _moved(info, before, after, filters)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=ui.HASH_FUNCS)
def compare(info: DatasetInfo, a: RuleSet, b: RuleSet, filters: Filters) -> Disagreement:
    return disagreement(ui.store(), info, a, b, filters)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=ui.HASH_FUNCS)
def _matrix(info: DatasetInfo, scoring: RuleSet, filters: Filters) -> Matrix | None:
    return fit_engagement_matrix(ui.store(), info, scoring, filters)


def matrix(info: DatasetInfo, rs: RuleSet, filters: Filters) -> Matrix | None:
    return _matrix(info, scoring_part(rs), filters)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=ui.HASH_FUNCS)
def _records(
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters,
    only: str,
    not_hot_in: RuleSet | None,
    ids: tuple[str, ...] | None,
    lang: str,
) -> pd.DataFrame:
    return lead_records(
        ui.store(), info, rs, filters, only=only, not_hot_in=not_hot_in, ids=ids, lang=lang
    )


def records(
    info: DatasetInfo,
    rs: RuleSet,
    filters: Filters,
    only: str,
    not_hot_in: RuleSet | None,
    *,
    ids: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One list of leads as records (see :func:`funnel.records.lead_records`)."""
    return _records(info, rs, filters, only, not_hot_in, ids, ui.lang())


def records_handoff(
    info: DatasetInfo, rs: RuleSet, shown: pd.DataFrame, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """The hand-off list of the leads in ``shown`` (built when a download is clicked)."""
    return lead_handoff(ui.store(), info, rs, shown, filters, lang=ui.lang())


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=ui.HASH_FUNCS)
def _search(info: DatasetInfo, columns: tuple[str, ...], text: str) -> list[str]:
    return search_leads(ui.store(), info, text, columns)


def search(info: DatasetInfo, rs: RuleSet, text: str) -> list[str]:
    """Leads whose id, source or a column the rules read contains ``text``."""
    source = info.mapping.column("source")
    columns = (*([source] if source else []), *attribute_columns(info, rs))
    return _search(info, columns, text)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=ui.HASH_FUNCS)
def _explain(info: DatasetInfo, rs: RuleSet, lead_id: str, lang: str) -> Explanation | None:
    return explain_lead(ui.store(), info, rs, lead_id, lang)


def explain(info: DatasetInfo, rs: RuleSet, lead_id: str) -> Explanation | None:
    """One lead's score rule by rule (None for an unknown id), kept across slider moves that
    do not change it."""
    return _explain(info, rs, lead_id, ui.lang())


@st.cache_data(show_spinner=False, max_entries=32, hash_funcs=ui.HASH_FUNCS)
def _suggest(
    info: DatasetInfo,
    filters: Filters,
    baseline: RuleSet,
    target: float | None,
    capacity: float | None,
    exclude: tuple[str, ...],
    lang: str,
) -> Suggestion:
    return suggest_rules(
        ui.store(),
        info,
        filters=filters,
        target_conversion=target,
        capacity_per_week=capacity,
        baseline=baseline,
        exclude=exclude,
        lang=lang,
    )


def suggest(
    info: DatasetInfo,
    filters: Filters,
    baseline: RuleSet,
    target: float | None,
    capacity: float | None,
    exclude: tuple[str, ...] = (),
) -> Suggestion:
    """A rule set fitted to the data (named in the page's language)."""
    return _suggest(info, filters, baseline, target, capacity, exclude, ui.lang())


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=ui.HASH_FUNCS)
def _held_out(
    info: DatasetInfo, scoring: RuleSet, filters: Filters
) -> tuple[Holdout, ScoreHistogram]:
    part = holdout(ui.store(), info, filters)
    return part, backtest_histogram(ui.store(), info, scoring, filters, part)


def held_out(info: DatasetInfo, rs: RuleSet, filters: Filters) -> tuple[Holdout, ScoreHistogram]:
    """The leads held out, and their scores under ``rs`` (for thresholds that hold on them)."""
    return _held_out(info, scoring_part(rs), filters)
