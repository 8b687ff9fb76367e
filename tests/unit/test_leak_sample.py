"""A big file's leak checks read a seeded sample of its rows (:mod:`funnel.mapping.sample`):
the outcome of a uniform draw of rows, then at most a cap of each outcome, every row of a rare
one kept; each checked column is taken alone (never a copy of every column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.mapping import leaks
from funnel.mapping.leaks import flag_leaks
from funnel.mapping.propose import propose_mapping
from funnel.mapping.sample import draw_rows, stratify, take_rows
from funnel.readers import SourceFile


def planted(rows: int, won_rate: float, seed: int = 3) -> pd.DataFrame:
    """Leads with honest columns and three planted leaks: a quoted price (above 0 only for won
    leads), a lost reason (only for lost ones) and days to close (for every decided lead)."""
    rng = np.random.default_rng(seed)
    won = rng.random(rows) < won_rate
    is_open = ~won & (rng.random(rows) < 0.25)
    lost = ~won & ~is_open
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:07d}" for i in range(rows)],
            "industry": rng.choice(["IT", "Retail", "Health"], rows),
            "web_visits": rng.poisson(np.where(won, 5, 4)),
            "quoted_price": np.where(won, rng.integers(100, 900, rows), 0),
            "lost_reason": np.where(lost & (rng.random(rows) < 0.4), "budget", ""),
            "days_to_close": np.where(is_open, np.nan, rng.integers(5, 200, rows)),
            "noise": np.round(rng.normal(50, 10, rows), 1),
            "stage": np.where(is_open, "Negotiation", np.where(won, "Closed Won", "Closed Lost")),
        }
    ).astype("str")


def flags(mapping: object) -> dict[str, tuple[bool, str | None]]:
    return {s.name: (s.leak, s.reason) for s in mapping.leads}  # type: ignore[attr-defined]


def test_a_rare_won_outcome_gets_the_full_files_leak_flags_from_the_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = planted(120_000, won_rate=0.01)  # above the size checked whole; 1% won
    source = SourceFile("leads.csv", frame, "csv")
    mapping = propose_mapping(source, leaks=False)
    sampled = flag_leaks(mapping, source)
    assert flag_leaks(mapping, source) == sampled  # seeded: the same file, the same proposal
    with monkeypatch.context() as patch:  # the pool smaller than the file: rows drawn
        patch.setattr(leaks, "LEAK_POOL_ROWS", 60_000)
        drawn = flag_leaks(mapping, source)
    monkeypatch.setattr(leaks, "WHOLE_FILE_ROWS", len(frame))
    whole = flag_leaks(mapping, source)
    expected = {
        "quoted_price": (True, "leak.number_above"),
        "lost_reason": (True, "leak.fill"),
        "days_to_close": (True, "leak.closing_fill"),
    }
    for name, flag in expected.items():
        assert flags(whole)[name] == flag
    assert flags(sampled) == flags(whole)
    assert flags(drawn) == flags(whole)
    assert not any(flags(whole)[c][0] for c in ("industry", "web_visits", "noise"))


def test_a_capped_outcome_weighs_its_rows_so_mixed_shares_are_the_pools() -> None:
    # days_to_close is filled for every decided lead: lost leads capped at 1 in 5 still leave
    # "100% of decided leads" (won and lost weighted back to the pool's mix)
    frame = planted(60_000, won_rate=0.05, seed=4)
    source = SourceFile("leads.csv", frame, "csv")
    spec = {s.name: s for s in propose_mapping(source).leads}["days_to_close"]
    assert dict(spec.evidence)["decided"] == "100%"
    assert dict(spec.evidence)["open"] == "0%"


def test_each_outcome_is_capped_and_a_rare_one_keeps_every_row() -> None:
    labels = pd.Series(["won"] * 30 + ["lost"] * 500 + ["open"] * 200 + [None] * 5, dtype="str")
    kept, weights = stratify(labels, cap=100)
    counts = labels.iloc[kept].value_counts(dropna=False).to_dict()
    assert counts == {"won": 30, "lost": 100, "open": 100, np.nan: 5}
    assert weights is not None
    by_label = pd.Series(weights).groupby(labels.iloc[kept].fillna("-").to_numpy()).first()
    assert by_label.to_dict() == {"-": 1.0, "lost": 5.0, "open": 2.0, "won": 1.0}
    again = stratify(labels, cap=100)
    assert (again[0] == kept).all()  # seeded
    assert stratify(labels, cap=1000)[1] is None  # nothing capped: every row counts once


def test_drawn_rows_are_distinct_sorted_seeded_and_spread_over_the_file() -> None:
    rows = draw_rows(10_000_000, 50_000)
    assert len(np.unique(rows)) == 50_000 and (np.diff(rows) > 0).all()
    assert (rows == draw_rows(10_000_000, 50_000)).all()
    assert rows.min() < 1_000_000 and rows.max() > 9_000_000
    assert (draw_rows(1_000, 900) == np.sort(draw_rows(1_000, 900))).all()
    assert draw_rows(10, 50).tolist() == list(range(10))


def test_taking_rows_chunk_by_chunk_is_iloc() -> None:
    import pyarrow as pa

    chunks = pa.chunked_array([[f"v{i}" for i in range(j, j + 7)] + [None] for j in range(5)])
    series = pd.Series(pd.array(chunks, dtype="str"), name="c")
    rows = np.array([0, 3, 7, 8, 15, 39])
    taken = take_rows(series, rows)
    expected = series.iloc[rows]
    assert taken.dtype == expected.dtype
    pd.testing.assert_series_equal(taken, expected)
