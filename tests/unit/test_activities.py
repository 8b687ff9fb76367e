"""An activity log (lead id, timestamp, type) is validated and counted into behaviours."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.ingest import load_files, read_inputs
from funnel.problems import LoadError
from funnel.store import Store

LEADS = "lead_id,created_at,source,industry,Converted\n" + "\n".join(
    f"L{i},2024-01-{i:02d},Web,{'IT' if i % 2 else 'Retail'},{1 if i % 3 == 0 else 0}"
    for i in range(1, 21)
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_activity_counts_become_behaviour_columns(tmp_path: Path, store: Store) -> None:
    leads = write(tmp_path, "leads.csv", LEADS)
    log = write(
        tmp_path,
        "activities.csv",
        "lead_id,occurred_at,activity\n"
        "L1,2024-01-02 10:00,web_visit\nL1,2024-01-03 11:00,web_visit\n"
        "L1,2024-01-04 09:30,inquiry\nL2,2024/01/05 08:00,web_visit",
    )
    files = read_inputs(leads, None, log)
    result = load_files(store, "acts", *files)
    info = result.dataset
    counts = store.fetch_frame(
        f"SELECT lead_id, activity_web_visit, activity_inquiry FROM {info.table()} "
        "WHERE lead_id IN ('L1', 'L2', 'L3') ORDER BY lead_id"
    )
    assert counts.values.tolist() == [["L1", 2, 1], ["L2", 1, 0], ["L3", 0, 0]]
    roles = {s.name: s.role for s in info.mapping.leads}
    assert roles["activity_web_visit"] == roles["activity_inquiry"] == "behaviour"
    stored = store.fetch_frame(f"SELECT count(*) AS n FROM {info.table('activities')}")
    assert int(stored["n"].iloc[0]) == 4
    assert any(p.code == "activities_counted" for p in result.problems)


def test_activities_for_unknown_leads_are_refused_and_nothing_is_stored(
    tmp_path: Path, store: Store
) -> None:
    leads = write(tmp_path, "leads.csv", LEADS)
    log = write(
        tmp_path,
        "activities.csv",
        "lead_id,occurred_at,activity\nL1,2024-01-02,web_visit\nL99,2024-01-02,web_visit\n"
        "L2,not a date,inquiry",
    )
    with pytest.raises(LoadError) as caught:
        load_files(store, "acts", *read_inputs(leads, None, log))
    by_code = {p.code: p for p in caught.value.errors}
    assert set(by_code) == {"unknown_lead", "bad_date"}
    assert by_code["unknown_lead"].rows == (3,) and by_code["unknown_lead"].values == ("L99",)
    assert "activities.csv" in by_code["bad_date"].message("en")
    assert "not a date" in by_code["bad_date"].message("en")
    assert store.datasets() == []
