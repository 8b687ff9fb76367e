"""Sales' verdict and first contact read from the leads export, beside the feedback file's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.arrivals import contact_times
from funnel.demo import generate_leads
from funnel.feedback import FEEDBACK, feedback_summary, load_feedback
from funnel.ingest import load_files, read_inputs
from funnel.mapping import DispositionSpec
from funnel.mapping.files import MappingFileError, mapping_from_yaml, mapping_to_yaml
from funnel.mapping.propose import propose_mapping
from funnel.problems import LoadError
from funnel.readers import SourceFile
from funnel.store import Store

N = 600
EN_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Disqualified - No budget",
    "disqualified - no  budget",
    "Disqualified - Timing",
    "Qualified",
)
JA_STATUSES = (
    "未対応",
    "対応中",
    "失注（予算なし）",
    "失注（時期尚早）",
    "見送り：予算なし",
    "商談化",
)


def crm_export(lang: str = "en", seed: int = 4) -> pd.DataFrame:
    """Demo leads as a CRM exports them: a lead status, and when sales first touched each lead
    (1 to 96 hours after it was created; blank for some)."""
    frame = generate_leads(N, seed=seed, lang=lang)
    rng = np.random.default_rng(seed)
    created = frame.columns[1]
    status = rng.choice(EN_STATUSES if lang == "en" else JA_STATUSES, N)
    status[rng.random(N) < 0.05] = ""  # blank: no verdict
    hours = rng.integers(1, 97, N)
    touched = pd.to_datetime(frame[created]) + pd.to_timedelta(hours, unit="h")
    contact = touched.dt.strftime("%Y-%m-%d %H:%M").where(rng.random(N) > 0.1, "")
    name = (
        ("Lead Status", "First Contact Date")
        if lang == "en"
        else ("リードステータス", "初回接触日")
    )
    return frame.assign(**{name[0]: status, name[1]: contact})


def verdicts(store: Store, dataset: str) -> pd.DataFrame:
    return store.fetch_frame(
        f"SELECT lead_id, disposition, status, reason, reason_group, source FROM {FEEDBACK} "
        "WHERE dataset = ? ORDER BY lead_id",
        [dataset],
    )


def test_english_headers_and_statuses_are_proposed_with_their_meaning() -> None:
    frame = crm_export().rename(columns={"created_at": "Created Date"})
    mapping = propose_mapping(SourceFile("crm.csv", frame, "csv"))
    roles = {s.name: s.role for s in mapping.leads}
    assert roles["Created Date"] == "created" and roles["First Contact Date"] == "first_contact"
    spec = mapping.disposition
    assert spec is not None and (spec.column, spec.reason) == ("Lead Status", None)
    assert set(spec.accepted) == {"Working - Contacted", "Qualified"}
    assert set(spec.not_contacted) == {"Open - Not Contacted"}
    assert set(spec.rejected) == {
        "Disqualified - No budget",
        "disqualified - no  budget",
        "Disqualified - Timing",
    }


def test_a_first_contact_date_that_is_the_only_date_stays_the_created_date() -> None:
    """Olist's leads: first_contact_date is when the lead first contacted the company."""
    frame = pd.DataFrame(
        {"mql_id": ["a", "b", "c"], "first_contact_date": ["2018-01-02"] * 3, "origin": ["x"] * 3}
    )
    roles = {s.name: s.role for s in propose_mapping(SourceFile("o.csv", frame, "csv")).leads}
    assert roles["first_contact_date"] == "created"


def test_a_reason_column_alone_marks_the_leads_it_names_rejected(db_path: Path) -> None:
    frame = generate_leads(200, seed=3).assign(
        **{"Disqualification Reason": ["No budget", "", "Timing", "No budget", "NO BUDGET"] * 40}
    )
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        got = verdicts(store, "crm")
    named = frame[frame["Disqualification Reason"] != ""]
    assert sorted(got["lead_id"]) == sorted(named["lead_id"])
    assert set(got["disposition"]) == {"rejected"}
    assert got["reason_group"].value_counts().to_dict() == {"No budget": 120, "Timing": 40}


