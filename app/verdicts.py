"""What the tuner says about a suggestion and about its thresholds, with the leads each figure
is measured on: the holdout verdict, the questions to ask before trusting it, the columns it
read and left out, and hot thresholds chosen on the holdout."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app import ui
from funnel.backtest import HotChoice
from funnel.i18n import LANGUAGES, t
from funnel.rules import RuleSet
from funnel.stats import AucInterval
from funnel.suggest import Suggestion, compare_suggestion
from funnel.suggest.checks import ModelFigure
from funnel.tunerstate import PROPOSALS, NoteText, SuggestionNote


def _say(level: str, text: str) -> None:
    """Show a sentence built from user data (column names) as plain text in a box."""
    (st.warning if level == "warning" else st.info)(ui.escape_md(text))


def note_of(
    s: Suggestion, before: RuleSet, exclude: tuple[str, ...], baseline: str
) -> SuggestionNote:
    """What a suggestion says, kept with the proposal it filled (in every UI language, so a
    reload in either shows it as it was); ``baseline`` names the proposal it replaced."""

    def said(lang: str) -> NoteText:
        v = s.verdict
        named = t(f"tuner.proposal.{baseline}", lang) if baseline in PROPOSALS else baseline
        line = t("suggest.loaded", lang, rules=len(s.ruleset.rules))
        if v.auc is not None:
            # the proposal it replaced is compared only when it had an AUC to compare
            line += " " + t(
                "suggest.holdout_line" if s.baseline_auc is not None else "suggest.holdout_alone",
                lang,
                leads=s.holdout.describe(lang),
                n=f"{v.n:,}",
                auc=f"{v.auc.auc:.3f}",
                low=f"{v.auc.low:.3f}",
                high=f"{v.auc.high:.3f}",
                base="" if s.baseline_auc is None else f"{s.baseline_auc:.3f}",
                baseline=named,
            )
        if s.logistic is not None:
            line += " " + s.logistic.sentence(lang)
        if s.no_better and not s.no_signal:
            line += " " + t("suggest.no_better", lang)
        columns = [(c.column, c.evidence(lang)) for c in s.columns if c.scored]
        columns += [(x.column, x.reason(lang)) for x in s.left_out]
        return NoteText(
            line=line,
            measured_on=s.measured_on(lang),
            notes=tuple((level, text) for level, text in s.notes(lang)),
            columns=tuple(columns),
        )

    return SuggestionNote(
        text=tuple((lang, said(lang)) for lang in LANGUAGES),
        no_better=s.no_better,
        no_signal=s.no_signal,
        before=before,
        exclude=exclude,
        leans_on=tuple(x.column for x in s.leans_on()),
    )


def suggestion_note(
    note: SuggestionNote,
    *,
    restore: Callable[[RuleSet], None],
    exclude: Callable[[str], None],
    fitted: Callable[[], Suggestion],
) -> None:
    """The loaded suggestion's verdict on the holdout, its notes, one button per column it
    leans on (leave it out and suggest again), and how each column was read."""
    said = note.said(ui.lang())
    if note.no_signal or note.no_better:
        _say("warning", said.line)
    else:
        st.success(ui.escape_md(said.line))
    if (note.no_better or note.no_signal) and note.before is not None:
        # nothing gained on leads it was not fitted on: offer the rules it replaced back
        if st.button(ui.t("tuner.restore"), key="tuner_restore"):
            restore(note.before)
    if said.measured_on:
        st.caption(ui.escape_md(said.measured_on))
    for level, text in said.notes:
        _say(level, text)
    for column in note.leans_on:
        label = ui.t("suggest.exclude_button", column=column)
        if st.button(label, key=f"tuner_exclude:{column}"):
            exclude(column)
    with st.expander(ui.t("suggest.columns_title")):
        ui.dataframe(
            pd.DataFrame(
                list(said.columns), columns=[ui.t("tuner.column"), ui.t("suggest.columns_title")]
            ),
            hide_index=True,
            width="stretch",
        )
    _models(fitted)


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


def _models(fitted: Callable[[], Suggestion]) -> None:
    """The suggestion beside plain logistic regression (fitted with it, said in its line) and
    gradient boosting on the same columns and split: boosting is fitted only when the user
    turns it on (the two fits take most of a suggestion's time), then kept for this suggestion.
    ``fitted`` gives the suggestion (this session's, cached; after a restart it is fitted
    again)."""
    with st.expander(ui.t("suggest.models_title")):
        st.caption(ui.t("suggest.models_help"))
        info = ui.current_dataset()
        if info is None or not st.toggle(ui.t("suggest.models_toggle"), key="tuner_compare"):
            return
        with st.spinner(ui.t("tuner.fitting")):
            s = fitted()
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


def hot_choice(choice: HotChoice, before: int, after: int) -> None:
    """What a "reach target" or "fill capacity" click chose, measured on the holdout, and what
    it changed (the hot threshold ``before`` → ``after``)."""
    failed = choice.threshold is None or choice.few
    said = choice.sentence(ui.lang())
    if choice.threshold is None:
        said += " " + ui.t("tuner.hot_kept", threshold=before)
    else:
        said = ui.t("tuner.hot_moved", before=before, after=after) + " " + said
    _say("warning" if failed else "info", said)


def in_sample_caption(n: int) -> None:
    """Say that the figures beneath are on the leads the rules were tuned (or fitted) on."""
    st.caption(ui.t("suggest.in_sample_caption", n=f"{n:,}"))
