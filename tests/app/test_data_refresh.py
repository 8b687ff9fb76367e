"""Data page: loading into a dataset that exists asks to update it by lead id or replace it;
an update shows its counts before anything is stored and asks before recorded outcomes change;
every load is listed in the dataset's history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_later, generate_leads
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.store import DatasetInfo, Store
from tests.support import snapshot

N = 1200


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8")


@pytest.fixture
def exports(db_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``crm`` stored from September's export; November's with 10 leads gone, one lost deal
    won and the leads created since."""
    first = generate_leads(N, seed=11)
    later = generate_later(N, seed=11, months=2).iloc[10:].copy()
    revived = later.index[later["outcome"].eq("Lost")][0]
    later.loc[revived, "outcome"] = "Won"
    with Store(db_path) as store:
        load_files(store, "crm", read_bytes(csv_bytes(first), "crm-september.csv"))
    return first, later


def upload(at: AppTest, name: str, data: bytes, dataset: str) -> AppTest:
    at.file_uploader(key="up_leads").upload(name, data, "text/csv")
    at.run()
    at.text_input(key="dataset_name").set_value(dataset)
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_an_update_shows_its_counts_asks_before_a_recorded_outcome_changes_then_stores(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    exports: tuple[pd.DataFrame, pd.DataFrame],
    db_path: Path,
) -> None:
    first, later = exports
    with Store(db_path) as store:
        before = snapshot(store, "crm")
    at = checked(upload(open_app("data"), "crm-november.csv", csv_bytes(later), "crm"))
    assert at.radio(key="load_mode").value == "refresh"  # updating is the default
    assert "load" not in [b.key for b in at.button]

    checked(at.button(key="refresh_check").click().run())

    added = int((~later["lead_id"].isin(first["lead_id"])).sum())
    shown = metrics(at)
    assert shown[t("refresh.metric.added", "en")] == f"{added:,}"
    assert shown[t("refresh.metric.missing", "en")] == "10"
    assert any("1 outcomes already recorded" in w.value for w in at.warning)
    assert at.button(key="refresh_commit").disabled
    with Store(db_path) as store:
        assert snapshot(store, "crm") == before  # nothing stored by checking

    at.checkbox(key="accept_changed").check()
    checked(at.run())
    checked(at.button(key="refresh_commit").click().run())

    assert any(f"{added:,} leads added" in s.value for s in at.success)
    with Store(db_path) as store:
        info = store.require("crm")
        assert info.leads == N + added
        assert [r.mode for r in store.load_history("crm")] == ["new", "refresh"]
    history = [df.value for df in at.dataframe if t("loads.col.files", "en") in df.value.columns]
    assert len(history) == 1 and len(history[0]) == 2
    assert "crm-november.csv" in history[0][t("loads.col.files", "en")].iloc[0]  # newest first


def test_replacing_is_a_choice_that_says_what_it_does(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    exports: tuple[pd.DataFrame, pd.DataFrame],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    _, later = exports
    at = checked(upload(open_app("data"), "crm-november.csv", csv_bytes(later), "crm"))
    at.radio(key="load_mode").set_value("replace")
    checked(at.run())

    assert any(f"replaces crm ({N:,} leads)" in w.value for w in at.warning)
    checked(at.button(key="load").click().run())

    assert stored()["crm"].leads == len(later)


def test_files_that_cannot_update_the_dataset_are_refused_on_the_page_and_nothing_changes(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    exports: tuple[pd.DataFrame, pd.DataFrame],
    db_path: Path,
) -> None:
    _, later = exports
    with Store(db_path) as store:
        before = snapshot(store, "crm")
    data = csv_bytes(later.drop(columns=["industry"]))
    at = checked(upload(open_app("data"), "crm-november.csv", data, "crm"))

    checked(at.button(key="refresh_check").click().run())

    assert [e.value for e in at.error] == [t("data.failed", "en")]
    assert not at.metric and "refresh_commit" not in [b.key for b in at.button]
    with Store(db_path) as store:
        assert snapshot(store, "crm") == before


def test_the_choice_and_the_counts_read_in_japanese(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    exports: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, later = exports
    at = checked(upload(open_app("data", lang="ja"), "crm-november.csv", csv_bytes(later), "crm"))
    assert t("refresh.choice_refresh", "ja") in at.radio(key="load_mode").options

    checked(at.button(key="refresh_check").click().run())

    assert t("refresh.metric.added", "ja") in metrics(at)
    assert any("受注" in w.value and "失注" in w.value for w in at.warning)
