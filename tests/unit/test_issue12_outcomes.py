"""An outcome column none of whose values funnel recognises ("Signed", "Dropped", "Pending")
is refused naming the values it holds and the flags and mapping lines that place them, in
English and Japanese; the flags it names load the file (issue 12, "Won, lost and still
open")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.cli import main
from funnel.store import Store


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv] + ["--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def results_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    n = 300
    pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "industry": rng.choice(["IT", "Retail"], n),
            "result": rng.choice(["Dropped", "Signed", "Pending"], n, p=[0.6, 0.25, 0.15]),
        }
    ).to_csv(tmp_path / "results.csv", index=False)
    return tmp_path / "results.csv"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_outcome_with_no_value_meaning_won_names_its_values_and_the_flags_that_place_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, results_csv: Path, lang: str
) -> None:
    db = tmp_path / "funnel.duckdb"

    code, _, err = cli(capsys, db, "--lang", lang, "load", results_csv, "--outcome", "result")

    assert code == 2
    assert "results.csv" in err and "result" in err
    assert "'Dropped', 'Signed', 'Pending'" in err  # what the column holds, most frequent first
    assert all(flag in err for flag in ("--won VALUE", "--lost VALUE", "--open VALUE"))
    assert "won: [" in err and "lost: [" in err
    page = {"en": "“Values meaning won”", "ja": "「受注を表す値」"}[lang]
    assert page in err
    assert not db.exists() or Store(db, read_only=True).datasets() == []

    code, out, err = cli(
        capsys, db, "load", results_csv, "--outcome", "result", "--won", "Signed",
        "--lost", "Dropped", "--open", "Pending", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = pd.read_csv(results_csv)["result"]
    payload = json.loads(out)
    assert (payload["won"], payload["lost"], payload["open"]) == tuple(
        int((result == v).sum()) for v in ("Signed", "Dropped", "Pending")
    )
