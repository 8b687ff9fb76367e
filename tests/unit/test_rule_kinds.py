"""Every rule kind is one complete definition: a renderer on every surface and in every
dialect, a form that builds it, a file form that reads back, SQL that agrees with a hand
computation, and no code outside the registry that asks which kind a rule is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd
import pytest

from funnel.dialects import DIALECTS
from funnel.i18n import MESSAGES, t
from funnel.renderers import (
    EDITORS,
    TABLES,
    bound_sql,
    editor_kinds,
    gaps,
    identity,
    label,
    rule_from_form,
)
from funnel.rules import (
    COMPARISONS,
    KINDS,
    CompareRule,
    Group,
    Rule,
    RuleSet,
    RuleSetError,
    SetRule,
    Where,
    rule_from_dict,
    rule_keys,
    rule_kind,
    ruleset_from_text,
    ruleset_to_json,
    ruleset_to_yaml,
)
from tests.engines.sqlcases import GOLDEN_RULES
from tests.support import ORACLES, rule_points

ROOT = Path(__file__).resolve().parents[2]
TEXT = "industry"
NUMBER = "visits"
FRAME = pd.DataFrame(
    {
        "id": range(8),
        TEXT: ["SaaS", "Retail", None, "SaaS", "O'Reilly", "saas", "Retail", "SaaS"],
        NUMBER: [0, 1, 3, None, 12, 7, 100, 2],
    }
)


def form_rule(kind: str, points: int = 7) -> Rule:
    """The rule the tuner's form builds for ``kind`` with its default inputs."""
    editor = EDITORS[kind]
    column = TEXT if editor.columns == "category" else NUMBER
    values: dict[str, Any] = {}
    sample = {"value": "SaaS", "values": ["SaaS", "Retail"]}
    for item in editor.inputs:
        if item.widget == "choice":
            values[item.field] = item.options[0]
        else:
            values[item.field] = sample.get(item.widget, item.default)
    values["points"] = points
    rule = rule_from_form(kind, column, values)
    assert rule is not None, f"the {kind} form's default inputs build no rule"
    return rule


@pytest.fixture(scope="module")
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.register("frame", FRAME)
    con.execute("CREATE TABLE leads AS SELECT * FROM frame")
    yield con
    con.close()


def test_every_registered_kind_has_a_renderer_on_every_surface_and_in_every_dialect() -> None:
    assert gaps() == []
    assert {t.surface for t in TABLES} >= {"bound", "identity", "editor", "label"} | {
        f"warehouse:{d}" for d in DIALECTS
    }


def test_a_kind_registered_without_renderers_is_named_on_each_surface_it_lacks() -> None:
    @dataclass(frozen=True)
    class ZeroRule(Rule):
        column: str
        points: int
        kind: ClassVar[str] = "zero_for_test"
        group: ClassVar[Group] = "fit"

    rule_kind(ZeroRule)
    try:
        missing = gaps()
    finally:
        del KINDS["zero_for_test"]

    assert sorted(missing) == sorted(("zero_for_test", t.surface) for t in TABLES)
    assert {s for _, s in missing} >= {f"warehouse:{d}" for d in DIALECTS}
    assert gaps() == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_form_builds_each_kind_and_its_file_form_reads_back_exactly(kind: str) -> None:
    rule = form_rule(kind)

    assert rule.kind == kind
    item = rule.as_dict()
    assert list(item)[:3] == ["kind", "column", "points"]
    assert set(item) <= set(rule_keys())
    assert rule_from_dict(item, Where("r.yaml", "rule", 1)) == rule
    assert identity(rule.with_points(-3)) == identity(rule)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kinds_bound_sql_gives_the_points_computed_by_hand(
    conn: duckdb.DuckDBPyConnection, kind: str
) -> None:
    rule = form_rule(kind)
    points = bound_sql(rule)
    rows = conn.execute(f"SELECT ({points.sql}) FROM leads ORDER BY id", points.args).fetchall()

    expected = rule_points(rule, FRAME).astype(float).tolist()
    assert [float(r[0]) for r in rows] == expected
    assert any(expected), f"the sample {kind} rule gives no lead any points"


def test_every_kind_has_a_hand_computation_and_a_place_in_the_golden_sql() -> None:
    assert set(ORACLES) == set(KINDS)
    # the golden case is also executed on PostgreSQL and Spark (tests/engines)
    assert {r.kind for r in GOLDEN_RULES.rules} == set(KINDS)


