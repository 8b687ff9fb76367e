"""Funnel page through AppTest: stage counts, filters, remembered stages, comparison, cohorts.

Expected numbers come from the generated demo frame counted with pandas (a lead reaches a stage
when it has that stage's date or reached a later one; ``won`` is the outcome), not from the app.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.funnels import STAGES_SETTING
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.store import DatasetInfo, Store

FUNNEL_PAGE = "../pages/funnel.py"
LEADS = 3000
STAGES = ["lead", "mql", "sql", "opportunity", "won"]


@cache
def demo_frame() -> pd.DataFrame:
    """The rows ``load_demo(store, "demo", leads=LEADS)`` stores (same generator and seed)."""
    return generate_leads(LEADS, seed=7)


def reached(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Per stage, which leads reached it: its own date, or any later stage."""
    won = frame["outcome"] == "Won"
    opportunity = frame["opportunity_date"].notna() | won
    sql = frame["sql_date"].notna() | opportunity
    mql = frame["mql_date"].notna() | sql
    lead = pd.Series(True, index=frame.index)
    return {"lead": lead, "mql": mql, "sql": sql, "opportunity": opportunity, "won": won}


def stage_counts(frame: pd.DataFrame, stages: list[str] = STAGES) -> list[int]:
    hits = reached(frame)
    return [int(hits[s].sum()) for s in stages]


def labels(stages: list[str], lang: str = "en") -> list[str]:
    return [t(f"stage.{s}", lang) for s in stages]


def open_funnel(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], **kw: Any
) -> AppTest:
    at = open_app(**kw)
    return checked(at.switch_page(FUNNEL_PAGE).run())


def figure(at: AppTest, key: str) -> dict[str, Any]:
    """The Plotly figure of the chart rendered with ``key``."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return dict(json.loads(found[0].proto.spec))


def chart_keys(at: AppTest) -> list[str]:
    return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one dataframe on the page that has ``column``."""
    found = [df.value for df in at.dataframe if column in df.value.columns]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


def funnel_table(at: AppTest, lang: str = "en") -> pd.DataFrame:
    return table_with(at, t("funnel.col.drop_off", lang))


def info_texts(at: AppTest) -> list[str]:
    return [i.value for i in at.main.info]


# --- empty store -----------------------------------------------------------------------------


def test_funnel_page_without_a_dataset_says_how_to_get_one(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest]
) -> None:
    at = open_funnel(open_app, checked)

    assert at.title[0].value == t("funnel.title", "en")
    assert info_texts(at) == [t("analysis.empty", "en")]
    assert not at.get("plotly_chart")
    assert not at.dataframe
    assert not at.sidebar.multiselect


# --- stage counts ----------------------------------------------------------------------------


