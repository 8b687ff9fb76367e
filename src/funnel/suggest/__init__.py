"""Start from the data: a rule set suggested by the outcomes, and why to trust it or not.

* :mod:`funnel.suggest.columns` — how each column is read, with the evidence in words;
* :mod:`funnel.suggest.bins` — fine bins with readable cuts;
* :mod:`funnel.suggest.fit` — shapes, the optimal merge, the rule budget, whole points;
* :mod:`funnel.suggest.checks` — the columns it leans on; logistic regression and gradient
  boosting on the same columns and split;
* :mod:`funnel.suggest.engine` — :func:`suggest_rules`, which puts them together, and
  :func:`compare_suggestion`, gradient boosting beside it when asked for, and
  :func:`logistic_beside`, plain logistic regression beside any rule set (the report's);
* :mod:`funnel.suggest.template` — the simple template many teams start with.

The method was chosen by measurement (/work/research/suggest/REPORT.md): scikit-learn only,
as good as plain logistic regression or better on every real dataset tried, ≤ 25 rules.
"""

from __future__ import annotations

from funnel.suggest.engine import (
    FIT_ROWS,
    SuggestError,
    Suggestion,
    _lead_quantile,
    compare_suggestion,
    logistic_beside,
    suggest_rules,
)
from funnel.suggest.template import template_for

__all__ = [
    "FIT_ROWS",
    "SuggestError",
    "Suggestion",
    "_lead_quantile",
    "compare_suggestion",
    "logistic_beside",
    "suggest_rules",
    "template_for",
]
