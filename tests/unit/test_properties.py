"""Properties (hypothesis) of the mapping proposal and the rule-set parser on random input.

The proposal names every column exactly once, never raises, is deterministic, and survives its
own YAML round trip; a rule set survives YAML, JSON and shared-link round trips; junk is refused
with a :class:`RuleSetError` and a short message, never another exception. Runs are
derandomised (the same examples on every machine) and sized to take a few seconds.
"""

from __future__ import annotations

import base64
import math
import string
import zlib
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from funnel.mapping import ROLES, SINGLE_ROLES
from funnel.mapping.files import mapping_from_yaml, mapping_to_yaml
from funnel.mapping.propose import propose_mapping
from funnel.readers import SourceFile
from funnel.rules import (
    CategoryRule,
    CountRule,
    Gate,
    PerUnitRule,
    RangeRule,
    RuleSet,
    RuleSetError,
    Tier,
    decode_ruleset,
    encode_ruleset,
    ruleset_from_dict,
    ruleset_from_text,
    ruleset_to_json,
    ruleset_to_yaml,
)

FAST = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- the mapping proposal ---------------------------------------------------------------------

# Header-like words the proposal looks for, mixed with unicode, quotes, markup and blanks.
HEADER_WORDS = [
    "lead_id",
    "id",
    "created_at",
    "作成日",
    "source",
    "流入元",
    "outcome",
    "受注",
    "status",
    "closed_date",
    "amount",
    "web_visits",
    "mql_date",
    "industry",
    "",
    " ",
    '"',
    "'; DROP TABLE x; --",
    "<script>",
    "**x**",
    "_funnel_x",
]
names = st.one_of(st.sampled_from(HEADER_WORDS), st.text(max_size=12))

