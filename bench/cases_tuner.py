"""Tuner cases: what one slider move recomputes.

Goals from the issue (read, never asserted): at 1M leads a weight change recomputes every tuner
metric in at most 100 ms median and a threshold-only change in at most 20 ms; at 10M a weight
change in at most 1 s, with memory under 4 GB.

funnel: a weight change is one DuckDB query (``score_histogram``) plus ``evaluate`` on the
histogram; a threshold change is ``evaluate`` alone on the cached histogram, as the page does.
Baseline: plain pandas/numpy on the same rows already in memory (fetched once, untimed): score
every lead with vectorised column arithmetic, then tiers, Wilson intervals, precision, recall,
lift and AUC (average ranks, Mann-Whitney) per lead. Both sides are checked once to agree.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.harness import Trial, Workspace, case
from funnel.rules import CategoryRule, CountRule, Gate, PerUnitRule, RuleSet, Tier
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.stats import Z95
from funnel.store import OUTCOME_COL

COLUMNS = (
    "industry",
    "budget",
    "job_title",
    "email_type",
    "web_visits",
    "inquiries",
    "trial_signups",
)


def _rules(inquiry_points: int, hot: float = 40) -> RuleSet:
    return RuleSet(
        name="bench",
        rules=(
            CategoryRule("industry", "IT / Software", 15),
            CategoryRule("budget", "Yes", 10),
            CategoryRule("job_title", "Student", -30),
            PerUnitRule("web_visits", 1, 10),
            CountRule("inquiries", 1, inquiry_points),
            PerUnitRule("trial_signups", 15, 30),
        ),
        gates=(Gate("email_type", ("Competitor",)),),
        tiers=(Tier("hot", hot), Tier("warm", 20), Tier("cold", -math.inf)),
    )


def _frame(ws: Workspace) -> pd.DataFrame:
    store, info = ws.demo_store()
    cols = ", ".join(f'"{c}"' for c in (*COLUMNS, OUTCOME_COL))
    frame: pd.DataFrame = ws.memo(
        "tuner_frame", lambda: store.fetch_frame(f"SELECT {cols} FROM {info.table()}")
    )
    return frame


def _pandas_metrics(frame: pd.DataFrame, rs: RuleSet) -> dict[str, float]:
    """Every headline tuner metric per lead, in pandas/numpy."""
    inquiry = next(r for r in rs.rules if isinstance(r, CountRule))
    score = (
        np.where(frame["industry"] == "IT / Software", 15, 0)
        + np.where(frame["budget"] == "Yes", 10, 0)
        + np.where(frame["job_title"] == "Student", -30, 0)
        + np.minimum(frame["web_visits"].fillna(0).to_numpy() * 1, 10)
        + np.where(frame["inquiries"] >= 1, inquiry.points, 0)
        + np.minimum(frame["trial_signups"].fillna(0).to_numpy() * 15, 30)
    ).astype(float)
    gated = (frame["email_type"] == "Competitor").to_numpy()
    won = (frame[OUTCOME_COL] == "won").to_numpy()
    return _metrics_from_scores(score, gated, won, rs)


def _metrics_from_scores(
    score: np.ndarray, gated: np.ndarray, won: np.ndarray, rs: RuleSet
) -> dict[str, float]:
    tier = np.full(score.shape, len(rs.tiers) - 1)
    for i in range(len(rs.tiers) - 2, -1, -1):
        tier = np.where(score >= rs.tiers[i].min_score, i, tier)
    tier = np.where(gated & (tier == 0), 1, tier)
    n_hot = int((tier == 0).sum())
    won_hot = int((won & (tier == 0)).sum())
    for i in range(len(rs.tiers)):  # per-tier counts and Wilson intervals, as the page shows
        mask = tier == i
        n, k = int(mask.sum()), int((won & mask).sum())
        if n:
            p = k / n
            _ = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    span = score.max() - score.min() + 1
    key = np.where(gated, score - span, score)
    ranks = pd.Series(key).rank(method="average").to_numpy()
    pos = int(won.sum())
    neg = len(won) - pos
    auc = (ranks[won].sum() - pos * (pos + 1) / 2) / (pos * neg)
    return {
        "hot": n_hot,
        "precision": won_hot / n_hot if n_hot else 0.0,
        "recall": won_hot / pos if pos else 0.0,
        "auc": float(auc),
    }


def _funnel_metrics(hist_rs: tuple[object, RuleSet]) -> dict[str, float]:
    hist, rs = hist_rs
    result = evaluate(hist, rs)  # type: ignore[arg-type]
    return {
        "hot": result.hot_n,
        "precision": result.precision or 0.0,
        "recall": result.recall or 0.0,
        "auc": result.auc or 0.0,
    }


def _agree(a: dict[str, float], b: dict[str, float]) -> None:
    for key in a:
        if not math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-12):
            raise AssertionError(f"funnel and baseline disagree on {key}: {a[key]} vs {b[key]}")


@case("tuner_weight_change", "score_histogram + evaluate vs pandas scoring every lead")
def tuner_weight_change(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    frame = _frame(ws)
    weights = iter(range(10**9))

    def run() -> object:
        rs = _rules(20 + next(weights) % 2)  # a different weight each call, as a slider move
        return evaluate(score_histogram(store, info, rs), rs)

    def baseline() -> object:
        return _pandas_metrics(frame, _rules(20 + next(weights) % 2))

    rs = _rules(20)
    _agree(_funnel_metrics((score_histogram(store, info, rs), rs)), _pandas_metrics(frame, rs))
    return Trial(run=run, baseline=baseline)


@case("tuner_threshold_change", "evaluate on the cached histogram vs pandas re-tiering")
def tuner_threshold_change(ws: Workspace) -> Trial:
    store, info = ws.demo_store()
    frame = _frame(ws)
    base = _rules(20)
    hist = score_histogram(store, info, base)
    scored = ws.memo("tuner_scores", lambda: _scores(frame))
    thresholds = iter(range(10**9))

    def run() -> object:
        rs = base.with_threshold("hot", 35 + next(thresholds) % 10)
        return evaluate(hist, rs)

    def baseline() -> object:
        rs = base.with_threshold("hot", 35 + next(thresholds) % 10)
        return _metrics_from_scores(*scored, rs)

    _agree(_funnel_metrics((hist, base)), _metrics_from_scores(*scored, base))
    return Trial(run=run, baseline=baseline)


def _scores(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-lead scores computed once (what a pandas tuner would keep between threshold moves)."""
    score = (
        np.where(frame["industry"] == "IT / Software", 15, 0)
        + np.where(frame["budget"] == "Yes", 10, 0)
        + np.where(frame["job_title"] == "Student", -30, 0)
        + np.minimum(frame["web_visits"].fillna(0).to_numpy(), 10)
        + np.where(frame["inquiries"] >= 1, 20, 0)
        + np.minimum(frame["trial_signups"].fillna(0).to_numpy() * 15, 30)
    ).astype(float)
    gated = (frame["email_type"] == "Competitor").to_numpy()
    won = (frame[OUTCOME_COL] == "won").to_numpy()
    return score, gated, won
