"""Data page: a leads file bigger than the proposal's sample says, under its mapping, that the
proposal was made on a sample of its rows (English and Japanese); a smaller one does not."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.mapping.sample import PROPOSAL_ROWS, proposal_sample


def leads_bytes(rows: int) -> bytes:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(rows)],
            "industry": rng.choice(["IT", "Retail"], rows),
            "web_visits": rng.poisson(3, rows),
            "outcome": np.where(rng.random(rows) < 0.1, "Won", "Lost"),
        }
    )
    return frame.to_csv(index=False).encode("utf-8")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_big_file_says_its_mapping_was_proposed_from_a_sample(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], lang: str
) -> None:
    at = open_app("data", lang=lang)
    at.file_uploader(key="up_leads").upload("big.csv", leads_bytes(PROPOSAL_ROWS + 1), "text/csv")
    checked(at.run())
    sample = proposal_sample(PROPOSAL_ROWS + 1)
    assert sample is not None
    assert sample.sentence(lang) in [c.value for c in at.caption]


def test_a_file_read_whole_says_nothing_of_a_sample(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest]
) -> None:
    at = open_app("data")
    at.file_uploader(key="up_leads").upload("small.csv", leads_bytes(500), "text/csv")
    checked(at.run())
    assert at.data_editor  # the mapping is shown
    assert not any("Proposed from a sample" in c.value for c in at.caption)
