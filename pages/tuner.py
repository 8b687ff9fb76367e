"""Tuner: move points and thresholds, and watch what that definition of "hot" would have done."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app import auth, tuning, ui, verdicts
from app import filters as shared
from funnel import charts
from funnel.backtest import Holdout, HotChoice, hot_for_capacity, hot_for_target
from funnel.filters import Filters
from funnel.formats import metric, shown_in
from funnel.i18n import CodedError
from funnel.renderers import EDITORS, Input, editor_kinds, label, rule_from_form
from funnel.report import fmt_pct
from funnel.rules import (
    MAX_RULES,
    Gate,
    Rule,
    RuleSet,
    ruleset_from_dict,
    ruleset_to_dict,
)
from funnel.scoring.histogram import (
    Evaluation,
    ScoreHistogram,
    evaluate,
)
from funnel.scoring.source import activity_log
from funnel.segments import numeric_columns
from funnel.store import DatasetInfo
from funnel.suggest import SuggestError, Suggestion, template_for
from funnel.versions.history import save_version

info, filters = shared.analysis_page("tuner.title")
if info.mapping.outcome is None:
    st.info(ui.t("suggest.no_outcome"))
    st.stop()
state = tuning.state(info)

# --- which proposal -----------------------------------------------------------------------------
top = st.columns([2, 1, 1, 1])
active_key = f"tuner_active:{info.dataset_id}"
if active_key not in st.session_state:
    st.session_state[active_key] = state["active"]  # the proposal being edited, across pages
else:
    st.session_state[active_key] = st.session_state[active_key]
active = top[0].radio(
    ui.t("tuner.proposal"),
    tuning.PROPOSALS,
    format_func=ui.labels(tuning.PROPOSALS, lambda p: ui.t(f"tuner.proposal.{p}")),
    horizontal=True,
    key=active_key,
)
state["active"] = active
other = tuning.PROPOSALS[1 - tuning.PROPOSALS.index(active)]
rs = tuning.proposal(info, active)
version = state["version"]
prefix = f"{info.dataset_id}:{active}:{version}"


def load(new: RuleSet, note: dict[str, Any] | None = None) -> None:
    tuning.store_proposal(info, active, new, new_widgets=True)
    state["suggestion"][active] = note


def suggest(base: RuleSet, exclude: tuple[str, ...] = ()) -> None:
    """Fit a suggestion on the data (leaving ``exclude`` out) and load it, replacing ``base``."""
    with st.spinner(ui.t("tuner.fitting")):
        try:
            suggestion = tuning.suggest(info, filters, base, None, None, exclude)
        except SuggestError as exc:
            st.error(ui.refusal(exc))
            return
    before = {"baseline": base.name, "before": ruleset_to_dict(base), "exclude": exclude}
    load(suggestion.ruleset, {"result": suggestion} | before)
    st.rerun()


if top[1].button(ui.t("tuner.from_data"), key="tuner_suggest", help=ui.t("tuner.from_data_help")):
    suggest(rs)
if top[2].button(ui.t("tuner.template"), key="tuner_template"):
    template = template_for(info)
    if template.rules:
        load(template)
        st.rerun()
    st.warning(ui.t("tuner.template_empty"))  # nothing to start from: keep the rules there are
if top[3].button(ui.t("tuner.copy", other=ui.t(f"tuner.proposal.{other}")), key="tuner_copy"):
    tuning.store_proposal(info, other, rs, new_widgets=True)
    st.toast(ui.t("tuner.copied", other=ui.t(f"tuner.proposal.{other}")))

note = state["suggestion"].get(active)
if isinstance(note, dict) and isinstance(note.get("result"), Suggestion):
    replaced = ruleset_from_dict(note["before"], source=active)
    verdicts.suggestion_note(
        note,
        ui.t(f"tuner.proposal.{note['baseline']}")
        if note.get("baseline") in tuning.PROPOSALS
        else str(note.get("baseline") or ""),
        restore=lambda: (load(replaced), st.rerun()),
        exclude=lambda column: suggest(replaced, (*note.get("exclude", ()), column)),
    )


RULES_IN_PAGE = 8
RULES_BOX_PX = 520


def rule_sliders(info: DatasetInfo, rs: RuleSet, active: str, prefix: str) -> RuleSet:
    """One points slider per rule (with a remove button); returns the rules as set."""
    st.subheader(ui.t("tuner.rules"))
    if not rs.rules:
        st.info(ui.t("tuner.no_rules"))
    points: list[int] = []
    remove: int | None = None
    # many rules (a suggestion from the data has dozens) scroll in a box of their own, so the
    # results stay in sight below them
    box = st.container(height=RULES_BOX_PX) if len(rs.rules) > RULES_IN_PAGE else st.container()
    for i, rule in enumerate(rs.rules):
        c1, c2 = box.columns([6, 1])
        value = c1.slider(
            label(rule, ui.lang()),
            -50,
            50,
            int(rule.points),
            key=f"pts:{prefix}:{i}",
            help=rule.describe(ui.lang()),
        )
        points.append(int(value))
        if c2.button("✕", key=f"rm:{prefix}:{i}", help=ui.t("tuner.remove")):
            remove = i
    for i, value in enumerate(points):
        rs = rs.with_points(i, value)
    if remove is not None:
        rs = replace(rs, rules=rs.rules[:remove] + rs.rules[remove + 1 :])
        tuning.store_proposal(info, active, rs, new_widgets=True)
        st.rerun()
    return rs


def new_rule_form(info: DatasetInfo, prefix: str) -> Rule | None:
    """The "add a rule" inputs; returns the rule they describe (None while incomplete).

    The kinds offered for the column, and each kind's inputs, come from
    :data:`funnel.renderers.EDITORS`.
    """
    features = [s.name for s in info.mapping.features()]
    column = st.selectbox(ui.t("tuner.column"), features, key=f"add_col:{prefix}")
    if not column:
        return None
    kinds = editor_kinds("number" if column in numeric_columns(info) else "category")
    kind = kinds[0]
    if len(kinds) > 1:
        kind = st.radio(
            ui.t("tuner.kind"),
            kinds,
            format_func=ui.labels(kinds, lambda k: ui.t(f"tuner.kind.{k}")),
            horizontal=True,
            key=f"add_kind:{prefix}",
        )
    slots = st.columns(max(len(EDITORS[k].inputs) for k in kinds))
    values = {
        item.field: rule_input(slot, item, info, column, prefix)
        for slot, item in zip(slots, EDITORS[kind].inputs, strict=False)
    }
    return rule_from_form(kind, column, values)


def rule_input(slot: Any, item: Input, info: DatasetInfo, column: str, prefix: str) -> Any:
    """One input of the "add a rule" form, drawn in ``slot``; returns its value."""
    key, text = f"{item.key}:{prefix}", ui.t(item.label)
    if item.widget == "value":
        value = slot.selectbox(text, shared.column_options(info, column), key=key)
        return None if value is None else str(value)
    if item.widget == "values":
        chosen = slot.multiselect(
            text, shared.column_options(info, column), key=key, placeholder=ui.t("ui.choose")
        )
        return [str(v) for v in chosen]
    if item.widget == "choice":
        return slot.selectbox(text, item.options, key=key)
    if item.widget == "whole":
        return int(slot.number_input(text, item.low, item.high, int(item.default), key=key))
    return float(slot.number_input(text, value=float(item.default), key=key))


def rule_adder(info: DatasetInfo, rs: RuleSet, active: str, prefix: str) -> None:
    # Closed, the expander's inputs are neither computed nor sent on a slider move.
    adding = st.expander(ui.t("tuner.add_rule"), key=f"add_open:{prefix}", on_change="rerun")
    with adding:
        if not adding.open:
            return
        if len(rs.rules) >= MAX_RULES:
            st.info(ui.t("tuner.rules_full", limit=f"{MAX_RULES:,}"))
            return
        rule = new_rule_form(info, prefix)
        if st.button(ui.t("tuner.add"), key=f"add:{prefix}", disabled=rule is None):
            assert rule is not None
            new = replace(rs, rules=(*rs.rules, rule))
            tuning.store_proposal(info, active, new, new_widgets=True)
            st.rerun()


def gate_editor(info: DatasetInfo, rs: RuleSet, active: str, prefix: str) -> None:
    """The knock-out gates (each with a remove button) and a closed "add a gate" form."""
    st.subheader(ui.t("tuner.gates"))
    st.caption(ui.t("tuner.gates_help"))
    for j, gate in enumerate(rs.gates):
        g1, g2 = st.columns([6, 1])
        g1.text(gate.describe(ui.lang()))
        if g2.button("✕", key=f"rmg:{prefix}:{j}"):
            new = replace(rs, gates=rs.gates[:j] + rs.gates[j + 1 :])
            tuning.store_proposal(info, active, new, new_widgets=True)
            st.rerun()
    gating = st.expander(ui.t("tuner.add_gate"), key=f"gate_open:{prefix}", on_change="rerun")
    with gating:
        if not gating.open:
            return
        g1, g2, g3 = st.columns([2, 3, 1])
        column = g1.selectbox(
            ui.t("tuner.column"),
            [s.name for s in info.mapping.features() if s.role in ("attribute", "source")],
            key=f"gate_col:{prefix}",
        )
        values = g2.multiselect(
            ui.t("tuner.values"),
            shared.column_options(info, column) if column else [],
            key=f"gate_vals:{prefix}",
            placeholder=ui.t("ui.choose"),
        )
        if g3.button(ui.t("tuner.add"), key=f"gate_add:{prefix}", disabled=not values):
            new = replace(rs, gates=(*rs.gates, Gate(str(column), tuple(values))))
            tuning.store_proposal(info, active, new, new_widgets=True)
            st.rerun()


def decay_input(info: DatasetInfo, rs: RuleSet, prefix: str) -> RuleSet:
    """The half-life input, where rules read an activity log; returns the rules with it."""
    log = activity_log(ui.store(), info)
    if log is None or not any(r.column in log.columns for r in rs.rules):
        return rs
    st.subheader(ui.t("tuner.decay"))
    days = st.number_input(
        ui.t("tuner.half_life"),
        0,
        3650,
        int(rs.decay_half_life or 0),
        step=7,
        key=f"decay:{prefix}",
        help=ui.t("tuner.half_life_help", last=f"{log.last:%Y-%m-%d}" if log.last else "–"),
    )
    return replace(rs, decay_half_life=float(days) if days else None)


def tier_names(rs: RuleSet, prefix: str) -> RuleSet:
    """The tiers' names, in a closed expander; returns the rules with them."""
    naming = st.expander(ui.t("tuner.tier_names"), key=f"names_open:{prefix}", on_change="rerun")
    with naming:
        if not naming.open:
            return rs
        names = [
            st.text_input(ui.t("tuner.tier_name", n=k + 1), tier.name, key=f"tname:{prefix}:{k}")
            for k, tier in enumerate(rs.tiers)
        ]
        cleaned = [n.strip() for n in names]
        if not all(cleaned) or len(set(cleaned)) != len(cleaned):
            st.warning(ui.t("tuner.tier_names_invalid"))
            return rs
        return replace(
            rs, tiers=tuple(replace(t, name=n) for t, n in zip(rs.tiers, cleaned, strict=True))
        )


