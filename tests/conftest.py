"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from funnel.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FUNNEL_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """The real public datasets beside the repository (CI always has them)."""
    if not SHARED.is_dir():
        pytest.skip(f"real datasets not found at {SHARED} (a fresh clone without ../shared)")
    return SHARED


@pytest.fixture
def olist(shared_datasets: Path) -> tuple[Path, Path]:
    base = shared_datasets / "olist_marketing_funnel"
    return (
        base / "olist_marketing_qualified_leads_dataset.csv",
        base / "olist_closed_deals_dataset.csv",
    )


@pytest.fixture
def bank(shared_datasets: Path) -> Path:
    return shared_datasets / "uci_bank_marketing" / "bank-full.csv"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "funnel.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
        yield s
