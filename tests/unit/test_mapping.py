"""The proposed column mapping: roles from English and Japanese headers, outcome values, leak
flags, and the YAML file users edit (round trip and clear errors)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.ingest import load_files, prepare
from funnel.mapping import FEATURE_ROLES, ROLES, ColumnSpec, Mapping
from funnel.mapping.files import MappingFileError, mapping_from_yaml, mapping_to_yaml
from funnel.mapping.leaks import reason_text
from funnel.mapping.propose import propose_mapping
from funnel.mapping.rows import sample_values
from funnel.parsing import DEFAULT_PLACEHOLDERS
from funnel.readers import SourceFile, read_bytes, read_file
from funnel.store import Store

CRM_EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "crm_wide_export.csv"


def csv_source(frame: pd.DataFrame, name: str = "leads.csv", encoding: str = "utf-8") -> SourceFile:
    """Read a frame back the way an uploaded CSV export is read."""
    return read_bytes(frame.to_csv(index=False).encode(encoding), name)


def roles(mapping: Mapping) -> dict[str, str]:
    return {s.name: s.role for s in mapping.leads}


# --- Japanese headers ----------------------------------------------------------------------------


def japanese_leads(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "リードID": [f"A{i:04d}" for i in range(n)],
            "作成日": [f"2025/04/{i % 28 + 1:02d}" for i in range(n)],
            "流入元": ["展示会", "Web広告", "紹介", "セミナー"] * (n // 4),
            "業種": ["製造業", "小売", "IT", "金融", "不明"] * (n // 5),
            "受注": (["受注"] + ["失注"] * 3) * (n // 4),
        }
    )


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_japanese_headers_are_recognised(encoding: str) -> None:
    source = csv_source(japanese_leads(), "リード一覧.csv", encoding)

    mapping = propose_mapping(source)

    assert roles(mapping) == {
        "リードID": "id",
        "作成日": "created",
        "流入元": "source",
        "業種": "attribute",
        "受注": "outcome",
    }
    assert mapping.outcome is not None
    assert (mapping.outcome.won, mapping.outcome.lost) == (("受注",), ("失注",))
    assert [s.name for s in mapping.features()] == ["流入元", "業種"]
    prepared = prepare(source, mapping)
    assert prepared.counts == {"leads": 40, "won": 10, "lost": 30, "open": 0}
    placeholder = next(p for p in prepared.problems if p.code == "placeholders")
    assert placeholder.column == "業種" and placeholder.values == ("不明",)


def test_other_japanese_header_spellings_are_recognised() -> None:
    frame = pd.DataFrame(
        {
            "顧客番号": [f"C-{i:05d}" for i in range(30)],
            "登録日時": [f"2025年5月{i % 28 + 1}日" for i in range(30)],
            "流入経路": ["展示会", "広告", "紹介"] * 10,
            "成約": ["はい", "いいえ", "いいえ"] * 10,
        }
    )

    mapping = propose_mapping(csv_source(frame, encoding="cp932"))

    assert roles(mapping) == {
        "顧客番号": "id",
        "登録日時": "created",
        "流入経路": "source",
        "成約": "outcome",
    }
    assert mapping.outcome is not None and mapping.outcome.won == ("はい",)


def test_japanese_demo_headers_map_like_the_english_ones() -> None:
    english = propose_mapping(csv_source(generate_leads(200, seed=2)))
    japanese = propose_mapping(csv_source(generate_leads(200, seed=2, lang="ja"), encoding="cp932"))

    assert [s.role for s in japanese.leads] == [s.role for s in english.leads]
    assert [s.leak for s in japanese.leads] == [s.leak for s in english.leads]


# --- outcome values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("won", "lost"),
    [
        ("1", "0"),
        ("yes", "no"),
        ("Yes", "No"),
        ("true", "false"),
        ("TRUE", "FALSE"),
        ("Won", "Lost"),
        ("Closed Won", "Closed Lost"),
        ("Y", "N"),
        ("受注", "失注"),
        ("はい", "いいえ"),
    ],
)
def test_outcome_values_are_recognised(won: str, lost: str) -> None:
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:03d}" for i in range(40)],
            "outcome": [won if i % 4 == 0 else lost for i in range(40)],
        }
    )
    source = csv_source(frame)

    mapping = propose_mapping(source)

    assert mapping.column("outcome") == "outcome"
    assert mapping.outcome is not None
    assert (mapping.outcome.won, mapping.outcome.lost) == ((won,), (lost,))
    assert prepare(source, mapping).counts == {"leads": 40, "won": 10, "lost": 30, "open": 0}


def test_a_boolean_outcome_column_in_parquet_is_recognised() -> None:
    frame = pd.DataFrame(
        {"lead_id": [f"L{i}" for i in range(20)], "is_won": [i % 4 == 0 for i in range(20)]}
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    source = read_bytes(buffer.getvalue(), "leads.parquet")

    mapping = propose_mapping(source)

    assert mapping.column("outcome") == "is_won"
    assert prepare(source, mapping).counts == {"leads": 20, "won": 5, "lost": 15, "open": 0}


def test_open_and_blank_outcomes_count_as_open() -> None:
    values = ["Won", "Lost", "Open", ""] * 10
    frame = pd.DataFrame({"lead_id": [f"L{i:03d}" for i in range(40)], "outcome": values})
    source = csv_source(frame)

    mapping = propose_mapping(source)

    assert mapping.outcome is not None and mapping.outcome.open == ("Open",)
    assert prepare(source, mapping).counts == {"leads": 40, "won": 10, "lost": 10, "open": 20}


def test_an_outcome_column_can_be_named_explicitly() -> None:
    frame = pd.DataFrame(
        {"lead_id": [f"L{i:03d}" for i in range(20)], "signed": ["ok", "ng", "ng", "ng"] * 5}
    )
    source = csv_source(frame)

    mapping = propose_mapping(source, outcome_column="signed")

    assert mapping.column("outcome") == "signed"
    assert mapping.outcome is not None and mapping.outcome.won == ()


# --- leak flags and features ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaky() -> SourceFile:
    rng = np.random.default_rng(1)
    n = 300
    won = rng.random(n) < 0.2
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(n)],
            "created_at": pd.date_range("2025-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "source": rng.choice(["Web", "Ads", "Referral"], n),
            "industry": rng.choice(["IT", "Retail", "Finance"], n),
            "web_visits": rng.integers(0, 20, n),
            "contract_type": np.where(won, rng.choice(["Annual", "Monthly"], n), ""),
            "follow_up_result": np.where(
                ~won & (rng.random(n) < 0.5), rng.choice(["No answer", "Not now"], n), ""
            ),
            "account_tier": np.where(
                won & (rng.random(n) < 0.7), "Gold", rng.choice(["Silver", "Bronze"], n)
            ),
            "Lost Reason": np.where(won, "", rng.choice(["Price", "Timing"], n)),
            "outcome": np.where(won, "Won", "Lost"),
        }
    )
    return csv_source(frame)


def test_columns_recorded_after_the_sale_are_flagged_with_a_reason(leaky: SourceFile) -> None:
    specs = {s.name: s for s in propose_mapping(leaky).leads}

    assert (specs["contract_type"].leak, specs["contract_type"].reason) == (True, "leak.fill")
    assert reason_text(specs["contract_type"]).startswith("filled for 100% of won leads and 0%")
    assert (specs["follow_up_result"].leak, specs["follow_up_result"].reason) == (
        True,
        "leak.fill",
    )
    assert reason_text(specs["follow_up_result"]).startswith("filled for 0% of won leads")
    assert (specs["Lost Reason"].leak, specs["Lost Reason"].reason) == (True, "leak.fill")
    # Gold for 70% of won leads and no lost one: strong, but no proof it is written after the
    # sale (a tier known beforehand looks the same); separation 0.70 is below the 0.90 bar.
    assert not specs["account_tier"].leak
    assert not specs["industry"].leak and not specs["web_visits"].leak


def test_features_never_include_leaks_ids_dates_or_the_outcome(leaky: SourceFile) -> None:
    mapping = propose_mapping(leaky)

    features = mapping.features()

    assert [s.name for s in features] == ["source", "industry", "web_visits", "account_tier"]
    assert all(s.role in FEATURE_ROLES and not s.leak for s in features)


# --- YAML ----------------------------------------------------------------------------------------


def two_file_mapping() -> Mapping:
    leads = csv_source(
        pd.DataFrame(
            {
                "mql_id": [f"m{i:03d}" for i in range(30)],
                "first_contact_date": [f"2025-03-{i % 28 + 1:02d}" for i in range(30)],
                "origin": ["social", "email", "paid_search"] * 10,
            }
        ),
        "marketing_qualified_leads.csv",
    )
    deals = csv_source(
        pd.DataFrame(
            {
                "mql_id": ["m001", "m004", "m010"],
                "won_date": ["2025-05-01 10:00:00"] * 3,
                "business_segment": ["pet", "car_accessories", "pet"],
            }
        ),
        "closed_deals.csv",
    )
    return propose_mapping(leads, deals)


@pytest.mark.parametrize(
    "make",
    [
        lambda: propose_mapping(csv_source(generate_leads(120, seed=4))),
        lambda: propose_mapping(
            csv_source(generate_leads(120, seed=4, lang="ja"), encoding="cp932")
        ),
        lambda: propose_mapping(read_file(CRM_EXPORT)),
        two_file_mapping,
    ],
    ids=["demo-en", "demo-ja", "crm-export", "leads-and-deals"],
)
def test_a_mapping_survives_a_yaml_round_trip(make: object) -> None:
    mapping = make()  # type: ignore[operator]

    text = mapping_to_yaml(mapping)

    assert mapping_from_yaml(text) == mapping
    assert mapping_to_yaml(mapping_from_yaml(text)) == text


def test_the_yaml_is_readable_and_keeps_japanese_names_and_leak_reasons() -> None:
    mapping = propose_mapping(csv_source(generate_leads(120, seed=4, lang="ja"), encoding="cp932"))

    text = mapping_to_yaml(mapping)

    assert text.startswith("# funnel column mapping.")
    assert "  リードID: id\n" in text
    assert "  MQL日: stage:mql\n" in text
    # 120 demo leads hold too few won ones to check the data: the name alone flags it
    assert "  失注理由:\n    role: attribute\n    leak: true\n    reason: leak.name_only\n" in text


def test_an_edited_mapping_is_what_gets_stored(store: Store) -> None:
    source = csv_source(generate_leads(120, seed=4))
    text = mapping_to_yaml(propose_mapping(source))
    assert "  region: attribute\n" in text and "  industry: attribute\n" in text
    edited = text.replace("  region: attribute\n", "  region: ignore\n").replace(
        "  industry: attribute\n", "  industry:\n    role: attribute\n    leak: true\n"
    )

    info = load_files(store, "edited", source, mapping=mapping_from_yaml(edited)).dataset

    specs = {s.name: s for s in info.mapping.leads}
    assert specs["region"].role == "ignore"
    assert specs["industry"].leak and specs["industry"].reason is None
    assert {"region", "industry"}.isdisjoint(s.name for s in info.mapping.features())
    assert "region" in info.columns  # ignored columns are still stored as text


def test_a_quoted_version_number_is_accepted() -> None:
    mapping = mapping_from_yaml("version: '1'\nleads:\n  lead_id: id\n")
    assert mapping.column("id") == "lead_id"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "version: 1\nleads:\n  lead_id: identifier\n",
            ["last_month.yaml", "'lead_id'", "'identifier'", ", ".join(ROLES)],
        ),
        (
            "version: 1\nleads:\n  lead_id: id\n  visits:\n    role: count\n    leak: true\n",
            ["'visits'", "'count'"],
        ),
        ("version: 3\nleads:\n  lead_id: id\n", ["version 3", "newer", "upgrade"]),
        ("version: one\nleads:\n  lead_id: id\n", ["version must be a number", "'one'"]),
        ("- lead_id\n- source\n", ["last_month.yaml", "expected a mapping"]),
        ("leads: [lead_id, source\n", ["last_month.yaml", "not valid YAML"]),
        ("version: 1\n", ["'leads:' must list"]),
        ("leads:\n  lead_id: id\noutcome:\n  file: deals\n", ["outcome.file", "'outcomes'"]),
        ("leads:\n  lead_id: id\nplaceholders: unknown\n", ["placeholders must be a list"]),
    ],
    ids=[
        "unknown-role",
        "unknown-role-in-long-form",
        "newer-version",
        "version-not-a-number",
        "a-list",
        "broken-yaml",
        "no-leads",
        "bad-outcome-file",
        "placeholders-not-a-list",
    ],
)
def test_mapping_yaml_errors_say_what_and_where(text: str, fragments: list[str]) -> None:
    with pytest.raises(MappingFileError) as caught:
        mapping_from_yaml(text, source="last_month.yaml")

    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message


def test_stage_roles_round_trip_through_yaml() -> None:
    mapping = mapping_from_yaml(
        "version: 1\nleads:\n  lead_id: id\n  mql_date: stage:mql\n  sql_date: 'stage: sql'\n"
    )

    assert mapping.leads[1] == ColumnSpec("mql_date", "stage", "mql")
    assert mapping.leads[2] == ColumnSpec("sql_date", "stage", "sql")
    assert mapping.stage_columns() == {"mql": "mql_date", "sql": "sql_date"}


def test_the_users_placeholders_count_as_missing_when_judging_a_columns_kind() -> None:
    """A creation-date column half of whose filled cells are dates, the rest the user's own
    placeholder ("未入力") and junk, is the creation date once that placeholder is declared
    (validation then reports the junk); with the default list the placeholder is a value."""
    n = 100
    dates = [f"2024-01-{i % 28 + 1:02d}" for i in range(30)]
    counts = [str(i) for i in range(30)]
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "created_at": ["未入力"] * 40 + dates + ["see notes"] * 30,
            "web_visits_total": ["未入力"] * 40 + counts + ["many"] * 30,
            "outcome": ["won", "lost"] * (n // 2),
        }
    )
    source = csv_source(frame)
    default = propose_mapping(source)
    assert roles(default).get("created_at") != "created"
    assert roles(default).get("web_visits_total") != "behaviour"
    mine = propose_mapping(source, placeholders=(*DEFAULT_PLACEHOLDERS, "未入力"))
    assert roles(mine)["created_at"] == "created"
    assert roles(mine)["web_visits_total"] == "behaviour"


def test_sample_values_looks_further_when_the_head_of_a_column_is_empty() -> None:
    assert sample_values(pd.Series([None] * 6000 + ["a", "b"])) == "a, b"
