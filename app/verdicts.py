"""What the tuner says about a suggestion and about its thresholds, with the leads each figure
is measured on: the holdout verdict, the questions to ask before trusting it, the columns it
read and left out, and hot thresholds chosen on the holdout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app import ui
from funnel.backtest import HotChoice
from funnel.stats import AucInterval
from funnel.suggest import Suggestion, compare_suggestion
from funnel.suggest.checks import ModelFigure


def _say(level: str, text: str) -> None:
    """Show a sentence built from user data (column names) as plain text in a box."""
    (st.warning if level == "warning" else st.info)(ui.escape_md(text))


def suggestion_note(
    note: dict[str, Any],
    baseline: str,
    *,
    restore: Callable[[], None],
    exclude: Callable[[str], None],
) -> None:
    """The loaded suggestion's verdict on the holdout, its notes, one button per column it
    leans on (leave it out and suggest again), and how each column was read."""
    s: Suggestion = note["result"]
    v = s.verdict
    line = ui.t("suggest.loaded", rules=len(s.ruleset.rules))
    if v.auc is not None:
        line += " " + ui.t(
            "suggest.holdout_line",
            leads=s.holdout.describe(ui.lang()),
            n=f"{v.n:,}",
            auc=f"{v.auc.auc:.3f}",
            low=f"{v.auc.low:.3f}",
            high=f"{v.auc.high:.3f}",
            base="–" if s.baseline_auc is None else f"{s.baseline_auc:.3f}",
            baseline=baseline,
        )
    if s.no_signal:
        _say("warning", line)
    elif s.no_better:
        _say("warning", line + " " + ui.t("suggest.no_better"))
    else:
        st.success(ui.escape_md(line))
    if (s.no_better or s.no_signal) and note.get("before"):
        # nothing gained on leads it was not fitted on: offer the rules it replaced back
        if st.button(ui.t("tuner.restore"), key="tuner_restore"):
            restore()
    if s.measured_on(ui.lang()):
        st.caption(ui.escape_md(s.measured_on(ui.lang())))
    for level, text in s.notes(ui.lang()):
        _say(level, text)
    for lean in s.leans_on():
        label = ui.t("suggest.exclude_button", column=lean.column)
        if st.button(label, key=f"tuner_exclude:{lean.column}"):
            exclude(lean.column)
    with st.expander(ui.t("suggest.columns_title")):
        rows = [(c.column, c.evidence(ui.lang())) for c in s.columns if c.scored]
        rows += [(x.column, x.reason(ui.lang())) for x in s.left_out]
        ui.dataframe(
            pd.DataFrame(rows, columns=[ui.t("tuner.column"), ui.t("suggest.columns_title")]),
            hide_index=True,
            width="stretch",
        )
    _models(s)


def _suggestion_key(s: Suggestion) -> str:
    """What a comparison depends on: the rules, the leads (filters, split, seed), the columns."""
    scored = tuple(c.column for c in s.columns if c.scored)
    return repr((s.ruleset, s.filters.key(), s.seed, s.holdout.as_dict(), s.train_n, scored))


@st.cache_data(show_spinner=False, max_entries=8, hash_funcs={Suggestion: _suggestion_key})
def _compared(name: str, dataset_id: int, suggestion: Suggestion) -> tuple[ModelFigure, ...]:
    info = ui.store().require(name)
    return compare_suggestion(ui.store(), info, suggestion).models or ()


def _ci(x: AucInterval | None, signed: bool = False) -> tuple[str, str]:
    if x is None:
        return "–", "–"
    f = "{:+.3f}" if signed else "{:.3f}"
    return f.format(x.auc), f"{f.format(x.low)} – {f.format(x.high)}"


def _models(s: Suggestion) -> None:
    """The suggestion beside plain logistic regression and gradient boosting on the same
    columns and split: fitted only when the user turns it on (the three fits take most of a
    suggestion's time), then kept for this suggestion."""
    with st.expander(ui.t("suggest.models_title")):
        st.caption(ui.t("suggest.models_help"))
        info = ui.current_dataset()
        if info is None or not st.toggle(ui.t("suggest.models_toggle"), key="tuner_compare"):
            return
        with st.spinner(ui.t("tuner.fitting")):
            models = _compared(info.name, info.dataset_id, s)
        rows = [(ui.t("cli.suggest.name.suggestion"), *_ci(s.verdict.auc), "", "")]
        for m in models:
            rows.append(
                (ui.t(f"cli.suggest.name.{m.model}"), *_ci(m.auc), *_ci(m.difference, True))
            )
        heads = ("model", "auc", "ci", "diff", "diff_ci")
        ui.dataframe(
            pd.DataFrame(rows, columns=[ui.t(f"suggest.models.{h}") for h in heads]),
            hide_index=True,
            width="stretch",
        )


def hot_choice(choice: HotChoice) -> None:
    """What a "reach target" or "fill capacity" click chose, measured on the holdout."""
    failed = choice.threshold is None or choice.few
    _say("warning" if failed else "info", choice.sentence(ui.lang()))


def in_sample_caption(n: int) -> None:
    """Say that the figures beneath are on the leads the rules were tuned (or fitted) on."""
    st.caption(ui.t("suggest.in_sample_caption", n=f"{n:,}"))
