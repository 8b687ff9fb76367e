"""Tests for the benchmark harness (bench/): it runs end to end and writes the documented JSON.

Only the shape of the results is checked; speed goals are never asserted in tests.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
INGEST_CASES = {"read_csv", "propose_mapping", "load_csv_validated"}


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ sits beside src/, not inside the package
    from bench import harness

    return harness


def test_bench_writes_one_entry_per_case_with_ratio_of_medians(
    harness: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"

    # the browser cases have their own end-to-end checks (test_bench_load.py, test_bench_room.py)
    code = harness.main(
        ["--rows", "5000", "--repeat", "1", "--out", str(out)]
        + ["--skip", "tuner_load", "--skip", "page_first_open", "--skip", "tuner_move"]
    )

    assert code == 0
    entries = json.loads(out.read_text())
    assert isinstance(entries, list)
    assert {e["name"] for e in entries} >= INGEST_CASES
    for entry in entries:
        assert entry["rows"] == 5000
        assert entry["repeats"] == 1
        assert entry["median_ms"] > 0 and entry["baseline_median_ms"] > 0
        assert entry["ratio"] == entry["median_ms"] / entry["baseline_median_ms"]
        assert entry["min_ms"] <= entry["median_ms"] <= entry["max_ms"]
    printed = capsys.readouterr()
    assert all(name in printed.out for name in INGEST_CASES)
    assert "warm-up" in printed.err and "warm-up" not in printed.out


def test_bench_only_runs_matching_cases(harness: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "results.json"

    harness.main(["--rows", "2000", "--repeat", "1", "--only", "read_csv", "--out", str(out)])

    assert [e["name"] for e in json.loads(out.read_text())] == ["read_csv"]


def test_bench_skip_leaves_matching_cases_out(harness: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    argv = ["--rows", "2000", "--repeat", "1", "--only", "csv", "--skip", "load", "--out", str(out)]
    harness.main(argv)
    names = {e["name"] for e in json.loads(out.read_text())}
    assert "read_csv" in names and "load_csv_validated" not in names


def test_bench_refuses_a_filter_matching_no_case(harness: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "results.json"

    code = harness.main(["--rows", "2000", "--only", "no-such-case", "--out", str(out)])

    assert code == 2
    assert not out.exists()


def test_bench_doctests_pass(harness: ModuleType) -> None:
    from bench import cases_ingest

    for module in (harness, cases_ingest):
        assert doctest.testmod(module).failed == 0
