"""``funnel review``: the meeting's figures and agenda from the command line, the same as the
library's, in English and Japanese, with clear refusals (exit 2) and JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import generate_later, generate_leads
from funnel.review import agenda, review
from funnel.rules import ruleset_to_yaml
from funnel.store import Store
from tests.unit.test_review import RULES, verdicts


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built with the CLI only: load September, agree a version effective April, refresh
    with November, load sales' feedback."""
    tmp = tmp_path_factory.mktemp("cli-review")
    db = ["--db", str(tmp / "funnel.duckdb")]
    later = generate_later(2000, seed=8, months=2)
    first = write(generate_leads(2000, seed=8), tmp / "september.csv")
    (tmp / "hot.yaml").write_text(ruleset_to_yaml(RULES), encoding="utf-8")
    steps = [
        ["load", str(first), "--dataset", "crm"],
        ["rules", "save", "--rules", str(tmp / "hot.yaml"), "--dataset", "crm"]
        + ["--author", "Aiko", "--effective-from", "2026-04-01"],
        ["rules", "propose", "hot v1", "--dataset", "crm", "--name", "Aiko"],
        ["rules", "sign", "hot v1", "--dataset", "crm", "--role", "marketing", "--name", "Aiko"],
        ["rules", "sign", "hot v1", "--dataset", "crm", "--role", "sales", "--name", "Ben"],
        ["load", str(write(later, tmp / "november.csv")), "--dataset", "crm", "--refresh"],
        ["feedback", "load", str(write(verdicts(later), tmp / "sales.csv")), "--dataset", "crm"],
    ]
    for step in steps:
        assert main([*db, *step]) == 0, step
    return tmp / "funnel.duckdb"


def test_review_json_is_the_librarys_review(
    reviewed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["--db", str(reviewed), "review", "--dataset", "crm", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    with Store(reviewed, read_only=True) as store:
        expected = review(store, "crm").as_dict()
    assert printed == json.loads(json.dumps(expected, ensure_ascii=False))
    assert printed["version"]["label"] == "hot v1"
    assert printed["leads_since"] > 0 and printed["feedback"] is not None


def test_review_prints_the_tiers_and_every_agenda_point_in_japanese(
    reviewed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(["--db", str(reviewed), "--lang", "ja", "review", "--dataset", "crm"])
    out = capsys.readouterr().out
    with Store(reviewed, read_only=True) as store:
        r = review(store, "crm", lang="ja")
    assert code == 0
    assert out.startswith(
        f"crm における hot v1 のレビュー: 2026-04-01 以降に到着したリード {r.leads:,} 件"
    )
    assert "ティア" in out and "議題:" in out and "却下理由:" in out
    points = agenda(r)
    assert points, "sales' feedback alone gives a point: 'no budget' is most rejections"
    for i, p in enumerate(points, start=1):
        assert f"{i}. {p.sentence('ja')}" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dataset", "nope"], "There is no dataset named nope"),
        (["--dataset", "crm", "--version", "hot v7"], "hot v7"),
        (["--dataset", "crm", "--segment", "colour"], "no column colour"),
    ],
)
def test_review_refuses_what_it_cannot_review_with_exit_2(
    reviewed: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    capsys.readouterr()
    assert main(["--db", str(reviewed), "review", *args]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_review_refuses_a_dataset_without_an_agreed_version_or_new_leads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(tmp_path / "funnel.duckdb")]
    leads = write(generate_leads(500, seed=3), tmp_path / "leads.csv")
    (tmp_path / "hot.yaml").write_text(ruleset_to_yaml(RULES), encoding="utf-8")
    assert main([*db, "load", str(leads), "--dataset", "crm"]) == 0
    capsys.readouterr()
    assert main([*db, "review", "--dataset", "crm"]) == 2
    assert "no agreed version yet" in capsys.readouterr().err
    for step in (
        ["rules", "save", "--rules", str(tmp_path / "hot.yaml"), "--dataset", "crm"]
        + ["--author", "Aiko", "--effective-from", "2027-01-01"],
        ["rules", "propose", "hot v1", "--dataset", "crm", "--name", "Aiko"],
        ["rules", "sign", "hot v1", "--dataset", "crm", "--role", "marketing", "--name", "A"],
        ["rules", "sign", "hot v1", "--dataset", "crm", "--role", "sales", "--name", "B"],
    ):
        assert main([*db, *step]) == 0
    capsys.readouterr()
    assert main([*db, "--lang", "ja", "review", "--dataset", "crm"]) == 2
    err = capsys.readouterr().err
    assert "2027-01-01 以降" in err and "--refresh" in err
