"""Which leads a back-test counts: decided ones, and open ones old enough to have converted —
checked against an independent pandas computation on opportunity exports, the demo and Olist."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.funnels import cohort_trend, days_to_convert
from funnel.ingest import load_demo, load_files
from funnel.population import Counted, Population, backtest_population
from funnel.readers import read_bytes, read_file
from funnel.store import Store


def opportunity_export(n: int = 1_200, seed: int = 4) -> pd.DataFrame:
    """Closed deals (won 30%) over two years and open ones among the leads of the last month;
    closing takes 3 to 40 days."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    latest = created.max()
    recent = created > latest - pd.Timedelta(days=30)
    won = rng.random(n) < 0.3
    stage = np.where(
        recent & (rng.random(n) < 0.8),
        rng.choice(["Prospecting", "Qualification", "Negotiation/Review"], n),
        np.where(won, "Closed Won", "Closed Lost"),
    )
    closed = created + pd.to_timedelta(rng.integers(3, 41, n), unit="D")
    is_open = ~pd.Series(stage).str.startswith("Closed").to_numpy()
    return pd.DataFrame(
        {
            "Opportunity ID": [f"O{i:05d}" for i in range(n)],
            "Created Date": created.strftime("%Y-%m-%d"),
            "Industry": rng.choice(["IT", "Retail", "Finance"], n),
            "Stage": stage,
            "Close Date": np.where(is_open, "", closed.strftime("%Y-%m-%d")),
        }
    )


def oracle(
    frame: pd.DataFrame, created: str, closed: str, outcome: pd.Series, extra_dates: list[str]
) -> tuple[pd.Series, float, pd.Timestamp]:
    """Counted leads by hand: decided, or open and created at least the 90th percentile of
    created→won days before the latest date in the data."""
    c = pd.to_datetime(frame[created])
    d = pd.to_datetime(frame[closed].replace("", None))
    days = ((d - c).dt.total_seconds() / 86400)[(outcome == "won") & (d >= c)]
    p90 = float(days.quantile(0.9))
    dates = [c, d, *(pd.to_datetime(frame[x].replace("", None)) for x in extra_dates)]
    as_of = max(x.max() for x in dates)
    cutoff = as_of - pd.Timedelta(days=math.ceil(p90))
    counted = outcome.isin(["won", "lost"]) | ((outcome == "open") & (c <= cutoff))
    return counted, p90, cutoff


def test_an_opportunity_export_counts_closed_deals_and_open_ones_past_the_time_to_convert(
    store: Store,
) -> None:
    frame = opportunity_export()
    source = read_bytes(frame.to_csv(index=False).encode("utf-8"), "opps.csv")
    info = load_files(store, "opps", source).dataset
    outcome = frame["Stage"].map(
        lambda v: "won" if v == "Closed Won" else "lost" if v == "Closed Lost" else "open"
    )
    counted, p90, cutoff = oracle(frame, "Created Date", "Close Date", outcome, [])

    population = backtest_population(store, info)

    assert population.rule == "mature"
    assert population.days_to_convert == pytest.approx(p90)
    assert population.mature_before == cutoff.to_pydatetime()
    assert population.count(store, info) == Counted(len(frame), int(counted.sum()))
    left_out = len(frame) - int(counted.sum())
    assert left_out > 0
    assert population.describe(population.count(store, info)) == (
        f"Measured on {int(counted.sum()):,} decided or mature leads; {left_out:,} still open "
        "or too recent are left out."
    )
    assert population.describe(population.count(store, info), "ja") == (
        f"結果が確定したリードと十分に時間が経ったリード {int(counted.sum()):,} 件で測定。"
        f"まだ商談中または新しすぎる {left_out:,} 件は除外しています。"
    )


def test_the_time_to_convert_is_the_one_the_funnel_cohorts_use(store: Store) -> None:
    info = load_demo(store, "demo", leads=3_000).dataset

    days, _ = days_to_convert(store, info)
    trend = cohort_trend(store, info, ["lead", "won"])

    assert days == pytest.approx(trend.days_to_convert_p90)


def test_a_dataset_with_every_outcome_decided_counts_every_lead(store: Store) -> None:
    frame = opportunity_export()
    frame = frame[frame["Stage"].str.startswith("Closed")]
    source = read_bytes(frame.to_csv(index=False).encode("utf-8"), "closed.csv")
    info = load_files(store, "closed", source).dataset

    population = backtest_population(store, info)

    assert (population.rule, population.condition.sql) == ("all_decided", "TRUE")
    counted = population.count(store, info)
    assert counted == Counted(len(frame), len(frame))
    assert population.describe(counted) == (
        f"Measured on all {len(frame):,} leads (every outcome is decided)."
    )


