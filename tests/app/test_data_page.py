"""Data page through AppTest: upload → mapping → load, refused files, rename and delete."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.problems import Problem
from funnel.rules import ruleset_to_yaml
from funnel.store import DatasetInfo, Store
from funnel.suggest import template_for

MARKUP_NAME = "**bold** <script>x</script>"
OUTCOME_LABELS = {"en": ("Won", "Lost", "Open"), "ja": ("受注", "失注", "商談中")}


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def upload_leads(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="up_leads").upload(name, data, "text/csv")
    return at.run()


def counts(frame: pd.DataFrame, column: str, lang: str = "en") -> dict[str, str]:
    """Expected counts, straight from the generated file, formatted as the app shows them."""
    won, lost, open_ = (int((frame[column] == v).sum()) for v in OUTCOME_LABELS[lang])
    return {
        "leads": f"{len(frame):,}",
        "won": f"{won:,}",
        "lost": f"{lost:,}",
        "open": f"{open_:,}",
    }


def problem_rows(at: AppTest, lang: str = "en") -> list[dict[str, str]]:
    """Rows of the problems table (the read-only table whose columns are the problem fields)."""
    file_col = t("data.col.file", lang)
    return [
        row
        for table in at.dataframe
        if table.editing_mode == "read_only" and file_col in table.value.columns
        for row in table.value.to_dict("records")
    ]


# --- upload and load ------------------------------------------------------------------------


def test_data_page_without_upload_asks_for_a_leads_file(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app("data")

    assert at.title[0].value == t("data.title", "en")
    assert t("data.upload_first", "en") in [i.value for i in at.info]
    assert t("data.no_datasets", "en") in [i.value for i in at.info]
    assert not at.data_editor
    assert "load" not in [b.key for b in at.button]


def test_uploading_a_csv_shows_the_mapping_and_loading_stores_the_dataset(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    frame = generate_leads(500)
    at = open_app("data")

    checked(upload_leads(at, "leads.csv", csv_bytes(frame)))

    assert t("data.mapping_header", "en") in [s.value for s in at.subheader]
    editor = at.data_editor[0].value
    assert list(editor["column"]) == list(frame.columns)
    assert at.multiselect(key="won_values").value == ["Won"]
    assert at.multiselect(key="lost_values").value == ["Lost"]
    assert at.multiselect(key="open_values").value == ["Open"]
    assert at.text_input(key="dataset_name").value == "leads"
    assert stored() == {}

    checked(at.button(key="load").click().run())

    expected = counts(frame, "outcome")
    assert [s.value for s in at.success] == [t("data.loaded", "en", name="leads", **expected)]
    assert not at.error
    info = stored()["leads"]
    assert {k: f"{getattr(info, k):,}" for k in expected} == expected
    assert info.columns == tuple(frame.columns)
    assert at.sidebar.selectbox(key="dataset").value == "leads"


def test_loaded_dataset_takes_the_name_typed_by_the_user(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    at = open_app("data")
    checked(upload_leads(at, "export.csv", csv_bytes(generate_leads(120))))

    at.text_input(key="dataset_name").set_value("Q3 webinar leads")
    checked(at.button(key="load").click().run())

    assert list(stored()) == ["Q3 webinar leads"]
    assert stored()["Q3 webinar leads"].leads == 120


def test_empty_file_is_refused_with_a_problem_table_and_nothing_is_stored(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("existing")
    before = stored()
    at = open_app("data")

    checked(upload_leads(at, "empty.csv", b""))

    assert [e.value for e in at.error] == [t("data.failed", "en")]
    assert problem_rows(at) == [
        {
            t("data.col.severity", "en"): t("severity.error", "en"),
            t("data.col.file", "en"): "empty.csv",
            t("data.col.column", "en"): "",
            t("data.col.rows", "en"): "",
            t("data.col.message", "en"): Problem("file_empty", "empty.csv").message("en"),
            t("data.col.fix", "en"): Problem("file_empty", "empty.csv").fix("en"),
        }
    ]
    assert not at.data_editor
    assert "load" not in [b.key for b in at.button]
    assert stored() == before


def test_duplicate_ids_are_refused_and_the_previous_dataset_is_untouched(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("existing")
    before = stored()
    frame = generate_leads(100)
    frame.loc[5, "lead_id"] = frame.loc[3, "lead_id"]  # file rows 5 and 7 (header = row 1)
    at = open_app("data")
    checked(upload_leads(at, "dups.csv", csv_bytes(frame)))

    # Replacing the existing dataset with a refused file must leave it as it was.
    checked(at.text_input(key="dataset_name").set_value("existing").run())
    checked(at.radio(key="load_mode").set_value("replace").run())
    checked(at.button(key="load").click().run())

    assert [e.value for e in at.error] == [t("data.failed", "en")]
    assert not at.success
    rows = problem_rows(at)
    assert len(rows) == 1
    row = rows[0]
    assert row[t("data.col.severity", "en")] == t("severity.error", "en")
    assert row[t("data.col.file", "en")] == "dups.csv"
    assert row[t("data.col.column", "en")] == "lead_id"
    assert row[t("data.col.rows", "en")] == "5, 7"
    assert frame.loc[3, "lead_id"] in row[t("data.col.message", "en")]
    assert stored() == before


def test_keep_last_loads_duplicate_ids_and_notes_what_was_dropped(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    frame = generate_leads(100)
    frame.loc[5, "lead_id"] = frame.loc[3, "lead_id"]
    at = open_app("data")
    checked(upload_leads(at, "dups.csv", csv_bytes(frame)))

    at.checkbox(key="keep_last").check()
    checked(at.button(key="load").click().run())

    kept = frame.drop(index=3)
    assert [s.value for s in at.success] == [
        t("data.loaded", "en", name="dups", **counts(kept, "outcome"))
    ]
    assert stored()["dups"].leads == 99
    notes = [(r[t("data.col.column", "en")], r[t("data.col.rows", "en")]) for r in problem_rows(at)]
    assert ("lead_id", "5") in notes  # the earlier of the two rows (5 and 7) was dropped


def test_cp932_japanese_csv_loads_with_japanese_column_names_intact(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
    db_path: Path,
) -> None:
    frame = generate_leads(300, lang="ja")
    at = open_app("data")

    checked(upload_leads(at, "リード.csv", csv_bytes(frame, "cp932")))

    assert any("cp932" in c.value for c in at.caption)
    assert list(at.data_editor[0].value["column"]) == list(frame.columns)
    assert at.multiselect(key="won_values").value == ["受注"]
    assert at.multiselect(key="lost_values").value == ["失注"]
    assert at.multiselect(key="open_values").value == ["商談中"]

    checked(at.button(key="load").click().run())

    expected = counts(frame, "商談結果", "ja")
    assert [s.value for s in at.success] == [t("data.loaded", "en", name="リード", **expected)]
    info = stored()["リード"]
    assert info.columns == tuple(frame.columns)
    with Store(db_path) as s:
        table = s.leads_frame(info)
    assert list(table.columns) == list(frame.columns)
    for column in ("流入元", "業種", "地域"):
        assert set(table[column].dropna()) == set(frame[column].dropna())


# --- rename and delete ----------------------------------------------------------------------


def test_rename_changes_the_name_in_the_store_and_the_picker(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("old", seed=1)
    seed("other", seed=2)
    before = stored()
    at = open_app("data")

    at.selectbox(key="manage_dataset").set_value("old")
    at.text_input(key="new_name").set_value("renamed")
    checked(at.button(key="rename").click().run())

    after = stored()
    assert sorted(after) == ["other", "renamed"]
    assert after["renamed"] == replace(before["old"], name="renamed")
    assert after["other"] == before["other"]
    assert at.sidebar.selectbox(key="dataset").value == "renamed"
    assert "renamed" in at.selectbox(key="manage_dataset").options


def test_rename_with_extra_spaces_selects_the_renamed_dataset(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("old", seed=1)
    seed("newest", seed=2)
    at = open_app("data")

    at.selectbox(key="manage_dataset").set_value("old")
    at.text_input(key="new_name").set_value("  spring   fair ")
    checked(at.button(key="rename").click().run())

    # The store keeps names with single spaces; the picker must follow the stored name.
    assert sorted(stored()) == ["newest", "spring fair"]
    assert at.sidebar.selectbox(key="dataset").value == "spring fair"


def test_rename_onto_another_dataset_is_refused_and_nothing_changes(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("a", seed=1)
    seed("b", seed=2)
    before = stored()
    at = open_app("data")

    at.selectbox(key="manage_dataset").set_value("a")
    at.text_input(key="new_name").set_value("b")
    checked(at.button(key="rename").click().run())

    assert [e.value for e in at.error] == [t("store.dataset_exists", "en", name="b")]
    assert stored() == before


def test_delete_asks_for_confirmation_before_deleting(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("keep", leads=150, seed=1)
    seed("drop", leads=250, seed=2)
    before = stored()
    at = open_app("data")

    at.selectbox(key="manage_dataset").set_value("drop")
    checked(at.button(key="delete").click().run())

    assert [w.value for w in at.warning] == [
        t("data.delete_confirm", "en", name="drop", leads="250")
    ]
    assert stored() == before

    checked(at.button(key="delete_yes").click().run())

    assert stored() == {"keep": before["keep"]}
    assert not at.warning
    assert at.selectbox(key="manage_dataset").options == ["keep"]
    assert at.sidebar.selectbox(key="dataset").value == "keep"


def test_cancelling_delete_keeps_the_dataset(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("precious")
    before = stored()
    at = open_app("data")

    checked(at.button(key="delete").click().run())
    assert len(at.warning) == 1
    checked(at.button(key="delete_no").click().run())

    assert not at.warning
    assert "delete_yes" not in [b.key for b in at.button]
    assert stored() == before


def test_deleting_the_last_dataset_brings_back_the_empty_state(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("only")
    at = open_app("data")

    checked(at.button(key="delete").click().run())
    checked(at.button(key="delete_yes").click().run())

    assert stored() == {}
    assert t("data.no_datasets", "en") in [i.value for i in at.info]
    assert [c.value for c in at.sidebar.caption] == [t("app.no_datasets", "en")]


# --- language -------------------------------------------------------------------------------


def test_problems_are_reported_in_japanese_when_the_ui_is_japanese(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    at = open_app("data", lang="ja")
    assert at.title[0].value == t("data.title", "ja")

    checked(upload_leads(at, "空.csv", b""))

    assert [e.value for e in at.error] == [t("data.failed", "ja")]
    rows = problem_rows(at, "ja")
    assert [r[t("data.col.message", "ja")] for r in rows] == [
        Problem("file_empty", "空.csv").message("ja")
    ]
    assert stored() == {}


def test_role_edited_in_the_mapping_survives_a_language_switch(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = generate_leads(100)
    at = open_app("data")
    checked(upload_leads(at, "leads.csv", csv_bytes(frame)))
    editor = at.data_editor[0]
    row = list(editor.value["column"]).index("employees")
    assert editor.value["role"][row] == t("role.number", "en")
    # What the browser sends after the user picks another role in the table.
    at.session_state[editor.key] = {
        "edited_rows": {row: {"role": t("role.attribute", "en")}},
        "added_rows": [],
        "deleted_rows": [],
    }
    checked(at.run())

    checked(at.sidebar.selectbox(key="lang").set_value("ja").run())
    assert at.title[0].value == t("data.title", "ja")
    # AppTest calls selectbox format_funcs between runs, where ui.lang() sees no session and
    # answers its default: make that default Japanese now that the page is in Japanese.
    monkeypatch.setattr(sys.modules["app.ui"], "DEFAULT_LANG", "ja")
    checked(at.button(key="load").click().run())

    spec = next(s for s in stored()["leads"].mapping.leads if s.name == "employees")
    assert spec.role == "attribute"


# --- user text is shown as text -------------------------------------------------------------


def test_success_message_shows_a_dataset_name_with_markup_as_plain_text(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
    literal: Callable[[str], str],
) -> None:
    frame = generate_leads(100)
    at = open_app("data")
    checked(upload_leads(at, "leads.csv", csv_bytes(frame)))

    at.text_input(key="dataset_name").set_value(MARKUP_NAME)
    checked(at.button(key="load").click().run())

    assert list(stored()) == [MARKUP_NAME]
    assert at.selectbox(key="manage_dataset").options == [MARKUP_NAME]
    assert [literal(s.value) for s in at.success] == [
        t("data.loaded", "en", name=MARKUP_NAME, **counts(frame, "outcome"))
    ]


def test_delete_confirmation_shows_a_dataset_name_with_markup_as_plain_text(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    literal: Callable[[str], str],
) -> None:
    seed(MARKUP_NAME, leads=100)
    at = open_app("data")

    checked(at.button(key="delete").click().run())

    assert [literal(w.value) for w in at.warning] == [
        t("data.delete_confirm", "en", name=MARKUP_NAME, leads="100")
    ]


def test_a_workbook_with_several_visible_sheets_offers_a_picker_and_loads_the_chosen_one(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    db_path: Path,
) -> None:
    book = Path(__file__).resolve().parents[1] / "hostile" / "leads" / "two_sheets.xlsx"
    at = open_app("data")
    at.file_uploader(key="up_leads").upload(book.name, book.read_bytes(), "application/zip")
    checked(at.run())

    picker = next(s for s in at.selectbox if s.label == t("data.sheet"))
    assert list(picker.options) == ["Leads", "Q2"]  # the very hidden sheet is not offered
    assert any("8 rows" in c.value and "Leads" in c.value for c in at.caption)
    checked(picker.select("Q2").run())
    assert any("3 rows" in c.value and "Q2" in c.value for c in at.caption)

    at.text_input(key="dataset_name").set_value("q2")
    checked(at.button(key="load").click().run())
    with Store(db_path) as store:
        info = store.require("q2")
    assert info.leads == 3 and info.files[0]["sheet"] == "Q2"


def test_problems_are_readable_text_where_what_and_how_to_fix_each_in_full(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    literal: Callable[[str], str],
) -> None:
    at = open_app("data")

    checked(upload_leads(at, "empty.csv", b""))

    problem = Problem("file_empty", "empty.csv")
    shown = [literal(m.value.strip("*")) for m in at.main.markdown]
    assert " · ".join([t("severity.error", "en"), "empty.csv"]) in shown
    assert problem.message("en") in shown
    assert f"{t('data.col.fix', 'en')}: {problem.fix('en')}" in shown


def test_a_rule_set_uploaded_as_leads_is_recognised_and_pointed_to_rule_sets(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    literal: Callable[[str], str],
) -> None:
    info = seed("demo", leads=300)
    yaml_text = ruleset_to_yaml(template_for(info)).encode()
    at = open_app("data")

    checked(upload_leads(at, "agreed.yaml", yaml_text))

    shown = [literal(m.value.strip("*")) for m in at.main.markdown]
    assert Problem("looks_like_rules", "agreed.yaml").message("en") in shown
    assert not at.data_editor  # no "rows do not have 1 fields", nothing to load
    assert "load" not in [b.key for b in at.button]
    links = [p for p in at.get("page_link")]
    assert [p.proto.label for p in links] == [t("data.to_rulesets", "en")]

    checked(upload_leads(at, "mapping.yml", b"version: 1\nleads:\n  lead_id: id\n"))

    shown = [literal(m.value.strip("*")) for m in at.main.markdown]
    assert Problem("looks_like_mapping", "mapping.yml").message("en") in shown
    assert not at.get("page_link")  # a mapping file belongs to funnel load, not Rule sets
