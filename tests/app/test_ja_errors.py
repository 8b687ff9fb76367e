"""Rule-set errors reach a Japanese user in Japanese; the import form keeps a refused file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app import ui
from funnel.i18n import t
from funnel.rules import RuleSetError, decode_ruleset, ruleset_from_text
from funnel.store import DatasetInfo, Store
from funnel.suggest import template_for
from funnel.versions.files import version_to_yaml
from funnel.versions.history import list_versions, save_version

RULESETS = "../pages/rulesets.py"
TUNER = "../pages/tuner.py"
MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
MISSPELLED = b"rules:\n- {kind: per_unit, column: web_visits, pionts: 2}\n"


def _refusal(text: bytes, source: str) -> RuleSetError:
    try:
        ruleset_from_text(text.decode(), source=source)
    except RuleSetError as exc:
        return exc
    raise AssertionError("the file was accepted")


def test_a_refused_import_is_explained_in_japanese_and_keeps_the_file(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
    literal: Callable[[str], str],
) -> None:
    info = seed("demo", leads=600)
    with Store(db_path) as store:
        first = save_version(store, info, template_for(info), author="佐藤")
        second = save_version(store, info, template_for(info), author="鈴木")
    at = open_app("overview", lang="ja")
    at.switch_page(RULESETS).run()
    pick = f"rs_pick:{info.dataset_id}"
    at.selectbox(key=pick).set_value(first.version_id).run()
    submit = t("rulesets.import_button", "ja")

    at.file_uploader[0].upload("bad.yaml", MISSPELLED, "application/yaml")
    at.text_input[0].input("田中")
    next(b for b in at.button if b.label == submit).click().run()

    assert not at.exception
    expected = _refusal(MISSPELLED, "bad.yaml").message("ja")
    assert expected.startswith("bad.yaml: ルール 1: 不明なキー 'pionts'")
    assert [literal(e.value) for e in at.error] == [expected]  # Markdown-escaped file name
    assert at.file_uploader[0].value.name == "bad.yaml"  # still there to fix and retry
    assert at.text_input[0].value == "田中"
    assert len(list_versions(ui.store(), "demo")) == 2

    good = version_to_yaml(second).encode()
    at.file_uploader[0].set_value(("agreed.yaml", good, "application/yaml"))
    next(b for b in at.button if b.label == submit).click().run()

    assert not at.exception and not at.error
    newest = list_versions(ui.store(), "demo")[0]
    assert (newest.number, newest.author) == (3, "田中")
    assert at.selectbox(key=pick).value == newest.version_id  # the new draft is selected
    assert [s.value for s in at.success] == [
        t("versions.saved", "ja", label=newest.label(), id=newest.version_id)
    ]
    assert at.file_uploader[0].value is None and at.text_input[0].value == ""


def test_a_damaged_shared_link_warns_in_japanese(
    seed: Callable[..., DatasetInfo], literal: Callable[[str], str]
) -> None:
    seed("demo", leads=600)
    damaged = "bm90IGEgcnVsZSBzZXQ="
    try:
        decode_ruleset(damaged)
    except RuleSetError as exc:
        expected = exc.message("ja")
    assert expected.startswith("共有リンク: リンク内のルールセットが壊れています")
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params["lang"] = "ja"
    at.query_params["dataset"] = "demo"
    at.query_params["rules"] = damaged
    at.run()
    at.switch_page(TUNER).run()

    assert not at.exception
    assert expected in [literal(w.value) for w in at.warning]


def test_imports_refused_for_their_values_or_their_yaml_are_explained_in_japanese(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    literal: Callable[[str], str],
) -> None:
    seed("demo", leads=600)
    at = open_app("overview", lang="ja")
    at.switch_page(RULESETS).run()
    submit = t("rulesets.import_button", "ja")

    def upload(name: str, data: bytes) -> list[str]:
        at.file_uploader[0].set_value((name, data, "application/yaml"))
        at.text_input[0].input("田中")
        next(b for b in at.button if b.label == submit).click().run()
        assert not at.exception
        return [literal(e.value) for e in at.error]

    fishing = b"rules:\n- {kind: category, column: industry, value: Fishing, points: 5}\n"
    never = t("ruleset.values_never_held", "ja", name="'demo'", values="industry: 'Fishing'")
    assert upload("bad.yaml", fishing) == [f"bad.yaml: {never}"]
    assert never.startswith("データセット 'demo' にない値が使われています — industry: 'Fishing'。")

    twice = t("yaml.duplicate_key", "ja", line=2, name="'rules'")
    assert upload("twice.yaml", b"rules: []\nrules: []\n") == [f"twice.yaml: {twice}"]
    assert twice.startswith("2 行目が YAML または JSON の書式として正しくありません")

    signed = b"rules: []\nversion:\n  signoffs:\n  - {role: boss, name: A}\n"
    assert upload("signed.yaml", signed) == [
        "signed.yaml: version: signoffs の 1 件目: " + t("ruleset.signoff_shape", "ja")
    ]
    assert list_versions(ui.store(), "demo") == []


def test_a_refused_sql_export_warns_in_japanese(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    db_path: Path,
    literal: Callable[[str], str],
) -> None:
    info = seed("demo", leads=600)
    with Store(db_path) as store:
        save_version(store, info, template_for(info), author="佐藤")
    at = open_app("overview", lang="ja")
    at.switch_page(RULESETS).run()
    assert not at.exception and at.code  # the SQL is shown

    at.text_input(key="sql_table").set_value("crm..leads").run()

    assert not at.exception
    expected = t("sqlexport.bad_table", "ja", table="'crm..leads'")
    assert expected.startswith("テーブル名 'crm..leads' は使えません。")
    assert [literal(w.value) for w in at.warning] == [expected]
    assert not at.code  # no SQL offered for a table name it cannot use
