"""The Rule sets page shows a version's service-level promises and changes them as a new draft."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from streamlit.testing.v1 import AppTest

from app import ui
from funnel.i18n import t
from funnel.rules import ServiceLevel
from funnel.store import DatasetInfo
from funnel.suggest import template_for
from funnel.versions.history import list_versions, save_version

RULESETS = "../pages/rulesets.py"


def button(at: AppTest, label_key: str) -> Any:
    label = t(label_key, "en")
    return next(b for b in at.button if b.label == label)


def texts(at: AppTest) -> list[str]:
    return [x.value for x in at.text]


def test_promises_are_shown_and_changing_them_saves_a_new_draft(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    info = seed("demo", leads=800)
    promised = ServiceLevel(contact_within_hours=24, max_hot_per_week=40)
    rs = replace(template_for(info), service_level=promised)
    first = save_version(ui.store(), info, rs, author="Aiko", rationale="Q1")
    at = open_app()
    checked(at.switch_page(RULESETS).run())
    assert "\n".join(promised.describe("en")) in texts(at)
    vid = first.version_id
    at.number_input(key=f"promise:contact_within_hours:{vid}").set_value(8)
    at.number_input(key=f"promise:max_hot_per_week:{vid}").set_value(0)  # no promise
    at.number_input(key=f"promise:review_every_weeks:{vid}").set_value(6)
    at.text_input(key=f"promise_by:{vid}").input("Ben")
    checked(button(at, "promise.save").click().run())
    newest, older = list_versions(ui.store(), "demo")
    assert older == first  # a saved version never changes
    assert newest.number == 2 and newest.status == "draft" and newest.author == "Ben"
    assert newest.ruleset == replace(
        rs, service_level=ServiceLevel(contact_within_hours=8, review_every_weeks=6)
    )
    assert t("rulesets.done.promises", "en") in [s.value for s in at.success]


def test_the_same_promises_save_nothing_and_none_are_said_plainly(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    info = seed("demo", leads=800)
    v = save_version(ui.store(), info, template_for(info), author="Aiko")
    at = open_app(lang="ja")
    checked(at.switch_page(RULESETS).run())
    assert t("promise.none", "ja") in texts(at)
    at.text_input(key=f"promise_by:{v.version_id}").input("Ben")
    label = t("promise.save", "ja")
    checked(next(b for b in at.button if b.label == label).click().run())
    assert [e.value for e in at.error] == [t("promise.unchanged", "ja", label=v.label())]
    assert len(list_versions(ui.store(), "demo")) == 1
