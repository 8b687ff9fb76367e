"""Checks on a suggestion: the columns it leans on, and how two well-known models do on the
same columns and split.

*Leaning*: refit without each of the three columns carrying the most points (points × leads)
and compare the holdout AUC. A drop above 0.05 names the column with both figures and asks
whether it is known before the sale — data alone cannot tell a strong honest signal from a
leak (bank marketing's call ``duration`` drops the AUC 0.07–0.14; a dominant honest column
can too, so it is a question, never an automatic exclusion).

*Models*: plain logistic regression (numbers standardised with median imputation and a
missing indicator, categories one-hot) and scikit-learn's HistGradientBoostingClassifier
(native categories), fitted on the same training leads and judged on the same held-out ones,
with the paired DeLong interval of the suggestion's difference from each. Logistic regression
is cheap and fitted with every suggestion (:data:`ALWAYS`); boosting only when asked for
(:data:`ON_REQUEST`: most of a suggestion's time). Boosting is also
fitted without interactions (``interaction_cst="no_interactions"``): points that add up cannot
express an interaction, so when boosting beats the suggestion, this row says whether its edge
is interactions (bank marketing's random split: 0.800 with them, 0.771 without, the rule set
0.772 — the calendar day × month of the call, which does not carry forward in time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from funnel.i18n import t
from funnel.stats import AucInterval, delong_difference, delong_scores
from funnel.suggest.bins import Binner
from funnel.suggest.columns import ColumnType
from funnel.suggest.fit import Plan

LEAN_DROP = 0.05  # holdout AUC lost without one column: the suggestion leans on it
HIGH_AUC = 0.90  # holdout AUC this high is implausible for lead scoring
TOP_COLUMNS = 3  # columns checked by leaving each out
MAX_CATEGORIES = 250  # gradient boosting's native categories (the rarer share one code)


@dataclass(frozen=True)
class Leaning:
    """The holdout AUC with and without one column."""

    column: str
    auc_with: float
    auc_without: float

    @property
    def drop(self) -> float:
        return self.auc_with - self.auc_without

    @property
    def flagged(self) -> bool:
        return self.drop > LEAN_DROP

    def sentence(self, lang: str = "en") -> str:
        return t(
            "suggest.leans_on",
            lang,
            column=self.column,
            auc=f"{self.auc_with:.2f}",
            without=f"{self.auc_without:.2f}",
        )

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "column": self.column,
            "measured_on": "holdout",
            "auc_with": self.auc_with,
            "auc_without": self.auc_without,
            "drop": self.drop,
            "flagged": self.flagged,
            "question": self.sentence(lang) if self.flagged else None,
        }


def _auc(score: np.ndarray, won: np.ndarray) -> float:
    found = delong_scores(score, won)
    return 0.5 if found is None else found.auc


def leaning(
    fitted: Any,
    binners: Mapping[str, Binner],
    idx: Mapping[str, np.ndarray],
    y: np.ndarray,
    hold_idx: Mapping[str, np.ndarray],
    y_hold: np.ndarray,
    the_plan: Plan,
    c: float,
    values: Mapping[str, np.ndarray],
    max_points: int,
    refit: Callable[..., Any],
) -> tuple[Leaning, ...]:
    """Refit without each of the top columns (by points × leads); the holdout AUC of each."""
    with_all = _auc(fitted.score(dict(hold_idx)), y_hold)
    top = sorted(fitted.spread, key=lambda col: (-fitted.spread[col], col))[:TOP_COLUMNS]
    out = []
    for column in top:
        rest = {c_: b for c_, b in binners.items() if c_ != column}
        if not rest:
            out.append(Leaning(column, with_all, 0.5))
            continue
        again = refit(
            dict(rest),
            {c_: idx[c_] for c_ in rest},
            y,
            the_plan,
            c,
            dict(values),
            max_points,
        )
        score = again.score({c_: hold_idx[c_] for c_ in rest}) if again.rules else None
        without = 0.5 if score is None else _auc(score, y_hold)
        out.append(Leaning(column, with_all, without))
    return tuple(out)


ModelName = Literal["logistic_regression", "gradient_boosting", "gradient_boosting_additive"]


@dataclass(frozen=True)
class ModelFigure:
    """A comparison model's AUC on the holdout, and the suggestion's paired difference."""

    model: ModelName
    auc: AucInterval | None
    difference: AucInterval | None  # the suggestion's AUC minus this model's

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "measured_on": "holdout",
            "auc": None if self.auc is None else self.auc.auc,
            "auc_ci": None if self.auc is None else [self.auc.low, self.auc.high],
            "suggestion_minus_model": None if self.difference is None else self.difference.auc,
            "difference_ci": None
            if self.difference is None
            else [self.difference.low, self.difference.high],
        }

    @property
    def beats_suggestion(self) -> bool:
        """The model ranks the held-out leads better, beyond the paired-DeLong noise."""
        return self.difference is not None and self.difference.high < 0

    def sentence(self, lang: str = "en") -> str:
        """The model's holdout AUC and the suggestion's difference from it, in one sentence."""
        if self.auc is None:
            return t("suggest.model_none", lang, name=t(f"cli.suggest.name.{self.model}", lang))
        figures = {
            "name": t(f"cli.suggest.name.{self.model}", lang),
            "auc": f"{self.auc.auc:.3f}",
            "low": f"{self.auc.low:.3f}",
            "high": f"{self.auc.high:.3f}",
        }
        if self.difference is None:
            return t("suggest.model_line", lang, **figures)
        d = self.difference
        return t(
            "suggest.model_diff_line",
            lang,
            diff=f"{d.auc:+.3f}",
            dlow=f"{d.low:+.3f}",
            dhigh=f"{d.high:+.3f}",
            **figures,
        )


def _numbers(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for c in columns:
        out[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return out


def compare_models(
    train: pd.DataFrame,
    y: np.ndarray,
    hold: pd.DataFrame,
    y_hold: np.ndarray,
    types: Mapping[str, ColumnType],
    suggestion: np.ndarray,
    seed: int,
    names: tuple[ModelName, ...] | None = None,
) -> tuple[ModelFigure, ...]:
    """The models ``names`` (by default plain logistic regression and gradient boosting with
    and without interactions) on the same columns and split, each with the paired difference
    of the suggestion's held-out ``suggestion`` scores from its own."""
    numeric = [c for c, k in types.items() if k.scored and k.numeric]
    categorical = [c for c, k in types.items() if k.scored and not k.numeric]
    out = []
    for name, make_model, make_prepare in MODELS:
        if names is not None and name not in names:
            continue
        prepare = make_prepare(train, numeric, categorical)
        score = _fit_predict(make_model(numeric, categorical, seed), prepare, train, y, hold)
        out.append(
            ModelFigure(
                name,
                delong_scores(score, y_hold),
                delong_difference(suggestion, score, y_hold),
            )
        )
    return tuple(out)


