"""Data page: a CRM export's lead status and first-contact date, proposed, read and refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.store import Store

STATUSES = ("未対応", "対応中", "失注（予算なし）", "失注（時期尚早）")


def export(n: int = 300, seed: int = 3) -> pd.DataFrame:
    frame = generate_leads(n, seed=seed, lang="ja")
    rng = np.random.default_rng(seed)
    touched = pd.to_datetime(frame["作成日"]) + pd.to_timedelta(rng.integers(1, 48, n), unit="h")
    return frame.assign(
        リードステータス=rng.choice(STATUSES, n), 初回接触日=touched.dt.strftime("%Y-%m-%d %H:%M")
    )


def upload(at: AppTest, frame: pd.DataFrame) -> AppTest:
    data = frame.to_csv(index=False).encode("cp932")
    at.file_uploader(key="up_leads").upload("リード.csv", data, "text/csv")
    return at.run()


def test_a_crm_export_with_a_status_and_first_contact_loads_its_verdicts(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    frame = export()
    at = open_app("data")
    checked(upload(at, frame))
    editor = at.data_editor[0].value
    roles = dict(zip(editor["column"], editor["role"], strict=True))
    assert roles["初回接触日"] == t("role.first_contact", "en")
    checked(at.button(key="load").click().run())
    assert at.success and not at.exception
    shown = {m.label: m.value for m in at.metric}
    rejected = int(frame["リードステータス"].str.startswith("失注").sum())
    assert shown[t("feedback.metric.rejected", "en")] == f"{rejected:,}"
    with Store(db_path) as store:
        info = store.require("リード")
        assert info.mapping.column("first_contact") == "初回接触日"
        assert info.mapping.disposition is not None
        assert info.mapping.disposition.column == "リードステータス"


def test_an_unknown_status_is_refused_on_the_page_naming_the_column_and_the_fix(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    frame = export()
    frame.loc[4, "リードステータス"] = "様子見"
    at = open_app("data")
    checked(upload(at, frame))
    checked(at.button(key="load").click().run())
    rows = [
        row
        for table in at.dataframe
        if table.editing_mode == "read_only" and t("data.col.file", "en") in table.value.columns
        for row in table.value.to_dict("records")
    ]
    assert any("リードステータス" in " ".join(map(str, r.values())) for r in rows)
    assert any("様子見" in " ".join(map(str, r.values())) for r in rows)
    with Store(db_path) as store:
        assert store.datasets() == []


def test_the_page_shows_what_each_status_means_and_a_person_places_an_unknown_one(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    """The proposal shown per value; '様子見' (not a known word) is placed as not contacted
    and '対応中' moved from accepted to not contacted on the page, then the load keeps both."""
    frame = export()
    frame.loc[4, "リードステータス"] = "様子見"
    at = open_app("data", lang="ja")
    checked(upload(at, frame))
    assert at.selectbox(key="lead_status_column").value == "リードステータス"
    label = t("feedback.values.not_contacted", "ja")
    assert at.multiselect(key="lead_status_accepted:リードステータス").value == ["対応中"]
    assert at.multiselect(key="lead_status_rejected:リードステータス").value == [
        "失注（予算なし）",
        "失注（時期尚早）",
    ]
    not_contacted = at.multiselect(key="lead_status_not_contacted:リードステータス")
    assert not_contacted.label == label and not_contacted.value == ["未対応"]
    assert any("様子見" in w.value for w in at.warning), "the value nobody placed is named"
    at.multiselect(key="lead_status_accepted:リードステータス").set_value([])
    not_contacted.set_value(["未対応", "対応中", "様子見"])
    checked(at.run())
    assert not any("様子見" in w.value for w in at.warning)
    checked(at.button(key="load").click().run())
    assert at.success and not at.exception
    with Store(db_path) as store:
        spec = store.require("リード").mapping.disposition
        assert spec is not None and spec.column == "リードステータス"
        assert set(spec.not_contacted) == {"未対応", "対応中", "様子見"}
        assert spec.accepted == ()
    shown = {m.label: m.value for m in at.metric}
    waiting = int(frame["リードステータス"].isin(["未対応", "対応中", "様子見"]).sum())
    assert shown[t("feedback.metric.not_contacted", "ja")] == f"{waiting:,}"


def test_no_status_column_chosen_reads_no_verdict(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    frame = export()
    frame.loc[4, "リードステータス"] = "様子見"  # refused if read as a verdict
    at = open_app("data")
    checked(upload(at, frame))
    at.selectbox(key="lead_status_column").set_value("")
    checked(at.run())
    checked(at.button(key="load").click().run())
    assert at.success and not at.exception
    with Store(db_path) as store:
        spec = store.require("リード").mapping.disposition
        assert spec is None or spec.column is None
