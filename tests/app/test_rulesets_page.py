"""The tuner saves versions; the Rule sets page proposes, signs, diffs and exports them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from app import ui
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.rules import CategoryRule, RuleSet
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.store import DatasetInfo, Store
from funnel.suggest import template_for
from funnel.versions.files import version_to_yaml
from funnel.versions.history import list_versions, save_version
from tests.support import tuner_prefix, tuner_state

RULESETS = "../pages/rulesets.py"
TUNER = "../pages/tuner.py"


def button(at: AppTest, label_key: str) -> Any:
    label = t(label_key, "en")
    return next(b for b in at.button if b.label == label)


def save_from_tuner(at: AppTest, checked: Callable[[AppTest], AppTest], author: str) -> None:
    at.text_input(key="save_author").input(author)
    at.text_area(key="save_rationale").input("agreed in the Monday meeting")
    checked(button(at, "tuner.save_button").click().run())


def test_empty_history_says_how_to_save_a_version(
    open_app: Callable[..., AppTest], seed: Callable[..., DatasetInfo]
) -> None:
    seed("demo")
    at = open_app()
    at.switch_page(RULESETS).run()
    assert [i.value for i in at.info] == [t("versions.none", "en")]


def test_tuner_saves_a_draft_with_the_metrics_of_the_whole_dataset(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    info = seed("demo", leads=1500)
    at = open_app("tuner")
    save_from_tuner(at, checked, "Aiko")
    (saved,) = list_versions(ui.store(), "demo")
    assert [s.value for s in at.success][-1] == t(
        "versions.saved", "en", label=saved.label(), id=saved.version_id
    )
    rs = template_for(info)
    assert (saved.ruleset.rules, saved.ruleset.tiers) == (rs.rules, rs.tiers)
    assert saved.author == "Aiko" and saved.status == "draft"
    assert saved.metrics["hot"] == evaluate(score_histogram(ui.store(), info, rs), rs).hot_n


def test_a_save_without_an_author_is_refused_and_nothing_is_stored(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    seed("demo", leads=800)
    at = open_app("tuner")
    save_from_tuner(at, checked, "  ")
    assert [e.value for e in at.error] == [t("versions.empty", "en", what="author")]
    assert list_versions(ui.store(), "demo") == []


def test_propose_and_both_sign_offs_make_the_version_agreed_and_current(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    seed("demo", leads=1500)
    at = open_app("tuner")
    save_from_tuner(at, checked, "Aiko")
    checked(at.switch_page(RULESETS).run())
    (v,) = list_versions(ui.store(), "demo")
    vid = v.version_id
    at.text_input(key=f"propose_name:{vid}").input("Aiko")
    checked(button(at, "rulesets.propose").click().run())
    assert list_versions(ui.store(), "demo")[0].status == "proposed"
    assert t("rulesets.done.propose", "en") in [s.value for s in at.success]

    def field(name: str) -> Any:
        """A sign-form widget (its key changes each time a signature is done)."""
        widgets = (*at.radio, *at.text_input)
        (found,) = [w for w in widgets if str(w.key) == name or str(w.key).startswith(name + ":")]
        return found

    def sign_as(role: str, name: str, comment: str = "") -> None:
        field(f"sign_role:{vid}").set_value(role)
        field(f"sign_name:{vid}").input(name)
        field(f"sign_comment:{vid}").input(comment)
        checked(button(at, "rulesets.sign").click().run())

    sign_as("marketing", "Aiko", "fits our MQL volume")
    assert t("rulesets.done.sign", "en") in [s.value for s in at.success]
    assert field(f"sign_name:{vid}").value == ""  # done: the form is empty again
    sign_as("sales", "aiko", "looks right")  # the same person cannot sign for sales too
    assert [e.value for e in at.error] == [t("versions.same_person", "en", name="aiko")]
    # refused: said in the form, beside its button, and what was typed is still there
    form = [f for f in at.get("form") if "sign_form" in str(f.proto.form.form_id)]
    assert [e.value for e in form[0].error] == [t("versions.same_person", "en", name="aiko")]
    assert (field(f"sign_name:{vid}").value, field(f"sign_comment:{vid}").value) == (
        "aiko",
        "looks right",
    )
    assert field(f"sign_role:{vid}").value == "sales"
    sign_as("sales", "", "no name")
    assert [e.value for e in at.error] == [t("versions.empty", "en", what="name")]
    sign_as("sales", "Ben")

    (agreed,) = list_versions(ui.store(), "demo")
    assert agreed.status == "agreed" and agreed.current
    assert [(s.role, s.name, s.comment) for s in agreed.signoffs] == [
        ("marketing", "Aiko", "fits our MQL volume"),
        ("sales", "Ben", ""),
    ]
    assert t("rulesets.is_agreed", "en") in [s.value for s in at.success]
    keys = {b.key for b in at.get("download_button")}
    assert {
        "dl_yaml",
        "dl_json",
        "dl_report",
        "dl_handoff-csv",
        "dl_handoff-xlsx",
        "dl_sql",
    } <= keys


def test_diff_shows_the_changed_rule_and_both_versions_metrics(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    info = seed("demo", leads=1500)
    at = open_app("tuner")
    save_from_tuner(at, checked, "Aiko")
    prefix = tuner_prefix(at, info)
    checked(at.slider(key=f"pts:{prefix}:0").set_value(9).run())
    save_from_tuner(at, checked, "Ben")
    checked(at.switch_page(RULESETS).run())
    newest, oldest = list_versions(ui.store(), "demo")
    frames = [d.value for d in at.dataframe]
    changes = next(f for f in frames if t("rulesets.col.change", "en") in f.columns)
    assert changes[t("rulesets.col.change", "en")].tolist() == [t("report.changed", "en")]
    metrics = next(f for f in frames if t("report.col.metric", "en") in f.columns)
    hot = metrics[metrics[t("report.col.metric", "en")] == t("metric.hot", "en")]
    assert hot[oldest.label()].iloc[0] == f"{oldest.metrics['hot']:,}"
    assert hot[newest.label()].iloc[0] == f"{newest.metrics['hot']:,}"


def test_open_in_tuner_loads_the_version_into_the_active_proposal(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
) -> None:
    info = seed("demo", leads=1000)
    at = open_app("tuner")
    prefix = tuner_prefix(at, info)
    checked(at.slider(key=f"pts:{prefix}:0").set_value(7).run())
    save_from_tuner(at, checked, "Aiko")
    checked(at.slider(key=f"pts:{prefix}:0").set_value(1).run())
    checked(at.switch_page(RULESETS).run())
    (v,) = list_versions(ui.store(), "demo")
    checked(at.button(key=f"open:{v.version_id}").click().run())
    assert tuner_state(at, "demo").rules().rules[0].points == 7


def test_japanese_rule_sets_page(
    open_app: Callable[..., AppTest], seed: Callable[..., DatasetInfo], db_path: Path
) -> None:
    info = seed("demo", leads=800)
    with Store(db_path) as store:
        save_version(store, info, template_for(info), author="佐藤", rationale="<b>理由</b>")
    at = open_app("overview", lang="ja")
    at.switch_page(RULESETS).run()
    assert not at.exception
    assert at.title[0].value == t("rulesets.title", "ja")
    history = at.dataframe[0].value
    assert history[t("report.status", "ja")].tolist() == [t("report.status.draft", "ja")]
    assert "<b>理由</b>" in [x.value for x in at.text]  # shown as text, never as markup


def test_an_exported_file_imports_as_a_new_draft_and_a_bad_one_is_explained(
    open_app: Callable[..., AppTest], seed: Callable[..., DatasetInfo], db_path: Path
) -> None:
    info = seed("demo", leads=800)
    with Store(db_path) as store:
        first = save_version(store, info, template_for(info), author="Aiko")
    at = open_app("overview")
    at.switch_page(RULESETS).run()
    submit = t("rulesets.import_button", "en")

    def upload(name: str, data: bytes) -> None:
        at.get("file_uploader")[0].upload(name, data, "application/yaml")  # type: ignore[attr-defined]
        at.text_input[0].input("Carol")
        next(b for b in at.button if b.label == submit).click().run()

    upload("agreed.yaml", version_to_yaml(first).encode())
    assert not at.exception
    newest = list_versions(ui.store(), "demo")[0]
    assert (newest.number, newest.author, newest.status) == (2, "Carol", "draft")
    assert newest.ruleset == first.ruleset

    upload("bad.yaml", b"rules:\n- {kind: category, column: industry, value: Fishing, points: 5}\n")
    assert any("never holds" in e.value for e in at.error)
    upload("junk.yaml", b"\xff\xfe\x00junk")
    assert [e.value for e in at.error] == [t("rulesets.import_not_text", "en", file="junk.yaml")]
    assert len(list_versions(ui.store(), "demo")) == 2


def test_diff_against_a_version_naming_columns_the_reloaded_dataset_lacks_warns(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
    tmp_path: Path,
) -> None:
    info = seed("demo", leads=600)
    with Store(db_path) as store:
        old = RuleSet(name="fit", rules=(CategoryRule("industry", "SaaS", 10),))
        save_version(store, info, old, author="Aiko")
        frame = store.leads_frame(info).drop(columns=["industry"])
        frame.to_csv(tmp_path / "demo.csv", index=False)
        reloaded = load_files(store, "demo", *read_inputs(tmp_path / "demo.csv")).dataset
        save_version(store, reloaded, template_for(reloaded), author="Ben")
    at = open_app("overview")
    at.switch_page(RULESETS).run()
    assert not at.exception
    assert any("industry" in w.value for w in at.warning)


def test_sql_of_a_version_counting_activities_names_the_activity_log_table(
    db_path: Path,
    tmp_path: Path,
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
) -> None:
    from tests.engines.sqlcases import load_activity_case

    with Store(db_path) as store:
        found = load_activity_case(store, tmp_path)
        info = store.require("activities")
        save_version(store, info, found.case.rules, author="Aiko")
    at = open_app()
    at.switch_page(RULESETS).run()
    checked(at)

    box = at.text_input(key="sql_acts")
    assert box.label == t("rulesets.activities_table", "en") and box.value == "activities"
    checked(box.set_value("crm.activity_log").run())
    sql = at.code[0].value
    assert '"crm"."activity_log"' in sql and "activity_counts AS (" in sql


def test_no_activity_table_input_when_the_rules_count_no_activities(
    open_app: Callable[..., AppTest], checked: Callable[[AppTest], AppTest], db_path: Path
) -> None:
    with Store(db_path) as store:
        info = load_files(
            store,
            "crm",
            *read_inputs(Path(__file__).parents[1] / "fixtures" / "crm_wide_export.csv"),
        ).dataset
        save_version(store, info, template_for(info), author="Aiko")
    at = open_app()
    checked(at.switch_page(RULESETS).run())
    assert not [w for w in at.text_input if w.key == "sql_acts"]
    assert at.text_input(key="sql_table").value == "leads"


def test_signing_off_works_in_japanese(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    checked: Callable[[AppTest], AppTest],
    db_path: Path,
) -> None:
    from funnel.versions.signoff import propose

    info = seed("demo", leads=500)
    with Store(db_path) as store:
        v = save_version(store, info, template_for(info), author="佐藤")
        propose(store, v.version_id, "佐藤")
    at = open_app(lang="ja")
    checked(at.switch_page(RULESETS).run())
    radio = at.radio(key=f"sign_role:{v.version_id}")
    assert radio.options == [t("report.role.marketing", "ja"), t("report.role.sales", "ja")]

    radio.set_value("sales")
    at.text_input(key=f"sign_name:{v.version_id}").input("鈴木")
    label = t("rulesets.sign", "ja")
    checked(next(b for b in at.button if b.label == label).click().run())

    with Store(db_path) as store:
        (signed,) = list_versions(store, "demo")
    assert [(s.role, s.name) for s in signed.signoffs] == [("sales", "鈴木")]
    assert not at.error
