"""Rule-set versions: append-only history, sign-off by both sides, exports, import and diffs."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from funnel.ingest import load_demo
from funnel.rules import CategoryRule, Gate, RuleSet, RuleSetError, ruleset_from_text
from funnel.scoring.compare import moved as hot_moves
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.scoring.leads import score_leads
from funnel.store import VERSION_EVENTS, VERSIONS, DatasetInfo, Store
from funnel.suggest import template_for
from funnel.versions.diff import compare_versions, diff_rules
from funnel.versions.files import (
    check_values,
    import_version,
    version_from_text,
    version_to_json,
    version_to_yaml,
)
from funnel.versions.history import (
    current_version,
    find_version,
    get_version,
    list_versions,
    save_version,
)
from funnel.versions.record import VersionError
from funnel.versions.signoff import propose, sign
from tests.templates import copy_database

T0 = datetime(2026, 11, 1, 9, 0)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("versions") / "funnel.duckdb"
    with Store(path) as store:
        load_demo(store, "demo", leads=3000, seed=3)
    return path


@pytest.fixture
def db_path(tmp_path: Path, demo_db: Path) -> Path:
    """Every test starts from its own copy of a database holding the demo (loaded once)."""
    return copy_database(demo_db, tmp_path / "funnel.duckdb")


@pytest.fixture
def demo(store: Store) -> DatasetInfo:
    return store.require("demo")


def agreed(store: Store, info: DatasetInfo, rs: RuleSet, at: datetime = T0) -> int:
    v = save_version(store, info, rs, author="Aiko", rationale="why", now=at)
    propose(store, v.version_id, "Aiko", now=at)
    sign(store, v.version_id, "marketing", "Aiko", "ok", now=at + timedelta(minutes=1))
    sign(store, v.version_id, "sales", "Ben", now=at + timedelta(minutes=2))
    return v.version_id


def test_a_saved_version_records_who_why_when_the_data_and_its_metrics(
    store: Store, demo: DatasetInfo
) -> None:
    rs = template_for(demo)
    v = save_version(
        store, demo, rs, author="Aiko", rationale="first cut", effective_from=date(2026, 12, 1)
    )
    assert (v.number, v.status, v.author, v.rationale) == (1, "draft", "Aiko", "first cut")
    assert v.effective_from == date(2026, 12, 1)
    assert (v.tuned_on, v.fingerprint) == ("demo", demo.fingerprint)
    expected = evaluate(score_histogram(store, demo, rs), rs)
    assert v.metrics["hot"] == expected.hot_n
    assert v.metrics["auc"] == pytest.approx(expected.auc)
    assert [t["n"] for t in v.metrics["tiers"]] == [t.n for t in expected.tiers]
    assert v.ruleset == rs and v.mapping == demo.mapping


def test_saving_again_appends_a_new_number_and_never_changes_the_old_one(
    store: Store, demo: DatasetInfo
) -> None:
    rs = template_for(demo)
    first = save_version(store, demo, rs, author="Aiko")
    second = save_version(store, demo, rs.with_points(0, 9), author="Ben")
    assert (first.number, second.number) == (1, 2)
    assert get_version(store, first.version_id) == first
    assert [v.number for v in list_versions(store, "demo")] == [2, 1]
    other = save_version(store, demo, RuleSet(name="other", rules=rs.rules), author="Ben")
    assert other.number == 1  # numbered per rule-set name


def test_concurrent_saves_keep_every_version_in_order(store: Store, demo: DatasetInfo) -> None:
    rs = template_for(demo)
    errors: list[BaseException] = []

    def save(i: int) -> None:
        try:
            save_version(store, demo, rs.with_points(0, i), author=f"user{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    versions = list_versions(store, "demo")
    assert sorted(v.number for v in versions) == [1, 2, 3, 4, 5, 6]
    assert sorted(v.ruleset.rules[0].points for v in versions) == [0, 1, 2, 3, 4, 5]


def test_agreement_needs_a_proposal_and_both_sides_signing(store: Store, demo: DatasetInfo) -> None:
    v = save_version(store, demo, template_for(demo), author="Aiko")
    with pytest.raises(VersionError, match="propose it first"):
        sign(store, v.version_id, "marketing", "Aiko")
    assert propose(store, v.version_id, "Aiko").status == "proposed"
    with pytest.raises(VersionError, match="only a draft"):
        propose(store, v.version_id, "Aiko")
    half = sign(store, v.version_id, "marketing", "Aiko", "good for Q1")
    assert half.status == "proposed" and not half.current
    with pytest.raises(VersionError, match="never replaced"):
        sign(store, v.version_id, "marketing", "Carol")
    with pytest.raises(VersionError, match="two different people"):
        sign(store, v.version_id, "sales", "aiko")
    with pytest.raises(VersionError, match="Unknown role"):
        sign(store, v.version_id, "finance", "Dan")
    done = sign(store, v.version_id, "sales", "Ben")
    assert done.status == "agreed" and done.current
    assert [(s.role, s.name, s.comment) for s in done.signoffs] == [
        ("marketing", "Aiko", "good for Q1"),
        ("sales", "Ben", ""),
    ]


def test_exactly_one_agreed_version_is_current_and_older_ones_stay_readable(
    store: Store, demo: DatasetInfo
) -> None:
    rs = template_for(demo)
    old = agreed(store, demo, rs, T0)
    new = agreed(store, demo, rs.with_points(0, 7), T0 + timedelta(days=1))
    current = current_version(store, "demo")
    assert current is not None and current.version_id == new
    assert [v.version_id for v in list_versions(store, "demo") if v.current] == [new]
    assert get_version(store, old).status == "agreed"
    assert find_version(store, "current", "demo").version_id == new
    assert find_version(store, f"{rs.name} v1", "demo").version_id == old
    assert find_version(store, f"#{old}").version_id == old
    with pytest.raises(VersionError, match="No version matches"):
        find_version(store, "nope v9", "demo")


def test_history_survives_reloading_renaming_and_deleting_the_dataset(
    store: Store, demo: DatasetInfo
) -> None:
    vid = agreed(store, demo, template_for(demo))
    load_demo(store, "demo", leads=2000, seed=4)
    assert get_version(store, vid).fingerprint == demo.fingerprint
    store.rename("demo", "renamed")
    v = get_version(store, vid)
    assert (v.dataset, v.tuned_on, v.current) == ("renamed", "demo", True)
    store.delete("renamed")
    assert get_version(store, vid).status == "agreed"


def test_history_tables_are_only_ever_appended_to(store: Store, demo: DatasetInfo) -> None:
    rs = template_for(demo)
    vid = agreed(store, demo, rs)
    before = store.fetch_frame(f"SELECT * FROM {VERSIONS} ORDER BY version_id")
    events = store.fetch_frame(f"SELECT * FROM {VERSION_EVENTS} ORDER BY event_id")
    save_version(store, demo, rs, author="Carol")
    after = store.fetch_frame(f"SELECT * FROM {VERSIONS} ORDER BY version_id")
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    pd.testing.assert_frame_equal(
        store.fetch_frame(f"SELECT * FROM {VERSION_EVENTS} ORDER BY event_id"), events
    )
    assert get_version(store, vid).current


@pytest.mark.parametrize("dump", [version_to_yaml, version_to_json])
def test_export_then_import_gives_back_exactly_the_same_version(
    store: Store, demo: DatasetInfo, dump: object
) -> None:
    vid = agreed(store, demo, template_for(demo))
    v = get_version(store, vid)
    text = dump(v)  # type: ignore[operator]
    assert version_from_text(text) == v
    assert ruleset_from_text(text) == v.ruleset  # any rule-set reader accepts the export


def test_import_saves_a_new_draft_and_never_imports_signatures(
    store: Store, demo: DatasetInfo
) -> None:
    v = get_version(store, agreed(store, demo, template_for(demo)))
    new = import_version(store, demo, version_to_yaml(v), source="agreed.yaml", author="Dan")
    assert new.status == "draft" and new.signoffs == ()
    assert new.ruleset == v.ruleset and new.number == 2
    assert "Imported from agreed.yaml" in new.rationale


def test_import_refuses_unknown_columns_values_bad_numbers_and_newer_versions(
    store: Store, demo: DatasetInfo
) -> None:
    text = version_to_yaml(save_version(store, demo, template_for(demo), author="A"))
    cases = {
        "unknown column": text.replace("column: web_visits", "column: web_vistis", 1),
        "never holds": "rules:\n- {kind: category, column: industry, value: Fishing, points: 5}\n",
        "whole number": text.replace("points: 1\n", "points: lots\n", 1),
        "newer than this funnel": text.replace("schema_version: 1", "schema_version: 99"),
        "export_version": text.replace("export_version: 1", "export_version: 7"),
        "not a date": text.replace("effective_from: '", "effective_from: 'x", 1),
    }
    for expected, bad in cases.items():
        assert bad != text or expected == "never holds"
        with pytest.raises(RuleSetError, match=expected):
            import_version(store, demo, bad, source="bad.yaml", author="A")
    assert len(list_versions(store, "demo")) == 1


def test_unknown_category_values_name_the_column_and_the_value(
    store: Store, demo: DatasetInfo
) -> None:
    rs = RuleSet(rules=(CategoryRule("industry", "Fishing", 5),))
    with pytest.raises(RuleSetError, match=r"industry: 'Fishing'"):
        check_values(store, demo, rs, source="r.yaml")


def test_diff_names_rule_and_threshold_changes_and_measures_both_on_the_same_data(
    store: Store, demo: DatasetInfo
) -> None:
    base = template_for(demo)
    changed = base.with_points(0, 9).with_threshold(base.hot.name, base.hot.min_score + 2)
    changed = RuleSet(
        name=base.name,
        rules=(*changed.rules[1:], CategoryRule("industry", "SaaS", 5)),
        tiers=changed.tiers,
    )
    a = save_version(store, demo, base, author="A")
    b = save_version(store, demo, changed, author="B")
    diff = compare_versions(store, demo, a, b)
    kinds = sorted(c.kind for c in diff.changes)
    assert kinds.count("removed") == 1 and kinds.count("added") == 1
    assert any(c.kind == "changed" and c.after and "score" in c.after for c in diff.changes)
    ev_a = evaluate(score_histogram(store, demo, base), base)
    ev_b = evaluate(score_histogram(store, demo, changed), changed)
    metrics = {k: (x, y) for k, x, y in diff.metrics}
    assert metrics["hot"] == (ev_a.hot_n, ev_b.hot_n)
    assert metrics["auc"][1] == pytest.approx(ev_b.auc)
    tiers_a = score_leads(store, demo, base).set_index("id")["tier"]
    tiers_b = score_leads(store, demo, changed).set_index("id")["tier"]
    moved = tiers_a != tiers_b.reindex(tiers_a.index)
    assert diff.changed_leads == int(moved.sum()) > 0
    assert set(diff.leads["id"]) <= set(moved[moved].index)
    expected = pd.crosstab(tiers_a[moved], tiers_b.reindex(tiers_a.index)[moved]).stack()
    hot = hot_moves(store, demo, base, changed)
    assert (diff.entered_hot, diff.left_hot) == (hot["entered"], hot["left"])
    assert {(f, t): n for f, t, n in diff.moves} == {k: int(v) for k, v in expected.items() if v}


def test_identical_rule_sets_have_no_changes() -> None:
    rs = RuleSet(rules=(CategoryRule("industry", "SaaS", 5),))
    assert diff_rules(rs, rs) == []


def test_values_are_matched_to_the_stored_spelling_as_loading_merges_them(
    store: Store, tmp_path: Path
) -> None:
    """A stored full-width spelling (ＳａａＳ) is what a rule naming SaaS or saas means, as
    loading merges them (NFKC and case); SQL's lower() alone would call it unknown."""
    from funnel.ingest import load_files, read_inputs

    rows = "\n".join(f"L{i},{'ＳａａＳ' if i % 2 else '製造業'},{i % 3 == 0}" for i in range(40))
    (tmp_path / "w.csv").write_text("lead_id,industry,won\n" + rows + "\n", encoding="utf-8")
    info = load_files(store, "wide", *read_inputs(tmp_path / "w.csv"), outcome_column="won").dataset
    for value in ("SaaS", "saas", " ＳａａＳ "):
        rs = RuleSet(
            rules=(CategoryRule("industry", value, 5),), gates=(Gate("industry", (value,)),)
        )
        aligned = check_values(store, info, rs, source="r.yaml")
        assert aligned.rules[0].value == "ＳａａＳ" and aligned.gates[0].values == ("ＳａａＳ",)
