"""A file bigger than the proposal's sample says so where its mapping is shown: ``funnel
mapping``, ``funnel load`` (a note, and ``proposal_sample`` in JSON), in English and Japanese;
a smaller file is read whole and says nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.cli import main
from funnel.mapping.sample import LEAK_CLASS_ROWS, PROPOSAL_ROWS


def leads_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(2)
    won = rng.random(rows) < 0.1
    pd.DataFrame(
        {
            "lead_id": [f"L{i:06d}" for i in range(rows)],
            "created_at": "2024-03-01",
            "industry": rng.choice(["IT", "Retail"], rows),
            "web_visits": rng.poisson(3, rows),
            "outcome": np.where(won, "Won", "Lost"),
        }
    ).to_csv(path, index=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[str, str]:
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return out, err


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return leads_csv(tmp_path_factory.mktemp("big") / "leads.csv", PROPOSAL_ROWS + 1)


def test_mapping_of_a_big_file_says_it_was_proposed_from_a_sample(
    capsys: pytest.CaptureFixture[str], big: Path
) -> None:
    _, err = run(capsys, "mapping", big)
    rows = f"{PROPOSAL_ROWS + 1:,}"
    assert f"Proposed from a sample of this file's {rows} rows" in err
    assert f"first {PROPOSAL_ROWS:,} rows" in err
    assert f"up to {LEAK_CLASS_ROWS:,} rows of each outcome" in err
    assert "Loading still validates every row." in err
    _, err_ja = run(capsys, "mapping", big, "--lang", "ja")
    assert f"このファイルの {rows} 行のうち一部の行から提案しました" in err_ja
    assert "読み込みでは全行を検証します" in err_ja


def test_load_of_a_big_file_notes_the_sample_and_its_json_carries_it(
    capsys: pytest.CaptureFixture[str], big: Path, tmp_path: Path
) -> None:
    db = tmp_path / "funnel.duckdb"
    out, _ = run(capsys, "load", big, "--json", "--db", db)
    payload = json.loads(out)
    assert payload["leads"] == PROPOSAL_ROWS + 1  # every row stored: only the proposal sampled
    assert payload["proposal_sample"] == {
        "rows": PROPOSAL_ROWS + 1,
        "first_rows": PROPOSAL_ROWS,
        "leak_pool_rows": PROPOSAL_ROWS + 1,
        "leak_rows_per_outcome": LEAK_CLASS_ROWS,
    }
    _, err = run(capsys, "load", big, "--dataset", "again", "--db", db)
    assert "Proposed from a sample of this file's" in err


def test_a_file_read_whole_says_nothing_of_a_sample(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    small = leads_csv(tmp_path / "small.csv", 2_000)
    _, err = run(capsys, "mapping", small)
    assert "sample" not in err
    out, err = run(capsys, "load", small, "--json", "--db", tmp_path / "f.duckdb")
    assert "proposal_sample" not in json.loads(out) and "sample" not in err
