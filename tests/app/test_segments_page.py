"""Segments page through AppTest: segment rates, small samples, heatmaps, bins, shared filters.

Expected numbers come from ``funnel.segments.segment_table`` on the same database and, where
practical, from the generated demo frame counted with pandas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.charts import ACCENT, MUTED
from funnel.demo import generate_leads
from funnel.filters import MISSING, Filters
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.segments import SegmentTable, ranking_evidence, segment_table
from funnel.store import DatasetInfo, Store

SEGMENTS_PAGE = "../pages/segments.py"
FUNNEL_PAGE = "../pages/funnel.py"
LEADS = 3000


@cache
def demo_frame() -> pd.DataFrame:
    """The rows ``load_demo(store, "demo", leads=LEADS)`` stores (same generator and seed)."""
    return generate_leads(LEADS, seed=7)


def open_segments(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], **kw: Any
) -> AppTest:
    at = open_app(**kw)
    return checked(at.switch_page(SEGMENTS_PAGE).run())


def figure(at: AppTest, key: str = "segments_chart") -> dict[str, Any]:
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return dict(json.loads(found[0].proto.spec))


def segments_frame(at: AppTest, lang: str = "en") -> pd.DataFrame:
    found = [df.value for df in at.dataframe if t("segments.note", lang) in df.value.columns]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


def rows(at: AppTest, *by: str) -> list[tuple[Any, ...]]:
    """(keys..., leads, converted, rate %) per row of the segments table."""
    frame = segments_frame(at)
    columns = [*by, t("funnel.col.leads", "en"), t("funnel.col.converted", "en")]
    rate = t("funnel.col.rate", "en")
    return [
        (*(r[c] for c in columns), None if pd.isna(r[rate]) else round(r[rate], 9))
        for r in frame.to_dict("records")
    ]


def expected_rows(table: SegmentTable) -> list[tuple[Any, ...]]:
    return [
        (*s.keys, s.n, s.converted, None if s.rate is None else round(100 * s.rate, 9))
        for s in table.segments
    ]


def library_table(db_path: Path, by: list[str], **kw: Any) -> SegmentTable:
    with Store(db_path) as s:
        return segment_table(s, s.require("demo"), by, **kw)


def notes(at: AppTest, column: str = "source") -> dict[str, str]:
    frame = segments_frame(at)
    return dict(zip(frame[column], frame[t("segments.note", "en")], strict=True))


# --- empty store -----------------------------------------------------------------------------


def test_segments_page_without_a_dataset_says_how_to_get_one(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest]
) -> None:
    at = open_segments(open_app, checked)

    assert at.title[0].value == t("segments.title", "en")
    assert [i.value for i in at.main.info] == [t("analysis.empty", "en")]
    assert not at.get("plotly_chart")
    assert not at.dataframe


# --- one column --------------------------------------------------------------------------------


def test_segments_by_source_equal_the_library_and_a_pandas_count(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    seed("demo", leads=LEADS)
    frame = demo_frame()
    by_source = (
        frame.assign(won=frame["outcome"] == "Won")
        .groupby("source")["won"]
        .agg(["size", "sum"])
        .sort_index()
    )

    at = open_segments(open_app, checked)

    assert at.selectbox(key="seg_by").value == "source"
    assert at.selectbox(key="seg_by2").value == ""
    assert (at.selectbox(key="seg_from").value, at.selectbox(key="seg_to").value) == ("lead", "won")
    # best conversion first by default ...
    expected = expected_rows(library_table(db_path, ["source"]))
    assert rows(at, "source") == sorted(expected, key=lambda r: -r[-1])
    assert segments_frame(at)[t("funnel.col.rate", "en")].is_monotonic_decreasing
    # ... or in the column's own order
    checked(at.toggle(key="seg_by_rate:source").set_value(False).run())
    shown = rows(at, "source")
    assert shown == expected
    assert [(r[0], r[1], r[2]) for r in shown] == [
        (str(k), int(v["size"]), int(v["sum"])) for k, v in by_source.iterrows()
    ]
    won = int((frame["outcome"] == "Won").sum())
    summary = t(
        "segments.summary",
        "en",
        start=t("stage.lead", "en"),
        end=t("stage.won", "en"),
        rate=f"{won / LEADS:.1%}",
        converted=f"{won:,}",
        n=f"{LEADS:,}",
        min_n=30,
    )
    assert summary in [c.value for c in at.main.caption]
    bars = figure(at)["data"]
    assert [b["type"] for b in bars] == ["bar"]
    assert bars[0]["x"] == [r[0] for r in shown]


def test_raising_min_n_marks_a_segment_small_greys_its_bar_and_never_ranks_it(
    literal: Callable[[str], str],
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    seed("demo", leads=LEADS)
    sizes = demo_frame()["source"].value_counts()
    min_n = 200
    small = sorted(sizes[sizes < min_n].index)
    assert small == ["Referral"]  # 163 leads, converting at the highest rate (6.1%)
    at = open_segments(open_app, checked)
    # 3.4%–6.1% on a few hundred leads each: nothing is best or worst beyond chance
    assert set(notes(at).values()) == {""}
    expected = library_table(db_path, ["source"])
    assert expected.ranking.verdict == "no_difference"
    assert [literal(i.value) for i in at.main.info] == ranking_evidence(expected, "en")

    checked(at.number_input(key="seg_min_n").set_value(min_n).run())

    shown = notes(at)
    assert shown["Referral"] == t("segments.small", "en")
    expected = library_table(db_path, ["source"], min_n=min_n)
    best = {s.keys[0] for s in expected.segments if s.best}
    worst = {s.keys[0] for s in expected.segments if s.worst}
    assert {k for k, v in shown.items() if v == t("segments.best", "en")} == best
    assert {k for k, v in shown.items() if v == t("segments.worst", "en")} == worst
    assert not (best | worst) & set(small)
    assert [literal(i.value) for i in at.main.info] == ranking_evidence(expected, "en")
    assert [w.value for w in at.main.warning] == [
        t("segments.small_warning", "en", count=1, min_n=min_n)
    ]
    bar = figure(at)["data"][0]
    colours = dict(zip(bar["x"], bar["marker"]["color"], strict=True))
    assert colours == {k: MUTED if k in small else ACCENT for k in bar["x"]}


# --- two columns -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_segment_converting_clearly_apart_is_named_and_one_only_above_the_rest_is_not(
    lang: str,
    literal: Callable[[str], str],
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    # The 20,000-lead demo: Cold call (2.8%) converts below the rest and below Ads, the next
    # lowest (4.2%); Referral (7.4%) converts above the rest but not apart from Web form (6.5%).
    seed("demo", leads=20_000)
    expected = library_table(db_path, ["source"])
    ranking = expected.ranking
    assert ranking.verdict == "ranked"
    assert ranking.best is None and ranking.worst is not None
    assert ranking.worst.segment == "Cold call" and ranking.worst.next_segment == "Ads"
    assert ranking.best_not_apart is not None
    assert ranking.best_not_apart.segment == "Referral"
    assert ranking.best_not_apart.next_segment == "Web form"
    at = open_app(lang=lang)
    checked(at.switch_page(SEGMENTS_PAGE).run())
    frame = segments_frame(at, lang)
    shown = dict(zip(frame["source"], frame[t("segments.note", lang)], strict=True))
    assert not {k for k, v in shown.items() if v == t("segments.best", lang)}
    assert {k for k, v in shown.items() if v == t("segments.worst", lang)} == {"Cold call"}
    said = [literal(x.value) for x in at.main.info]
    named = [literal(x.value) for x in at.main.success]
    not_apart, worst = ranking_evidence(expected, lang)
    assert named == [worst] and not_apart in said
    if lang == "en":
        assert worst.startswith("Worst: Cold call")
        assert not_apart.startswith("Referral converts better than the rest of source")
        assert not_apart.endswith("neither is called best.")
    else:
        assert worst.startswith("最悪: Cold call")
        assert not_apart.endswith("どちらも最良とは呼びません。")


def test_two_columns_draw_a_heatmap_whose_small_cells_show_their_size(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    seed("demo", leads=LEADS)
    frame = demo_frame()
    pairs = frame.groupby(["source", "industry"]).size()
    at = open_segments(open_app, checked)

    checked(at.selectbox(key="seg_by2").set_value("industry").run())

    expected = library_table(db_path, ["source", "industry"])
    assert rows(at, "source", "industry") == expected_rows(expected)
    assert {(s.keys[0], s.keys[1]): s.n for s in expected.segments} == {
        k: int(v) for k, v in pairs.items()
    }
    traces = figure(at)["data"]
    assert [tr["type"] for tr in traces] == ["heatmap", "heatmap"]
    shown = traces[1]
    text = {
        (y, x): shown["text"][i][j]
        for i, y in enumerate(shown["y"])
        for j, x in enumerate(shown["x"])
    }
    small = [(k, int(n)) for k, n in pairs.items() if n < 30]
    assert small, "the demo should have source × industry cells under 30 leads"
    for key, n in small:
        assert text[key] == f"n={n}", key
        assert shown["z"][shown["y"].index(key[0])][shown["x"].index(key[1])] is None
    large = [(k, int(n)) for k, n in pairs.items() if n >= 30]
    for key, n in large:
        assert text[key].endswith(f"n={n:,}") and "%" in text[key], key


# --- numeric columns --------------------------------------------------------------------------


def fmt(x: float) -> str:
    """How a bin edge is written in a label (1,063; 2.5)."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def bin_counts(values: pd.Series, edges: list[float]) -> list[int]:
    """Leads per bin: bin i holds values below edge i and at or above edge i - 1."""
    present = values.dropna().to_numpy(dtype=float)
    index = np.searchsorted(np.asarray(edges), present, side="right")
    return [int((index == i).sum()) for i in range(len(edges) + 1)]