Prepare = Callable[[pd.DataFrame], pd.DataFrame]


def _fit_predict(
    model: Any, prepare: Prepare, train: pd.DataFrame, y: np.ndarray, hold: pd.DataFrame
) -> np.ndarray:
    """Fit ``model`` on the prepared training leads; the held-out leads' won probability."""
    model.fit(prepare(train), y)
    return np.asarray(model.predict_proba(prepare(hold))[:, 1], dtype=float)


def _one_hot_prepare(train: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Prepare:
    """Numbers as floats, categories as text with missing values a category of their own (the
    logistic regression's pipeline one-hot encodes them)."""

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        out = _numbers(frame, numeric)
        for c in categorical:
            out[c] = frame[c].astype(object).where(frame[c].notna(), "(missing)").astype(str)
        return out

    return prepare


def _coded_prepare(train: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Prepare:
    """Numbers as floats, categories as codes (the training leads' most frequent values; the
    rest share one code, missing stays missing) for gradient boosting's native categories."""
    codes: dict[str, dict[str, int]] = {}
    for c in categorical:
        counts = train[c].dropna().astype(str).value_counts()
        kept = list(counts.index[: MAX_CATEGORIES - 1])
        codes[c] = {v: i for i, v in enumerate(kept)}

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        out = _numbers(frame, numeric)
        for c in categorical:
            text = frame[c].astype(object)
            other = float(len(codes[c]))
            mapped = [np.nan if v is None or v != v else codes[c].get(str(v), other) for v in text]
            out[c] = np.asarray(mapped, dtype=float)
        return out

    return prepare


def _logistic(numeric: list[str], categorical: list[str], seed: int) -> Any:
    """Plain logistic regression: numbers standardised (median imputation and a missing
    indicator), categories one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        imputed = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        )
        parts.append(("numbers", imputed, numeric))
    if categorical:
        parts.append(("categories", OneHotEncoder(handle_unknown="ignore"), categorical))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(max_iter=2000))


def _boosting(
    numeric: list[str], categorical: list[str], seed: int, *, interactions: bool = True
) -> Any:
    """scikit-learn's HistGradientBoostingClassifier on native categories; without
    ``interactions`` each tree uses one column (a sum of one shape per column)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features=[c in categorical for c in [*numeric, *categorical]],
        interaction_cst=None if interactions else "no_interactions",
        random_state=seed,
    )


#: The comparison models: name, how to build the model, how to prepare the leads for it.
MODELS: tuple[
    tuple[
        ModelName,
        Callable[[list[str], list[str], int], Any],
        Callable[[pd.DataFrame, list[str], list[str]], Prepare],
    ],
    ...,
] = (
    ("logistic_regression", _logistic, _one_hot_prepare),
    ("gradient_boosting", _boosting, _coded_prepare),
    (
        "gradient_boosting_additive",
        lambda numeric, categorical, seed: _boosting(
            numeric, categorical, seed, interactions=False
        ),
        _coded_prepare,
    ),
)
#: Every comparison model's name, in the order they are reported.
MODEL_NAMES: tuple[ModelName, ...] = tuple(name for name, _, _ in MODELS)
#: Cheap enough to fit with every suggestion (and beside every report's holdout verdict).
ALWAYS: tuple[ModelName, ...] = ("logistic_regression",)
#: Fitted only when asked for (``--compare``, the tuner's toggle): most of a suggestion's time.
ON_REQUEST: tuple[ModelName, ...] = ("gradient_boosting", "gradient_boosting_additive")
