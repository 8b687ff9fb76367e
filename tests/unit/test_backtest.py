"""Back-test figures on an opportunity export with open stages: the base rate is the closed-deal
win rate (still-open deals are not counted as lost), volumes still count every lead, and the CLI
and the JSON say which leads the figures count — English and Japanese."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.cli import main
from funnel.filters import NO_FILTERS
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.rules import CategoryRule, RuleSet, Tier, ruleset_to_yaml
from funnel.scoring.histogram import ScoreHistogram, evaluate, score_histogram
from funnel.store import Store

RULES = RuleSet(
    rules=(CategoryRule("Industry", "IT", 10),),
    tiers=(Tier("hot", 10), Tier("cold", -math.inf)),
)


def opportunities(n: int = 1_500, seed: int = 12) -> pd.DataFrame:
    """A year of deals closing 10 to 150 days after creation, exported the day of the latest
    one; a fifth of the last four months' are closed, the rest still at an open stage (younger
    than the time to convert, so none of them is counted)."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    recent = created > created.max() - pd.Timedelta(days=120)
    industry = rng.choice(["IT", "Retail", "Finance"], n)
    won = rng.random(n) < np.where(industry == "IT", 0.45, 0.25)
    is_open = recent & (rng.random(n) < 0.8)
    stage = np.where(
        is_open,
        rng.choice(["Prospecting", "Needs Analysis", "Proposal/Price Quote"], n),
        np.where(won, "Closed Won", "Closed Lost"),
    )
    # exported on the day of the latest lead: nothing closed after it
    lag = pd.to_timedelta(rng.integers(10, 151, n), unit="D")
    closed = np.minimum(created + lag, created.max())
    return pd.DataFrame(
        {
            "Opportunity ID": [f"O{i:05d}" for i in range(n)],
            "Created Date": created.strftime("%Y-%m-%d"),
            "Industry": industry,
            "Stage": stage,
            "Close Date": np.where(is_open, "", closed.strftime("%Y-%m-%d")),
        }
    )


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    frame = opportunities()
    path = tmp_path_factory.mktemp("opps") / "opportunities.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_the_base_rate_is_the_closed_deal_win_rate(
    export: tuple[Path, pd.DataFrame], store: Store
) -> None:
    path, frame = export
    info = load_files(store, "opps", read_bytes(path.read_bytes(), path.name)).dataset
    closed = frame[frame["Stage"].str.startswith("Closed")]
    is_open = ~frame["Stage"].str.startswith("Closed")
    win_rate = closed["Stage"].eq("Closed Won").mean()
    counted_as_lost = closed["Stage"].eq("Closed Won").sum() / len(frame)

    result = evaluate(score_histogram(store, info, RULES), RULES)

    assert result.base_rate == pytest.approx(win_rate, abs=1e-12)
    assert win_rate - counted_as_lost > 0.05  # what counting open deals as lost would cost
    assert (result.leads, result.n) == (len(frame), len(closed))
    it = closed[closed["Industry"].eq("IT")]
    assert result.precision == pytest.approx(it["Stage"].eq("Closed Won").mean(), abs=1e-12)
    # a volume counts every lead, open ones included
    weeks = ((pd.to_datetime(frame["Created Date"]).agg(np.ptp)).days + 1) / 7
    assert result.hot_per_week == pytest.approx(frame["Industry"].eq("IT").sum() / weeks)
    assert is_open.sum() == result.leads - result.n


@pytest.mark.parametrize(
    ("lang", "phrase"),
    [
        ("en", "decided or mature leads; {out} still open or too recent are left out."),
        ("ja", "まだ商談中または新しすぎる {out} 件は除外しています。"),
    ],
)
def test_evaluate_says_which_leads_it_counts(
    export: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    phrase: str,
) -> None:
    path, frame = export
    db = tmp_path / "funnel.duckdb"
    rules = tmp_path / "rules.yaml"
    rules.write_text(ruleset_to_yaml(RULES), encoding="utf-8")
    assert main(["load", str(path), "--dataset", "opps", "--db", str(db)]) == 0
    out_n = int((~frame["Stage"].str.startswith("Closed")).sum())
    capsys.readouterr()

    args = ["evaluate", "--dataset", "opps", "--rules", str(rules), "--db", str(db)]
    assert main([*args, "--lang", lang]) == 0
    text = capsys.readouterr().out
    assert phrase.format(out=f"{out_n:,}") in text

    assert main([*args, "--json"]) == 0
    population = json.loads(capsys.readouterr().out)["population"]
    assert (population["rule"], population["leads"]) == ("mature", len(frame))
    assert population["left_out"] == out_n
    assert population["counted"] == len(frame) - out_n