def thresholds(rs: RuleSet, hist: ScoreHistogram, prefix: str) -> tuple[RuleSet, int]:
    """Tier names, one threshold slider per tier above the last, and sales capacity.

    Returns the rules with those thresholds and the hot leads sales can work a week.
    """
    low = math.floor(float(hist.score.min())) if hist.score.size else 0
    high = math.ceil(float(hist.score.max())) if hist.score.size else 100
    low, high = min(low, -1), max(high, low + 10)
    st.subheader(ui.t("tuner.thresholds"))
    rs = tier_names(rs, prefix)
    tiers = list(rs.tiers)
    floor = low - 2 * len(tiers)  # room for every lower tier below the one above it
    upper = high
    for k, tier in enumerate(tiers[:-1]):
        key = f"thr:{prefix}:{k}"
        current = tier.min_score if math.isfinite(tier.min_score) else upper
        if key in st.session_state:
            current = st.session_state[key]
        # each tier's slider ends just below the tier above, so it shows the threshold in use
        st.session_state[key] = int(min(max(current, floor), upper))
        value = st.slider(
            ui.t("tuner.threshold", tier=tier.name), floor, max(upper, floor + 1), key=key
        )
        tiers[k] = replace(tier, min_score=float(value))
        upper = int(value) - 1

    c1, c2 = st.columns(2)
    reps = int(c1.number_input(ui.t("tuner.reps"), 1, 1000, 5, key="tuner_reps"))
    per_rep = int(c2.number_input(ui.t("tuner.per_rep"), 1, 10000, 20, key="tuner_per_rep"))
    capacity = reps * per_rep
    c3, c4 = st.columns(2)
    target = float(c3.number_input(ui.t("tuner.target"), 0.01, 1.0, 0.3, 0.05, key="tuner_target"))
    hot_key = f"thr:{prefix}:0"

    def set_hot(choice: HotChoice) -> None:
        """Move the hot threshold to what was chosen on the holdout, and say what it means."""
        st.session_state["_tuner_choice"] = choice
        if choice.threshold is not None:
            st.session_state[hot_key] = int(min(max(math.ceil(choice.threshold), low), high))

    def held_out() -> tuple[Holdout, ScoreHistogram]:
        return tuning.held_out(info, rs, filters)

    c4.button(
        ui.t("tuner.fill_capacity"),
        key="fill_capacity",
        on_click=lambda: set_hot(hot_for_capacity(held_out()[1], capacity, held_out()[0])),
    )
    c4.button(
        ui.t("tuner.reach_target"),
        key="reach_target",
        on_click=lambda: set_hot(hot_for_target(held_out()[1], target, held_out()[0])),
    )
    chosen = st.session_state.pop("_tuner_choice", None)
    if isinstance(chosen, HotChoice):
        verdicts.hot_choice(chosen)
    return replace(rs, tiers=tuple(tiers)), capacity


