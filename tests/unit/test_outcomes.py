"""Won, lost and still open: CRM opportunity stages are recognised as they come (Salesforce,
HubSpot, Japanese), an unknown value is refused with the exact flag or mapping line that fixes
it (English and Japanese), and a file given in the wrong place is named before it is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.cli import main
from funnel.mapping.propose import propose_mapping
from funnel.readers import read_bytes
from funnel.store import Store

SALESFORCE_OPEN = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
]
HUBSPOT_OPEN = [
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
]
JAPANESE_OPEN = ["商談中", "提案中", "見積提出", "交渉中"]
PIPELINES = {
    "salesforce": ("Stage", "Closed Won", "Closed Lost", SALESFORCE_OPEN),
    "hubspot": ("dealstage", "closedwon", "closedlost", HUBSPOT_OPEN),
    "japanese": ("商談フェーズ", "受注", "失注", JAPANESE_OPEN),
}


def opportunities(pipeline: str, n: int = 400, seed: int = 3) -> pd.DataFrame:
    """An opportunity export: closed deals over two years, open ones among the latest."""
    column, won, lost, open_ = PIPELINES[pipeline]
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    recent = created >= pd.Timestamp("2025-11-15")
    industry = rng.choice(["IT", "Retail", "Finance"], n)
    is_won = rng.random(n) < np.where(industry == "IT", 0.4, 0.2)
    stage = np.where(recent, rng.choice(open_, n), np.where(is_won, won, lost))
    closed = (created + pd.to_timedelta(rng.integers(3, 40, n), unit="D")).strftime("%Y-%m-%d")
    return pd.DataFrame(
        {
            "Opportunity ID": [f"O{i:05d}" for i in range(n)],
            "Created Date": created.strftime("%Y-%m-%d"),
            "Industry": industry,
            column: stage,
            "Close Date": np.where(recent, "", closed),
        }
    )


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_opportunity_stages_are_read_as_won_lost_and_still_open(pipeline: str) -> None:
    column, won, lost, open_ = PIPELINES[pipeline]
    frame = opportunities(pipeline)
    source = read_bytes(frame.to_csv(index=False).encode("utf-8"), "opportunities.csv")

    mapping = propose_mapping(source)

    assert mapping.outcome is not None and mapping.outcome.column == column
    assert (mapping.outcome.won, mapping.outcome.lost) == ((won,), (lost,))
    assert sorted(mapping.outcome.open) == sorted(set(frame[column]) & set(open_))
    assert mapping.column("closed") == "Close Date"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "funnel.duckdb"


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv] + ["--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_an_opportunity_export_loads_without_a_mapping_file(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    frame = opportunities("salesforce")
    path = tmp_path / "opps.csv"
    frame.to_csv(path, index=False)

    code, out, _ = cli(capsys, db, "load", path, "--dataset", "opps", "--json")

    assert code == 0
    payload = json.loads(out)
    stage = frame["Stage"]
    assert (payload["won"], payload["lost"], payload["open"]) == (
        int((stage == "Closed Won").sum()),
        int((stage == "Closed Lost").sum()),
        int(stage.isin(SALESFORCE_OPEN).sum()),
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_an_unknown_stage_is_refused_with_the_flag_and_the_mapping_line_that_fix_it(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, lang: str
) -> None:
    frame = opportunities("salesforce")
    frame.loc[[5, 9], "Stage"] = ["Stage 3 - Demo", "Q&A call"]
    path = tmp_path / "opps.csv"
    frame.to_csv(path, index=False)

    code, _, err = cli(capsys, db, "load", path, "--dataset", "opps", "--lang", lang)

    assert code == 2
    assert "'Stage 3 - Demo', 'Q&A call'" in err
    assert "--open 'Stage 3 - Demo' --open 'Q&A call'" in err
    listed = [v for v in dict.fromkeys(frame["Stage"]) if v in SALESFORCE_OPEN]
    assert "open: [" in err and "'Stage 3 - Demo', 'Q&A call']" in err
    assert all(f"'{v}'" in err for v in listed)
    assert ("stages still in progress" if lang == "en" else "進行中の段階") in err
    assert not db.exists() or Store(db, read_only=True).datasets() == []

    # the flag the message names fixes it, and keeps the stages recognised before
    code, out, err = cli(
        capsys,
        db,
        "load",
        path,
        "--dataset",
        "opps",
        "--open",
        "Stage 3 - Demo",
        "--open",
        "Q&A call",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["open"] == int(
        frame["Stage"].isin([*SALESFORCE_OPEN, "Stage 3 - Demo", "Q&A call"]).sum()
    )


def test_the_mapping_line_the_message_names_fixes_it_too(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    frame = opportunities("hubspot")
    frame.loc[3, "dealstage"] = "custom stage"
    path = tmp_path / "deals.csv"
    frame.to_csv(path, index=False)
    code, _, err = cli(capsys, db, "load", path)
    assert code == 2
    line = next(part for part in err.split(", or ") if part.startswith("write open: "))
    yaml_list = line.removeprefix("write open: ").split(" under outcome:")[0]

    code, text, _ = cli(capsys, db, "mapping", path)
    assert code == 0
    head, _, tail = text.partition("  open:\n")
    rest = tail.split("  won_only:")[1]
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"{head}  open: {yaml_list}\n  won_only:{rest}", encoding="utf-8")

    code, _, err = cli(capsys, db, "load", path, "--mapping", mapping, "--dataset", "d")
    assert code == 0, err


# --- wrong file, said early ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_rule_set_given_as_leads_is_named_and_pointed_to_the_import(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, lang: str
) -> None:
    path = tmp_path / "agreed.yaml"
    path.write_text(
        "schema_version: 1\nname: agreed\nrules:\n- kind: category\n  column: industry\n"
        "  value: IT\n  points: 10\ntiers:\n- name: hot\n  min_score: 10\n",
        encoding="utf-8",
    )
    csv_named = tmp_path / "agreed.csv"
    csv_named.write_bytes(path.read_bytes())

    for given in (path, csv_named):
        code, _, err = cli(capsys, db, "load", given, "--lang", lang)
        assert code == 2
        expected = {
            "en": ("looks like a rule set", f"funnel rules import {given.name} --dataset NAME"),
            "ja": ("ルールセットのようです", f"funnel rules import {given.name} --dataset"),
        }[lang]
        assert all(text in err for text in expected)
    assert not db.exists()


def test_a_deals_file_given_as_leads_is_named_before_anything_is_stored(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    deals = pd.DataFrame(
        {
            "mql_id": [f"m{i:03d}" for i in range(40)],
            "seller_id": [f"s{i % 7}" for i in range(40)],
            "won_date": [f"2025-03-{i % 28 + 1:02d} 10:00:00" for i in range(40)],
            "business_segment": ["pet", "car_accessories"] * 20,
        }
    )
    path = tmp_path / "closed_deals.csv"
    deals.to_csv(path, index=False)

    code, _, err = cli(capsys, db, "mapping", path)
    assert code == 0
    assert "closed_deals.csv looks like an outcomes (deals) file" in err
    assert "every row has a date in won_date" in err
    assert "--outcomes closed_deals.csv" in err

    won = deals.assign(outcome="Won")
    won.to_csv(path, index=False)
    code, _, err = cli(capsys, db, "load", path, "--lang", "ja")
    assert code == 0
    assert "結果（案件）ファイルのようです: outcome がすべての行で受注です" in err
