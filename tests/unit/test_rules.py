"""Rule sets: every rule kind's SQL gives the points computed by hand on a real DuckDB table,
rules read as sentences in English and Japanese, files round-trip exactly, and bad files are
refused with a sentence naming the entry and the fix."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from funnel.fragment import Fragment
from funnel.mapping import ColumnSpec, Mapping
from funnel.renderers import bound_sql
from funnel.rules import (
    SCHEMA_VERSION,
    CategoryRule,
    CountRule,
    Gate,
    PerUnitRule,
    RangeRule,
    Rule,
    RuleSet,
    RuleSetError,
    Tier,
    check_columns,
    decode_ruleset,
    encode_ruleset,
    labelled,
    ruleset_from_dict,
    ruleset_from_text,
    ruleset_to_json,
    ruleset_to_yaml,
    simple_template,
)
from funnel.rulesql import gates_sql, score_sql

CAT = '業種 "種別"'  # a column name with a space, quotes and Japanese
INJECTION = "'; DROP TABLE x; --"
#: id, category, employees (DOUBLE), visits (BIGINT), opens (BIGINT)
ROWS: list[tuple[int, str | None, float | None, int | None, int | None]] = [
    (1, "SaaS", 10.0, 3, 0),
    (2, "O'Reilly", 50.0, 0, 12),
    (3, "株式会社 テスト", None, None, 5),
    (4, INJECTION, 100.0, 15, None),
    (5, None, 49.999, 7, 2),
    (6, "saas", -5.0, 1, 1),
    (7, 'say "hi"', 300.0, 2, 40),
]


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    """A small in-memory table of leads, and a table ``x`` an injection would drop."""
    con = duckdb.connect()
    con.execute(
        f'CREATE TABLE leads (id INTEGER, "{CAT.replace(chr(34), chr(34) * 2)}" VARCHAR, '
        "employees DOUBLE, visits BIGINT, opens BIGINT)"
    )
    con.executemany("INSERT INTO leads VALUES (?, ?, ?, ?, ?)", ROWS)
    con.execute("CREATE TABLE x (a INTEGER)")
    yield con
    con.close()


def points_of(con: duckdb.DuckDBPyConnection, sql: Fragment) -> list[Any]:
    rows = con.execute(f"SELECT ({sql.sql}) AS p FROM leads ORDER BY id", sql.args).fetchall()
    return [r[0] for r in rows]


def column(i: int) -> list[Any]:
    return [row[i] for row in ROWS]


# --- SQL of each rule kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["SaaS", "O'Reilly", "株式会社 テスト", INJECTION, 'say "hi"', "nothing"]
)
def test_category_rule_gives_points_exactly_where_the_value_matches(
    conn: duckdb.DuckDBPyConnection, value: str
) -> None:
    rule = CategoryRule(CAT, value, 15)
    expected = [15 if v == value else 0 for v in column(1)]
    assert points_of(conn, bound_sql(rule)) == expected
    # the value is bound, never spliced into SQL: the injection dropped nothing
    assert conn.execute("SELECT count(*) FROM x").fetchone() == (0,)
    assert value not in bound_sql(rule).sql


def test_category_rule_is_case_sensitive_and_gives_no_points_to_a_missing_value(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    assert points_of(conn, bound_sql(CategoryRule(CAT, "saas", -7))) == [0, 0, 0, 0, 0, -7, 0]


def test_category_rule_compares_a_number_column_as_text(conn: duckdb.DuckDBPyConnection) -> None:
    assert points_of(conn, bound_sql(CategoryRule("visits", "15", 4))) == [0, 0, 0, 4, 0, 0, 0]


@pytest.mark.parametrize(
    ("low", "high"),
    [(None, 50.0), (50.0, None), (10.0, 100.0), (None, None), (-10.0, 0.0), (49.999, 50.0)],
)
def test_range_rule_covers_low_inclusive_to_high_exclusive_with_open_ends(
    conn: duckdb.DuckDBPyConnection, low: float | None, high: float | None
) -> None:
    def inside(x: float | None) -> bool:
        if x is None:
            return False
        return (low is None or x >= low) and (high is None or x < high)

    expected = [12 if inside(x) else 0 for x in column(2)]
    assert points_of(conn, bound_sql(RangeRule("employees", low, high, 12))) == expected


def test_range_rule_with_negative_points_penalises_the_range_and_skips_missing(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    got = points_of(conn, bound_sql(RangeRule("employees", None, 50, -5)))
    assert got == [-5, 0, 0, 0, -5, -5, 0]


@pytest.mark.parametrize(
    ("points", "cap"),
    [(1, None), (2, 10), (3, 9), (-1, None), (-3, 5), (-2, 4), (5, 0), (4, -8)],
)
def test_per_unit_rule_multiplies_the_count_and_caps_its_size_either_way(
    conn: duckdb.DuckDBPyConnection, points: int, cap: int | None
) -> None:
    def expected(count: int | None) -> int:
        raw = (count or 0) * points
        if cap is None:
            return raw
        return min(raw, abs(cap)) if points >= 0 else max(raw, -abs(cap))

    got = points_of(conn, bound_sql(PerUnitRule("visits", points, cap)))
    assert got == [expected(v) for v in column(3)]


@pytest.mark.parametrize(("at_least", "points"), [(3, 5), (1, -4), (0, 2), (2.5, 7), (100, 9)])
def test_count_rule_gives_points_once_the_count_is_reached_and_none_when_missing(
    conn: duckdb.DuckDBPyConnection, at_least: float, points: int
) -> None:
    expected = [points if v is not None and v >= at_least else 0 for v in column(4)]
    assert points_of(conn, bound_sql(CountRule("opens", at_least, points))) == expected


def test_gates_knock_out_listed_values_and_never_a_missing_one(
    conn: duckdb.DuckDBPyConnection,
) -> None:
    rs = RuleSet(
        gates=(Gate(CAT, ("SaaS", INJECTION)), Gate("visits", ("0",))),
    )
    got = points_of(conn, gates_sql(rs))
    assert got == [True, True, False, True, False, False, False]
    assert conn.execute("SELECT count(*) FROM x").fetchone() == (0,)
    assert points_of(conn, gates_sql(RuleSet())) == [False] * len(ROWS)


def test_rule_set_score_is_the_sum_of_its_rules_capped(conn: duckdb.DuckDBPyConnection) -> None:
    rules: tuple[Rule, ...] = (
        CategoryRule(CAT, "SaaS", 30),
        CategoryRule(CAT, INJECTION, 25),
        RangeRule("employees", 50, None, 20),
        PerUnitRule("visits", 2, 10),
        PerUnitRule("opens", -1, 5),
        CountRule("opens", 10, 8),
    )
    by_hand = []
    for _, cat, employees, visits, opens in ROWS:
        total = 30 * (cat == "SaaS") + 25 * (cat == INJECTION)
        total += 20 if employees is not None and employees >= 50 else 0
        total += min((visits or 0) * 2, 10) + max(-(opens or 0), -5)
        total += 8 if opens is not None and opens >= 10 else 0
        by_hand.append(total)
    assert by_hand == [36, 23, -5, 55, 8, 1, 27]  # the hand computation itself, spelled out
    assert points_of(conn, score_sql(RuleSet(rules=rules))) == by_hand
    capped = points_of(conn, score_sql(RuleSet(rules=rules, score_cap=30)))
    assert capped == [min(x, 30) for x in by_hand]
    assert points_of(conn, score_sql(RuleSet())) == [0] * len(ROWS)


# --- plain language -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(
    ("rule", "fragments"),
    [
        (CategoryRule("業種", "製造業", 15), ("業種", "製造業", "+15")),
        (CategoryRule("industry", "O'Reilly", -4), ("industry", "O'Reilly", "-4")),
        (RangeRule("employees", 100, 500, 10), ("employees", "100", "500", "+10")),
        (RangeRule("employees", None, 2.5, -3), ("employees", "2.5", "-3")),
        (PerUnitRule("web_visits", 1, None), ("web_visits", "+1")),
        (PerUnitRule("web_visits", 2, 10), ("web_visits", "+2", "10")),
        (CountRule("inquiries", 3, 5), ("inquiries", "3", "+5")),
        (CountRule("email_opens", 20, -6), ("email_opens", "20", "-6")),
    ],
)
def test_each_rule_reads_as_a_sentence_naming_column_value_and_points(
    rule: Rule, fragments: tuple[str, ...], lang: str
) -> None:
    sentence = rule.describe(lang)
    for fragment in fragments:
        assert fragment in sentence
    assert ("点" in sentence) == (lang == "ja")
    assert ("point" in sentence) == (lang == "en")
    assert ".0" not in sentence  # whole numbers are written without a useless .0


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_rule_set_describes_its_gates_cap_and_tiers(lang: str) -> None:
    rs = RuleSet(
        rules=(CategoryRule("industry", "SaaS", 15),),
        gates=(Gate("email_type", ("Competitor", "Free mail")),),
        score_cap=80,
        tiers=(Tier("A", 50), Tier("B", 20.5), Tier("C", -math.inf)),
    )
    lines = rs.describe(lang)
    assert len(lines) == 1 + 1 + 1 + 3
    assert "industry" in lines[0] and "SaaS" in lines[0]
    assert all(x in lines[1] for x in ("email_type", "Competitor", "Free mail"))
    assert "80" in lines[2]
    assert "A" in lines[3] and "50" in lines[3]
    assert "B" in lines[4] and "20.5" in lines[4]
    assert "C" in lines[5] and "inf" not in lines[5]


# --- files ----------------------------------------------------------------------------------------

EVERY_KIND = RuleSet(
    name="全部入り: every kind",
    description="Hand-tuned by sales & marketing — 営業とマーケ",
    rules=(
        CategoryRule("industry", "SaaS", 15),
        CategoryRule("業種", "製造業", -3),
        CategoryRule('co "name"', INJECTION, 1),
        CategoryRule("flag", "yes", 2),
        CategoryRule("code", "007", 2),
        CategoryRule("note", "key: value # not a comment", 3),
        CategoryRule("nullish", "null", 1),
        RangeRule("employees", None, 50, -5),
        RangeRule("employees", 50, 300.5, 4),
        RangeRule("employees", 1000, None, 10),
        RangeRule("revenue", 0.001, 1e12, 1),
        PerUnitRule("web_visits", 1, 10),
        PerUnitRule("email_opens", -2, 6),
        PerUnitRule("webinars", 3, None),
        CountRule("inquiries", 1, 20),
        CountRule("downloads", 2.5, -1000),
    ),
    gates=(Gate("email_type", ("Competitor", "フリーメール")), Gate("status", ("no", "1"))),
    tiers=(Tier("hot", 60.5), Tier("warm", 30), Tier("lukewarm", -10), Tier("cold", -math.inf)),
    score_cap=1000,
)


@pytest.mark.parametrize("write", [ruleset_to_yaml, ruleset_to_json], ids=["yaml", "json"])
def test_a_rule_set_with_every_kind_reads_back_exactly(write: Any) -> None:
    text = write(EVERY_KIND)
    assert ruleset_from_text(text) == EVERY_KIND
    assert ruleset_from_text(write(RuleSet())) == RuleSet()


def test_the_yaml_file_is_readable_unicode_with_its_schema_version() -> None:
    text = ruleset_to_yaml(EVERY_KIND)
    assert "製造業" in text and "\\u" not in text
    assert f"schema_version: {SCHEMA_VERSION}" in text
    assert ruleset_to_json(EVERY_KIND).count("製造業") == 1


def test_a_shared_link_round_trips_a_rule_set_with_every_kind() -> None:
    link = encode_ruleset(EVERY_KIND)
    assert link.isascii() and not set(link) - set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
    )
    assert decode_ruleset(link) == EVERY_KIND


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s[: len(s) // 2],
        lambda s: s[:10] + "!!" + s[12:],
        lambda s: "",
        lambda s: "製造業",
        lambda s: s[::-1],
        lambda s: encode_ruleset(RuleSet()).replace("A", "B", 3),
    ],
    ids=["truncated", "bad-characters", "empty", "not-ascii", "reversed", "flipped"],
)
def test_a_damaged_shared_link_is_a_rule_set_error(damage: Any) -> None:
    with pytest.raises(RuleSetError, match="shared link"):
        decode_ruleset(damage(encode_ruleset(EVERY_KIND)))


def test_a_shared_link_holding_valid_data_that_is_not_a_rule_set_is_refused() -> None:
    import base64
    import zlib

    link = base64.urlsafe_b64encode(zlib.compress(b"[1, 2, 3]")).decode("ascii")
    with pytest.raises(RuleSetError, match="shared link: expected a mapping"):
        decode_ruleset(link)


def rule_yaml(**fields: Any) -> str:
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    return f"schema_version: 1\nrules:\n  - {{{body}}}\n"


BAD_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "unknown-kind": (
        rule_yaml(kind="bonus", column="x", points=1),
        ("rule 1", "unknown kind 'bonus'", "category, range, in, compare, per_unit, count"),
    ),
    "missing-column": (rule_yaml(kind="category", value="a", points=1), ("rule 1", "column")),
    "empty-column": (rule_yaml(kind="count", column="''", at_least=1, points=1), ("column",)),
    "points-text": (rule_yaml(kind="category", column="x", value="a", points="lots"), ("whole",)),
    "points-fraction": (rule_yaml(kind="category", column="x", value="a", points=2.5), ("whole",)),
    "points-nan": (rule_yaml(kind="category", column="x", value="a", points=".nan"), ("whole",)),
    "points-inf": (rule_yaml(kind="category", column="x", value="a", points=".inf"), ("whole",)),
    "points-1e9": (
        rule_yaml(kind="category", column="x", value="a", points="1.0e+9"),
        ("whole", "-1000 and 1000"),
    ),
    "points-1e9-plain": (
        rule_yaml(kind="category", column="x", value="a", points="1e9"),
        ("whole", "-1000 and 1000"),
    ),
    "points-missing": (rule_yaml(kind="category", column="x", value="a"), ("points",)),
    "cap-fraction": (rule_yaml(kind="per_unit", column="x", points=1, cap=2.5), ("whole",)),
    "low-equals-high": (
        rule_yaml(kind="range", column="x", low=5, high=5, points=1),
        ("rule 1", "low must be below high"),
    ),
    "low-above-high": (
        rule_yaml(kind="range", column="x", low=9, high=5, points=1),
        ("low must be below high",),
    ),
    "low-not-a-number": (
        rule_yaml(kind="range", column="x", low="many", points=1),
        ("rule 1", "'many'"),
    ),
    "at-least-missing": (rule_yaml(kind="count", column="x", points=1), ("rule 1", "number")),
    "at-least-inf": (
        rule_yaml(kind="count", column="x", at_least=".inf", points=1),
        ("finite",),
    ),
    "newer-schema": (
        "schema_version: 2\nrules: []\n",
        ("schema_version 2 is newer", "upgrade funnel"),
    ),
    "schema-not-a-number": ("schema_version: two\n", ("schema_version", "whole number")),
    "rule-not-a-mapping": ("rules:\n  - just text\n", ("rule 1", "kind:")),
    "gate-without-values": ("gates:\n  - {column: x, values: []}\n", ("gate 1", "non-empty")),
    "gate-without-column": ("gates:\n  - {values: [a]}\n", ("gate 1", "column")),
    "tier-without-name": ("tiers:\n  - {min_score: 5}\n  - {name: b}\n", ("tier 1", "name")),
    "tier-score-text": (
        "tiers:\n  - {name: a, min_score: high}\n  - {name: b}\n",
        ("tier 1", "'high'"),
    ),
    "one-tier": ("tiers:\n  - {name: hot, min_score: 5}\n", ("at least two tiers",)),
    "tier-names-repeat": (
        "tiers:\n  - {name: hot, min_score: 5}\n  - {name: hot}\n",
        ("different",),
    ),
    "tier-name-blank": (
        "tiers:\n  - {name: ' ', min_score: 5}\n  - {name: cold}\n",
        ("non-empty",),
    ),
    "tiers-ascending": (
        "tiers:\n  - {name: a, min_score: 5}\n  - {name: b, min_score: 9}\n  - {name: c}\n",
        ("go down",),
    ),
    "tiers-equal": (
        "tiers:\n  - {name: a, min_score: 5}\n  - {name: b, min_score: 5}\n  - {name: c}\n",
        ("go down",),
    ),
    "list-document": ("- kind: category\n- kind: range\n", ("expected a mapping",)),
    "text-document": ("just some words\n", ("expected a mapping",)),
    "number-document": ("42\n", ("expected a mapping",)),
    "empty-document": ("", ("expected a mapping",)),
    "malformed-yaml": ("rules: [kind: category\n  column: : x\n", ("not valid YAML or JSON",)),
    "malformed-json": ('{"rules": [}', ("not valid YAML or JSON",)),
}


@pytest.mark.parametrize(("text", "fragments"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_rule_set_file_is_refused_with_a_sentence_naming_the_problem(
    text: str, fragments: tuple[str, ...]
) -> None:
    with pytest.raises(RuleSetError) as info:
        ruleset_from_text(text, source="rules.yaml")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"
    assert "Traceback" not in message


def test_a_malformed_file_is_named_with_its_line_in_one_sentence_without_parser_internals() -> None:
    text = "rules: [kind: category\n  column: : x\n"
    with pytest.raises(RuleSetError) as info:
        ruleset_from_text(text, source="rules.yaml")
    message = str(info.value)
    assert message.startswith("rules.yaml: not valid YAML or JSON")
    assert "line 2" in message
    assert "\n" not in message and "<unicode string>" not in message


def test_yaml_python_tags_are_refused_by_the_safe_loader_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(RuleSetError, match="rules.yaml: not valid YAML or JSON"):
        ruleset_from_text(text, source="rules.yaml")
    nested = f"name: x\nrules:\n  - !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(RuleSetError, match="not valid YAML"):
        ruleset_from_text(nested)
    assert not marker.exists()


def test_a_rule_set_file_without_a_schema_version_is_read_as_the_current_one() -> None:
    rs = ruleset_from_text("rules:\n  - {kind: count, column: x, at_least: 2, points: 5}\n")
    assert rs.schema_version == SCHEMA_VERSION
    assert rs.rules == (CountRule("x", 2.0, 5),)
    assert rs.tiers == RuleSet().tiers


def test_whole_points_written_as_text_or_with_a_zero_fraction_are_accepted() -> None:
    rs = ruleset_from_dict({"rules": [{"kind": "per_unit", "column": "x", "points": "3"}]})
    assert rs.rules[0].points == 3
    rs = ruleset_from_dict({"rules": [{"kind": "per_unit", "column": "x", "points": -1000.0}]})
    assert rs.rules[0].points == -1000


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("rules:\n  - {kind: category, column: budget, value: Yes, points: 5}\n", "Yes"),
        ("rules:\n  - {kind: category, column: housing, value: no, points: -2}\n", "no"),
        ("gates:\n  - {column: default, values: [yes]}\n", "yes"),
    ],
    ids=["category-Yes", "category-no", "gate-yes"],
)
def test_an_unquoted_yes_or_no_value_in_a_hand_written_file_is_not_silently_true(
    text: str, read: str
) -> None:
    # YAML 1.1 reads an unquoted Yes as a boolean. The rule must then either keep the text the
    # user wrote (so `budget = Yes` matches the data's "Yes") or say how to fix it -- never
    # become `budget = True`, which matches no lead and fails silently.
    try:
        rs = ruleset_from_text(text, source="rules.yaml")
    except RuleSetError as exc:
        assert read in str(exc) or "quote" in str(exc)
    else:
        values = [r.value for r in rs.rules if isinstance(r, CategoryRule)]
        values += [v for g in rs.gates for v in g.values]
        assert values == [read]


@pytest.mark.parametrize("value", ["", "value: null, "], ids=["missing", "null"])
def test_a_category_rule_without_a_value_is_refused(value: str) -> None:
    text = f"rules:\n  - {{kind: category, column: budget, {value}points: 5}}\n"
    with pytest.raises(RuleSetError, match="rule 1"):
        ruleset_from_text(text)


@pytest.mark.parametrize("word", ["true", "yes"])
def test_points_written_as_a_yes_or_true_are_refused(word: str) -> None:
    with pytest.raises(RuleSetError, match="whole number"):
        ruleset_from_text(f"rules:\n  - {{kind: per_unit, column: x, points: {word}}}\n")


# --- tiers, columns, template ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tiers", "fragment"),
    [
        ((Tier("hot", 10),), "at least two tiers"),
        ((), "at least two tiers"),
        ((Tier("hot", 10), Tier("hot", -math.inf)), "different"),
        ((Tier("", 10), Tier("cold", -math.inf)), "non-empty"),
        ((Tier("a", 10), Tier("b", 20), Tier("c", -math.inf)), "go down"),
        ((Tier("a", 10), Tier("b", 10), Tier("c", -math.inf)), "go down"),
    ],
)
def test_tiers_need_two_or_more_unique_names_and_descending_thresholds(
    tiers: tuple[Tier, ...], fragment: str
) -> None:
    with pytest.raises(RuleSetError, match=fragment):
        RuleSet(tiers=tiers)


def test_changing_a_threshold_to_break_the_order_is_refused_and_a_valid_one_kept() -> None:
    rs = RuleSet()
    assert rs.with_threshold("hot", 45).hot == Tier("hot", 45)
    with pytest.raises(RuleSetError, match="go down"):
        rs.with_threshold("hot", 10)


def test_with_points_changes_one_rule_and_keeps_the_rest() -> None:
    rs = RuleSet(rules=(CategoryRule("a", "x", 1), CountRule("b", 2, 3)))
    changed = rs.with_points(1, -7)
    assert changed.rules == (CategoryRule("a", "x", 1), CountRule("b", 2, -7))
    assert rs.rules[1].points == 3


def test_check_columns_names_every_unknown_column_and_the_known_ones() -> None:
    rs = RuleSet(
        rules=(CategoryRule("industry", "SaaS", 5), CountRule("visits", 1, 1)),
        gates=(Gate("業種", ("x",)),),
    )
    check_columns(rs, ["industry", "visits", "業種", "other"])
    with pytest.raises(RuleSetError) as info:
        check_columns(rs, ["industry", "region"], source="R.yaml")
    message = str(info.value)
    assert message.startswith("R.yaml: unknown column(s) visits, 業種;")
    assert "industry, region" in message


def test_simple_template_scores_the_behaviours_the_dataset_has_and_ranks_a_b_c() -> None:
    rs = simple_template(
        ["web_visits", "docs", "inquiries", "other"],
        {"visit": "web_visits", "document": "docs", "inquiry": "inquiries", "newsletter": "nope"},
    )
    assert rs.rules == (
        PerUnitRule("web_visits", 1, 10),
        PerUnitRule("docs", 2, 20),
        PerUnitRule("inquiries", 3, 30),
    )
    assert [t.name for t in rs.tiers] == ["A", "B", "C"]
    assert [t.min_score for t in rs.tiers] == [10, 4, -math.inf]
    assert rs.gates == () and rs.score_cap is None
    assert simple_template([], {"visit": "web_visits"}).rules == ()
    assert simple_template(["x"], {"unknown role": "x"}).rules == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tier:\n- {name: hot, min_score: 5}\n", "unknown key 'tier' (did you mean 'tiers'?)"),
        (
            "rules:\n- {kind: per_unit, column: visits, pionts: 2}\n",
            "rule 1: unknown key 'pionts' (did you mean 'points'?)",
        ),
        (
            "rules:\n- {kind: per_unit, column: visits, points: 2, colour: red}\n",
            "rule 1: unknown key 'colour'",
        ),
        (
            "gates:\n- {column: x, value: [a]}\n",
            "gate 1: unknown key 'value' (did you mean 'values'?)",
        ),
        ("tiers:\n- {name: A, min: 3}\n- {name: B}\n", "tier 1: unknown key 'min'"),
    ],
)
def test_a_misspelled_key_is_refused_naming_it_and_the_key_probably_meant(
    text: str, message: str
) -> None:
    with pytest.raises(RuleSetError, match=re.escape(f"r.yaml: {message}")):
        ruleset_from_text(text, source="r.yaml")


@pytest.mark.parametrize(
    ("rule", "en", "ja"),
    [
        (PerUnitRule("web_visits", 1, 10), "Each web visit: +1 point, up to 10",
         "web_visits 1 回ごとに +1 点（上限 10 点）"),
        (PerUnitRule("inquiries", 3), "Each inquiry: +3 points", "inquiries 1 回ごとに +3 点"),
        (CountRule("web_visits", 3, -1), "web_visits at least 3: -1 point",
         "web_visits が 3 以上: -1 点"),
        (CategoryRule("industry", "SaaS", 1), "industry = SaaS: +1 point",
         "industry が SaaS: +1 点"),
    ],
)  # fmt: skip
def test_one_point_is_singular_and_a_rule_counting_units_names_one_by_the_columns_label(
    rule: Rule, en: str, ja: str
) -> None:
    mapping = Mapping(
        leads=(
            ColumnSpec("web_visits", "behaviour"),
            ColumnSpec("inquiries", "behaviour"),
            ColumnSpec("industry", "attribute"),
        )
    )
    labels = mapping.labels()
    assert labels == {"web_visits": "web visit", "inquiries": "inquiry"}
    assert labelled(rule, labels, "en").describe("en") == en
    assert labelled(rule, labels, "ja").describe("ja") == ja  # Japanese keeps the column's name
    assert labelled(rule, labels, "en").column in (rule.column, labels.get(rule.column))
    assert RuleSet(rules=(rule,)).describe("en", labels)[0] == en