def test_the_form_offers_every_kind_with_labels_in_both_languages() -> None:
    offered = editor_kinds("category") + editor_kinds("number")
    assert sorted(offered) == sorted(KINDS)
    for columns in ("category", "number"):
        kinds = editor_kinds(columns)  # type: ignore[arg-type]
        if len(kinds) > 1:  # a choice: each is named
            assert all(f"tuner.kind.{k}" in MESSAGES for k in kinds)
        for k in kinds:
            assert all(item.label in MESSAGES for item in EDITORS[k].inputs)
            assert "points" in {item.field for item in EDITORS[k].inputs}


def test_no_code_outside_the_registry_asks_which_kind_a_rule_is() -> None:
    registry = {ROOT / "src/funnel/rules.py", ROOT / "src/funnel/renderers.py"}
    # a metric's number format is also called "count": not a rule kind
    other_kinds = {ROOT / "src/funnel/formats.py"}
    classes = "|".join(cls.__name__ for cls in KINDS.values())
    kinds = "|".join(KINDS)
    asking = re.compile(
        rf"isinstance\([^)]*\b({classes})\b"  # isinstance(rule, CategoryRule)
        rf"|\bkind\s*(==|!=)\s*['\"]({kinds})['\"]"  # rule.kind == "range"
        rf"|\bkind\s+(not\s+)?in\s*[(\[{{][^)\]}}]*['\"]({kinds})['\"]"  # kind in ("range", ...)
    )
    found = []
    for folder in ("src", "app", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path in registry | other_kinds:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if asking.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


# --- the set rule and the comparison ------------------------------------------------------------


def test_a_set_rule_and_a_comparison_read_back_exactly_from_yaml_and_json() -> None:
    rs = RuleSet(
        rules=(
            SetRule("job", ("retired", "student", 'O\'Reilly: "x"'), 8),
            CompareRule("pricing_visits", "=", 0, -5),
            CompareRule("basket_value", ">", 0, 12),
        )
    )
    text = ruleset_to_yaml(rs)
    assert "one_of:" in text and "op: '>'" in text
    assert ruleset_from_text(text) == rs
    assert ruleset_from_text(ruleset_to_json(rs)) == rs


@pytest.mark.parametrize(("written", "op"), [(">=", ">="), ("≥", ">="), ("==", "="), ("<>", "!=")])
def test_a_comparison_reads_the_usual_spellings_of_its_operator(written: str, op: str) -> None:
    item = {"kind": "compare", "column": "x", "op": written, "value": 3, "points": 2}
    assert rule_from_dict(item, Where("r.yaml", "rule", 1)) == CompareRule("x", op, 3.0, 2)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_set_and_comparison_mistakes_name_the_rule_and_the_fix(lang: str) -> None:
    where = Where("r.yaml", "rule", 4)
    empty = {"kind": "in", "column": "job", "one_of": [], "points": 2}
    with pytest.raises(RuleSetError) as raised:
        rule_from_dict(empty, where)
    assert raised.value.message(lang) == f"{where.text(lang)}: {t('ruleset.no_values', lang)}"
    wrong = {"kind": "compare", "column": "x", "op": "~", "value": 1, "points": 2}
    with pytest.raises(RuleSetError) as raised:
        rule_from_dict(wrong, where)
    ops = ", ".join(COMPARISONS)
    assert raised.value.message(lang).endswith(t("ruleset.unknown_op", lang, op="'~'", ops=ops))


def test_a_long_set_is_shortened_in_its_label_but_not_in_its_sentence() -> None:
    rule = SetRule("month", ("jan", "feb", "mar", "apr", "may", "jun"), 3)
    assert label(rule) == "month is one of jan, feb, mar, apr and 2 more"
    assert label(rule, "ja") == "month が jan, feb, mar, apr ほか 2 件 のいずれか"
    assert rule.describe() == "month is one of jan, feb, mar, apr, may, jun: +3 points"


def test_a_set_rule_takes_the_stored_spelling_of_each_value() -> None:
    rule = SetRule("industry", ("saas", "Retail", "SaaS"), 5)
    assert rule.one_of == ("saas", "Retail", "SaaS")
    assert rule.spelled({"saas": "SaaS"}).one_of == ("SaaS", "Retail")