def test_a_japanese_cp932_export_stores_one_verdict_per_lead_as_pandas_reads_it(
    db_path: Path, tmp_path: Path
) -> None:
    frame = crm_export("ja")
    path = tmp_path / "リード.csv"
    frame.to_csv(path, index=False, encoding="cp932")
    with Store(db_path) as store:
        info = load_files(store, "crm", *read_inputs(path)).dataset
        got = verdicts(store, "crm").set_index("lead_id")
        times = contact_times(store, info)
        summary = feedback_summary(store, "crm")
    assert info.mapping.column("first_contact") == "初回接触日"
    # the same, independently: the head of each status says the verdict, its tail the reason
    meaning = {
        "未対応": ("not_contacted", None),
        "対応中": ("accepted", None),
        "失注（予算なし）": ("rejected", "予算なし"),
        "失注（時期尚早）": ("rejected", "時期尚早"),
        "見送り：予算なし": ("rejected", "予算なし"),
        "商談化": ("accepted", None),
    }
    decided = frame[frame["リードステータス"] != ""]
    expected = decided.set_index("リードID")["リードステータス"].map(meaning)
    assert sorted(got.index) == sorted(expected.index)
    assert (got["disposition"] == expected.str[0].reindex(got.index)).all()
    assert (got["source"] == "export").all()
    rejected = expected[expected.str[0] == "rejected"].str[1].value_counts().to_dict()
    assert summary is not None and dict(summary.reasons) == rejected
    assert summary.sources == {"file": 0, "export": len(expected)}
    # hours from creation to first contact, as pandas computes them
    assert times is not None
    hours = (pd.to_datetime(frame["初回接触日"]) - pd.to_datetime(frame["作成日"])) / pd.Timedelta(
        hours=1
    )
    want = pd.Series(hours.to_numpy(), index=frame["リードID"].astype(str)).sort_index()
    have = times.set_index("id")["hours_to_contact"].sort_index()
    assert np.allclose(have.to_numpy(dtype=float), want.to_numpy(dtype=float), equal_nan=True)
    assert have.isna().sum() == (frame["初回接触日"] == "").sum() > 0


def test_an_unknown_status_is_refused_naming_file_column_rows_and_fix_and_stores_nothing(
    db_path: Path,
) -> None:
    frame = crm_export()
    frame.loc[[3, 7], "Lead Status"] = "Maybe later"
    with Store(db_path) as store:
        with pytest.raises(LoadError) as caught:
            load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        assert store.dataset("crm") is None
        assert verdicts(store, "crm").empty
    (problem,) = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.code == "unknown_disposition_value"
    assert (problem.file, problem.column, problem.rows) == ("crm.csv", "Lead Status", (5, 9))
    assert problem.values == ("Maybe later",) and problem.count == 2
    assert "rejected: ['Maybe later']" in problem.fix("en")
    assert "ステータス列 Lead Status" in problem.message("ja") and "無視" in problem.fix("ja")


def test_a_bad_first_contact_date_is_refused_naming_the_rows(db_path: Path) -> None:
    frame = crm_export()
    frame.loc[10, "First Contact Date"] = "next Tuesday"
    with Store(db_path) as store:
        with pytest.raises(LoadError) as caught:
            load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        assert store.dataset("crm") is None
    bad = [p for p in caught.value.problems if p.column == "First Contact Date"]
    assert bad and bad[0].rows == (12,) and bad[0].fix("en")


def test_ignoring_the_status_column_reads_no_verdicts(db_path: Path) -> None:
    frame = crm_export()
    frame.loc[3, "Lead Status"] = "Maybe later"
    source = SourceFile("crm.csv", frame, "csv")
    mapping = propose_mapping(source).with_role("Lead Status", "ignore")
    with Store(db_path) as store:
        info = load_files(store, "crm", source, mapping=mapping).dataset
        assert info.mapping.disposition is None and verdicts(store, "crm").empty