def headline(result: Evaluation, capacity: int) -> None:
    """The headline metrics and whether the hot leads fit sales capacity."""
    hot = result.tiers[0]
    st.subheader(ui.t("tuner.results"))
    verdicts.in_sample_caption(result.n)
    # the hot tier's share of leads, and its conversion's 95% interval, beneath the figure
    beneath = {
        "hot": f"{(hot.share or 0):.1%}",
        "precision": f"{hot.ci_low:.1%}–{hot.ci_high:.1%}",
    }
    shown = shown_in("tuner")
    for column, m in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(
            m.label(ui.lang()),
            m.text(m.value(result)),
            beneath.get(m.key),
            delta_color="off",
            delta_arrow="off",
        )
    st.caption(result.measured_on(ui.lang()))  # which leads the figures count
    if result.hot_per_week is None:
        st.caption(ui.t("tuner.no_weeks"))
        return
    fits = result.hot_per_week <= capacity
    (st.success if fits else st.warning)(
        ui.t(
            "tuner.capacity_fit" if fits else "tuner.capacity_over",
            per_week=f"{result.hot_per_week:,.1f}",
            capacity=f"{capacity:,}",
        )
    )


def moved_caption(info: DatasetInfo, state: dict[str, Any], rs: RuleSet, filters: Filters) -> None:
    """How many leads the latest change moved into and out of the hot tier."""
    current = ruleset_to_dict(rs)
    if state.get("current") not in (None, current):
        state["previous"] = state["current"]  # the definition before the latest change
    state["current"] = current
    if state.get("previous") is not None:
        before = ruleset_from_dict(state["previous"])
        change = tuning.moved_since(info, before, rs, filters)
        st.caption(
            ui.t("tuner.moved", entered=f"{change['entered']:,}", left=f"{change['left']:,}")
        )


