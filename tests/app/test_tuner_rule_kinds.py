"""The tuner's "add a rule" form builds the set rule (``column is one of …``) and the
comparison (``= 0``, ``> 0``), shows them by their short names in both languages, and the
metrics follow: the hot count equals the leads scored by hand with pandas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.rules import CompareRule, RuleSet, SetRule
from funnel.store import DatasetInfo
from tests.support import backtest_counted, tuner_prefix, tuner_state

LEADS = 3000


def prefix(at: AppTest, info: DatasetInfo) -> str:
    return tuner_prefix(at, info, "marketing")


def proposal(at: AppTest, info: DatasetInfo) -> RuleSet:
    return tuner_state(at, info.name).rules("marketing")


def open_form(at: AppTest, info: DatasetInfo) -> str:
    p = prefix(at, info)
    at.session_state[f"add_open:{p}"] = True
    at.run()
    return p


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_form_adds_a_rule_for_one_of_several_values(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    lang: str,
) -> None:
    info = seed("demo", leads=LEADS, seed=7)
    at = checked(open_app("tuner", lang=lang))
    before = proposal(at, info).rules
    p = open_form(at, info)
    checked(at.selectbox(key=f"add_col:{p}").set_value("industry").run())
    kinds = at.radio(key=f"add_kind:{p}")
    assert kinds.options == [t("tuner.kind.category", lang), t("tuner.kind.in", lang)]
    checked(kinds.set_value("in").run())
    at.multiselect(key=f"add_vals:{p}").set_value(["Manufacturing", "Retail"])
    checked(at.number_input(key=f"add_pts:{p}").set_value(-6).run())
    checked(at.button(key=f"add:{p}").click().run())

    rule = SetRule("industry", ("Manufacturing", "Retail"), -6)
    assert proposal(at, info).rules == (*before, rule)
    label = t("rule.in_label", lang, column="industry", values="Manufacturing, Retail")
    new = [s for s in at.slider if str(s.key).startswith(f"pts:{prefix(at, info)}:")][-1]
    assert (new.label, new.value) == (label, -6)


def test_the_form_adds_a_comparison_and_the_hot_count_follows(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=LEADS, seed=7)
    at = checked(open_app("tuner"))
    before = proposal(at, info)
    p = open_form(at, info)
    checked(at.selectbox(key=f"add_col:{p}").set_value("inquiries").run())
    checked(at.radio(key=f"add_kind:{p}").set_value("compare").run())
    at.selectbox(key=f"add_op:{p}").set_value(">")
    at.number_input(key=f"add_cmp:{p}").set_value(0.0)
    checked(at.number_input(key=f"add_pts:{p}").set_value(25).run())
    checked(at.button(key=f"add:{p}").click().run())

    rule = CompareRule("inquiries", ">", 0.0, 25)
    after = proposal(at, info)
    assert after.rules == (*before.rules, rule)
    new = [s for s in at.slider if str(s.key).startswith(f"pts:{prefix(at, info)}:")][-1]
    assert (new.label, new.value) == ("inquiries > 0", 25)
    # the hot tier by hand: the template's points plus 25 for any inquiry
    frame = generate_leads(LEADS, seed=7)
    score = sum(
        (frame[r.column].fillna(0) * r.points).clip(upper=r.cap)  # type: ignore[attr-defined]
        for r in before.rules
    ) + 25 * (frame["inquiries"] > 0)
    # the tile counts the hot leads a back-test counts (decided or mature, funnel.population)
    counted = backtest_counted(
        frame["created_at"],
        frame["outcome"],
        frame["closed_date"],
        frame["mql_date"],
        frame["sql_date"],
        frame["opportunity_date"],
    )
    hot = int(((score >= after.tiers[0].min_score) & counted).sum())
    shown = next(m for m in at.metric if m.label == t("metric.hot", "en"))
    assert shown.value == f"{hot:,}"
