"""Suggestion case: what "Start from the data" costs.

funnel: ``suggest_rules`` as the tuner calls it (column typing, fine bins, C chosen by 3-fold CV
on at most 50k training leads, the optimal merge and the 25-rule knapsack, the leave-one-column-
out check on the top 3 columns, the holdout verdict, and plain logistic regression on the same
columns and split beside it), on the stored demo leads; at 1M leads it
fits a seeded sample of 300,000 training leads (``FIT_ROWS``).
Baseline: plain scikit-learn logistic regression (numbers standardised with median imputation
and a missing indicator, categories one-hot) on the columns the suggestion scores, fitted on
as many leads as it fits,
already in memory (fetched once, untimed) — the model an analyst would fit by hand. The research
prototype timed the previous engine at 27 s and this one at 50 s at 1M leads on a loaded
machine (/work/research/suggest, REPORT.md §1 "Fit time"); choosing C on a 50k sample is what
brings it down.

``suggest_compare``: what ``funnel suggest --compare`` (the tuner's comparison button) adds,
:func:`funnel.suggest.compare_suggestion` (it reads the suggestion's training and held-out leads
again and fits gradient boosting with and without interactions; logistic regression is already
there), beside the same two scikit-learn models fitted by hand on a frame already in memory.
"""

from __future__ import annotations

import pandas as pd

from bench.harness import Trial, Workspace, case
from funnel.store import OUTCOME_COL
from funnel.suggest import FIT_ROWS, compare_suggestion, suggest_rules
from funnel.suggest.checks import MODELS, ON_REQUEST, _fit_predict, _logistic, _one_hot_prepare
from funnel.suggest.fit import one_thread


@case("suggest_fit", "suggest_rules (typing, bins, CV, merge, checks) vs plain sklearn LR")
def suggest_fit(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    read = suggest_rules(store, info).columns  # the columns it scores (untimed)
    numeric = [c.column for c in read if c.scored and c.numeric]
    categorical = [c.column for c in read if c.scored and not c.numeric]
    cols = ", ".join(f'"{c}"' for c in (*numeric, *categorical))
    frame: pd.DataFrame = ws.memo(
        "suggest_frame",
        lambda: store.fetch_frame(
            f"SELECT {cols}, \"{OUTCOME_COL}\" = 'won' AS y FROM {info.table()} "
            f"USING SAMPLE {FIT_ROWS} ROWS (reservoir, 7)"
        ),
    )
    y = frame["y"].to_numpy(dtype=bool)
    x = frame.drop(columns="y")

    def run() -> object:
        return suggest_rules(store, info)

    @one_thread
    def baseline() -> object:
        model = _logistic(numeric, categorical, 7)
        return _fit_predict(model, _one_hot_prepare(x, numeric, categorical), x, y, x.head(1000))

    return Trial(run=run, baseline=baseline)


@case(
    "suggest_compare", "compare_suggestion (boosting ±interactions) vs the 2 sklearn fits by hand"
)
def suggest_compare(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    suggestion = suggest_rules(store, info)  # untimed: what the comparison is asked of
    read = suggestion.columns
    numeric = [c.column for c in read if c.scored and c.numeric]
    categorical = [c.column for c in read if c.scored and not c.numeric]
    cols = ", ".join(f'"{c}"' for c in (*numeric, *categorical))
    frame: pd.DataFrame = ws.memo(
        "suggest_frame",
        lambda: store.fetch_frame(
            f"SELECT {cols}, \"{OUTCOME_COL}\" = 'won' AS y FROM {info.table()} "
            f"USING SAMPLE {FIT_ROWS} ROWS (reservoir, 7)"
        ),
    )
    y = frame["y"].to_numpy(dtype=bool)
    x = frame.drop(columns="y")
    held = x.head(max(1, len(x) // 3))  # about the holdout's share of a suggestion's leads

    def run() -> object:
        return compare_suggestion(store, info, suggestion)

    @one_thread
    def baseline() -> object:
        return [
            _fit_predict(
                model(numeric, categorical, 7), prepare(x, numeric, categorical), x, y, held
            )
            for name, model, prepare in MODELS
            if name in ON_REQUEST
        ]

    return Trial(run=run, baseline=baseline)
