"""The Data page says which columns it keeps out of scoring and why, takes the person's word
either way, asks about outcome values it cannot place, and names a file uploaded in the wrong
place before Load is pressed — in English and Japanese."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.store import DatasetInfo

N = 400


def leads(seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    won = rng.random(N) < 0.3
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(N)],
            "created_at": pd.date_range("2024-01-01", periods=N, freq="D").strftime("%Y-%m-%d"),
            "industry": rng.choice(["IT", "Retail", "Finance"], N),
            "Marital_Status": rng.choice(["Single", "Married"], N),
            "basket_value": np.where(won, rng.integers(100, 900, N), 0),
            "outcome": np.where(won, "Won", "Lost"),
        }
    )


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="up_leads").upload(name, data, "text/csv")
    return at.run()


def editor_rows(at: AppTest) -> dict[str, dict[str, object]]:
    return {str(r["column"]): r for r in at.data_editor[0].value.to_dict("records")}


def left_out_rows(at: AppTest, lang: str) -> dict[str, str]:
    column, reason = t("data.col.column", lang), t("left.col.why", lang)
    return {
        str(row[column]): str(row[reason])
        for table in at.dataframe
        if list(table.value.columns) == [column, reason]
        for row in table.value.to_dict("records")
    }


@pytest.mark.parametrize(
    ("lang", "why"),
    [
        ("en", "won 100% above 0, lost 0%"),
        ("ja", "受注の 100% が 0 より大きい（失注は 0%）"),
    ],
)
def test_the_proposal_shows_each_flag_with_its_evidence_and_lists_what_is_left_out(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    lang: str,
    why: str,
) -> None:
    at = open_app("data", lang=lang)

    checked(upload(at, "leads.csv", leads().to_csv(index=False).encode()))

    rows = editor_rows(at)
    assert rows["basket_value"]["leak"] is True and rows["basket_value"]["why"] == why
    assert rows["Marital_Status"]["leak"] is False and rows["Marital_Status"]["why"] == ""
    listed = left_out_rows(at, lang)
    assert listed["basket_value"] == why
    assert listed["lead_id"] == t("left.id", lang)
    assert "Marital_Status" not in listed


def test_unticking_a_flag_scores_the_column_and_the_load_summary_says_so(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    at = open_app("data")
    checked(upload(at, "leads.csv", leads().to_csv(index=False).encode()))
    table = at.data_editor[0]
    index = {c: i for i, c in enumerate(table.value["column"])}
    at.session_state[table.key] = {
        "edited_rows": {
            index["basket_value"]: {"leak": False},
            index["Marital_Status"]: {"leak": True},
        },
        "added_rows": [],
        "deleted_rows": [],
    }
    checked(at.run())
    before_load = left_out_rows(at, "en")  # the list under the editor follows the edit
    assert before_load["basket_value"] == t("leak.kept", "en", why="won 100% above 0, lost 0%")

    checked(at.button(key="load").click().run())

    mapping = stored()["leads"].mapping
    features = [s.name for s in mapping.features()]
    assert "basket_value" in features and "Marital_Status" not in features
    listed = left_out_rows(at, "en")
    assert listed["Marital_Status"] == t("leak.user", "en")
    assert listed["basket_value"] == t("leak.kept", "en", why="won 100% above 0, lost 0%")
    # the stored dataset says the same under its name
    assert t("left.stored", "en", name="leads") in [e.label for e in at.expander]


def test_outcome_values_nobody_placed_are_named_before_load(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
) -> None:
    frame = leads()
    frame.loc[:40, "outcome"] = "Negotiation/Review"
    frame.loc[41:60, "outcome"] = "Stage 3 - Demo"
    at = open_app("data")
    checked(upload(at, "opps.csv", frame.to_csv(index=False).encode()))

    assert at.multiselect(key="open_values").value == ["Negotiation/Review"]
    warning = next(w.value for w in at.warning if "Stage 3 - Demo" in w.value)
    assert warning == t("data.outcome_unassigned", "en", column="outcome", values="Stage 3 - Demo")

    at.multiselect(key="open_values").select("Stage 3 - Demo")
    checked(at.run())
    assert not any("Stage 3 - Demo" in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_rule_set_uploaded_as_leads_points_to_the_rule_sets_import(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    lang: str,
) -> None:
    at = open_app("data", lang=lang)
    rules = b"schema_version: 1\nname: agreed\nrules: []\ntiers:\n- name: hot\n  min_score: 1\n"

    checked(upload(at, "agreed.yaml", rules))

    table = next(tb.value for tb in at.dataframe if t("data.col.message", lang) in tb.value.columns)
    row = table.to_dict("records")[0]
    assert row[t("data.col.message", lang)].startswith("agreed.yaml")
    assert ("Rule sets page" if lang == "en" else "ルールセットのページ") in row[
        t("data.col.fix", lang)
    ]
    assert "load" not in [b.key for b in at.button]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_deals_file_uploaded_as_leads_is_named_before_load(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
    lang: str,
) -> None:
    deals = pd.DataFrame(
        {
            "mql_id": [f"m{i:03d}" for i in range(40)],
            "seller_id": [f"s{i % 7}" for i in range(40)],
            "won_date": [f"2025-03-{i % 28 + 1:02d}" for i in range(40)],
        }
    )
    at = open_app("data", lang=lang)

    checked(upload(at, "closed_deals.csv", deals.to_csv(index=False).encode()))

    hint = {"en": "looks like an outcomes (deals) file", "ja": "結果（案件）ファイルのようです"}
    assert any(hint[lang] in w.value for w in at.warning)
    assert stored() == {}  # said before Load is pressed
