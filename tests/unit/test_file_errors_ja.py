"""Version files, mapping files, YAML and SQL export refuse in the reader's language.

``str(exc)`` stays the English sentence; ``exc.message("ja")`` is the Japanese one, naming the
same file, key, value or column and the same fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import funnel.yamlfiles
from funnel.dialects import SqlExportError, get_dialect, table_name
from funnel.i18n import MESSAGES, t
from funnel.mapping import ROLES as COLUMN_ROLES
from funnel.mapping.files import MappingFileError, mapping_from_yaml
from funnel.rules import RuleSetError
from funnel.versions.files import version_from_text
from funnel.versions.record import VersionError
from funnel.yamlfiles import YamlError, load_yaml

SRC = Path(__file__).resolve().parents[2] / "src" / "funnel"
RULES = "rules:\n- {kind: per_unit, column: web_visits, points: 2}\n"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def refusal(kind: type[Exception], read: Callable[[], Any]) -> Any:
    with pytest.raises(kind) as caught:
        read()
    return caught.value


# --- exported versions (RuleSetError raised by funnel.versions) -------------------------------


@pytest.mark.parametrize(
    ("tail", "english", "japanese"),
    [
        (
            "version:\n  signoffs:\n  - {role: boss, name: A}\n",
            "R.yaml: version: signoff 1: expected role: marketing|sales, name:, at:.",
            "R.yaml: version: signoffs の 1 件目: role:（marketing または sales）、name:、at: を"
            "書いてください。",
        ),
        (
            "version:\n  signoffs:\n  - {role: sales, name: A, at: later}\n",
            "R.yaml: version: signoff 1: at: 'later' is not a date and time (2026-11-22T10:00:00).",
            "R.yaml: version: signoffs の 1 件目: at: 'later' は日時として読み取れません"
            "（例: 2026-11-22T10:00:00）。",
        ),
        (
            "version:\n  effective_from: soon\n",
            "R.yaml: version: effective_from: 'soon' is not a date (2026-12-01).",
            "R.yaml: version: effective_from: 'soon' は日付として読み取れません"
            "（例: 2026-12-01）。",
        ),
        (
            "version:\n  export_version: 7\n",
            "R.yaml: version: export_version 7 is newer than this funnel understands (1); "
            "upgrade funnel.",
            "R.yaml: version: export_version 7 は、この funnel が扱える版（1）より新しいため"
            "読み込めません。funnel を更新してください。",
        ),
        (
            "version:\n  number: -3\n",
            "R.yaml: version: number must be a whole number.",
            "R.yaml: version: number は 0 以上の整数にしてください。",
        ),
        (
            "mapping:\n  leads: {web_visits: {role: behaviour, leak: yes}}\n",
            "R.yaml: mapping: leads: column 'web_visits': leak: write true or false, not 'yes'.",
            "R.yaml: mapping: leads: 列 'web_visits': leak: には 'yes' ではなく true か false を"
            "書いてください。",
        ),
    ],
)
def test_a_bad_version_record_is_explained_in_both_languages(
    tail: str, english: str, japanese: str
) -> None:
    exc = refusal(RuleSetError, lambda: version_from_text(RULES + tail, source="R.yaml"))
    assert str(exc) == exc.message("en") == english
    assert exc.message("ja") == japanese


def test_a_mapping_inside_a_version_file_keeps_the_mapping_sentence() -> None:
    text = RULES + "mapping:\n  leads: {web_visits: bogus}\n"
    exc = refusal(RuleSetError, lambda: version_from_text(text, source="R.yaml"))
    roles = ", ".join(COLUMN_ROLES)
    assert exc.code == "mappingfile.unknown_role"
    assert exc.message("ja") == "R.yaml: mapping: leads: " + t(
        "mappingfile.unknown_role", "ja", column="'web_visits'", role="'bogus'", roles=roles
    )
    assert exc.message("ja").startswith("R.yaml: mapping: leads: 列 'web_visits' の役割 'bogus'")
    assert str(exc).startswith("R.yaml: mapping: leads: column 'web_visits' has unknown role")


def test_broken_yaml_in_a_version_file_is_explained_in_japanese() -> None:
    exc = refusal(RuleSetError, lambda: version_from_text("a: 1\na: 2\n", source="R.yaml"))
    assert str(exc) == "R.yaml: not valid YAML or JSON at line 2 (the key 'a' appears twice)."
    assert exc.message("ja") == (
        "R.yaml: 2 行目が YAML または JSON の書式として正しくありません"
        "（キー 'a' が重複しています）。"
    )
    # a source funnel names itself is in the reader's language too
    exc = refusal(RuleSetError, lambda: version_from_text(RULES + "version: [1]\n"))
    assert exc.message("ja") == (
        "ルールセットのファイル: version: number:、author: などのキーを持つ形式で書いてください。"
    )


# --- version actions (VersionError): status and role words -------------------------------------


def test_version_refusals_name_status_and_role_in_the_readers_words() -> None:
    exc = VersionError("not_draft", label="hot v2", status="agreed")
    assert str(exc).startswith("hot v2 is already agreed; only a draft can be proposed.")
    assert exc.message("ja") == t("versions.not_draft", "ja", label="hot v2", status="合意済み")
    assert "はすでに 合意済み です" in exc.message("ja")

    exc = VersionError("already_signed", label="hot v2", role="marketing", name="佐藤")
    assert str(exc).startswith("hot v2 is already signed for marketing by 佐藤;")
    assert exc.message("ja") == (
        "hot v2 は マーケティング として 佐藤 がすでに承認しています。承認は置き換えられません。"
    )

    # a role nobody has is what the user typed, and the roles to type are the CLI's values
    exc = VersionError("bad_role", role="boss", roles="marketing, sales")
    assert exc.message("ja") == (
        "役割 boss は使えません。次のいずれかで承認してください: marketing, sales。"
    )


# --- mapping files (MappingFileError) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "english", "japanese"),
    [
        (
            "leads: {lead_id: id, industry: bogus}\n",
            "m.yaml: leads: column 'industry' has unknown role 'bogus'; use one of "
            + ", ".join(COLUMN_ROLES)
            + ".",
            "m.yaml: leads: 列 'industry' の役割 'bogus' は使えません。次のいずれかにしてください: "
            + ", ".join(COLUMN_ROLES)
            + "。",
        ),
        (
            "version: 9\nleads: {lead_id: id}\n",
            "m.yaml: version 9 is newer than this funnel understands (1); upgrade funnel.",
            "m.yaml: version 9 は、この funnel が扱える版（1）より新しいため読み込めません。"
            "funnel を更新してください。",
        ),
        (
            "leads: {lead_id: id}\noutcome: {file: crm}\n",
            "m.yaml: outcome.file must be 'leads' or 'outcomes'.",
            "m.yaml: outcome.file には 'leads' か 'outcomes' を指定してください。",
        ),
        (
            "leads: [lead_id\n",
            "m.yaml: not valid YAML or JSON at line 2 (expected ',' or ']', but got "
            "'<stream end>').",
            "m.yaml: 2 行目が YAML または JSON の書式として正しくありません"
            "（expected ',' or ']', but got '<stream end>'）。",
        ),
    ],
)
def test_mapping_file_errors_render_in_both_languages(
    text: str, english: str, japanese: str
) -> None:
    exc = refusal(MappingFileError, lambda: mapping_from_yaml(text, source="m.yaml"))
    assert str(exc) == exc.message("en") == english
    assert exc.message("ja") == japanese


# --- YAML and JSON (YamlError) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "english", "japanese"),
    [
        (
            "rules: &r [*r]\n",
            "x.yaml: not valid YAML or JSON at line 1 (an alias refers to itself).",
            "x.yaml: 1 行目が YAML または JSON の書式として正しくありません"
            "（エイリアスが自分自身を参照しています）。",
        ),
        (
            "at: 2024-02-30\n",
            "x.yaml: not valid YAML or JSON at line 1 (cannot read the value: day is out of "
            "range for month).",
            "x.yaml: 1 行目が YAML または JSON の書式として正しくありません"
            "（値を読み取れません: day is out of range for month）。",
        ),
        (
            "[" * 150 + "]" * 150,
            "x.yaml: not valid YAML or JSON (nested more than 100 levels deep).",
            "x.yaml: YAML または JSON の書式として正しくありません"
            "（入れ子が 100 階層を超えています）。",
        ),
        (
            '{"name": "\\ud800"}',
            "x.yaml: not valid YAML or JSON (an escaped character is half of a UTF-16 pair "
            "(\\ud800-\\udfff)).",
            "x.yaml: YAML または JSON の書式として正しくありません（エスケープした文字が UTF-16 の"
            "サロゲートペアの片方だけです（\\ud800-\\udfff））。",
        ),
        (
            '{"a": 1, "a": 2}',
            "x.yaml: not valid JSON (the key 'a' appears twice).",
            "x.yaml: JSON の書式として正しくありません（キー 'a' が重複しています）。",
        ),
    ],
)
def test_yaml_problems_render_in_both_languages(text: str, english: str, japanese: str) -> None:
    exc = refusal(YamlError, lambda: load_yaml(text, "x.yaml"))
    assert str(exc) == exc.message("en") == english
    assert exc.message("ja") == japanese


def test_a_too_long_file_names_its_size_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(funnel.yamlfiles, "MAX_CHARS", 1_000)
    exc = refusal(YamlError, lambda: load_yaml("#" * 1_200, "big.yaml"))
    assert str(exc) == (
        "big.yaml: 1,200 characters is too long for a rule set or mapping (limit 1,000)."
    )
    assert exc.message("ja") == (
        "big.yaml: 1,200 文字あり、ルールセットや列の割り当てとしては長すぎます"
        "（上限 1,000 文字）。"
    )


# --- SQL export (SqlExportError) ----------------------------------------------------------------


def test_sql_export_refusals_render_in_both_languages() -> None:
    exc = refusal(SqlExportError, lambda: get_dialect("oracle"))
    assert str(exc) == (
        "unknown SQL dialect 'oracle'; use one of duckdb, postgres, spark, snowflake, bigquery."
    )
    assert exc.message("ja") == (
        "SQL の方言 'oracle' には対応していません。次のいずれかを指定してください: "
        "duckdb, postgres, spark, snowflake, bigquery。"
    )
    exc = refusal(SqlExportError, lambda: table_name("crm..leads", get_dialect("duckdb")))
    assert exc.message("ja") == t("sqlexport.bad_table", "ja", table="'crm..leads'")
    assert exc.message("ja").startswith("テーブル名 'crm..leads' は使えません。")


# --- every code has its sentence ----------------------------------------------------------------


def _codes(pattern: str, *files: str) -> set[str]:
    """Codes matched in the named source files (glob patterns under src/funnel)."""
    paths = [p for name in files for p in sorted(SRC.glob(name))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    return set(re.findall(pattern, text))


def test_every_code_raised_has_a_message_in_both_languages() -> None:
    yaml_codes = _codes(r'(?:YamlError|_Refusal)\(\s*"([a-z_]+)"', "yamlfiles.py") | {
        "deep",
        "surrogate",  # returned by _json_problem
    }
    mapping_codes = _codes(r'MappingFileError\(\s*"([a-z_]+)"', "mapping/files.py") | _codes(
        r'refuse\(\s*"([a-z_]+)"',
        "yamlfiles.py",  # an unreadable file, in the reader's words
    )
    keys = (
        {f"ruleset.{c}" for c in _codes(r'RuleSetError\(\s*"([a-z_]+)"', "versions/*.py")}
        | {f"versions.{c}" for c in _codes(r'VersionError\(\s*"([a-z_]+)"', "versions/*.py")}
        | {
            f"sqlexport.{c}"
            for c in _codes(
                r'(?:SqlExportError\(|_no_nul\([^,]+,)\s*"([a-z_]+)"', "sqlexport.py", "dialects.py"
            )
        }
        | {f"mappingfile.{c}" for c in mapping_codes}  # also inside a version file
        | {f"yaml.{c}" for c in yaml_codes}  # also inside a rule-set or mapping file
    )
    assert len(yaml_codes) >= 12 and len(mapping_codes) >= 15 and len(keys) >= 50
    missing = sorted(k for k in keys if k not in MESSAGES)
    assert missing == []
    for key in keys:
        english, japanese = MESSAGES[key]
        assert english.strip() and JAPANESE.search(japanese), key


def test_no_ready_made_english_message_is_raised_any_more() -> None:
    names = ("versions/*.py", "sqlexport.py", "dialects.py", "mapping/files.py", "yamlfiles.py")
    for path in (p for name in names for p in sorted(SRC.glob(name))):
        text, name = path.read_text(encoding="utf-8"), path.name
        ready_made = re.findall(
            r'(?:RuleSetError|SqlExportError|MappingFileError|YamlError)\(\s*(?:str\(|f"\{)', text
        )
        assert ready_made == [], name
