"""Seeded synthetic lead files with known truths, for the suggestion's tests (and ``make
quality``): mostly-zero numbers, integer codes, an identifier, a hash column, noise, and an
outcome that depends on them — or on nothing at all.

Ported from the research generator (/work/research/suggest/data.py, ``make_synth``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-x)))


def awkward_leads(
    n: int = 8000,
    *,
    seed: int = 11,
    base_rate: float = 0.12,
    signal: float = 1.0,
    strong: float = 0.0,
) -> pd.DataFrame:
    """Leads whose columns are awkward to score, with a ``won`` column of yes/no.

    ``pricing_visits`` is 0 for 85% of leads (+1.4 log-odds above 0, plus ``strong`` when
    given: an honest column that dominates), ``basket_value`` 0 for 90% (+1.0 above 0),
    ``region_code`` integers 1–9 with non-monotone effects, ``device_code`` 1–4,
    ``employees`` a skewed quantity peaking mid-range, ``Marital_Status`` an innocent category
    with a modest effect, ``plan`` a category with a rare strong value; ``customer_id`` is
    unique, ``session_hash`` 32-hex strings (one per 15 leads), ``noise_cat`` and
    ``noise_num`` carry nothing. ``signal=0`` makes the outcome independent of every column.
    Creation dates are spread over 540 days independently of the outcome.
    """
    rng = np.random.default_rng(seed)
    pv = np.where(rng.random(n) < 0.15, 1 + rng.poisson(2.0, n), 0)
    bv = np.where(rng.random(n) < 0.10, np.round(rng.lognormal(4, 1, n), 2), 0.0)
    region = rng.integers(1, 10, n)
    region_eff = np.array([0, 0.5, -0.4, 0.0, 0.8, -0.6, 0.2, 0.0, -0.3, 0.4])
    device = rng.choice([1, 2, 3, 4], n, p=[0.5, 0.35, 0.1, 0.05])
    device_eff = np.array([0, 0.3, -0.3, 0.1, -0.5])
    emp = np.round(np.exp(rng.normal(4, 1.5, n))).astype(int) + 1
    emp_eff = -0.15 * (np.log(emp) - 5) ** 2 + 0.4
    marital = rng.choice(["married", "single", "divorced"], n, p=[0.55, 0.35, 0.10])
    mar_eff = np.select([marital == "single", marital == "divorced"], [0.35, -0.2], 0.0)
    plan = rng.choice(["basic", "pro", "enterprise", "trial"], n, p=[0.6, 0.25, 0.03, 0.12])
    plan_eff = np.select([plan == "pro", plan == "enterprise", plan == "trial"], [0.3, 1.5, -0.5])
    logit = (
        (1.4 + strong) * (pv > 0)
        + 0.1 * np.minimum(pv, 6)
        + 1.0 * (bv > 0)
        + region_eff[region]
        + device_eff[device]
        + emp_eff
        + mar_eff
        + plan_eff
    ) * signal
    lo, hi = -15.0, 5.0  # the intercept giving the base rate
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _sigmoid(logit + mid).mean() < base_rate else (lo, mid)
    won = rng.random(n) < _sigmoid(logit + lo)
    hashes = np.array([hashlib.md5(f"lp{i}".encode()).hexdigest() for i in range(max(n // 15, 2))])
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 540, n), "D")
    return pd.DataFrame(
        {
            "lead_id": [f"S{i:06d}" for i in range(n)],
            "created_at": created.strftime("%Y-%m-%d"),
            "customer_id": rng.permutation(n) + 100_000,
            "session_hash": hashes[rng.integers(0, len(hashes), n)],
            "pricing_visits": pv,
            "basket_value": bv,
            "region_code": region,
            "device_code": device,
            "employees": emp,
            "Marital_Status": marital,
            "plan": plan,
            "noise_cat": rng.choice(list("ABCDEFG"), n),
            "noise_num": np.round(rng.normal(50, 10, n), 1),
            "won": np.where(won, "yes", "no"),
        }
    )
