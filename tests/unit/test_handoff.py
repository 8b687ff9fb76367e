"""The hand-off list: exactly the hot leads, best first, with the lead's own columns; CSV and
Excel copies that a spreadsheet opens as data, never as formulas."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from funnel.demo import generate_leads
from funnel.filters import NO_FILTERS, Filters
from funnel.handoff import (
    HANDOFF_COLUMNS,
    handoff_frame,
    safe_cell,
    safe_frame,
    to_csv_bytes,
    to_excel_bytes,
)
from funnel.ingest import load_files, read_inputs
from funnel.readers import SourceFile
from funnel.rules import CategoryRule, CountRule, Gate, RuleSet, Tier
from funnel.scoring.leads import score_leads
from funnel.store import RESERVED_PREFIX, DatasetInfo, Store
from funnel.suggest import template_for

#: Company names a hostile lead form could plant (the ingest trims surrounding whitespace).
PLANTED = (
    '=HYPERLINK("http://x","click")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "=1+1",
    "-1+cmd|' /C calc'!A0",
)
COMPANY = "会社名"
RULES = RuleSet(
    name="hand-off",
    rules=(
        CategoryRule("vip", "はい", 100),
        CountRule("trial_signups", 1, 40),
        CountRule("inquiries", 1, 15),
    ),
    gates=(Gate("email_type", ("Competitor",)),),
    tiers=(Tier("hot", 40), Tier("warm", 15), Tier("cold", -math.inf)),
)


@dataclass(frozen=True)
class Loaded:
    store: Store
    info: DatasetInfo
    raw: pd.DataFrame


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    raw = generate_leads(600, seed=11)
    n = len(raw)
    names = [f"株式会社サンプル{i}" for i in range(n)]
    names[: len(PLANTED)] = PLANTED
    raw.insert(1, COMPANY, names)
    raw.insert(2, "balance", np.where(np.arange(n) % 2 == 0, -7, 12))
    raw["tier"] = ["A" if i % 3 == 0 else "B" for i in range(n)]  # the CRM's own tier column
    raw["vip"] = ["はい" if i < len(PLANTED) else "いいえ" for i in range(n)]
    raw.loc[: len(PLANTED) - 1, "email_type"] = "Corporate"  # never knocked out
    path = tmp_path_factory.mktemp("handoff") / "funnel.duckdb"
    with Store(path) as store:
        info = load_files(store, "handoff", SourceFile("leads.parquet", raw, "parquet")).dataset
        yield Loaded(store, info, raw)


@pytest.fixture(scope="module")
def hot(loaded: Loaded) -> pd.DataFrame:
    return handoff_frame(loaded.store, loaded.info, RULES, lang="ja")


def _planted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["id"].isin([f"L{i:07d}" for i in range(1, len(PLANTED) + 1)])]


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- the list ---------------------------------------------------------------------------------


def test_hand_off_list_holds_exactly_the_hot_leads_in_score_order(
    loaded: Loaded, hot: pd.DataFrame
) -> None:
    expected = score_leads(loaded.store, loaded.info, RULES, only="hot", lang="ja")
    assert len(hot) == len(expected) > len(PLANTED)
    assert hot["id"].tolist() == expected["id"].tolist()
    assert hot["score"].tolist() == expected["score"].tolist()
    assert hot["reasons"].tolist() == expected["reasons"].tolist()
    assert set(hot["tier"]) == {"hot"}
    assert hot["score"].is_monotonic_decreasing
    assert hot["score"].dtype == np.int64  # whole points, shown without ".0"


def test_columns_are_id_score_tier_reasons_then_the_leads_own_in_stored_order(
    loaded: Loaded, hot: pd.DataFrame
) -> None:
    own = [c for c in loaded.info.columns if c != "lead_id"]
    renamed = ["tier_lead" if c == "tier" else c for c in own]
    assert list(hot.columns) == [*HANDOFF_COLUMNS, *renamed]
    assert "lead_id" not in hot.columns
    assert not [c for c in hot.columns if c.startswith(RESERVED_PREFIX)]
    assert hot.columns[4] == COMPANY


def test_each_row_carries_that_leads_stored_values(loaded: Loaded, hot: pd.DataFrame) -> None:
    stored = loaded.store.leads_frame(loaded.info).set_index("lead_id")
    for _, row in hot.sample(20, random_state=1).iterrows():
        lead = stored.loc[row["id"]]
        assert row[COMPANY] == lead[COMPANY]
        assert row["balance"] == lead["balance"]
        assert row["tier_lead"] == lead["tier"]
        assert row["industry"] == lead["industry"]


def test_knocked_out_leads_are_never_handed_off(loaded: Loaded, hot: pd.DataFrame) -> None:
    assert "Competitor" not in set(hot["email_type"])
    competitors = loaded.raw[loaded.raw["email_type"] == "Competitor"]
    assert not set(hot["id"]) & set(competitors["lead_id"])


def test_filters_and_other_selections_follow_score_leads(loaded: Loaded) -> None:
    webinar = Filters(equals=(("source", ("Webinar",)),))
    frame = handoff_frame(loaded.store, loaded.info, RULES, webinar)
    expected = score_leads(loaded.store, loaded.info, RULES, webinar, only="hot")
    assert frame["id"].tolist() == expected["id"].tolist()
    assert set(frame["source"]) == {"Webinar"}
    everyone = handoff_frame(loaded.store, loaded.info, RULES, NO_FILTERS, only=None)
    assert len(everyone) == loaded.info.leads
    assert set(everyone["tier"]) == {"hot", "warm", "cold"}


def test_an_empty_hand_off_list_still_has_every_column(loaded: Loaded) -> None:
    nobody = RULES.with_threshold("hot", 10_000).with_threshold("warm", 5_000)
    frame = handoff_frame(loaded.store, loaded.info, nobody)
    assert frame.empty
    assert list(frame.columns)[:4] == list(HANDOFF_COLUMNS)
    assert len(frame.columns) == 4 + len(loaded.info.columns) - 1
    assert len(_csv_rows(to_csv_bytes(frame))) == 1
    sheet = load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    assert sheet is not None and sheet.max_row == 1


# --- formula injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x","click")',
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        " =1",
        "\r=1",
        "  @x",
        "\u3000=1",
        "＝1+1",
        "-1+cmd|' /C calc'!A0",
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_quote_in_front(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Acme", "株式会社テスト", "", "a=b", "foo@example.com", "1-2"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [-5, -2.5, np.int64(-3), np.float64(-0.5), 0, None, True])
def test_numbers_and_empty_cells_are_data_not_formulas(value: object) -> None:
    assert safe_cell(value) is value


def test_csv_neutralises_a_formula_planted_in_a_company_name(hot: pd.DataFrame) -> None:
    data = to_csv_bytes(hot)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Japanese text correctly
    rows = _csv_rows(data)
    header, body = rows[0], rows[1:]
    assert len(body) == len(hot)
    company = header.index(COMPANY)
    by_id = {r[0]: r for r in body}
    planted = _planted_rows(hot)
    assert len(planted) == len(PLANTED)
    for _, row in planted.iterrows():
        cell = by_id[row["id"]][company]
        assert cell == "'" + row[COMPANY]
        assert cell.startswith("'")
    others = [r[company] for r in body if r[0] not in set(planted["id"])]
    assert others and all(c.startswith("株式会社サンプル") for c in others)


def test_csv_keeps_numbers_numeric_and_quotes_text(hot: pd.DataFrame) -> None:
    text = to_csv_bytes(hot).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].startswith('"id","score","tier","reasons","会社名","balance"')
    first = next(csv.reader([lines[1]], quoting=csv.QUOTE_NONNUMERIC))
    assert isinstance(first[1], float) and first[1] == hot["score"].iloc[0]  # unquoted number
    assert first[5] in (-7.0, 12.0)  # a stored negative number stays a number, no quote added
    rows = _csv_rows(text.encode("utf-8"))
    balance = rows[0].index("balance")
    assert {r[balance] for r in rows[1:]} <= {"-7", "12"}


def test_excel_stores_planted_formulas_as_plain_text(hot: pd.DataFrame) -> None:
    book = load_workbook(io.BytesIO(to_excel_bytes(hot)))
    sheet = book.active
    assert sheet is not None
    cells = list(sheet.iter_rows())
    header = [c.value for c in cells[0]]
    assert header[:6] == ["id", "score", "tier", "reasons", COMPANY, "balance"]
    assert len(cells) == len(hot) + 1
    assert not [c for row in cells for c in row if c.data_type == "f"]
    company, balance, score = header.index(COMPANY), header.index("balance"), 1
    by_id = {row[0].value: row for row in cells[1:]}
    for _, lead in _planted_rows(hot).iterrows():
        cell = by_id[lead["id"]][company]
        assert cell.data_type == "s"
        assert isinstance(cell.value, str) and cell.value == "'" + lead[COMPANY]
    for row in cells[1:]:
        assert isinstance(row[balance].value, int) and row[balance].value in (-7, 12)
        assert row[balance].data_type == "n"
        assert isinstance(row[score].value, int)
    assert any(str(row[company].value).startswith("株式会社サンプル") for row in cells[1:])


def test_excel_keeps_dates_as_dates(hot: pd.DataFrame) -> None:
    sheet = load_workbook(io.BytesIO(to_excel_bytes(hot))).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    created = header.index("created_at")
    value = sheet.cell(row=2, column=created + 1).value
    assert value == hot["created_at"].iloc[0].to_pydatetime()


def test_hostile_column_names_are_neutralised_too() -> None:
    frame = pd.DataFrame(
        {"=cmd|' /C calc'!A0": ["x"], "+total": [-1], "name": ["\t=1"], "#N/A": ["#N/A"]}
    )
    header = _csv_rows(to_csv_bytes(frame))[0]
    assert header == ["'=cmd|' /C calc'!A0", "'+total", "name", "#N/A"]
    sheet = load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    assert sheet is not None
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == header
    assert all(c.data_type == "s" for c in rows[0])
    assert rows[1][0].value == "x" and rows[1][1].value == -1
    assert rows[1][2].value == "'\t=1" and rows[1][2].data_type == "s"
    assert rows[1][3].value == "#N/A" and rows[1][3].data_type == "s"  # text, not an error cell


def test_excel_drops_characters_a_workbook_cannot_hold() -> None:
    frame = pd.DataFrame(
        {
            "note": ["a\x01b\x1fc", "x" * 40_000],
            "when": pd.to_datetime(["2026-01-02 03:04", "2026-01-03 00:00"]).tz_localize(
                "Asia/Tokyo"
            ),
        }
    )
    sheet = load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    assert sheet is not None
    assert sheet["A2"].value == "abc"
    assert len(sheet["A3"].value) == 32_767
    assert sheet["B2"].value.hour == 3  # local time kept, zone dropped


def test_safe_frame_leaves_the_input_untouched() -> None:
    frame = pd.DataFrame({"a": ["=1", "ok"], "n": [-1, 2]})
    out = safe_frame(frame)
    assert out["a"].tolist() == ["'=1", "ok"]
    assert out["n"].tolist() == [-1, 2]
    assert frame["a"].tolist() == ["=1", "ok"]


def test_the_workbook_written_to_a_file_opens_with_a_valid_sheet_name(
    tmp_path: Path, hot: pd.DataFrame
) -> None:
    path = tmp_path / "hot.xlsx"
    path.write_bytes(to_excel_bytes(hot, sheet="hot: leads"))
    book = load_workbook(path)
    assert book.sheetnames == ["hot_ leads"]
    assert book.active is not None and book.active.max_row == len(hot) + 1


def test_the_hand_off_list_leaves_out_the_columns_of_the_closed_deals_file(
    store: Store, olist: tuple[Path, Path]
) -> None:
    info = load_files(store, "olist", *read_inputs(olist[0], olist[1])).dataset
    joined = {s.name for s in info.mapping.leads if s.reason == "leak.outcomes_file"}
    assert "seller_id" in joined  # the deals file's columns were joined onto the leads
    frame = handoff_frame(store, info, template_for(info), only=None)
    assert not joined & set(frame.columns)
    assert "origin" in frame.columns  # the lead's own columns stay
