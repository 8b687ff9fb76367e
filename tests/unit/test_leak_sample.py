"""A big file's leak checks read a seeded sample of its rows: the rows ``frame.sample(n,
random_state=0)`` picks, each checked column taken alone (never a copy of every column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.mapping import leaks
from funnel.mapping.leaks import flag_leaks
from funnel.mapping.propose import propose_mapping
from funnel.readers import SourceFile


def test_a_big_files_leak_evidence_is_the_seeded_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    rows = 1_000
    won = rng.random(rows) < 0.3
    quoted = np.where(won, rng.integers(100, 900, rows), rng.integers(0, 300, rows))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(rows)],
            "industry": rng.choice(["IT", "Retail", "Health"], rows),
            # written at the sale: mostly filled for won leads, rarely for the others
            "deal_stage": np.where(won | (rng.random(rows) < 0.05), "Negotiation", None),
            "amount_quoted": quoted,
            "converted": np.where(won, "1", "0"),
        }
    ).astype("str")
    source = SourceFile("leads.csv", frame, "csv")
    mapping = propose_mapping(source, leaks=False)
    monkeypatch.setattr(leaks, "LEAK_SAMPLE_ROWS", 300)
    flagged = flag_leaks(mapping, source)
    sampled = SourceFile("leads.csv", frame.sample(n=300, random_state=0), "csv")
    expected = flag_leaks(mapping, sampled)  # 300 rows: checked whole
    assert flagged == expected
    assert any(spec.leak for spec in flagged.leads)  # the sample found the leak
    assert flagged != flag_leaks(mapping, SourceFile("leads.csv", frame.head(300), "csv"))
