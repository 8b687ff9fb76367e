"""Seeded synthetic files for issue 12's cases that ``tests.synthetic.awkward_leads`` does not
build, shared by the CLI and app tests: leaks beside an innocent ``*_Status`` column, an
opportunity export with open stages, and five honest columns that together rank implausibly
well."""

from __future__ import annotations

import numpy as np
import pandas as pd


def leads_with_leaks(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    """Honest ``industry`` and ``web_visits``, an innocent ``Marital_Status``, a
    ``basket_value`` 0 on every lost deal and a ``lead_status`` that says 'Converted' for most
    won leads; ``outcome`` is Won/Lost."""
    rng = np.random.default_rng(seed)
    won = rng.random(n) < 0.25
    status = np.where(won & (rng.random(n) < 0.8), "Converted", rng.choice(["Working", "New"], n))
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="12h").strftime("%Y-%m-%d"),
            "industry": rng.choice(["IT", "Retail", "Finance"], n),
            "web_visits": rng.poisson(np.where(won, 5, 3)),
            "Marital_Status": rng.choice(["Single", "Married", "Divorced"], n),
            "lead_status": status,
            "basket_value": np.where(won, rng.integers(1_000, 9_000, n), 0),
            "outcome": np.where(won, "Won", "Lost"),
        }
    )


OPEN_STAGES = ("Prospecting", "Negotiation/Review")


def opportunities(n: int = 1600, seed: int = 8) -> pd.DataFrame:
    """Two years of opportunities; most of the last four months' are still open, and so are a
    few old ones nobody closed."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    industry = rng.choice(["IT", "Retail", "Finance"], n)
    is_won = rng.random(n) < np.where(industry == "IT", 0.45, 0.2)
    still_open = ((created >= pd.Timestamp("2025-09-01")) & (rng.random(n) < 0.6)) | (
        rng.random(n) < 0.03
    )
    stage = np.where(
        still_open,
        rng.choice(list(OPEN_STAGES), n),
        np.where(is_won, "Closed Won", "Closed Lost"),
    )
    closed = created + pd.to_timedelta(rng.integers(3, 40, n), unit="D")
    return pd.DataFrame(
        {
            "Opportunity ID": [f"O{i:05d}" for i in range(n)],
            "Created Date": created.strftime("%Y-%m-%d"),
            "Industry": industry,
            "Lead Source": rng.choice(["Web", "Partner", "Event"], n),
            "Stage": stage,
            "Close Date": np.where(still_open, "", closed.strftime("%Y-%m-%d")),
        }
    )


def five_strong_columns(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Five honest-looking numbers, each shifted for won leads: none separates won from lost
    alone (no leak flag) and none carries the suggestion alone (leaving one out costs about
    0.02), yet together they rank the holdout at an AUC near 0.98."""
    rng = np.random.default_rng(seed)
    won = rng.random(n) < 0.2
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="6h").strftime("%Y-%m-%d"),
        }
    )
    for name in ("pages_viewed", "emails_opened", "demo_minutes", "webinar_minutes", "seats"):
        frame[name] = np.round(rng.normal(np.where(won, 1.3, 0), 1, n) * 10 + 50, 1)
    return frame.assign(outcome=np.where(won, "Won", "Lost"))


def a_rare_sure_value(n: int = 6000, seed: int = 9) -> pd.DataFrame:
    """A ``plan`` whose rare 'enterprise' value (1% of leads) is won almost always, beside
    ordinary columns: a high conversion target is met on the holdout by only a handful of
    leads (about 20)."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "enterprise"], n, p=[0.7, 0.29, 0.01])
    industry = rng.choice(["IT", "Retail", "Finance"], n)
    rate = np.where(plan == "enterprise", 0.97, np.where(plan == "pro", 0.15, 0.08))
    won = rng.random(n) < np.minimum(rate * np.where(industry == "IT", 1.2, 1.0), 1)
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="3h").strftime("%Y-%m-%d"),
            "plan": plan,
            "industry": industry,
            "outcome": np.where(won, "Won", "Lost"),
        }
    )


def leads_and_deals(n: int = 800, seed: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Olist's shape: marketing-qualified leads, and a deals file known only for the won ones
    whose ``business_segment`` and ``lead_type`` would rank 'best' at 100% conversion."""
    rng = np.random.default_rng(seed)
    leads = pd.DataFrame(
        {
            "mql_id": [f"m{i:05d}" for i in range(n)],
            "first_contact_date": pd.date_range("2024-01-01", periods=n, freq="12h").strftime(
                "%Y-%m-%d"
            ),
            "origin": rng.choice(["organic_search", "paid_search", "social"], n),
        }
    )
    won = leads.sample(frac=0.15, random_state=1)
    deals = pd.DataFrame(
        {
            "mql_id": won["mql_id"].to_numpy(),
            "seller_id": [f"s{i:04d}" for i in range(len(won))],
            "won_date": pd.to_datetime(won["first_contact_date"]).add(pd.Timedelta(days=20)),
            "business_segment": rng.choice(["pet", "car_accessories", "home_decor"], len(won)),
            "lead_type": rng.choice(["online_big", "industry"], len(won)),
        }
    )
    return leads, deals
