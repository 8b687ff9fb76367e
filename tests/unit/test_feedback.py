"""Sales' verdict as data: a feedback file mapped with proposals in English and Japanese,
refused naming rows and the fix, stored all or nothing and summed up as pandas counts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import generate_leads
from funnel.feedback import feedback_summary, load_feedback, propose_feedback, with_values
from funnel.ingest import load_files
from funnel.problems import LoadError
from funnel.readers import SourceFile, read_file
from funnel.store import Store

N = 1500


@pytest.fixture
def leads() -> pd.DataFrame:
    return generate_leads(N, seed=21)


@pytest.fixture
def crm(store: Store, leads: pd.DataFrame) -> Store:
    load_files(store, "crm", SourceFile("crm.csv", leads, "csv"))
    return store


def verdicts(leads: pd.DataFrame, n: int = 300) -> pd.DataFrame:
    """A sales team's file: every third lead accepted, then rejected with reasons written
    several ways, the rest not contacted; decided a week after the lead was created."""
    picked = leads.iloc[:n]
    status = ["Accepted", "Rejected", "Not contacted"] * (n // 3)
    reasons = ["No budget", "no  budget", "ＮＯ ＢＵＤＧＥＴ", "Student", "Competitor"]
    return pd.DataFrame(
        {
            "Lead ID": picked["lead_id"].to_numpy(),
            "Status": status,
            "Rejection reason": [
                reasons[i % 5] if s == "Rejected" else None for i, s in enumerate(status)
            ],
            "Decided at": (picked["created_at"] + pd.Timedelta(days=7)).dt.strftime("%Y-%m-%d"),
            "Owner": ["Ben", "Chika", "Dai"] * (n // 3),
        }
    )


def test_a_feedback_file_is_proposed_stored_and_counted_as_pandas_counts(
    crm: Store, leads: pd.DataFrame
) -> None:
    frame = verdicts(leads)
    source = SourceFile("sales.csv", frame, "csv")
    mapping = propose_feedback(source)
    assert (mapping.id, mapping.status, mapping.reason, mapping.at, mapping.by) == (
        "Lead ID",
        "Status",
        "Rejection reason",
        "Decided at",
        "Owner",
    )

    summary = load_feedback(crm, "crm", source)

    expected = frame["Status"].value_counts()
    assert summary.counts == {
        "accepted": expected["Accepted"],
        "rejected": expected["Rejected"],
        "not_contacted": expected["Not contacted"],
    }
    assert summary.acceptance_rate == pytest.approx(
        expected["Accepted"] / (expected["Accepted"] + expected["Rejected"])
    )
    rejected = frame[frame["Status"] == "Rejected"]["Rejection reason"]
    folded = rejected.str.normalize("NFKC").str.casefold().str.split().str.join(" ")
    reasons = dict(summary.reasons)
    assert sum(reasons.values()) == len(rejected)
    assert sorted(reasons.values(), reverse=True) == sorted(folded.value_counts(), reverse=True)
    assert len(reasons) == folded.nunique() == 3  # three spellings of "no budget" are one
    stored = crm.fetch_frame("SELECT * FROM funnel_feedback WHERE dataset = 'crm'")
    assert set(stored["reason"].dropna()) == set(rejected)  # free text kept as written
    assert set(stored["decided_by"]) == {"Ben", "Chika", "Dai"}


def test_a_japanese_feedback_file_is_proposed_in_japanese(crm: Store, leads: pd.DataFrame) -> None:
    frame = pd.DataFrame(
        {
            "リードID": leads["lead_id"].iloc[:4],
            "対応状況": ["受入", "却下", "未対応", "却下"],
            "却下理由": [None, "予算なし", None, "予算なし\u3000"],
            "担当者": ["佐藤", "鈴木", "佐藤", "鈴木"],
        }
    )
    summary = load_feedback(crm, "crm", SourceFile("営業.csv", frame, "csv"))
    assert summary.counts == {"accepted": 1, "rejected": 2, "not_contacted": 1}
    assert len(summary.reasons) == 1 and summary.reasons[0][1] == 2


def test_a_bad_feedback_file_is_refused_naming_rows_and_fixes_and_nothing_is_stored(
    crm: Store, leads: pd.DataFrame
) -> None:
    load_feedback(crm, "crm", SourceFile("first.csv", verdicts(leads, 30), "csv"))
    before = crm.fetch_frame("SELECT * FROM funnel_feedback ORDER BY lead_id")
    frame = verdicts(leads, 30)
    frame.loc[2, "Lead ID"] = "L9999999"  # row 4: not in the dataset
    frame.loc[5, "Lead ID"] = frame.loc[4, "Lead ID"]  # rows 6 and 7: the same lead twice
    frame.loc[8, "Status"] = "Maybe later"  # row 10: unknown
    created = leads.set_index("lead_id").loc[frame.loc[9, "Lead ID"], "created_at"]
    frame.loc[9, "Decided at"] = (created - pd.Timedelta(days=3)).strftime("%Y-%m-%d")  # row 11

    with pytest.raises(LoadError) as refused:
        load_feedback(crm, "crm", SourceFile("sales.csv", frame, "csv"))

    found = {p.code: p for p in refused.value.problems}
    assert set(found) == {
        "feedback_unknown_id",
        "feedback_duplicate_id",
        "feedback_unknown_status",
        "feedback_before_created",
    }
    assert (
        found["feedback_unknown_id"].rows == (4,)
        and "L9999999" in found["feedback_unknown_id"].values
    )
    assert found["feedback_duplicate_id"].rows == (6, 7)
    assert found["feedback_unknown_status"].rows == (10,)
    assert '--rejected "Maybe later"' in found["feedback_unknown_status"].fix("en")
    assert found["feedback_before_created"].rows == (11,)
    assert all(p.file == "sales.csv" and p.fix("ja") for p in refused.value.problems)
    after = crm.fetch_frame("SELECT * FROM funnel_feedback ORDER BY lead_id")
    pd.testing.assert_frame_equal(after, before)

    mapped = with_values(
        propose_feedback(SourceFile("s.csv", frame, "csv")), rejected=("Maybe later",)
    )
    assert mapped.classify("maybe later") == "rejected"


def test_feedback_outlives_a_refresh_follows_a_rename_and_goes_with_a_delete(
    crm: Store, leads: pd.DataFrame
) -> None:
    load_feedback(crm, "crm", SourceFile("sales.csv", verdicts(leads, 30), "csv"))
    load_files(crm, "crm", SourceFile("crm.csv", leads, "csv"), refresh=True)
    assert feedback_summary(crm, "crm") is not None
    crm.rename("crm", "spring")
    summary = feedback_summary(crm, "spring")
    assert summary is not None and sum(summary.counts.values()) == 30
    crm.delete("spring")
    assert crm.fetch_frame("SELECT count(*) AS n FROM funnel_feedback")["n"][0] == 0


def test_the_cli_loads_feedback_refusing_unknown_statuses_until_their_meaning_is_named(
    db_path: Path, leads: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crm_csv, sales_csv = tmp_path / "crm.csv", tmp_path / "sales.csv"
    leads.to_csv(crm_csv, index=False)
    frame = verdicts(leads, 30)
    frame.loc[3, "Status"] = "Recycled"
    frame.to_csv(sales_csv, index=False)
    db = ["--db", str(db_path)]
    assert main([*db, "load", str(crm_csv), "--dataset", "crm"]) == 0
    capsys.readouterr()

    assert main([*db, "feedback", "load", str(sales_csv), "--dataset", "crm"]) == 2
    err = capsys.readouterr().err
    assert "row 5" in err or "5" in err
    assert '--rejected "Recycled"' in err

    code = main(
        [*db, "feedback", "load", str(sales_csv), "--dataset", "crm", "--rejected", "Recycled"]
    )
    assert code == 0 and "11 rejected" in capsys.readouterr().out
    assert main([*db, "feedback", "show", "--dataset", "crm", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["leads"] == {"accepted": 9, "rejected": 11, "not_contacted": 10}
    assert shown["file"] == "sales.csv"
    assert main([*db, "--lang", "ja", "feedback", "show", "--dataset", "crm"]) == 0
    assert "受入率" in capsys.readouterr().out
    with Store(db_path, read_only=True) as store:
        assert read_file(sales_csv).name == "sales.csv" and store.require("crm")
