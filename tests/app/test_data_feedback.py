"""Data page: sales' feedback uploaded for the selected dataset, its proposed mapping, a
refusal naming rows, and the stored verdicts summed up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.ingest import load_files
from funnel.readers import SourceFile
from funnel.store import Store


def feedback_csv(leads: pd.DataFrame, statuses: list[str]) -> bytes:
    frame = pd.DataFrame(
        {
            "リードID": leads["lead_id"].iloc[: len(statuses)].to_numpy(),
            "対応状況": statuses,
            "却下理由": ["予算なし" if s == "却下" else None for s in statuses],
        }
    )
    return frame.to_csv(index=False).encode("utf-8")


def test_feedback_is_proposed_loaded_and_summed_up_on_the_data_page(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    leads = generate_leads(300, seed=5)
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("crm.csv", leads, "csv"))
    at = open_app("data")
    assert t("feedback.none", "en").format(name="crm") in [i.value for i in at.info]

    at.file_uploader(key="up_feedback").upload(
        "営業.csv", feedback_csv(leads, ["受入", "却下", "未対応", "却下"]), "text/csv"
    )
    checked(at.run())
    assert [s.value for s in at.selectbox if s.key.startswith("fb_")][:3] == [
        "リードID",
        "対応状況",
        "却下理由",
    ]
    checked(at.button(key="feedback_load").click().run())

    assert any("2 rejected" in s.value for s in at.success)
    shown = {m.label: m.value for m in at.metric}
    assert shown[t("feedback.metric.rejected", "en")] == "2"
    assert shown[t("feedback.metric.acceptance", "en")] == "33.3%"


def test_a_feedback_file_with_an_unknown_status_is_refused_on_the_page(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    leads = generate_leads(300, seed=5)
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("crm.csv", leads, "csv"))
    at = open_app("data")
    at.file_uploader(key="up_feedback").upload(
        "sales.csv", feedback_csv(leads, ["受入", "保留中?", "却下"]), "text/csv"
    )
    checked(at.run())
    checked(at.button(key="feedback_load").click().run())

    assert [e.value for e in at.error] == [t("data.failed", "en")]
    with Store(db_path) as store:
        assert store.fetch_frame("SELECT count(*) AS n FROM funnel_feedback")["n"][0] == 0