def tiers_tab(result: Evaluation) -> None:
    st.plotly_chart(
        charts.tiers_figure(result, ui.t("funnel.col.leads"), ui.t("funnel.col.rate")),
        key="tiers_chart",
    )
    percent = (
        ui.t("tuner.col.share"),
        ui.t("funnel.col.rate"),
        ui.t("segments.ci_low"),
        ui.t("segments.ci_high"),
    )
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("tuner.col.tier"): [t.name for t in result.tiers],
                ui.t("funnel.col.leads"): [t.n for t in result.tiers],
                percent[0]: [100 * (t.share or 0) for t in result.tiers],
                ui.t("overview.won"): [t.won for t in result.tiers],
                percent[1]: [None if t.rate is None else 100 * t.rate for t in result.tiers],
                percent[2]: [100 * t.ci_low for t in result.tiers],
                percent[3]: [100 * t.ci_high for t in result.tiers],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.1f%%") for c in percent},
    )


def compare_tab(
    info: DatasetInfo, filters: Filters, rs: RuleSet, result: Evaluation, active: str, other: str
) -> None:
    """Both proposals' headline figures, and the leads hot in one and not the other."""
    st.caption(ui.t("tuner.compare"))
    rs_other = tuning.proposal(info, other)
    result_other = evaluate(tuning.histogram(info, rs_other, filters), rs_other)
    names = (ui.t(f"tuner.proposal.{active}"), ui.t(f"tuner.proposal.{other}"))
    rows = []
    shown = shown_in("tuner")
    for name, r in zip(names, (result, result_other), strict=True):
        rows.append(
            {ui.t("tuner.col.proposal"): name} | {m.label(ui.lang()): m.value(r) for m in shown}
        )
    ui.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config=ui.metric_columns(shown),
    )
    d = tuning.compare(info, rs, rs_other, filters)
    cells = (d.both, d.only_a, d.only_b, d.neither)
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("tuner.col.cell"): [
                    ui.t("tuner.cell.both"),
                    ui.t("tuner.cell.only", name=names[0]),
                    ui.t("tuner.cell.only", name=names[1]),
                    ui.t("tuner.cell.neither"),
                ],
                ui.t("funnel.col.leads"): [c.leads for c in cells],
                ui.t("overview.won"): [c.won for c in cells],
                ui.t("funnel.col.rate"): [fmt_pct(c.rate) for c in cells],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(d.measured_on(ui.lang()))  # the rate counts decided or mature leads
    e1, e2 = st.columns(2)
    e1.caption(ui.t("tuner.cell.only", name=names[0]))
    e1.text(", ".join(d.examples["only_a"][:50]) or "–")
    e2.caption(ui.t("tuner.cell.only", name=names[1]))
    e2.text(", ".join(d.examples["only_b"][:50]) or "–")