def test_funnel_table_counts_equal_an_independent_pandas_count_of_the_demo(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    expected = stage_counts(demo_frame())
    assert expected[0] == LEADS and expected == sorted(expected, reverse=True)

    at = open_funnel(open_app, checked)

    table = funnel_table(at)
    assert list(table[t("funnel.col.stage", "en")]) == labels(STAGES)
    assert list(table[t("funnel.col.leads", "en")]) == expected
    drops = [0] + [a - b for a, b in zip(expected, expected[1:], strict=False)]
    assert list(table[t("funnel.col.drop_off", "en")]) == drops
    from_first = list(table[t("funnel.col.from_first", "en")])
    assert from_first == pytest.approx([100 * n / LEADS for n in expected])
    assert [c.value for c in at.main.caption][0] == t("filters.none", "en")
    assert not info_texts(at)


def test_funnel_chart_x_values_are_the_stage_counts(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)

    at = open_funnel(open_app, checked)

    traces = figure(at, "funnel_chart")["data"]
    assert [tr["type"] for tr in traces] == ["funnel"]
    assert traces[0]["name"] == "demo"
    assert traces[0]["x"] == stage_counts(demo_frame())
    assert traces[0]["y"] == labels(STAGES)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_funnel_bars_name_their_shares_in_the_readers_language(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    lang: str,
) -> None:
    seed("demo", leads=LEADS)
    at = open_app("funnel", lang=lang)

    trace = figure(checked(at), "funnel_chart")["data"][0]
    assert "textinfo" not in trace  # Plotly's own words ("of initial") would be English
    template = trace["texttemplate"]
    assert template.startswith("%{value:,}")
    assert f"%{{percentInitial:.0%}} {t('funnel.of_initial', lang)}" in template
    assert f"%{{percentPrevious:.0%}} {t('funnel.of_previous', lang)}" in template


# --- shared filters --------------------------------------------------------------------------


def test_source_filter_narrows_the_funnel_and_is_named_above_it(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=LEADS)
    frame = demo_frame()
    picked = ["Seminar", "Ads"]
    subset = frame[frame["source"].isin(picked)]
    expected = stage_counts(subset)
    assert expected != stage_counts(frame)
    at = open_funnel(open_app, checked)
    source = at.sidebar.multiselect(key=f"flt:{info.dataset_id}:source")
    assert source.label == t("filters.source", "en", column="source")
    assert set(source.options) == set(frame["source"].unique())

    checked(source.set_value(picked).run())

    assert list(funnel_table(at)[t("funnel.col.leads", "en")]) == expected
    assert figure(at, "funnel_chart")["data"][0]["x"] == expected
    active = t("filters.active", "en", filters="source = Seminar, Ads")
    assert info_texts(at)[0] == active
    assert t("filters.none", "en") not in [c.value for c in at.main.caption]
    assert at.sidebar.button(key="filters_clear").label == t("filters.clear", "en")


def test_date_filter_counts_only_leads_created_in_the_range(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=LEADS)
    frame = demo_frame()
    start, end = date(2026, 1, 1), date(2026, 3, 31)
    created = frame["created_at"].dt.date
    expected = stage_counts(frame[(created >= start) & (created <= end)])
    at = open_funnel(open_app, checked)

    checked(at.sidebar.date_input(key=f"flt:{info.dataset_id}:dates").set_value((start, end)).run())

    assert list(funnel_table(at)[t("funnel.col.leads", "en")]) == expected
    described = f"{t('filters.created', 'en')} = 2026-01-01 – 2026-03-31"
    assert info_texts(at)[0] == t("filters.active", "en", filters=described)


def test_clear_filters_button_restores_every_lead(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=LEADS)
    at = open_funnel(open_app, checked)
    checked(at.sidebar.multiselect(key=f"flt:{info.dataset_id}:source").set_value(["Ads"]).run())
    assert funnel_table(at)[t("funnel.col.leads", "en")].iloc[0] < LEADS

    checked(at.sidebar.button(key="filters_clear").click().run())

    assert list(funnel_table(at)[t("funnel.col.leads", "en")]) == stage_counts(demo_frame())
    assert at.sidebar.multiselect(key=f"flt:{info.dataset_id}:source").value == []
    assert t("filters.none", "en") in [c.value for c in at.main.caption]


# --- stages ----------------------------------------------------------------------------------


def test_removing_a_stage_is_remembered_for_the_dataset(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    info = seed("demo", leads=LEADS)
    key = f"stages:{info.dataset_id}"
    shorter = ["lead", "mql", "opportunity", "won"]
    expected = stage_counts(demo_frame(), shorter)
    at = open_funnel(open_app, checked)
    assert at.multiselect(key=key).value == STAGES

    checked(at.multiselect(key=key).set_value(shorter).run())

    assert list(funnel_table(at)[t("funnel.col.stage", "en")]) == labels(shorter)
    assert list(funnel_table(at)[t("funnel.col.leads", "en")]) == expected
    with Store(db_path) as s:
        assert s.setting("demo", STAGES_SETTING) == shorter

    # A new session (a new browser tab) starts from the remembered list.
    again = open_funnel(open_app, checked)
    assert again.multiselect(key=key).value == shorter
    assert list(funnel_table(again)[t("funnel.col.leads", "en")]) == expected
    assert figure(again, "funnel_chart")["data"][0]["y"] == labels(shorter)


def test_keeping_a_single_stage_warns_and_keeps_the_remembered_stages(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    info = seed("demo", leads=LEADS)
    key = f"stages:{info.dataset_id}"
    at = open_funnel(open_app, checked)

    checked(at.multiselect(key=key).set_value(["lead"]).run())

    assert [w.value for w in at.main.warning] == [t("analysis.too_few_stages", "en")]
    assert not at.get("plotly_chart")
    with Store(db_path) as s:
        assert s.setting("demo", STAGES_SETTING) is None
    again = open_funnel(open_app, checked)
    assert again.multiselect(key=key).value == STAGES


# --- two segments compared ---------------------------------------------------------------------


def test_comparing_two_sources_draws_two_funnels_with_their_counts(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    frame = demo_frame()
    counts_a = stage_counts(frame[frame["source"] == "Ads"])
    counts_b = stage_counts(frame[frame["source"].isin(["Referral", "Seminar"])])
    at = open_funnel(open_app, checked)
    assert at.selectbox(key="cmp_column").value == "source"
    assert "compare_chart" not in chart_keys(at)
    assert t("funnel.compare_empty", "en") in [c.value for c in at.main.caption]

    at.multiselect(key="cmp_a:source").set_value(["Ads"])
    checked(at.multiselect(key="cmp_b:source").set_value(["Referral", "Seminar"]).run())

    traces = figure(at, "compare_chart")["data"]
    assert [(tr["type"], tr["name"]) for tr in traces] == [
        ("funnel", "A: Ads"),
        ("funnel", "B: Referral, Seminar"),
    ]
    assert traces[0]["x"] == counts_a
    assert traces[1]["x"] == counts_b
    # side by side, each on its own scale: neither bar (nor its labels) lies over the other
    layout = figure(at, "compare_chart")["layout"]
    axes = [tr.get("xaxis", "x") for tr in traces]
    assert axes == ["x", "x2"]
    (a0, a1), (b0, b1) = layout["xaxis"]["domain"], layout["xaxis2"]["domain"]
    assert a0 < a1 < b0 < b1
    leads = t("funnel.col.leads", "en")
    compare = table_with(at, f"A: {leads}")
    assert list(compare[f"A: {leads}"]) == counts_a
    assert list(compare[f"B: {leads}"]) == counts_b


# --- monthly cohorts ---------------------------------------------------------------------------


def expected_cohorts(frame: pd.DataFrame) -> pd.DataFrame:
    """Month, leads, won and maturity, counted from the frame.

    A month is mature when its last day plus the 90th percentile of created → closed days of
    won leads (rounded up) is no later than the latest date anywhere in the data.
    """
    won = frame["outcome"] == "Won"
    days = (frame["closed_date"] - frame["created_at"]).dt.total_seconds() / 86400
    p90 = float(days[won & (frame["closed_date"] >= frame["created_at"])].quantile(0.9))
    dates = ["created_at", "mql_date", "sql_date", "opportunity_date", "closed_date"]
    as_of = max(frame[c].max() for c in dates)
    month = frame["created_at"].dt.to_period("M")
    out = (
        pd.DataFrame({"month": month, "won": won})
        .groupby("month")
        .agg(n=("won", "size"), converted=("won", "sum"))
        .reset_index()
    )
    last_day = out["month"].dt.to_timestamp(how="end").dt.normalize()
    out["mature"] = last_day + pd.Timedelta(days=math.ceil(p90)) <= as_of
    out["month"] = out["month"].dt.to_timestamp()
    return out


def test_cohort_chart_draws_the_latest_months_apart_as_immature(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    cohorts = expected_cohorts(demo_frame())
    mature = cohorts[cohorts["mature"]]
    immature = cohorts[~cohorts["mature"]]
    # The data makes the point: old months are mature, the latest few are not.
    assert len(mature) >= 6 and 1 <= len(immature) <= 8
    assert immature["month"].min() > mature["month"].max()

    at = open_funnel(open_app, checked)

    traces = figure(at, "cohort_chart")["data"]
    names = [tr["name"] for tr in traces]
    assert names == [t("funnel.mature", "en"), t("funnel.immature", "en")]
    by_name = dict(zip(names, traces, strict=True))
    for part, name in ((mature, "funnel.mature"), (immature, "funnel.immature")):
        trace = by_name[t(name, "en")]
        assert [pd.Timestamp(x) for x in trace["x"]] == list(part["month"])
        rates = (part["converted"] / part["n"]).tolist()
        assert np.allclose(trace["y"], rates)
    assert by_name[t("funnel.immature", "en")]["mode"] == "markers"
    assert by_name[t("funnel.mature", "en")]["mode"] == "markers+lines"

    table = table_with(at, t("funnel.col.month", "en"))
    assert list(table[t("funnel.col.month", "en")]) == [
        f"{m:%Y-%m}" for m in cohorts["month"].dt.to_pydatetime()
    ]
    assert list(table[t("funnel.col.leads", "en")]) == list(cohorts["n"])
    assert list(table[t("funnel.col.converted", "en")]) == list(cohorts["converted"])
    assert list(table[t("funnel.col.mature", "en")]) == [
        t("funnel.mature" if m else "funnel.immature", "en") for m in cohorts["mature"]
    ]


def test_a_thin_first_month_is_marked_and_does_not_squash_the_cohort_chart(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    """The first month keeps 4 of its leads (one won): its interval runs from ~5% to ~70%."""
    frame = demo_frame()
    first = frame["created_at"].dt.to_period("M") == frame["created_at"].dt.to_period("M").min()
    won = frame["outcome"] == "Won"
    keep = frame[first & won].head(1).index.union(frame[first & ~won].head(3).index)
    thin = frame[~first | frame.index.isin(keep)]
    with Store(db_path) as store:
        load_files(store, "demo", read_bytes(thin.to_csv(index=False).encode(), "demo.csv"))

    at = open_funnel(open_app, checked)

    spec = figure(at, "cohort_chart")
    mature = spec["data"][0]
    assert mature["marker"]["symbol"][0] == "circle-open"  # the thin month, and only it
    assert set(mature["marker"]["symbol"][1:]) == {"circle"}
    assert spec["data"][-1]["name"] == t("funnel.wide_interval", "en")
    top = spec["layout"]["yaxis"]["range"][1]
    cohorts = expected_cohorts(thin)
    rates = cohorts["converted"] / cohorts["n"]
    assert top < 0.5  # the thin month's interval (to ~70%) does not set the axis ...
    assert top >= rates.max()  # ... every month's rate is on it


def bank_like_csv(n: int = 240) -> tuple[bytes, int]:
    """A small export shaped like UCI bank marketing: no dates, a yes/no outcome ``y``."""
    rng = np.random.default_rng(3)
    jobs = rng.choice(["management", "technician", "blue-collar", "retired"], n)
    ages = rng.integers(20, 70, n)
    balances = rng.integers(-500, 5000, n)
    outcome = np.where(rng.random(n) < 0.15, "yes", "no")
    lines = ['"age";"job";"balance";"y"'] + [
        f'{a};"{j}";{b};"{y}"' for a, j, b, y in zip(ages, jobs, balances, outcome, strict=True)
    ]
    return ("\n".join(lines) + "\n").encode(), int((outcome == "yes").sum())


def test_dataset_without_dates_says_no_dates_instead_of_a_cohort_chart(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    db_path: Path,
) -> None:
    data, won = bank_like_csv()
    with Store(db_path) as s:
        info = load_files(s, "bank", read_bytes(data, "bank.csv"), outcome_column="y").dataset
    assert info.mapping.column("created") is None

    at = open_funnel(open_app, checked)

    assert t("analysis.no_dates", "en") in info_texts(at)
    assert "cohort_chart" not in chart_keys(at)
    assert chart_keys(at) == ["funnel_chart"]
    table = funnel_table(at)
    assert list(table[t("funnel.col.stage", "en")]) == labels(["lead", "won"])
    assert list(table[t("funnel.col.leads", "en")]) == [240, won]
    assert not at.sidebar.date_input


# --- language ---------------------------------------------------------------------------------


def test_japanese_ui_renders_the_funnel_page_in_japanese(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)

    at = open_funnel(open_app, checked, lang="ja")

    assert at.title[0].value == t("funnel.title", "ja") == "ファネル"
    table = funnel_table(at, "ja")
    assert list(table[t("funnel.col.stage", "ja")]) == labels(STAGES, "ja")
    assert list(table[t("funnel.col.leads", "ja")]) == stage_counts(demo_frame())
    assert at.main.caption[0].value == t("filters.none", "ja")
    assert t("funnel.compare", "ja") in [s.value for s in at.subheader]
    traces = figure(at, "cohort_chart")["data"]
    assert [tr["name"] for tr in traces] == [t("funnel.mature", "ja"), t("funnel.immature", "ja")]
