"""Tuner: move points and thresholds, and watch what that definition of "hot" would have done."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import auth, leads, tuning, ui, verdicts
from app import filters as shared
from funnel import charts
from funnel.backtest import Holdout, HotChoice, hot_for_capacity, hot_for_target
from funnel.filters import NO_FILTERS, Filters
from funnel.formats import fmt_pct, metric, shown_in
from funnel.i18n import CodedError
from funnel.renderers import EDITORS, Input, editor_kinds, label, rule_from_form
from funnel.rules import (
    MAX_RULES,
    Gate,
    Rule,
    RuleSet,
    labelled,
    points_text,
)
from funnel.scoring.histogram import (
    Evaluation,
    ScoreHistogram,
    evaluate,
)
from funnel.scoring.matrix import Band
from funnel.scoring.source import activity_log
from funnel.segments import numeric_columns
from funnel.store import DatasetInfo
from funnel.suggest import SuggestError, Suggestion, template_for
from funnel.tunerstate import Capacity, Proposal, SuggestionNote
from funnel.versions.history import save_version

info, filters = shared.analysis_page("tuner.title")
if info.mapping.outcome is None:
    st.info(ui.t("suggest.no_outcome"))
    st.stop()
state = tuning.state(info)

# --- which proposal -----------------------------------------------------------------------------
top = st.columns([2, 1, 1, 1])
active_key = f"tuner_active:{info.dataset_id}"
if active_key not in st.session_state or st.session_state[active_key] != state.active:
    st.session_state[active_key] = state.active  # the proposal being edited, across pages
active = str(
    top[0].radio(
        ui.t("tuner.proposal"),
        tuning.PROPOSALS,
        format_func=ui.labels(tuning.PROPOSALS, lambda p: ui.t(f"tuner.proposal.{p}")),
        horizontal=True,
        key=active_key,
        on_change=lambda: tuning.set_state(
            info, replace(tuning.state(info), active=str(st.session_state[active_key]))
        ),
    )
)
other = tuning.PROPOSALS[1 - tuning.PROPOSALS.index(active)]
rs = tuning.proposal(info, active)
prefix = f"{info.dataset_id}:{active}:{tuning.widgets(info)}"


DONE = f"_tuner_done:{info.dataset_id}:{active}"  # what the last action did, shown once


def hot_leads(rules: RuleSet) -> int:
    return evaluate(tuning.histogram(info, rules, filters), rules).tiers[0].n


def load(new: RuleSet, what: str, note: SuggestionNote | None = None) -> None:
    """Put ``new`` into the proposal being edited, and say what changed."""
    before = tuning.proposal(info, active)
    s = tuning.state(info)
    tuning.set_state(info, s.with_proposal(active, Proposal(new, note)), new_widgets=True)
    st.session_state[DONE] = ui.t(
        f"tuner.did_{what}",
        name=ui.t(f"tuner.proposal.{active}"),
        rules=len(new.rules),
        before_rules=len(before.rules),
        threshold=f"{new.hot.min_score:g}",
        hot_before=f"{hot_leads(before):,}",
        hot_after=f"{hot_leads(new):,}",
    )


def suggest(base: RuleSet, exclude: tuple[str, ...] = ()) -> None:
    """Fit a suggestion on the data (leaving ``exclude`` out) and load it, replacing ``base``."""
    with st.spinner(ui.t("tuner.fitting")):
        try:
            suggestion = tuning.suggest(info, filters, base, None, None, exclude)
        except SuggestError as exc:
            st.error(ui.refusal(exc))
            return
    load(suggestion.ruleset, "suggest", verdicts.note_of(suggestion, base, exclude, active))
    st.rerun()


if top[1].button(
    ui.t("tuner.from_data"), key="tuner_suggest", help=ui.t("tuner.from_data_help"), wrap=True
):
    suggest(rs)
if top[2].button(ui.t("tuner.template"), key="tuner_template", wrap=True):
    template = template_for(info)
    if template.rules:
        load(template, "template")
        st.rerun()
    st.warning(ui.t("tuner.template_empty"))  # nothing to start from: keep the rules there are
if top[3].button(
    ui.t("tuner.copy", other=ui.t(f"tuner.proposal.{other}")), key="tuner_copy", wrap=True
):
    replaced = tuning.proposal(info, other)
    tuning.set_state(info, tuning.state(info).with_proposal(other, Proposal(rs)), new_widgets=True)
    st.session_state[DONE] = ui.t(
        "tuner.did_copy",
        name=ui.t(f"tuner.proposal.{active}"),
        other=ui.t(f"tuner.proposal.{other}"),
        rules=len(rs.rules),
        threshold=f"{rs.hot.min_score:g}",
        hot_before=f"{hot_leads(replaced):,}",
        hot_after=f"{hot_leads(rs):,}",
    )


def restore(before: RuleSet) -> None:
    load(before, "restore")
    st.rerun()


def suggest_without(note: SuggestionNote, column: str) -> None:
    """Suggest again from the rules the note's suggestion replaced, leaving ``column`` out."""
    suggest(note.before or rs, (*note.exclude, column))


