"""``funnel load --refresh`` and ``funnel datasets --history``: the same functions as the Data
page, refusals naming the flag that accepts them, JSON for scripts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import generate_later, generate_leads
from funnel.store import Store
from tests.support import snapshot


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture
def exports(tmp_path: Path) -> tuple[Path, Path]:
    first = write(generate_leads(1500, seed=4), tmp_path / "crm-september.csv")
    later = generate_later(1500, seed=4, months=2)
    revived = later.index[20:][later["outcome"].iloc[20:].eq("Lost")][0]
    later.loc[revived, "outcome"] = "Won"  # a deal lost in September, won in November
    return first, write(later.iloc[20:], tmp_path / "crm-november.csv")


def test_a_refresh_changing_a_recorded_outcome_exits_2_naming_the_lead_and_the_flag(
    db_path: Path, exports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, later = exports
    assert main(["--db", str(db_path), "load", str(first), "--dataset", "crm"]) == 0
    with Store(db_path) as store:
        before = snapshot(store, "crm")
    capsys.readouterr()

    code = main(["--db", str(db_path), "load", str(later), "--dataset", "crm", "--refresh"])

    err = capsys.readouterr().err
    old, new = pd.read_csv(first), pd.read_csv(later)
    revived = new[new["lead_id"].isin(old.query("outcome == 'Lost'")["lead_id"])]
    revived = revived.query("outcome == 'Won'")["lead_id"].iloc[0]
    assert code == 2
    assert "1 outcomes already recorded (lost → won: 1)" in err and revived in err
    assert "--accept-changed-outcomes" in err and "Nothing was stored" in err
    with Store(db_path, read_only=True) as store:
        assert snapshot(store, "crm") == before
        assert len(store.load_history("crm")) == 1


def test_a_refresh_with_the_flag_prints_the_counts_and_the_history_lists_both_loads(
    db_path: Path, exports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, later = exports
    db = ["--db", str(db_path)]
    main([*db, "load", str(first), "--dataset", "crm"])
    capsys.readouterr()

    code = main(
        [*db, "load", str(later), "--dataset", "crm", "--refresh", "--accept-changed-outcomes"]
    )

    out = capsys.readouterr().out
    new = len(pd.read_csv(later)) - 1480
    assert code == 0
    assert f"Refreshed crm: {new} leads added" in out and "20 missing from the new files" in out
    assert main([*db, "datasets", "--history", "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [h["mode"] for h in history] == ["new", "refresh"]
    assert history[1]["files"][0]["sha256"] == hashlib.sha256(later.read_bytes()).hexdigest()
    assert (history[1]["added"], history[1]["missing"], history[1]["rows"]) == (new, 20, 1480 + new)
    assert history[1]["recorded_outcomes_changed"] == 1
    assert main([*db, "--lang", "ja", "datasets", "--history", "--dataset", "crm"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["日時", "データセット", "読み込み"]
    assert "初回読み込み" in table[1] and "更新" in table[2]
    assert hashlib.sha256(later.read_bytes()).hexdigest()[:12] in table[2]


def test_refresh_json_carries_the_counts_and_a_plain_load_over_a_dataset_says_it_replaced_it(
    db_path: Path, exports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, later = exports
    db = ["--db", str(db_path)]
    main([*db, "load", str(first), "--dataset", "crm"])
    capsys.readouterr()
    main(
        [
            *db,
            "load",
            str(later),
            "--dataset",
            "crm",
            "--refresh",
            "--accept-changed-outcomes",
            "--json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["refresh"]["missing"] == 20 and payload["refresh"]["leads_before"] == 1500
    assert payload["leads"] == payload["refresh"]["leads_after"]

    assert main([*db, "load", str(first), "--dataset", "crm"]) == 0

    err = capsys.readouterr().err
    assert "crm was replaced" in err and "--refresh" in err


def test_refreshing_a_dataset_that_does_not_exist_exits_2_and_creates_nothing(
    db_path: Path, exports: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = exports
    main(["--db", str(db_path), "load", str(first), "--dataset", "crm"])
    capsys.readouterr()
    code = main(["--db", str(db_path), "load", str(first), "--dataset", "new", "--refresh"])
    assert code == 2 and "new" in capsys.readouterr().err
    with Store(db_path, read_only=True) as store:
        assert [d.name for d in store.datasets()] == ["crm"]


def test_the_history_of_an_empty_or_missing_database_lists_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "none.duckdb"
    assert main(["--db", str(db), "datasets", "--history"]) == 0
    assert capsys.readouterr().out.strip() == "No loads recorded yet."
    assert main(["--db", str(db), "datasets", "--history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [] and not db.exists()