def test_open_leads_without_dates_are_left_out_and_the_rule_says_why(store: Store) -> None:
    frame = opportunity_export().drop(columns=["Created Date"])
    source = read_bytes(frame.to_csv(index=False).encode("utf-8"), "undated.csv")
    info = load_files(store, "undated", source).dataset

    population = backtest_population(store, info)

    decided = int(frame["Stage"].str.startswith("Closed").sum())
    assert population.rule == "decided_only"
    assert population.count(store, info) == Counted(len(frame), decided)
    assert "cannot tell when an open lead is old enough" in population.rule_text()


def test_olist_counts_won_leads_and_the_mature_ones_absent_from_the_deals_file(
    store: Store, olist: tuple[Path, Path]
) -> None:
    leads_path, deals_path = olist
    info = load_files(store, "olist", read_file(leads_path), read_file(deals_path)).dataset
    leads = pd.read_csv(leads_path)
    deals = pd.read_csv(deals_path)
    by_id = deals.drop_duplicates("mql_id", keep="last").set_index("mql_id")
    merged = leads.assign(
        won_date=leads["mql_id"].map(by_id["won_date"]).fillna(""),
        outcome=np.where(leads["mql_id"].isin(deals["mql_id"]), "won", "open"),
    )
    counted, p90, cutoff = oracle(merged, "first_contact_date", "won_date", merged["outcome"], [])

    population = backtest_population(store, info)

    assert population.rule == "mature"
    assert population.days_to_convert == pytest.approx(p90)
    found = population.count(store, info)
    assert found == Counted(8000, int(counted.sum()))
    # the deals run to 2018-11-14, 167 days after the last lead (2018-05-31), and 90% of won
    # leads were won within 162 days: every lead has had its time, none is left out
    assert found.left_out == 0 and cutoff > pd.Timestamp("2018-05-31")
    assert population.describe(found) == (
        "Measured on all 8,000 leads (decided, or open long enough to count as not won)."
    )
    assert population.as_dict(found) == {
        "rule": "mature",
        "days_to_convert": pytest.approx(p90),
        "mature_before": f"{cutoff:%Y-%m-%d}",
        "leads": 8000,
        "counted": int(counted.sum()),
        "left_out": 8000 - int(counted.sum()),
    }


def test_a_population_renders_its_condition_with_the_cutoff_bound() -> None:
    population = Population("mature", 30.0, pd.Timestamp("2025-01-31").to_pydatetime(), "made")
    condition = population.condition

    assert condition.params == (pd.Timestamp("2025-01-31").to_pydatetime(),)
    assert '"made" <= ?' in condition.sql


def won_only_files(n: int = 1_000, seed: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads over a year and a deals file listing only the won ones (won 5 to 30 days after
    creation); the last weeks' leads have not had time to be won yet."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    won = rng.random(n) < 0.2
    won_at = created + pd.to_timedelta(rng.integers(5, 31, n), unit="D")
    end = created.max()
    won &= won_at <= end  # nobody is won after the data ends
    leads = pd.DataFrame(
        {
            "lead_id": [f"M{i:05d}" for i in range(n)],
            "first_contact_date": created.strftime("%Y-%m-%d"),
            "origin": rng.choice(["search", "social", "email"], n),
        }
    )
    deals = pd.DataFrame(
        {"lead_id": leads["lead_id"][won], "won_date": won_at[won].strftime("%Y-%m-%d")}
    )
    return leads, deals


def test_a_won_only_deals_file_leaves_out_recent_leads_not_yet_won(store: Store) -> None:
    leads, deals = won_only_files()
    info = load_files(
        store,
        "won_only",
        read_bytes(leads.to_csv(index=False).encode(), "leads.csv"),
        read_bytes(deals.to_csv(index=False).encode(), "deals.csv"),
    ).dataset
    assert (info.won, info.lost, info.open) == (len(deals), 0, len(leads) - len(deals))
    merged = leads.assign(
        won_date=leads["lead_id"].map(deals.set_index("lead_id")["won_date"]).fillna(""),
        outcome=np.where(leads["lead_id"].isin(deals["lead_id"]), "won", "open"),
    )
    counted, _, cutoff = oracle(merged, "first_contact_date", "won_date", merged["outcome"], [])

    population = backtest_population(store, info)
    found = population.count(store, info)

    assert found == Counted(len(leads), int(counted.sum()))
    recent = pd.to_datetime(leads["first_contact_date"]) > cutoff
    assert found.left_out == int((recent & ~leads["lead_id"].isin(deals["lead_id"])).sum()) > 0