def test_a_feedback_file_wins_over_the_export_and_its_leads_return_to_the_export_without_it(
    db_path: Path, tmp_path: Path
) -> None:
    frame = crm_export()
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        before = verdicts(store, "crm")
        some = frame["lead_id"].iloc[:40]
        file = pd.DataFrame({"lead_id": some, "status": "Rejected", "reason": "Too small"})
        load_feedback(store, "crm", SourceFile("verdicts.csv", file, "csv"))
        mixed = verdicts(store, "crm")
        assert not mixed["lead_id"].duplicated().any()  # one verdict per lead
        from_file = mixed[mixed["source"] == "file"]
        assert sorted(from_file["lead_id"]) == sorted(some)
        assert set(from_file["reason"]) == {"Too small"}
        others = mixed[mixed["source"] == "export"].reset_index(drop=True)
        expected = before[~before["lead_id"].isin(some)].reset_index(drop=True)
        pd.testing.assert_frame_equal(others, expected)
        load_feedback(store, "crm", SourceFile("v2.csv", file.iloc[:10], "csv"))
        again = verdicts(store, "crm")
    assert (again["source"] == "file").sum() == 10
    assert len(again) == len(before)


def test_a_refresh_reads_the_newer_statuses_and_keeps_the_meanings_said(db_path: Path) -> None:
    frame = crm_export()
    with Store(db_path) as store:
        load_files(store, "crm", SourceFile("crm.csv", frame, "csv"))
        newer = frame.copy()
        newer.loc[newer["Lead Status"] == "Open - Not Contacted", "Lead Status"] = (
            "Disqualified - Timing"
        )
        load_files(store, "crm", SourceFile("crm-later.csv", newer, "csv"), refresh=True)
        got = verdicts(store, "crm")
        spec = store.require("crm").mapping.disposition
    assert "not_contacted" not in set(got["disposition"])
    decided = newer[newer["Lead Status"] != ""]
    assert len(got) == len(decided)
    assert spec is not None and "Open - Not Contacted" in spec.not_contacted  # kept


def test_the_mapping_file_carries_the_disposition_and_refuses_a_bad_one() -> None:
    mapping = propose_mapping(SourceFile("crm.csv", crm_export(), "csv"))
    text = mapping_to_yaml(mapping)
    assert "disposition:" in text and "first_contact" in text
    assert mapping_from_yaml(text) == mapping
    bad = text.replace("disposition:\n  column: Lead Status", "disposition:\n  column: [1]")
    with pytest.raises(MappingFileError, match="disposition: must name column"):
        mapping_from_yaml(bad, source="m.yaml")


def test_a_status_value_is_classified_without_case_or_spacing() -> None:
    spec = DispositionSpec("s", accepted=("Working",))
    assert spec.classify(" WORKING ") == "accepted" and spec.classify("Other") is None


def test_cli_load_reads_the_verdicts_and_feedback_show_says_where_they_came_from(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from funnel.cli import main

    frame = crm_export()
    path = tmp_path / "crm.csv"
    frame.to_csv(path, index=False)
    assert main(["load", str(path), "--dataset", "crm", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["feedback", "show", "--dataset", "crm", "--db", str(db_path)]) == 0
    out, err = capsys.readouterr()
    decided = int((frame["Lead Status"] != "").sum())
    assert f"{decided:,} of these verdicts were read from the leads export" in err
    rejected = int(frame["Lead Status"].str.startswith(("Disqualified", "disqualified")).sum())
    assert f"{rejected:>8,}" in out and "No budget" in out


def test_cli_flags_name_the_status_column_its_values_and_the_first_contact(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from funnel.cli import main

    frame = crm_export().rename(columns={"Lead Status": "Stage", "First Contact Date": "Touched"})
    frame.loc[3, "Stage"] = "Maybe later"
    path = tmp_path / "crm.csv"
    frame.to_csv(path, index=False)
    base = ["load", str(path), "--dataset", "crm", "--db", str(db_path)]
    assert main([*base, "--rejected", "Maybe later"]) == 2  # values without a status column
    _, err = capsys.readouterr()
    assert "no column is read as the lead status" in err and "--lead-status" in err
    assert main([*base, "--lead-status", "Stage"]) == 2  # 'Maybe later' placed nowhere
    _, err = capsys.readouterr()
    assert "--rejected 'Maybe later'" in err
    flags = [
        "--lead-status",
        "Stage",
        "--not-contacted",
        "Maybe later",
        "--first-contact",
        "Touched",
    ]
    assert main([*base, *flags]) == 0
    with Store(db_path, read_only=True) as store:
        info = store.require("crm")
        got = verdicts(store, "crm").set_index("lead_id")
    assert info.mapping.column("first_contact") == "Touched"
    assert got.loc[str(frame.loc[3, "lead_id"]), "disposition"] == "not_contacted"
