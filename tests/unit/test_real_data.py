"""Real exports nobody on the team wrote: Olist (leads + won deals), UCI bank (one wide file),
and a wide single-file CRM export (tests/fixtures/crm_wide_export.csv).

The expected numbers come from ../shared/datasets/README.md. Bank data: Moro, Cortez & Rita
(2014), "A data-driven approach to predict the success of bank telemarketing", Decision Support
Systems, doi:10.1016/j.dss.2014.03.001.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from funnel.cli import main
from funnel.i18n import t
from funnel.ingest import LoadResult, load_files, read_inputs
from funnel.readers import read_file
from funnel.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CRM_EXPORT = FIXTURES / "crm_wide_export.csv"
DEAL_COLUMNS = (
    "seller_id",
    "sdr_id",
    "sr_id",
    "won_date",
    "business_segment",
    "lead_type",
    "lead_behaviour_profile",
    "has_company",
    "has_gtin",
    "average_stock",
    "business_type",
    "declared_product_catalog_size",
    "declared_monthly_revenue",
)
BANK_COLUMNS = (
    "age",
    "job",
    "marital",
    "education",
    "default",
    "balance",
    "housing",
    "loan",
    "contact",
    "day",
    "month",
    "duration",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "y",
)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("real") / "funnel.duckdb") as store:
        yield store


@pytest.fixture(scope="module")
def olist_loaded(real_store: Store, shared_datasets: Path) -> LoadResult:
    base = shared_datasets / "olist_marketing_funnel"
    leads, deals, _ = read_inputs(
        base / "olist_marketing_qualified_leads_dataset.csv",
        base / "olist_closed_deals_dataset.csv",
    )
    return load_files(real_store, "olist", leads, deals)


@pytest.fixture(scope="module")
def bank_loaded(real_store: Store, shared_datasets: Path) -> LoadResult:
    bank = read_file(shared_datasets / "uci_bank_marketing" / "bank-full.csv")
    return load_files(real_store, "bank", bank, outcome_column="y")


def scalar(store: Store, sql: str, params: list[object] | None = None) -> object:
    return store.fetch_frame(sql, params or []).iloc[0, 0]


# --- Olist: a leads file and a won-deals file ----------------------------------------------------


def test_olist_stores_8000_leads_of_which_842_won(olist_loaded: LoadResult) -> None:
    info = olist_loaded.dataset
    # the deals file lists won deals only: the other leads are not won yet (open), and count
    # as not won in back-tests once mature (funnel.population)
    assert (info.leads, info.won, info.lost, info.open) == (8000, 842, 0, 7158)
    assert info.mapping.column("id") == "mql_id"
    assert info.mapping.column("created") == "first_contact_date"
    assert info.mapping.column("source") == "origin"
    assert info.mapping.outcome is not None and info.mapping.outcome.won_only


def test_olist_deal_columns_are_flagged_as_leaks_and_never_offered_as_features(
    olist_loaded: LoadResult,
) -> None:
    mapping = olist_loaded.dataset.mapping
    specs = {s.name: s for s in mapping.leads}
    joined = [c for c in DEAL_COLUMNS if c in specs]
    assert len(joined) >= 12  # every deal detail (won_date becomes closed_at)
    for name in joined:
        spec = specs[name]
        assert spec.leak, f"{name} is known only for won leads"
        assert spec.reason == "leak.outcomes_file"
        assert t(spec.reason, "en") and t(spec.reason, "ja") != t(spec.reason, "en")
    features = {s.name for s in mapping.features()}
    assert not features & set(DEAL_COLUMNS)
    assert "origin" in features


def test_olist_unknown_and_empty_origins_are_stored_as_missing(
    real_store: Store, olist_loaded: LoadResult
) -> None:
    table = olist_loaded.dataset.table()
    assert scalar(real_store, f"SELECT count(*) FROM {table} WHERE origin IS NULL") == 60 + 1099
    assert scalar(real_store, f"SELECT count(*) FROM {table} WHERE origin = 'unknown'") == 0
    note = next(
        p for p in olist_loaded.problems if p.code == "placeholders" and p.column == "origin"
    )
    assert note.count == 1099 and "'unknown'" in note.message("en")


def test_olist_conversion_by_origin_matches_the_published_counts(
    real_store: Store, olist_loaded: LoadResult
) -> None:
    info = olist_loaded.dataset
    frame = real_store.fetch_frame(
        f"""SELECT l.origin, count(*) AS leads, count(*) FILTER (WHERE o.outcome = 'won') AS won
            FROM {info.table("leads")} l JOIN {info.table("outcomes")} o ON o.lead_id = l.mql_id
            GROUP BY l.origin"""
    )
    by_origin = {r.origin: (r.leads, r.won) for r in frame.itertuples()}
    assert by_origin["paid_search"] == (1586, 195)
    assert by_origin["organic_search"] == (2296, 271)
    assert by_origin["social"] == (1350, 75)
    assert by_origin["email"] == (493, 15)


def test_olist_reports_leads_absent_from_the_deals_file_and_the_early_deal(
    olist_loaded: LoadResult,
) -> None:
    notes = {p.code: p for p in olist_loaded.problems}
    assert notes["absent_not_won"].count == 7158
    early = notes["closed_before_created"]
    assert early.severity == "warning" and early.count == 1
    assert "won_date" in early.message("en")


# --- UCI bank: one wide semicolon file, yes/no outcome, no id ------------------------------------


def test_bank_stores_45211_leads_of_which_5289_won(bank_loaded: LoadResult) -> None:
    info = bank_loaded.dataset
    assert (info.leads, info.won, info.lost, info.open) == (45211, 5289, 39922, 0)
    assert info.files[0]["delimiter"] == ";"
    assert info.mapping.outcome is not None
    assert info.mapping.outcome.won == ("yes",) and info.mapping.outcome.lost == ("no",)


def test_bank_unknown_values_become_null(real_store: Store, bank_loaded: LoadResult) -> None:
    table = bank_loaded.dataset.table()
    expected = {"poutcome": 36959, "contact": 13020, "education": 1857, "job": 288}
    for column, missing in expected.items():
        assert scalar(real_store, f'SELECT count(*) FROM {table} WHERE "{column}" IS NULL') == (
            missing
        ), column
    for column in ("job", "marital", "education", "default", "contact", "month", "poutcome"):
        n = scalar(real_store, f'SELECT count(*) FROM {table} WHERE "{column}" = ?', ["unknown"])
        assert n == 0, column


def test_bank_sentinel_pdays_stays_a_number(real_store: Store, bank_loaded: LoadResult) -> None:
    table = bank_loaded.dataset.table()
    assert scalar(real_store, f"SELECT count(*) FROM {table} WHERE pdays = -1") == 36954


def test_bank_rows_get_surrogate_ids_in_file_order(
    real_store: Store, bank_loaded: LoadResult
) -> None:
    info = bank_loaded.dataset
    id_col = info.mapping.column("id")
    assert id_col == "lead_id"
    assert any(p.code == "surrogate_id" for p in bank_loaded.problems)
    first = real_store.fetch_frame(
        f"SELECT lead_id, age, job, balance FROM {info.table()} ORDER BY lead_id LIMIT 2"
    )
    assert first.to_dict("records") == [
        {"lead_id": "R000001", "age": 58, "job": "management", "balance": 2143},
        {"lead_id": "R000002", "age": 44, "job": "technician", "balance": 29},
    ]


# --- the same through the command line -----------------------------------------------------------


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    db = tmp_path_factory.mktemp("cli") / "funnel.duckdb"
    olist = shared_datasets / "olist_marketing_funnel"
    bank = shared_datasets / "uci_bank_marketing" / "bank-full.csv"
    leads = str(olist / "olist_marketing_qualified_leads_dataset.csv")
    deals = str(olist / "olist_closed_deals_dataset.csv")
    assert main(["load", leads, "--outcomes", deals, "--dataset", "olist", "--db", str(db)]) == 0
    assert main(["load", str(bank), "--outcome", "y", "--dataset", "bank", "--db", str(db)]) == 0
    return db


def datasets_json(db: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["datasets", "--json", "--db", str(db)]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return {d["name"]: d for d in json.loads(out.out)}


def test_cli_loads_the_real_datasets_with_the_same_counts(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = datasets_json(cli_db, capsys)
    assert set(rows) == {"olist", "bank"}
    olist, bank = rows["olist"], rows["bank"]
    assert (olist["leads"], olist["won"], olist["lost"], olist["open"]) == (8000, 842, 0, 7158)
    assert (bank["leads"], bank["won"], bank["lost"], bank["open"]) == (45211, 5289, 39922, 0)


def test_cli_datasets_json_lists_original_column_names_and_load_time(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = datasets_json(cli_db, capsys)
    for row in rows.values():
        assert {"name", "leads", "won", "lost", "open", "columns", "loaded_at"} <= set(row)
        loaded_at = datetime.fromisoformat(str(row["loaded_at"]))
        assert abs((datetime.now() - loaded_at).total_seconds()) < 3600
    olist_columns = rows["olist"]["columns"]
    assert olist_columns[:4] == ["mql_id", "first_contact_date", "landing_page_id", "origin"]
    assert set(DEAL_COLUMNS) - {"won_date"} <= set(olist_columns)  # type: ignore[arg-type]
    bank_columns = rows["bank"]["columns"]
    assert [c for c in bank_columns if c != "lead_id"] == list(BANK_COLUMNS)  # type: ignore[union-attr]


def test_bank_surrogate_ids_are_stable_across_two_loads(
    real_store: Store, bank_loaded: LoadResult, cli_db: Path
) -> None:
    # the leads as loaded (when each load first saw them differs, by a few seconds)
    own = "* EXCLUDE (_funnel_first_seen, _funnel_outcome_since)"
    first = real_store.fetch_frame(
        f"SELECT {own} FROM {bank_loaded.dataset.table()} ORDER BY lead_id"
    )
    with Store(cli_db, read_only=True) as other:
        second = other.fetch_frame(
            f"SELECT {own} FROM {other.require('bank').table()} ORDER BY lead_id"
        )
    assert first.equals(second)


# --- a wide single-file CRM export ---------------------------------------------------------------


@pytest.fixture(scope="module")
def crm_raw() -> list[dict[str, str]]:
    with CRM_EXPORT.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def crm_loaded(real_store: Store) -> LoadResult:
    return load_files(real_store, "crm", read_file(CRM_EXPORT))


def test_crm_export_outcome_is_detected_from_converted_0_1(
    crm_loaded: LoadResult, crm_raw: list[dict[str, str]]
) -> None:
    info = crm_loaded.dataset
    outcome = info.mapping.outcome
    assert outcome is not None and outcome.column == "Converted"
    assert (outcome.won, outcome.lost) == (("1",), ("0",))
    converted = Counter(r["Converted"] for r in crm_raw)
    assert (info.leads, info.won, info.lost, info.open) == (
        len(crm_raw),
        converted["1"],
        converted["0"],
        0,
    )
    assert info.mapping.column("id") == "Lead Number"
    assert info.columns == tuple(crm_raw[0])  # headers kept exactly, spaces and all


def test_crm_export_select_placeholders_become_null(
    real_store: Store, crm_loaded: LoadResult, crm_raw: list[dict[str, str]]
) -> None:
    table = crm_loaded.dataset.table()
    for column in ("Specialization", "City"):
        raw_missing = sum(r[column] in ("", "Select") for r in crm_raw)
        selects = sum(r[column] == "Select" for r in crm_raw)
        assert selects > 0
        assert scalar(real_store, f'SELECT count(*) FROM {table} WHERE "{column}" IS NULL') == (
            raw_missing
        )
        assert (
            scalar(real_store, f'SELECT count(*) FROM {table} WHERE "{column}" = ?', ["Select"])
            == 0
        )
        note = next(
            p for p in crm_loaded.problems if p.code == "placeholders" and p.column == column
        )
        assert note.count == selects and "'Select'" in note.message("en")


def test_crm_export_mixed_case_sources_are_merged_and_reported(
    real_store: Store, crm_loaded: LoadResult, crm_raw: list[dict[str, str]]
) -> None:
    raw = Counter(r["Lead Source"] for r in crm_raw)
    assert raw["google"] > 0 and raw["Google"] > raw["google"]
    table = crm_loaded.dataset.table()
    stored = real_store.fetch_frame(
        f'SELECT "Lead Source" AS s, count(*) AS n FROM {table} GROUP BY 1'
    )
    counts = dict(zip(stored["s"], stored["n"], strict=True))
    assert "google" not in counts
    assert counts["Google"] == raw["Google"] + raw["google"]
    note = next(p for p in crm_loaded.problems if p.code == "merged_spellings")
    assert note.severity == "info" and note.column == "Lead Source"
    assert note.values == ("google",) and note.count == raw["google"]
    message = note.message("en")
    assert "'google'" in message and "Google" in message and "Lead Source" in message
    assert note.message("ja") != message


def test_crm_export_tags_column_is_flagged_as_a_leak(crm_loaded: LoadResult) -> None:
    mapping = crm_loaded.dataset.mapping
    tags = next(s for s in mapping.leads if s.name == "Tags")
    # a whole-name sale hint ("Tags"), and its data agree: one tag holds two thirds of the won
    # leads and no lost one
    assert tags.leak and tags.reason == "leak.named"
    features = {s.name for s in mapping.features()}
    assert "Tags" not in features
    assert {"Do Not Email", "Specialization", "TotalVisits"} <= features


def test_crm_export_lead_source_is_the_source_not_lead_origin(crm_loaded: LoadResult) -> None:
    # "Lead Origin" holds the form type (Landing Page Submission, API, Lead Add Form);
    # "Lead Source" is the channel, and the exact name for it.
    assert crm_loaded.dataset.mapping.column("source") == "Lead Source"
