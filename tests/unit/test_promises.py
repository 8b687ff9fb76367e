"""Service-level promises signed with a version: contact time, weekly volume, review cadence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from funnel.cli import main
from funnel.ingest import load_demo
from funnel.meeting import report_bytes
from funnel.rules import (
    NO_PROMISES,
    RuleSet,
    RuleSetError,
    ServiceLevel,
    ruleset_from_text,
    ruleset_to_dict,
    ruleset_to_yaml,
)
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.diff import compare_versions, diff_rules
from funnel.versions.files import version_from_text, version_to_json, version_to_yaml
from funnel.versions.history import get_version, list_versions, save_version
from funnel.versions.signoff import propose, sign
from tests.templates import copy_database

T0 = datetime(2026, 11, 1, 9, 0)
PROMISED = ServiceLevel(contact_within_hours=4, max_hot_per_week=120, review_every_weeks=6)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("promises") / "funnel.duckdb"
    with Store(path) as store:
        load_demo(store, "demo", leads=2000, seed=5)
    return path


@pytest.fixture
def db_path(tmp_path: Path, demo_db: Path) -> Path:
    return copy_database(demo_db, tmp_path / "funnel.duckdb")


def promised_rules(store: Store) -> RuleSet:
    return replace(template_for(store.require("demo")), service_level=PROMISED)


def agreed(store: Store, rs: RuleSet) -> int:
    v = save_version(store, store.require("demo"), rs, author="Aiko", now=T0)
    propose(store, v.version_id, "Aiko", now=T0)
    sign(store, v.version_id, "marketing", "Aiko", now=T0 + timedelta(minutes=1))
    sign(store, v.version_id, "sales", "Ben", now=T0 + timedelta(minutes=2))
    return v.version_id


@pytest.mark.parametrize("dump", [version_to_yaml, version_to_json])
def test_promises_are_signed_with_the_version_and_round_trip_through_its_file(
    store: Store, dump: object
) -> None:
    v = get_version(store, agreed(store, promised_rules(store)))
    assert v.status == "agreed" and v.ruleset.service_level == PROMISED
    text = dump(v)  # type: ignore[operator]
    assert "contact_within_hours" in text and "max_hot_per_week" in text
    assert version_from_text(text) == v
    assert ruleset_from_text(text).service_level == PROMISED


def test_a_file_without_promises_still_loads_and_writes_none() -> None:
    older = "name: q1\nrules: []\ntiers:\n- {name: hot, min_score: 10}\n- {name: cold}\n"
    rs = ruleset_from_text(older)
    assert rs.service_level == NO_PROMISES and not rs.service_level
    assert "service_level" not in ruleset_to_dict(rs)  # files without promises look as before
    some = ruleset_from_text(older + "service_level: {review_every_weeks: 4}\n")
    assert some.service_level == ServiceLevel(review_every_weeks=4)
    assert ruleset_from_text(ruleset_to_yaml(some)) == some


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("{contact_within_hours: -2}", r"r.yaml: service_level: contact_within_hours .*1 to 8,760"),
        ("{max_hot_per_week: 2.5}", r"max_hot_per_week must be a whole number .*\(it is 2.5\)"),
        ("{review_every_weeks: true}", r"review_every_weeks must be a whole number"),
        ("{contact_within_hour: 4}", r"unknown key 'contact_within_hour' \(did you mean"),
        ("[4, 50]", r"service_level must be a mapping"),
    ],
)
def test_bad_promises_are_refused_naming_the_file_and_the_field(block: str, expected: str) -> None:
    text = f"name: q1\nrules: []\nservice_level: {block}\n"
    with pytest.raises(RuleSetError, match=expected):
        ruleset_from_text(text, source="r.yaml")


def test_japanese_refusal_names_the_field() -> None:
    with pytest.raises(RuleSetError) as caught:
        ruleset_from_text("service_level: {max_hot_per_week: 0}\n", source="r.yaml")
    assert "max_hot_per_week は 1 から 10,000,000 までの整数" in caught.value.message("ja")


def test_changing_promises_makes_a_new_version_and_the_diff_shows_them(store: Store) -> None:
    info = store.require("demo")
    first = get_version(store, agreed(store, promised_rules(store)))
    newer = ServiceLevel(contact_within_hours=8, review_every_weeks=6)
    second = save_version(
        store, info, replace(first.ruleset, service_level=newer), author="Ben", now=T0
    )
    assert (first.number, second.number) == (1, 2)
    assert get_version(store, first.version_id).ruleset.service_level == PROMISED  # untouched
    diff = compare_versions(store, info, first, second)
    promise_changes = [c for c in diff.changes if "hot lead" in (c.before or c.after or "")]
    assert [(c.kind, c.before, c.after) for c in promise_changes] == [
        (
            "changed",
            "Sales contacts a hot lead within 4 hours",
            "Sales contacts a hot lead within 8 hours",
        ),
        ("removed", "Marketing sends at most 120 hot leads a week", None),
    ]
    ja = diff_rules(first.ruleset, second.ruleset, "ja")
    assert any(c.after == "営業はホットリードに 8 時間以内に連絡します" for c in ja)
    assert diff_rules(first.ruleset, first.ruleset) == []


def test_the_meeting_report_shows_the_promises_or_says_there_are_none(store: Store) -> None:
    info = store.require("demo")
    v = get_version(store, agreed(store, promised_rules(store)))
    html = report_bytes(store, info, v).decode("utf-8")
    assert "Service-level promises" in html
    for line in PROMISED.describe("en"):
        assert f"<li>{line}</li>" in html
    ja = report_bytes(store, info, v, lang="ja").decode("utf-8")
    assert "<li>マーケティングが送るホットリードは週 120 件までです</li>" in ja
    bare = save_version(store, info, template_for(info), author="Aiko")
    assert "No service-level promises" in report_bytes(store, info, bare).decode("utf-8")


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*(str(a) for a in argv), "--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_cli_save_sets_promises_over_the_files_and_show_prints_them(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    with Store(db_path) as store:
        rules = tmp_path / "r.yaml"
        rules.write_text(ruleset_to_yaml(promised_rules(store)), encoding="utf-8")
    save = ("rules", "save", "--rules", rules, "--dataset", "demo", "--author", "Aiko", "--json")
    code, out, _ = run(capsys, db_path, *save, "--contact-within-hours", "2",
                       "--max-hot-per-week", "0")  # fmt: skip
    assert code == 0
    saved = json.loads(out)
    assert saved["service_level"] == {"contact_within_hours": 2, "review_every_weeks": 6}
    code, out, _ = run(capsys, db_path, "rules", "show", str(saved["id"]))
    assert "Service-level promises:" in out
    assert "Sales contacts a hot lead within 2 hours" in out and "every 6 weeks" in out
    code, out, _ = run(capsys, db_path, "rules", "show", str(saved["id"]), "--lang", "ja")
    assert "定義は 6 週ごとに見直します" in out
    code, _, err = run(capsys, db_path, *save, "--review-every-weeks", "-1")
    assert code == 2 and "review_every_weeks must be a whole number from 1 to 520" in err
    with Store(db_path, read_only=True) as store:
        assert len(list_versions(store, "demo")) == 1  # the refused save stored nothing