def fitted_again(note: SuggestionNote) -> Suggestion:
    """The suggestion the note is about (this session's, cached; else fitted again)."""
    return tuning.suggest(info, filters, note.before or rs, None, None, note.exclude)


note = tuning.state(info).proposal(active).suggestion
if note is not None:
    verdicts.suggestion_note(
        note,
        restore=restore,
        exclude=partial(suggest_without, note),
        fitted=partial(fitted_again, note),
    )
done = st.session_state.pop(DONE, None)
if done:
    st.success(done, icon=":material/check:")


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
    units = info.mapping.labels()  # "Each web visit", not "Each web_visits"
    for i, rule in enumerate(rs.rules):
        c1, c2 = box.columns([6, 1])
        shown = labelled(rule, units, ui.lang())
        value = c1.slider(
            label(shown, ui.lang()),
            -50,
            50,
            int(rule.points),
            key=f"pts:{prefix}:{i}",
            help=shown.describe(ui.lang()),
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


def thresholds(
    info: DatasetInfo, rs: RuleSet, hist: ScoreHistogram, prefix: str
) -> tuple[RuleSet, Capacity]:
    """Tier names, one threshold slider per tier above the last, and sales capacity.

    Returns the rules with those thresholds and the capacity inputs.
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

    kept = tuning.state(info).capacity
    keys = {f"tuner_{k}:{prefix}": v for k, v in kept.as_dict().items()}
    for key, value in keys.items():  # seeded from the kept state, then the widgets hold it
        if key not in st.session_state:
            st.session_state[key] = (
                round(100 * value, 1) if key.startswith("tuner_target") else value
            )
    reps_key, per_rep_key, target_key = keys
    c1, c2 = st.columns(2)
    reps = int(c1.number_input(ui.t("tuner.reps"), 1, 1000, key=reps_key))
    per_rep = int(c2.number_input(ui.t("tuner.per_rep"), 1, 10000, key=per_rep_key))
    c3, c4 = st.columns(2)
    target_pct = float(
        c3.number_input(ui.t("tuner.target"), 1.0, 100.0, step=5.0, format="%.1f", key=target_key)
    )
    capacity = Capacity(reps, per_rep, target_pct / 100)
    hot_key = f"thr:{prefix}:0"
    message_key = f"_tuner_msg:{prefix}"  # this proposal's: gone when the other is shown

    def set_hot(choice: HotChoice) -> None:
        """Move the hot threshold to what was chosen on the holdout (this proposal keeps the
        message saying what that means and what changed, until it is shown)."""
        before = int(st.session_state[hot_key])
        after = before
        if choice.threshold is not None:
            after = int(min(max(math.ceil(choice.threshold), low), high))
            st.session_state[hot_key] = after
        st.session_state[message_key] = (choice, before, after)

    def held_out() -> tuple[Holdout, ScoreHistogram]:
        return tuning.held_out(info, rs, filters)

    c4.button(
        ui.t("tuner.fill_capacity"),
        key="fill_capacity",
        on_click=lambda: set_hot(hot_for_capacity(held_out()[1], capacity.per_week, held_out()[0])),
    )
    c4.button(
        ui.t("tuner.reach_target"),
        key="reach_target",
        on_click=lambda: set_hot(hot_for_target(held_out()[1], capacity.target, held_out()[0])),
    )
    message = st.session_state.pop(message_key, None)
    if message is not None and isinstance(message[0], HotChoice):
        verdicts.hot_choice(*message)
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
    # three to a row: each label has room to be read whole, in either language
    columns = [c for _ in range(0, len(shown), 3) for c in st.columns(3)]
    for column, m in zip(columns, shown, strict=False):
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


def moved_caption(info: DatasetInfo, active: str, rs: RuleSet, filters: Filters) -> None:
    """How many leads the latest change moved into and out of the hot tier."""
    seen: dict[str, RuleSet] = st.session_state.setdefault(
        f"_tuner_moved:{info.dataset_id}:{active}", {}
    )
    if seen.get("current") not in (None, rs):
        seen["previous"] = seen["current"]  # the definition before the latest change
    seen["current"] = rs
    if "previous" in seen:
        change = tuning.moved_since(info, seen["previous"], rs, filters)
        st.caption(
            ui.t("tuner.moved", entered=f"{change['entered']:,}", left=f"{change['left']:,}")
        )


def tiers_tab(result: Evaluation) -> None:
    st.plotly_chart(
        charts.tiers_figure(result, ui.t("funnel.col.leads"), ui.t("funnel.col.rate")),
        key="tiers_chart",
    )
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("tuner.col.tier"): [t.name for t in result.tiers],
                ui.t("funnel.col.leads"): [t.n for t in result.tiers],
                ui.t("tuner.col.share"): [fmt_pct(t.share) for t in result.tiers],
                ui.t("overview.won"): [t.won for t in result.tiers],
                # an empty tier has no conversion: "—", never "None"
                ui.t("funnel.col.rate"): [fmt_pct(t.rate) for t in result.tiers],
                ui.t("segments.ci_low"): [fmt_pct(t.ci_low if t.n else None) for t in result.tiers],
                ui.t("segments.ci_high"): [
                    fmt_pct(t.ci_high if t.n else None) for t in result.tiers
                ],
            }
        ),
        hide_index=True,
        width="stretch",
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
            # as every output prints them: an empty tier's conversion or a missing AUC is "—"
            {ui.t("tuner.col.proposal"): name}
            | {m.label(ui.lang()): m.text(m.value(r)) for m in shown}
        )
    ui.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
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
    for name, mine, theirs, key in (
        (names[0], rs, rs_other, "only_active"),
        (names[1], rs_other, rs, "only_other"),
    ):
        st.markdown(f"**{ui.escape_md(ui.t('tuner.cell.only', name=name))}**")
        records = tuning.records(info, mine, filters, "hot", theirs)
        leads.record_table(
            records,
            f"rec:{key}",
            f"hot-only-{name}-{info.name}",
            partial(tuning.records_handoff, info, mine, records, filters),
        )


TABS = ("tiers", "deciles", "curve", "matrix", "compare")


def band_text(bands: Sequence[Band]) -> str:
    """Each band's points and leads: "A = 10–15 (1,234 leads), B = 5 (2,000 leads)"."""

    def points(b: Band) -> str:
        if b.low == b.high:
            return points_text(b.low, ui.lang(), signed=False)
        return ui.t("rule.points.other", points=f"{b.low:g}–{b.high:g}")

    return ui.t("tuner.band_sep").join(
        ui.t("tuner.band", band=b.name, points=points(b), n=f"{b.n:,}") for b in bands
    )


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
                charts.deciles_figure(
                    result,
                    ui.t("funnel.col.rate"),
                    ui.t("tuner.decile"),
                    ui.t("charts.decile_rise"),
                ),
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
            matrix = tuning.matrix(info, rs, filters)
            if matrix is None:
                st.info(ui.t("tuner.matrix_needs_both"))
            else:
                st.caption(
                    ui.t(
                        "tuner.matrix_bands",
                        fit=band_text(matrix.fit),
                        engagement=band_text(matrix.engagement),
                    )
                )
                st.plotly_chart(
                    charts.matrix_figure(
                        matrix, ui.t("tuner.fit"), ui.t("tuner.engagement"), ui.t("funnel.col.rate")
                    ),
                    key="matrix_chart",
                )
    with tabs["compare"]:
        if tabs["compare"].open:
            compare_tab(info, filters, rs, result, active, other)


def explain(info: DatasetInfo, rs: RuleSet) -> None:
    """One lead's score, rule by rule: found by its id or a value, or picked in a table."""
    st.subheader(ui.t("tuner.explain"))
    st.caption(ui.t("tuner.explain_help"))
    text = st.text_input(ui.t("tuner.lead_search"), key=leads.EXPLAIN_KEY).strip()
    if not text:
        return
    explanation = tuning.explain(info, rs, text)
    if explanation is None:
        found = tuning.search(info, rs, text)
        if not found:
            st.warning(ui.t("tuner.no_match", text=text))
            return
        if len(found) > 1:
            st.caption(ui.t("tuner.search_found", count=len(found), text=text))
            records = tuning.records(info, rs, NO_FILTERS, "all", None, ids=tuple(found))
            leads.record_table(
                records,
                "rec:search",
                f"search-{info.name}",
                lambda: tuning.records_handoff(info, rs, records),
            )
            return
        explanation = tuning.explain(info, rs, found[0])
        if explanation is None:
            return
    outcome = ui.t(f"records.outcome.{explanation.outcome}") if explanation.outcome else "—"
    st.text(
        ui.t(
            "tuner.explained",
            score=f"{explanation.score:g}",
            tier=explanation.tier,
            outcome=outcome,
        )
    )
    record = tuning.records(info, rs, NO_FILTERS, "all", None, ids=(explanation.lead_id,))
    named = leads.headers()
    ui.dataframe(
        record.drop(columns=["fired"])
        .assign(outcome=record["outcome"].map(leads.outcome_words()).fillna("—"))
        .rename(columns=named),
        hide_index=True,
        width="stretch",
        column_config={named["created"]: leads.DATE},
    )
    fired = [(sentence, points) for sentence, points in explanation.points if points]
    if fired:
        ui.dataframe(
            pd.DataFrame(fired, columns=[ui.t("tuner.rule"), ui.t("tuner.points")]),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(ui.t("tuner.none_fired"))
    for gate_text in explanation.gates:
        st.warning(gate_text)


def link_notice(info: DatasetInfo, where: DeltaGenerator) -> None:
    """Say when a shared link shows another state than the one kept for this dataset, and
    offer the kept one (until a change here makes this state the kept one)."""
    differs = tuning.differs(info)
    if differs is None:
        return
    d1, d2 = where.columns([4, 1], vertical_alignment="center")
    d1.info(
        ui.t("tuner.link_differs", dataset=info.name, saved=f"{differs.saved_at:%Y-%m-%d %H:%M}"),
        icon=":material/link:",
    )
    if d2.button(ui.t("tuner.open_saved"), key="tuner_open_saved"):
        tuning.open_saved(info)
        st.rerun()  # the whole page: the proposal picker and the rule widgets change


@st.fragment
def editor(info: DatasetInfo, filters: Filters, active: str, other: str, prefix: str) -> None:
    """Rules, thresholds and what they would have done: a slider move reruns only this part."""
    notice = st.empty()  # filled once the state is kept (it may make the notice moot)
    rs = tuning.proposal(info, active)
    left, right = st.columns([1, 1], gap="large")
    with left:
        rs = rule_sliders(info, rs, active, prefix)
        rule_adder(info, rs, active, prefix)
        rs = decay_input(info, rs, prefix)
    hist = tuning.histogram(info, rs, filters)
    with right:
        rs, capacity = thresholds(info, rs, hist, prefix)
        gate_editor(info, rs, active, prefix)  # its buttons store the rules and rerun
    kept = tuning.state(info).with_rules(active, rs)
    tuning.set_state(info, replace(kept, capacity=capacity))
    tuning.persist(info)
    link_notice(info, notice.container())
    result = evaluate(hist, rs)
    headline(result, capacity.per_week)
    moved_caption(info, active, rs, filters)
    result_tabs(info, filters, rs, result, active, other)
    explain(info, rs)
    if st.toggle(ui.t("tuner.show_missed", count=f"{result.missed_won:,}"), key="show_missed"):
        missed = tuning.records(info, rs, filters, "missed", None)
        leads.record_table(
            missed,
            "rec:missed",
            f"missed-{info.name}",
            lambda: tuning.records_handoff(info, rs, missed, filters),
        )
    defining = st.expander(ui.t("tuner.definition"), key="definition_open", on_change="rerun")
    with defining:
        if defining.open:
            for line in rs.describe(ui.lang(), info.mapping.labels()):
                st.text("• " + line)


editor(info, filters, active, other, prefix)
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
