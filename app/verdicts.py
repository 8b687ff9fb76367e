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
from funnel.suggest import Suggestion


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


def hot_choice(choice: HotChoice) -> None:
    """What a "reach target" or "fill capacity" click chose, measured on the holdout."""
    failed = choice.threshold is None or choice.few
    _say("warning" if failed else "info", choice.sentence(ui.lang()))


def in_sample_caption(n: int) -> None:
    """Say that the figures beneath are on the leads the rules were tuned (or fitted) on."""
    st.caption(ui.t("suggest.in_sample_caption", n=f"{n:,}"))
