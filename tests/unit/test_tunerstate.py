"""The tuner's state reads back exactly from the store and from a link, and refuses damage."""

from __future__ import annotations

import json
import math

import pytest

from funnel.ingest import load_demo
from funnel.rules import PerUnitRule, RuleSet, RuleSetError, Tier, encode_ruleset
from funnel.store import Store
from funnel.tunerstate import (
    Capacity,
    NoteText,
    Proposal,
    StateError,
    SuggestionNote,
    TunerState,
    load_state,
    save_state,
)

RULES = RuleSet(
    rules=(PerUnitRule("web_visits", 2, 10),),
    tiers=(Tier("A", 8), Tier("B", 3), Tier("C", -math.inf)),
)
NOTE = SuggestionNote(
    text=(
        ("en", NoteText("Loaded 3 rules.", "Measured on 8 leads.", (("warning", "Few."),))),
        ("ja", NoteText("3 件のルールを読み込みました。", columns=(("web_visits", "数値"),))),
    ),
    no_better=True,
    before=RULES,
    exclude=("duration",),
    leans_on=("web_visits",),
)


def meeting() -> TunerState:
    state = TunerState.starting(RULES).with_proposal(
        "sales", Proposal(RULES.with_points(0, 5), NOTE)
    )
    return TunerState(state.proposals, active="sales", capacity=Capacity(4, 25, 0.35))


def test_the_stored_form_reads_back_equal_with_notes() -> None:
    state = meeting()
    assert TunerState.from_dict(json.loads(json.dumps(state.as_dict()))) == state


def test_the_link_reads_back_the_same_rules_active_proposal_and_capacity() -> None:
    state = meeting()
    query = state.to_query()
    assert set(query) == {"rules", "other", "proposal", "reps", "per_rep", "target"}
    back = TunerState.from_query(query)
    assert back is not None and back.same_as(state)


def test_an_older_link_with_only_rules_gives_both_proposals_those_rules() -> None:
    back = TunerState.from_query({"rules": encode_ruleset(RULES)})
    assert back is not None
    assert back.rules("marketing").rules == back.rules("sales").rules == RULES.rules
    assert back.active == "marketing" and back.capacity == Capacity()


def test_capacity_from_a_link_is_kept_within_the_inputs_ranges() -> None:
    query = {"rules": encode_ruleset(RULES), "reps": "-3", "per_rep": "1e9", "target": "x"}
    back = TunerState.from_query(query)
    assert back is not None and back.capacity == Capacity(1, 10000, Capacity().target)


def test_a_damaged_link_is_a_rule_set_error() -> None:
    with pytest.raises(RuleSetError):
        TunerState.from_query({"rules": "bm90IGEgcnVsZSBzZXQ="})


@pytest.mark.parametrize(
    ("stored", "code"),
    [
        ("{not json", "shape"),
        ('{"proposals": []}', "shape"),
        ('{"state_version": 99, "proposals": {}}', "newer"),
        ('{"state_version": "x", "proposals": {}}', "shape"),
    ],
)
def test_a_damaged_stored_state_is_refused_with_a_reason(
    store: Store, stored: str, code: str
) -> None:
    info = load_demo(store, "demo", leads=200).dataset
    store.save_tuner_state("demo", stored)
    with pytest.raises(StateError) as caught:
        load_state(store, info)
    assert caught.value.code == code
    assert caught.value.message("ja") and caught.value.message("en")


def test_a_stored_state_naming_missing_columns_is_refused(store: Store) -> None:
    info = load_demo(store, "demo", leads=200).dataset
    gone = TunerState.starting(RuleSet(rules=(PerUnitRule("nope", 1, 2),)))
    save_state(store, info, gone)
    with pytest.raises(RuleSetError) as caught:
        load_state(store, info)
    assert "nope" in caught.value.message("en")


def test_with_sign_in_only_those_who_edit_versions_change_the_kept_meeting(store: Store) -> None:
    from funnel.access import Access, AccessError, Actor, Roles, identity_from_claims

    issuer = "http://127.0.0.1:9400"

    def person(login: str, *groups: str) -> Actor:
        claims = {
            "email": f"{login}@example.com",
            "email_verified": True,
            "name": login.title(),
            "groups": list(groups),
            "iat": 4_102_444_800,
            "iss": issuer,
            "sub": login,
        }
        return identity_from_claims(claims, now=4_102_444_800)

    info = load_demo(store, "demo", leads=300).dataset
    save_state(store, info, TunerState.starting(RULES))  # before sign-in: the app's user
    roles = Roles.from_dict(
        {"sign_marketing": ["group:funnel-marketing"], "view": ["domain:example.com"]}
    )
    store.set_access(Access(required=True, issuer=issuer, roles=roles), by=Actor.cli("admin"))

    with pytest.raises(AccessError) as caught:
        save_state(store, info, meeting(), by=person("vic"))  # a viewer
    assert caught.value.code == "not_allowed"
    kept = load_state(store, info)
    assert kept is not None and kept.state == TunerState.starting(RULES)  # unchanged

    save_state(store, info, meeting(), by=person("mara", "funnel-marketing"))
    kept = load_state(store, info)
    assert kept is not None and kept.state == meeting()
