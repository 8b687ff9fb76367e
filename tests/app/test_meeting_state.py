"""The meeting's state cannot be lost: both proposals, the one being edited and the capacity
inputs survive a reload, a new tab and a server restart, and a shared link still shows the exact
state (and says so when it differs from the one kept for the dataset).

A reload is a new AppTest session opened on the old one's URL; a new tab is one opened on the
page without it; a server restart also drops the process's caches and its store connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from app import ui
from funnel.i18n import t
from funnel.rules import PerUnitRule, encode_ruleset
from funnel.store import DatasetInfo, Store
from funnel.tunerstate import Capacity, TunerState, load_state, save_state
from tests.support import read_only, tuner_prefix, tuner_state

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
TUNER = "../pages/tuner.py"
NAME = "demo"
INQUIRIES = 3  # the template's inquiries rule


def hot(at: AppTest) -> str:
    return str(next(m.value for m in at.metric if m.label == t("metric.hot", "en")))


def open_tuner(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(TUNER).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def a_meeting(demo: DatasetInfo, checked: Callable[[AppTest], AppTest]) -> AppTest:
    """Marketing keeps the template; sales doubles inquiries' points and a stricter hot tier;
    sales is being edited; capacity 3 reps × 12 leads, target 25%."""
    at = open_tuner()
    checked(at.radio(key=f"tuner_active:{demo.dataset_id}").set_value("sales").run())
    p = tuner_prefix(at, demo)
    checked(at.slider(key=f"pts:{p}:{INQUIRIES}").set_value(20).run())
    checked(at.slider(key=f"thr:{p}:0").set_value(14).run())
    at.number_input(key=f"tuner_reps:{p}").set_value(3)
    at.number_input(key=f"tuner_per_rep:{p}").set_value(12)
    checked(at.number_input(key=f"tuner_target:{p}").set_value(25.0).run())
    return at


def test_a_reload_a_new_tab_and_a_restart_keep_both_proposals_and_capacity(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    demo = seed(NAME, leads=3000)
    at = a_meeting(demo, checked)
    meeting = tuner_state(at, NAME)
    assert meeting.active == "sales"
    assert meeting.rules("sales").rules[INQUIRIES].points == 20
    assert meeting.rules("marketing").rules[INQUIRIES].points == 3
    assert meeting.capacity == Capacity(3, 12, 0.25)
    shown = hot(at)
    link = dict(at.query_params)

    reloaded = open_tuner(link)  # the same URL, a new session
    new_tab = open_tuner({})  # no link at all: the state kept for the dataset
    st.cache_data.clear()
    st.cache_resource.clear()  # a restart: a new store connection, nothing cached
    restarted = open_tuner(link)

    for again in (reloaded, new_tab, restarted):
        assert tuner_state(again, NAME).same_as(meeting)
        assert again.radio(key=f"tuner_active:{demo.dataset_id}").value == "sales"
        p = tuner_prefix(again, demo)
        assert again.slider(key=f"pts:{p}:{INQUIRIES}").value == 20
        assert again.slider(key=f"thr:{p}:0").value == 14
        assert again.number_input(key=f"tuner_reps:{p}").value == 3
        assert again.number_input(key=f"tuner_target:{p}").value == 25.0
        assert hot(again) == shown
        assert not again.info  # nothing differs
    with Store(db_path) as store:
        kept = load_state(store, store.require(NAME))
    assert kept is not None and kept.state.same_as(meeting)


def test_the_url_shares_the_exact_state_of_both_proposals(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest]
) -> None:
    demo = seed(NAME, leads=3000)
    at = a_meeting(demo, checked)
    link = dict(at.query_params)
    assert TunerState.from_query(link).same_as(tuner_state(at, NAME))  # type: ignore[union-attr]
    assert link["dataset"] == NAME and link["proposal"] == "sales" and "other" in link


def test_a_link_that_differs_from_the_kept_state_says_so_and_offers_the_kept_one(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest]
) -> None:
    demo = seed(NAME, leads=3000)
    meeting = tuner_state(a_meeting(demo, checked), NAME)
    old = replace(meeting.rules("marketing"), rules=(PerUnitRule("inquiries", 5, 50),))
    link = {"dataset": NAME, "rules": encode_ruleset(old)}  # an older link: marketing's rules

    at = open_tuner(link)

    shown = tuner_state(at, NAME)
    assert shown.rules("marketing").rules == old.rules == shown.rules("sales").rules
    (notice,) = [i.value for i in at.info]
    assert notice.startswith(t("tuner.link_differs", "en", dataset=NAME, saved="").split("(")[0])
    checked(at.button(key="tuner_open_saved").click().run())
    assert tuner_state(at, NAME).same_as(meeting)
    assert not at.info
    assert at.radio(key=f"tuner_active:{demo.dataset_id}").value == "sales"


def test_opening_a_link_changes_nothing_kept_until_something_is_changed(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    demo = seed(NAME, leads=3000)
    meeting = tuner_state(a_meeting(demo, checked), NAME)
    template = open_tuner({})
    base = tuner_state(template, NAME).rules("marketing")
    link = {"dataset": NAME, "rules": encode_ruleset(base.with_points(0, 4))}

    at = open_tuner(link)
    with Store(db_path) as store:
        kept = load_state(store, store.require(NAME))
    assert kept is not None and kept.state.same_as(meeting)

    checked(at.slider(key=f"pts:{tuner_prefix(at, demo)}:0").set_value(5).run())
    with Store(db_path) as store:
        kept = load_state(store, store.require(NAME))
    assert kept is not None and kept.state.rules("marketing").rules[0].points == 5
    assert not at.info  # the link's state is the kept one now


def test_a_kept_state_naming_columns_the_data_no_longer_has_warns_and_starts_again(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    demo = seed(NAME, leads=3000)
    a_meeting(demo, checked)
    with Store(db_path) as store:
        info = store.require(NAME)
        kept = load_state(store, info)
        assert kept is not None
        gone = kept.state.with_rules(
            "sales",
            replace(kept.state.rules("sales"), rules=(PerUnitRule("no_such_column", 1, 5),)),
        )
        save_state(store, info, gone)

    at = open_tuner({})

    (warning,) = [w.value.replace("\\", "") for w in at.warning]  # user text is escaped
    assert warning.startswith(
        t("tuner.saved_unusable", "en", dataset=NAME, reason="").split("(")[0]
    )
    assert "no_such_column" in warning
    assert tuner_state(at, NAME).rules("sales").rules[INQUIRIES].points == 3  # the template


def test_a_read_only_store_keeps_nothing_and_says_why_once(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    demo = seed(NAME, leads=1000)
    with Store(db_path) as store:
        assert store.tuner_state(NAME) is None
    with read_only(db_path):
        at = open_tuner({})
        checked(at.slider(key=f"pts:{tuner_prefix(at, demo)}:0").set_value(5).run())
        assert at.query_params["rules"]  # the link still shares it
        (warning,) = [w.value for w in at.warning]  # the store's own note, once, at the top
        assert "is read-only" in warning
        assert ui.store().read_only and ui.store().tuner_state(NAME) is None


def test_a_reload_keeps_the_language(
    seed: Callable[..., DatasetInfo], checked: Callable[[AppTest], AppTest]
) -> None:
    seed(NAME, leads=500)
    at = open_tuner({})
    checked(at.sidebar.selectbox(key="lang").set_value("ja").run())
    assert at.title[0].value == t("tuner.title", "ja")

    reloaded = open_tuner(dict(at.query_params))

    assert reloaded.title[0].value == t("tuner.title", "ja")
    checked(reloaded.sidebar.selectbox(key="lang").set_value("en").run())
    assert "lang" not in reloaded.query_params