TABS = ("tiers", "deciles", "curve", "matrix", "compare")


def result_tabs(
    info: DatasetInfo, filters: Filters, rs: RuleSet, result: Evaluation, active: str, other: str
) -> None:
    """Charts and the comparison in tabs; only the open tab is computed and sent, so a closed
    tab costs a slider move nothing."""
    labels = [ui.t(f"tuner.tab.{k}") for k in TABS]
    tabs = dict(zip(TABS, st.tabs(labels, key="tuner_tab", on_change="rerun"), strict=True))
    with tabs["tiers"]:
        if tabs["tiers"].open:
            tiers_tab(result)
    with tabs["deciles"]:
        if tabs["deciles"].open:
            if not result.monotonic:
                st.warning(ui.t("tuner.not_monotonic"))
            st.plotly_chart(
                charts.deciles_figure(result, ui.t("funnel.col.rate"), ui.t("tuner.decile")),
                key="deciles_chart",
            )
    with tabs["curve"]:
        if tabs["curve"].open:
            marks = [(t.name, t.min_score) for t in rs.tiers[:-1]]
            st.plotly_chart(
                charts.threshold_figure(
                    result,
                    marks,
                    ui.t("tuner.precision"),
                    metric("recall").label(ui.lang()),
                    ui.t("tuner.score"),
                ),
                key="curve_chart",
            )
    with tabs["matrix"]:
        if tabs["matrix"].open:
            cells = tuning.matrix(info, rs, filters)
            if cells is None:
                st.info(ui.t("tuner.matrix_needs_both"))
            else:
                st.caption(ui.t("tuner.matrix_help"))
                st.plotly_chart(
                    charts.matrix_figure(
                        cells, ui.t("tuner.fit"), ui.t("tuner.engagement"), ui.t("funnel.col.rate")
                    ),
                    key="matrix_chart",
                )
    with tabs["compare"]:
        if tabs["compare"].open:
            compare_tab(info, filters, rs, result, active, other)