def assert_bins_named_by_their_edges(names: list[str], edges: list[float]) -> None:
    """The wording of a bin label is the library's; each label must name its own edges."""
    assert len(names) == len(edges) + 1, names
    bounds = [(None, edges[0])] + list(zip(edges, edges[1:], strict=False)) + [(edges[-1], None)]
    for name, (low, high) in zip(names, bounds, strict=True):
        for edge in (low, high):
            assert edge is None or fmt(edge) in name, (name, edge)
    assert len(set(names)) == len(names), names


def test_numeric_column_is_cut_into_quantile_bins(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    seed("demo", leads=LEADS)
    employees = demo_frame()["employees"]
    edges = sorted(set(employees.quantile([0.2, 0.4, 0.6, 0.8]).astype(float)))
    assert len(edges) == 4
    at = open_segments(open_app, checked)

    checked(at.selectbox(key="seg_by").set_value("employees").run())

    assert at.number_input(key="bins:employees").value == 5
    table = segments_frame(at)
    names = list(table["employees"])
    assert names == [s.keys[0] for s in library_table(db_path, ["employees"]).segments]
    assert_bins_named_by_their_edges(names, edges)
    assert list(table[t("funnel.col.leads", "en")]) == bin_counts(employees, edges)

    checked(at.number_input(key="bins:employees").set_value(2).run())

    median = float(employees.quantile(0.5))
    table = segments_frame(at)
    assert_bins_named_by_their_edges(list(table["employees"]), [median])
    assert list(table[t("funnel.col.leads", "en")]) == bin_counts(employees, [median])


def test_custom_edges_make_three_bins_and_a_missing_bucket_when_values_are_missing(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    frame = demo_frame()
    at = open_segments(open_app, checked)
    checked(at.selectbox(key="seg_by").set_value("employees").run())

    checked(at.text_input(key="edges:employees").input("10,100").run())

    table = segments_frame(at)
    assert_bins_named_by_their_edges(list(table["employees"]), [10, 100])
    expected = bin_counts(frame["employees"], [10, 100])
    assert list(table[t("funnel.col.leads", "en")]) == expected
    assert sum(expected) == LEADS and MISSING not in list(table["employees"])

    # amount (known only after the sale) is offered once asked for; it is empty for every lead
    # that never became an opportunity: its own bucket.
    assert "amount" not in at.selectbox(key="seg_by").options
    checked(at.toggle(key="seg_after_sale").set_value(True).run())
    checked(at.selectbox(key="seg_by").set_value("amount").run())
    checked(at.text_input(key="edges:amount").input("1000000, 10000000").run())

    table = segments_frame(at)
    amount = frame["amount"]
    names = list(table["amount"])
    assert names[-1] == MISSING
    assert_bins_named_by_their_edges(names[:-1], [1e6, 1e7])
    counts = bin_counts(amount, [1e6, 1e7]) + [int(amount.isna().sum())]
    assert list(table[t("funnel.col.leads", "en")]) == counts


def test_edges_that_are_not_numbers_warn_and_fall_back_to_quantile_bins(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    at = open_segments(open_app, checked)
    checked(at.selectbox(key="seg_by").set_value("employees").run())
    quantiles = list(segments_frame(at)["employees"])

    checked(at.text_input(key="edges:employees").input("10, ten").run())

    assert [w.value for w in at.main.warning] == [t("segments.bad_edges", "en")]
    assert list(segments_frame(at)["employees"]) == quantiles


# --- stages ----------------------------------------------------------------------------------


def test_from_and_to_stages_change_the_population_and_the_conversion(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    seed("demo", leads=LEADS)
    frame = demo_frame()
    won = frame["outcome"] == "Won"
    opportunity = frame["opportunity_date"].notna() | won
    mql = frame["mql_date"].notna() | frame["sql_date"].notna() | opportunity
    at = open_segments(open_app, checked)

    checked(at.toggle(key="seg_by_rate:source").set_value(False).run())  # the column's order
    checked(at.selectbox(key="seg_from").set_value("mql").run())
    assert at.selectbox(key="seg_to").options == [
        t(f"stage.{s}", "en") for s in ("sql", "opportunity", "won")
    ]
    checked(at.selectbox(key="seg_to").set_value("opportunity").run())

    shown = rows(at, "source")
    expected = library_table(db_path, ["source"], from_stage="mql", to_stage="opportunity")
    assert shown == expected_rows(expected)
    population = frame[mql]
    counted = population.groupby("source").size()
    hits = opportunity[mql].groupby(population["source"]).sum()
    assert [(r[0], r[1], r[2]) for r in shown] == [
        (str(k), int(counted[k]), int(hits[k])) for k in sorted(counted.index)
    ]
    assert sum(r[1] for r in shown) == int(mql.sum()) < LEADS


# --- filters shared with the Funnel page ---------------------------------------------------------


def test_filters_set_on_the_funnel_page_still_apply_on_the_segments_page(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    info = seed("demo", leads=LEADS)
    picked = ["Ads", "Seminar"]
    key = f"flt:{info.dataset_id}:source"
    active = t("filters.active", "en", filters="source = Ads, Seminar")
    at = open_app()
    checked(at.switch_page(FUNNEL_PAGE).run())
    checked(at.sidebar.multiselect(key=key).set_value(picked).run())
    assert [i.value for i in at.main.info][0] == active

    checked(at.switch_page(SEGMENTS_PAGE).run())

    assert at.sidebar.multiselect(key=key).value == picked
    assert [i.value for i in at.main.info][:1] == [active]
    filtered = Filters(equals=(("source", tuple(picked)),))
    expected = library_table(db_path, ["source"], filters=filtered)
    assert [s.keys[0] for s in expected.segments] == ["Ads", "Seminar"]
    assert rows(at, "source") == sorted(expected_rows(expected), key=lambda r: -r[-1])


def test_a_filter_set_on_the_segments_page_applies_to_its_table(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
) -> None:
    info = seed("demo", leads=LEADS)
    prefix = f"flt:{info.dataset_id}:"
    at = open_segments(open_app, checked)

    checked(at.sidebar.multiselect(key=prefix + "columns").set_value(["industry"]).run())
    checked(at.sidebar.multiselect(key=prefix + "col:industry").set_value(["Finance"]).run())

    filtered = Filters(equals=(("industry", ("Finance",)),))
    expected = library_table(db_path, ["source"], filters=filtered)
    assert rows(at, "source") == sorted(expected_rows(expected), key=lambda r: -r[-1])
    frame = demo_frame()
    assert expected.n == int((frame["industry"] == "Finance").sum())
    active = t("filters.active", "en", filters="industry = Finance")
    assert [i.value for i in at.main.info][:1] == [active]


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [SEGMENTS_PAGE, FUNNEL_PAGE])
def test_japanese_ui_renders_the_analysis_page_titles_in_japanese(
    page: str,
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=LEADS)
    at = open_app(lang="ja")

    checked(at.switch_page(page).run())

    title = "segments.title" if page == SEGMENTS_PAGE else "funnel.title"
    assert at.title[0].value == t(title, "ja")
    assert at.title[0].value in ("セグメント", "ファネル")
    assert at.main.caption[0].value == t("filters.none", "ja")
    assert at.sidebar.subheader[0].value == t("filters.title", "ja")
    if page == SEGMENTS_PAGE:
        table = segments_frame(at, "ja")
        assert t("funnel.col.leads", "ja") in table.columns
        assert set(table[t("segments.note", "ja")]) <= {
            "",
            t("segments.best", "ja"),
            t("segments.worst", "ja"),
            t("segments.small", "ja"),
        }


def test_a_heatmap_keeps_each_columns_top_values_and_folds_the_rest_into_other(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    """A column with many values (60 cities) is cut to the 20 with the most leads."""
    frame = demo_frame().assign(city=[f"City {i % 60:02d}" for i in range(LEADS)])
    with Store(db_path) as store:
        data = frame.to_csv(index=False).encode()
        load_files(store, "demo", read_bytes(data, "demo.csv"))
    at = open_segments(open_app, checked)

    checked(at.selectbox(key="seg_by2").set_value("city").run())

    columns = figure(at)["data"][1]["x"]
    top = frame["city"].value_counts().sort_values(ascending=False, kind="stable")
    assert len(columns) == 21 and columns[-1] == t("value.other", "en")
    assert set(columns[:-1]) == set(top.index[:20])
    folded = t("segments.folded", "en", column="city", top=20, more="40")
    assert folded in [c.value for c in at.main.caption]
    table = segments_frame(at)
    other = table[table["city"] == t("value.other", "en")]
    assert int(other[t("funnel.col.leads", "en")].sum()) == int(top.iloc[20:].sum())


def test_a_number_column_of_codes_is_one_segment_per_code_with_the_reason_said(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    """A prefecture code stored as a number is not cut into '14 ≤ x < 23': each code is a
    segment, in the codes' own order, and the page says why; edges the user gives still cut it."""
    frame = demo_frame().assign(pref_code=[(1, 13, 14, 23, 27, 140)[i % 6] for i in range(LEADS)])
    with Store(db_path) as store:
        info = load_files(store, "demo", read_bytes(frame.to_csv(index=False).encode(), "d.csv"))
    assert {s.name: s.role for s in info.dataset.mapping.leads}["pref_code"] == "number"
    at = open_segments(open_app, checked)

    checked(at.selectbox(key="seg_by").set_value("pref_code").run())

    assert not [n for n in at.number_input if n.key == "bins:pref_code"]  # no quantile bins
    codes = t("segments.codes", "en", column="pref_code", values=6)
    assert codes in [c.value for c in at.main.caption]
    table = segments_frame(at)
    by_code = frame.groupby("pref_code").size()
    assert dict(zip(table["pref_code"], table[t("funnel.col.leads", "en")], strict=True)) == {
        str(k): int(v) for k, v in by_code.items()
    }
    checked(at.toggle(key="seg_by_rate:pref_code").set_value(False).run())
    assert list(segments_frame(at)["pref_code"]) == ["1", "13", "14", "23", "27", "140"]

    checked(at.text_input(key="edges:pref_code").set_value("20").run())
    assert list(segments_frame(at)["pref_code"]) == ["< 20", "≥ 20"]
    assert codes not in [c.value for c in at.main.caption]