def test_a_saved_version_says_which_leads_its_metrics_counted(
    export: tuple[Path, pd.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, frame = export
    db = tmp_path / "funnel.duckdb"
    rules = tmp_path / "rules.yaml"
    rules.write_text(ruleset_to_yaml(RULES), encoding="utf-8")
    assert main(["load", str(path), "--dataset", "opps", "--db", str(db)]) == 0
    save = ["rules", "save", "--rules", str(rules), "--dataset", "opps", "--author", "Aiko"]
    assert main([*save, "--db", str(db)]) == 0
    capsys.readouterr()
    out_n = int((~frame["Stage"].str.startswith("Closed")).sum())

    assert main(["rules", "show", "1", "--dataset", "opps", "--db", str(db), "--lang", "ja"]) == 0

    shown = capsys.readouterr().out
    assert f"まだ商談中または新しすぎる {out_n:,} 件は除外しています。" in shown


def test_filling_capacity_counts_every_held_out_lead_sales_would_get(
    export: tuple[Path, pd.DataFrame], store: Store
) -> None:
    """The holdout is the latest leads, most of them still open: a threshold chosen to fill a
    capacity must count them (sales gets them all), while its conversion counts decided ones."""
    from funnel.backtest import histogram, holdout, hot_for_capacity

    path, frame = export
    info = load_files(store, "opps", read_bytes(path.read_bytes(), path.name)).dataset
    part = holdout(store, info)
    held = histogram(store, info, RULES, NO_FILTERS, part)
    created = pd.to_datetime(frame["Created Date"])
    in_holdout = frame[created.dt.date >= part.since]
    closed = in_holdout["Stage"].str.startswith("Closed")
    it = in_holdout["Industry"].eq("IT")
    weeks = ((created[created.dt.date >= part.since].agg(np.ptp)).days + 1) / 7

    assert (held.leads.sum(), held.total) == (len(in_holdout), closed.sum())
    assert (~closed).sum() > closed.sum()  # most held-out leads are still open

    roomy = hot_for_capacity(held, it.sum() / weeks + 0.01, part)
    assert roomy.threshold == 10
    assert roomy.per_week == pytest.approx(it.sum() / weeks)
    assert (roomy.n, roomy.volume) == ((it & closed).sum(), it.sum())
    tight = hot_for_capacity(held, it.sum() / weeks - 0.01, part)  # IT alone is too many
    assert tight.threshold is None
    # the hot group is judged against every counted held-out lead
    won = in_holdout["Stage"].eq("Closed Won")
    assert roomy.base_rate == pytest.approx(won.sum() / closed.sum())
    assert roomy.rate == pytest.approx((won & it).sum() / (closed & it).sum())
    assert roomy.as_dict()["lift"] == pytest.approx(roomy.rate / roomy.base_rate)


@pytest.mark.parametrize(
    ("lang", "better", "same"),
    [
        ("en", "the hot group converts", "is no better than every counted held-out lead"),
        ("ja", "ホットはその", "差がありません"),
    ],
)
def test_a_chosen_threshold_says_how_it_compares_with_every_held_out_lead(
    lang: str, better: str, same: str
) -> None:
    from funnel.backtest import Holdout, hot_for_target
    from funnel.fragment import compose

    part = Holdout("random", None, compose("TRUE"), compose("TRUE"))

    def hist(won_hi: int, won_lo: int) -> ScoreHistogram:
        return ScoreHistogram(
            np.array([0.0, 10.0]), np.zeros(2, bool), np.array([400, 400]),
            np.array([won_lo, won_hi]), None,
        )  # fmt: skip

    strong = hot_for_target(hist(200, 40), 0.3, part)  # hot 50% vs every lead 30%
    assert strong.threshold == 10 and not strong.no_better
    assert better in strong.sentence(lang) and same not in strong.sentence(lang)
    flat = hot_for_target(hist(122, 118), 0.2, part)  # 30.5% vs 29.5%: every lead reaches 20%
    assert flat.threshold == 0 and flat.no_better
    assert same in flat.sentence(lang)