def explain(info: DatasetInfo, rs: RuleSet) -> None:
    """One lead's score, rule by rule, for the id typed in."""
    st.subheader(ui.t("tuner.explain"))
    lead_id = st.text_input(ui.t("tuner.lead_id"), key="explain_id").strip()
    if not lead_id:
        return
    explanation = tuning.explain(info, rs, lead_id)
    if explanation is None:
        st.warning(ui.t("tuner.no_lead"))
        return
    st.text(
        ui.t(
            "tuner.explained",
            score=f"{explanation.score:g}",
            tier=explanation.tier,
            outcome=explanation.outcome or "–",
        )
    )
    ui.dataframe(
        pd.DataFrame(explanation.points, columns=[ui.t("tuner.rule"), ui.t("tuner.points")]),
        hide_index=True,
        width="stretch",
    )
    for gate_text in explanation.gates:
        st.warning(gate_text)


@st.fragment
def editor(
    info: DatasetInfo,
    filters: Filters,
    state: dict[str, Any],
    active: str,
    other: str,
    prefix: str,
) -> None:
    """Rules, thresholds and what they would have done: a slider move reruns only this part."""
    rs = tuning.proposal(info, active)
    left, right = st.columns([1, 1], gap="large")
    with left:
        rs = rule_sliders(info, rs, active, prefix)
        rule_adder(info, rs, active, prefix)
        rs = decay_input(info, rs, prefix)
    hist = tuning.histogram(info, rs, filters)
    with right:
        rs, capacity = thresholds(rs, hist, prefix)
        gate_editor(info, rs, active, prefix)  # its buttons store the rules and rerun
    tuning.store_proposal(info, active, rs)
    tuning.share(info, rs)
    result = evaluate(hist, rs)
    headline(result, capacity)
    moved_caption(info, state, rs, filters)
    result_tabs(info, filters, rs, result, active, other)
    explain(info, rs)
    if st.toggle(ui.t("tuner.show_missed", count=f"{result.missed_won:,}"), key="show_missed"):
        st.dataframe(
            tuning.missed(info, rs, filters), hide_index=True, width="stretch"
        )  # lead rows
    defining = st.expander(ui.t("tuner.definition"), key="definition_open", on_change="rerun")
    with defining:
        if defining.open:
            for line in rs.describe(ui.lang()):
                st.text("• " + line)


editor(info, filters, state, active, other, prefix)
rs = tuning.proposal(info, active)  # as the editor stored it

# --- save as a version --------------------------------------------------------------------------
if not auth.may("edit_versions"):  # a viewer tunes for themselves; saving is not offered
    st.stop()
st.subheader(ui.t("tuner.save"))
st.caption(ui.t("tuner.save_help"))
with st.form(f"save_version:{info.dataset_id}"):
    f1, f2, f3 = st.columns([2, 2, 1])
    default_name = ui.t("tuner.save_default_name") if rs.name in tuning.PROPOSALS else rs.name
    save_name = f1.text_input(ui.t("tuner.save_name"), value=default_name, key="save_name")
    # signed in, the author is the signed-in person (the library records them either way)
    author = "" if auth.signing_in() else f2.text_input(ui.t("report.author"), key="save_author")
    effective = f3.date_input(ui.t("report.effective_from"), key="save_effective")
    rationale = st.text_area(ui.t("report.rationale"), key="save_rationale")
    submitted = st.form_submit_button(ui.t("tuner.save_button"), type="primary")
if submitted:
    try:
        saved = save_version(
            ui.store(),
            info,
            replace(rs, name=" ".join(save_name.split()) or rs.name),
            author=author,
            rationale=rationale,
            effective_from=effective if isinstance(effective, date) else None,
            by=auth.actor(),
        )
    except CodedError as exc:
        st.error(ui.refusal(exc))
    else:
        st.success(ui.t("versions.saved", label=saved.label(), id=saved.version_id))