# Cells as a CRM exports them: text, numbers and dates written as text, placeholders, blanks.
cells = st.one_of(
    st.none(),
    st.sampled_from(["", "Select", "N/A", "不明", "Won", "Lost", "Open", "yes", "no", "0", "1"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=pd.Timestamp("1000-01-01").date()).map(str),
    st.text(max_size=15),
)


@st.composite
def lead_files(draw: st.DrawFn) -> SourceFile:
    """A file as the readers return it: unique names (ignoring case), text or typed columns."""
    columns = draw(
        st.lists(names, min_size=1, max_size=8, unique_by=lambda n: n.strip().casefold())
    )
    n_rows = draw(st.integers(1, 25))
    data: dict[str, Any] = {}
    for name in columns:
        kind = draw(st.sampled_from(["text", "text", "int", "float", "bool", "date"]))
        if kind == "text":
            values = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
            data[name] = pd.Series(values, dtype="str")
        elif kind == "int":
            data[name] = draw(st.lists(st.integers(-5, 10**6), min_size=n_rows, max_size=n_rows))
        elif kind == "float":
            floats = st.floats(allow_nan=True, allow_infinity=True)
            data[name] = draw(st.lists(floats, min_size=n_rows, max_size=n_rows))
        elif kind == "bool":
            data[name] = draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
        else:
            stamps = st.datetimes(
                min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                max_value=pd.Timestamp("2100-01-01").to_pydatetime(),
            )
            data[name] = pd.Series(
                draw(st.lists(stamps, min_size=n_rows, max_size=n_rows)), dtype="datetime64[us]"
            )
    frame = pd.DataFrame({name: pd.Series(values) for name, values in data.items()})
    frame.columns = pd.Index(columns)
    file_name = draw(st.sampled_from(["leads.csv", "mql_export.csv", "<b>x</b>.csv"]))
    return SourceFile(file_name, frame, "csv")


@FAST
@given(source=lead_files())
def test_the_proposal_names_every_column_once_never_fails_and_is_deterministic(
    source: SourceFile,
) -> None:
    mapping = propose_mapping(source)

    assert [s.name for s in mapping.leads] == source.columns
    assert all(s.role in ROLES for s in mapping.leads)
    for role in SINGLE_ROLES:
        assert sum(s.role == role for s in mapping.leads) <= 1, role
    if mapping.outcome is not None:
        assert mapping.outcome.column in source.columns
    assert propose_mapping(source) == mapping


@FAST
@given(source=lead_files())
def test_a_proposal_survives_its_own_yaml_round_trip(source: SourceFile) -> None:
    mapping = propose_mapping(source)

    assert mapping_from_yaml(mapping_to_yaml(mapping)) == mapping


# --- rule sets: round trips ----------------------------------------------------------------------

# Lone surrogates are refused by the parser (tests/hostile/rules/surrogate_escape.json).
_CHARS = st.characters(exclude_categories=("Cs",))
texts = st.text(_CHARS, max_size=20)
labels = st.text(_CHARS, min_size=1, max_size=20)
points = st.integers(-1000, 1000)
finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def ranges(draw: st.DrawFn) -> RangeRule:
    low, high = draw(st.one_of(st.none(), finite)), draw(st.one_of(st.none(), finite))
    if low is not None and high is not None:
        if low == high:
            high = None
        else:
            low, high = min(low, high), max(low, high)
    return RangeRule(draw(labels), low, high, draw(points))


rules_ = st.one_of(
    st.builds(CategoryRule, column=labels, value=labels, points=points),
    ranges(),
    st.builds(PerUnitRule, column=labels, points=points, cap=st.one_of(st.none(), points)),
    st.builds(CountRule, column=labels, at_least=finite, points=points),
)
gates = st.builds(Gate, column=labels, values=st.lists(texts, min_size=1, max_size=4).map(tuple))


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    n = draw(st.integers(2, 4))
    tier_names = draw(
        st.lists(labels.filter(lambda s: s.strip() != ""), min_size=n, max_size=n, unique=True)
    )
    scores = sorted(draw(st.lists(finite, min_size=n - 1, max_size=n - 1, unique=True)))[::-1]
    bounds = [*scores, -math.inf]
    return tuple(Tier(name, score) for name, score in zip(tier_names, bounds, strict=True))


rulesets = st.builds(
    RuleSet,
    name=texts,
    rules=st.lists(rules_, max_size=5).map(tuple),
    gates=st.lists(gates, max_size=2).map(tuple),
    tiers=tier_lists(),
    score_cap=st.one_of(st.none(), points),
    description=texts,
)


@FAST
@given(rs=rulesets)
def test_a_rule_set_reads_back_exactly_from_yaml(rs: RuleSet) -> None:
    assert ruleset_from_text(ruleset_to_yaml(rs)) == rs


@pytest.mark.parametrize("text", ["a\x85b", "\x85"])
def test_a_rule_set_with_unicode_line_breaks_in_its_text_reads_back_from_yaml(text: str) -> None:
    rs = RuleSet(name=text, rules=(CategoryRule("industry", text, 5),), description=text)

    assert ruleset_from_text(ruleset_to_yaml(rs)) == rs


@FAST
@given(rs=rulesets)
def test_a_rule_set_reads_back_exactly_from_json(rs: RuleSet) -> None:
    assert ruleset_from_text(ruleset_to_json(rs)) == rs


@FAST
@given(rs=rulesets)
def test_a_rule_set_reads_back_exactly_from_a_shared_link(rs: RuleSet) -> None:
    link = encode_ruleset(rs)

    assert set(link) <= set(string.ascii_letters + string.digits + "-_=")
    assert decode_ruleset(link) == rs


# --- rule sets: junk -----------------------------------------------------------------------------


def assert_refused_plainly(error: RuleSetError, source: str) -> None:
    message = str(error)
    assert message.startswith(source) and len(message) < 600
    assert message.count("\n") <= 1


yaml_ish = st.lists(
    st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tab1.0e+~") + ["rules", "kind", "!!", "\x85"]),
    max_size=40,
).map("".join)


@FAST
@given(text=st.one_of(st.text(max_size=80), yaml_ish))
@example(text="!!python/object/apply:os.system [ls]")
@example(text="a: &a [*a, *a]\nb: *a\n")
@example(text="{" * 500)
def test_junk_text_is_a_rule_set_or_a_rule_set_error_and_nothing_else(text: str) -> None:
    try:
        rs = ruleset_from_text(text, source="junk.yaml")
    except RuleSetError as error:
        assert_refused_plainly(error, "junk.yaml")
    else:
        assert isinstance(rs, RuleSet)


@FAST
@given(
    text=st.one_of(
        st.text(max_size=80),
        st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(zlib.compress(b)).decode()),
    )
)
def test_a_damaged_shared_link_is_a_rule_set_error(text: str) -> None:
    with pytest.raises(RuleSetError) as caught:
        decode_ruleset(text)

    assert_refused_plainly(caught.value, "shared link")


KEYS = ["schema_version", "name", "description", "rules", "gates", "tiers", "score_cap"]
RULE_KEYS = [
    "kind",
    "column",
    "points",
    "value",
    "low",
    "high",
    "cap",
    "at_least",
    "values",
    "name",
    "min_score",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["category", "range", "per_unit", "count", "hot", "web_visits"]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(RULE_KEYS), st.text(max_size=5)), inner, max_size=5
        ),
    ),
    max_leaves=12,
)
junk_rule_sets = st.dictionaries(st.sampled_from(KEYS), junk, max_size=6)


@settings(FAST, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False)
@given(data=junk_rule_sets)
@example(data={"rules": 5})
@example(data={"tiers": 5})
@example(data={"rules": [{"kind": "per_unit", "column": "x", "points": 10**400}]})
def test_junk_data_is_a_rule_set_or_a_rule_set_error_and_nothing_else(data: Any) -> None:
    for parse in (
        lambda: ruleset_from_dict(data, source="junk"),
        lambda: ruleset_from_text(yaml.safe_dump(data), source="junk"),
    ):
        try:
            rs = parse()
        except RuleSetError as error:
            assert_refused_plainly(error, "junk")
        else:
            assert isinstance(rs, RuleSet)
