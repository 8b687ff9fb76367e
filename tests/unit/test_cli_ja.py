"""``funnel ... --lang ja`` speaks Japanese on every human line; data stays data."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from funnel.apply import ApplyError, WebhookError, post_webhook
from funnel.cli import main
from funnel.formats import shown_in
from funnel.i18n import MESSAGES, t
from funnel.mapping import ROLES as COLUMN_ROLES
from funnel.rules import RuleSetError, Where, check_columns, decode_ruleset, ruleset_from_text
from funnel.store import Store

SRC = Path(__file__).resolve().parents[2] / "src" / "funnel"

#: Words of the English CLI that must not reach a Japanese reader (data never contains them).
ENGLISH = re.compile(
    r"\b(wrote|error|note|warning|fix|leads?|precision|recall|draft|proposed|agreed|current|"
    r"changes?|unknown|did you mean|must|does not exist|base rate|won|lost|open|stage|"
    r"segment|internal|interrupted|marketing|sales|added|removed|rule \d)\b",
    re.IGNORECASE,
)

TEMPLATE_FILE = "crm.csv"
POINTS_RANGE = "points（点数）は -1000 から 1000 までの整数にしてください。"


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNEL_DEBUG", raising=False)
    monkeypatch.delenv("FUNNEL_LANG", raising=False)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding ``funnel demo --leads 1200`` as "demo", and its rules as a file."""
    folder = tmp_path_factory.mktemp("ja")
    db = folder / "funnel.duckdb"
    assert main(["demo", "--leads", "1200", "--db", str(db)]) == 0
    template = ["template", "--dataset", "demo", "--out", str(folder / "R.yaml")]
    assert main([*template, "--db", str(db)]) == 0
    return db


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "funnel.duckdb"
    shutil.copyfile(demo_db, path)
    shutil.copyfile(demo_db.parent / "R.yaml", tmp_path / "R.yaml")
    return path


def ja(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``funnel ... --lang ja``; return the exit code, stdout and stderr."""
    capsys.readouterr()
    code = main([*(str(a) for a in argv), "--lang", "ja", "--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def assert_japanese(text: str, *, allowed: str = "") -> None:
    """No English word of the CLI's own is left in ``text`` (``allowed``: data around it)."""
    english = [m.group(0) for m in ENGLISH.finditer(text) if m.group(0) not in allowed]
    assert english == [], text


def leads_file(tmp_path: Path, db: Path) -> Path:
    """The demo's leads as a new CRM export (its own columns only)."""
    with Store(db, read_only=True) as store:
        info = store.require("demo")
        frame = store.leads_frame(info)
    path = tmp_path / TEMPLATE_FILE
    frame.to_csv(path, index=False)
    return path


# --- the commands, line by line ----------------------------------------------------------------


def test_demo_speaks_japanese_on_stdout_and_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = ja(capsys, tmp_path / "d.duckdb", "demo", "--leads", "300")
    assert code == 0
    assert out.startswith("demo を保存しました: リード 300 件")
    assert err.splitlines()[0] == t("progress.generate", "ja")
    assert_japanese(out + err)

    csv = tmp_path / "leads.csv"
    code, out, err = ja(capsys, tmp_path / "d.duckdb", "demo", "--leads", "50", "--out", csv)
    assert code == 0 and out == ""
    assert err.splitlines() == [
        t("progress.generate", "ja"),
        f"{csv} にリード 50 件を書き出しました",
    ]


def test_load_and_datasets_speak_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    path = leads_file(tmp_path, db)
    code, out, err = ja(capsys, db, "load", path, "--dataset", "crm")
    assert code == 0, err
    assert out.startswith("crm を保存しました: リード 1,200 件")
    assert_japanese(out + err, allowed="crm")

    code, out, _ = ja(capsys, db, "datasets")
    header = out.splitlines()[0]
    assert header.split() == ["名前", "リード数", "受注", "失注", "商談中", "取り込み日時"]
    assert_japanese(out)


def test_rules_list_show_and_diff_speak_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "R.yaml"
    for author in ("佐藤", "鈴木"):
        args = ("rules", "save", "--rules", rules, "--dataset", "demo", "--author", author)
        assert ja(capsys, db, *args)[0] == 0
    text = rules.read_text(encoding="utf-8").replace("points: 1\n", "points: 4\n", 1)
    rules.write_text(text, encoding="utf-8")
    args = ("rules", "save", "--rules", rules, "--dataset", "demo", "--author", "田中")
    code, out, _ = ja(capsys, db, *args)
    assert code == 0 and out.startswith(t("versions.saved", "ja", label="simple template v3", id=3))
    assert ja(capsys, db, "rules", "propose", "#1", "--name", "佐藤")[0] == 0
    sign = ("rules", "sign", "#1", "--role", "marketing", "--name", "佐藤")
    code, out, _ = ja(capsys, db, *sign)
    assert code == 0 and "提案中" in out and "[マーケティング: 佐藤]" in out

    code, out, _ = ja(capsys, db, "rules", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert "下書き" in lines[0] and "提案中" in lines[-1]
    assert_japanese(out, allowed="simple template demo")

    code, out, _ = ja(capsys, db, "rules", "show", "#3")
    assert code == 0
    labels = [m.label("ja") for m in shown_in("show")]
    assert [line.split()[0] for line in out.splitlines()[-len(labels) :]] == labels
    assert "ホットの転換率（適合率）" in labels and "受注のうちホットだった割合（再現率）" in labels
    assert "  - " + t("rule.tier_rest", "ja", tier="C") in out.splitlines()
    assert_japanese(out, allowed="simple template demo")

    code, out, _ = ja(capsys, db, "rules", "diff", "#1", "#3")
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "simple template v1 → simple template v3（データセット demo で比較）"
    assert lines[1].split()[0] == "変更"
    assert any(line.split()[0] == "ホットの転換率（適合率）" for line in lines)
    assert_japanese(out, allowed="simple template demo")

    code, out, _ = ja(capsys, db, "rules", "diff", "#1", "#2")
    assert t("cli.no_rule_changes", "ja") in out.splitlines()


def save_and_propose(capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path) -> None:
    """Save R.yaml as version #1 of the demo and propose it."""
    args = ("rules", "save", "--rules", tmp_path / "R.yaml", "--dataset", "demo", "--author", "A")
    assert ja(capsys, db, *args)[0] == 0
    assert ja(capsys, db, "rules", "propose", "#1", "--name", "A")[0] == 0


def test_a_version_refusal_names_its_status_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    save_and_propose(capsys, db, tmp_path)
    code, out, err = ja(capsys, db, "rules", "propose", "#1", "--name", "A")
    assert code == 2 and out == ""
    assert err.strip() == "エラー: " + t(
        "versions.not_draft", "ja", label="simple template v1", status="提案中"
    )


def test_score_hot_and_sql_report_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "R.yaml"
    out_csv = tmp_path / "scored.csv"
    code, out, err = ja(
        capsys, db, "score", "--dataset", "demo", "--rules", rules, "--out", out_csv
    )
    assert code == 0 and out == ""
    assert err.strip() == f"{out_csv} に採点したリード 1,200 件を書き出しました"

    path = leads_file(tmp_path, db)
    code, out, err = ja(capsys, db, "hot", path, "--rules", rules)
    hot = pd.read_csv(io.StringIO(out))
    assert code == 0
    assert err.strip().splitlines()[-1] == f"ホットリード {len(hot):,} 件"
    assert_japanese(err, allowed=TEMPLATE_FILE)

    sql = tmp_path / "R.sql"
    code, out, err = ja(capsys, db, "sql", "--rules", rules, "--dialect", "duckdb", "--out", sql)
    assert code == 0 and out == ""
    assert err.strip() == f"{sql} を書き出しました"


def test_scores_print_without_a_trailing_point_zero_like_the_hand_off_list(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "R.yaml"
    code, out, _ = ja(capsys, db, "score", "--dataset", "demo", "--rules", rules)
    assert code == 0
    scores = [line.split(",")[1] for line in out.splitlines()[1:]]
    assert scores and all(re.fullmatch(r"-?\d+", s) for s in scores), scores[:5]

    code, out, _ = ja(capsys, db, "score", leads_file(tmp_path, db), "--rules", rules)
    assert code == 0
    file_scores = [line.split(",")[1] for line in out.splitlines()[1:]]
    assert file_scores == scores

    code, out, _ = ja(
        capsys, db, "hot", leads_file(tmp_path, db), "--rules", rules, "--format", "json"
    )
    assert code == 0 and '"score": 4.0' not in out and re.search(r'"score": \d+,', out)


# --- errors ---------------------------------------------------------------------------------------


def test_a_misspelled_key_is_explained_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n- {kind: per_unit, column: web_visits, pionts: 2}\n", encoding="utf-8")
    code, out, err = ja(capsys, db, "evaluate", "--dataset", "demo", "--rules", bad)
    assert code == 2 and out == ""
    meant = "不明なキー 'pionts' です（'points' の誤りではありませんか?）。"
    assert err == f"エラー: {bad}: ルール 1: {meant}\n"
    assert_japanese(err, allowed=str(bad))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{kind: per_unit, column: web_visits, points: lots}", "ルール 1: " + POINTS_RANGE),
        ("{kind: per_unit, column: web_visits, points: 2.5}", "ルール 1: " + POINTS_RANGE),
        (
            "{kind: per_unit, column: web_visits, points: true}",
            "ルール 1: points（点数）には True ではなく整数を書いてください。",
        ),
        ("{kind: bonus, column: web_visits, points: 2}", "ルール 1: kind 'bonus' は使えません。"),
        (
            "{kind: range, column: employees, low: 50, high: 10, points: 2}",
            "ルール 1: low（下限）は high（上限）より小さくしてください。",
        ),
        (
            "{kind: per_unit, column: web_vistis, points: 2}",
            "データセットにない列 web_vistis が使われています。",
        ),
    ],
)
def test_bad_points_kinds_and_columns_are_explained_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, rule: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"rules:\n- {rule}\n", encoding="utf-8")
    code, out, err = ja(capsys, db, "score", "--dataset", "demo", "--rules", bad)
    assert code == 2 and out == ""
    assert err.startswith(f"エラー: {bad}: ") and expected in err
    assert_japanese(err.replace("web_vistis", ""), allowed=str(bad))


def test_missing_files_and_misused_options_are_explained_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    code, _, err = ja(capsys, db, "hot", leads_file(tmp_path, db), "--rules", missing)
    assert code == 2
    assert (
        err
        == f"エラー: {missing}: ルールセットのファイルが見つかりません。パスを確認してください。\n"
    )

    code, _, err = ja(capsys, db, "rules", "import", missing, "--dataset", "demo", "--author", "A")
    assert code == 2 and err.startswith(
        f"エラー: {missing}: ルールセットのファイルが見つかりません"
    )

    rules = tmp_path / "R.yaml"
    args = ("score", leads_file(tmp_path, db), "--rules", rules, "--dataset", "demo")
    code, _, err = ja(capsys, db, *args)
    assert code == 2 and err == "エラー: " + t("apply.score_file_filters", "ja") + "\n"

    plain = tmp_path / "plain.yaml"
    plain.write_text("rules:\n- {kind: per_unit, column: web_visits, points: 2}\n", "utf-8")
    code, _, err = ja(capsys, db, "sql", "--rules", plain, "--dialect", "duckdb")
    assert code == 2
    assert err == "エラー: " + t("apply.sql_needs_dataset", "ja", file=plain) + "\n"

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00rules")
    code, _, err = ja(capsys, db, "evaluate", "--dataset", "demo", "--rules", binary)
    assert code == 2 and err.startswith(f"エラー: {binary}: ルールセットのファイルは UTF-8")
    assert_japanese(err, allowed=str(tmp_path))


def test_english_output_is_unchanged(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n- {kind: per_unit, column: web_visits, pionts: 2}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["evaluate", "--dataset", "demo", "--rules", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {bad}: rule 1: unknown key 'pionts' (did you mean 'points'?).\n"
    assert main(["datasets", "--db", str(db)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.split() == ["name", "leads", "won", "lost", "open", "loaded_at"]


# --- the errors themselves ------------------------------------------------------------------------


def test_rule_set_errors_render_in_both_languages_and_str_stays_english() -> None:
    with pytest.raises(RuleSetError) as caught:
        ruleset_from_text("tiers:\n- {name: A, min: 3}\n- {name: B}\n", source="r.yaml")
    exc = caught.value
    assert (
        str(exc) == exc.message("en") == ("r.yaml: tier 1: unknown key 'min'; use name, min_score.")
    )
    assert (
        exc.message("ja")
        == "r.yaml: ランク 1: 不明なキー 'min' です。使えるキー: name, min_score。"
    )

    with pytest.raises(RuleSetError) as caught:
        tiers = "tiers:\n- {name: A, min_score: 1}\n- {name: B, min_score: 5}\n- {name: C}\n"
        ruleset_from_text(tiers, source="r.yaml")
    assert caught.value.message("ja") == "r.yaml: " + t("ruleset.tier_order", "ja")

    with pytest.raises(RuleSetError) as caught:
        decode_ruleset("bm90IGEgcnVsZSBzZXQ=")
    assert caught.value.message("ja").startswith(
        "共有リンク: リンク内のルールセットが壊れています（"
    )
    assert str(caught.value).startswith("shared link: the rule set in the link is damaged (")

    with pytest.raises(RuleSetError) as caught:
        gate = ruleset_from_text("gates:\n- {column: 業種, values: [x]}\n")
        check_columns(gate, ["a", "b"], source="R.yaml")
    assert caught.value.message("ja") == (
        "R.yaml: データセットにない列 業種 が使われています。データセットの列: a, b。"
    )


def test_a_ready_made_message_is_kept_as_it_is() -> None:
    exc = RuleSetError("f.yaml: version: expected a mapping (number:, author:, ...).")
    assert exc.message("ja") == str(exc) == exc.code
    assert Where("f.yaml", "gate", 2).text("ja") == "f.yaml: 除外条件 2"


def test_apply_and_webhook_errors_render_in_both_languages() -> None:
    exc = ApplyError("needs_columns_activities", file="new.csv", columns="activity_visit")
    assert str(exc) == (
        "new.csv: the rule set needs column(s) activity_visit, which the file does not have "
        "(activity counts need the activity log: --activities FILE)."
    )
    assert exc.message("ja") == (
        "new.csv: ルールセットが使う列 activity_visit がファイルにありません"
        "（行動の回数には行動履歴が必要です: --activities ファイル）。"
    )
    with pytest.raises(WebhookError) as caught:
        post_webhook("ftp://example", {})
    assert (
        str(caught.value) == "ftp://example: a webhook address must start with http:// or https://."
    )
    assert caught.value.message("ja") == (
        "ftp://example: Webhook のアドレスは http:// または https:// で始めてください。"
    )


def test_every_error_code_raised_has_a_message() -> None:
    files = ("rules.py", "apply.py", *(f"cli/{p.name}" for p in (SRC / "cli").glob("*.py")))
    text = "\n".join((SRC / name).read_text(encoding="utf-8") for name in files)
    families = {"RuleSetError": "ruleset", "ApplyError": "apply", "WebhookError": "webhook"}
    # a file that cannot be read is refused by each reader in its own words
    text += "\n".join(
        f'RuleSetError("{code}")'
        for code in re.findall(r'refuse\(\s*"([a-z_]+)"', (SRC / "yamlfiles.py").read_text())
    )
    found = 0
    for cls, prefix in families.items():
        for code in re.findall(rf'{cls}\(\s*"([a-z_]+)"', text):
            found += 1
            assert f"{prefix}.{code}" in MESSAGES, code
    assert found > 35


# --- mapping files, SQL export, YAML and version files ------------------------------------------


def test_mapping_file_errors_are_explained_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    path = leads_file(tmp_path, db)
    missing = tmp_path / "nope.yaml"
    code, out, err = ja(capsys, db, "load", path, "--dataset", "crm", "--mapping", missing)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == (
        f"エラー: {missing}: 列の割り当てファイルが見つかりません。パスを確認してください。"
    )

    bad = tmp_path / "m.yaml"
    bad.write_text("leads: {lead_id: id, industry: bogus}\n", encoding="utf-8")
    code, _, err = ja(capsys, db, "load", path, "--dataset", "crm", "--mapping", bad)
    roles = ", ".join(COLUMN_ROLES)
    unknown = t("mappingfile.unknown_role", "ja", column="'industry'", role="'bogus'", roles=roles)
    assert code == 2 and err.splitlines()[-1] == f"エラー: {bad}: leads: {unknown}"
    assert unknown.startswith("列 'industry' の役割 'bogus' は使えません。")

    bad.write_text("leads: [lead_id\n", encoding="utf-8")
    code, _, err = ja(capsys, db, "load", path, "--dataset", "crm", "--mapping", bad)
    detail = "expected ',' or ']', but got '<stream end>'"
    assert code == 2
    assert err.splitlines()[-1] == f"エラー: {bad}: " + t(
        "yaml.syntax", "ja", line=2, detail=detail
    )
    assert_japanese(err.replace(detail, ""), allowed=str(tmp_path))
    with Store(db, read_only=True) as store:
        assert [d.name for d in store.datasets()] == ["demo"]  # nothing was stored


def test_sql_export_and_broken_rule_files_are_explained_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "R.yaml"
    sql = ("sql", "--rules", rules, "--dialect", "duckdb", "--table", "crm..leads")
    code, out, err = ja(capsys, db, *sql)
    assert code == 2 and out == ""
    assert err == "エラー: " + t("sqlexport.bad_table", "ja", table="'crm..leads'") + "\n"
    assert err.startswith("エラー: テーブル名 'crm..leads' は使えません。")
    assert_japanese(err, allowed="crm..leads")

    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: []\nrules: []\n", encoding="utf-8")
    code, _, err = ja(capsys, db, "sql", "--rules", broken, "--dialect", "duckdb")
    assert code == 2
    twice = t("yaml.duplicate_key", "ja", line=2, name="'rules'")
    assert err == f"エラー: {broken}: {twice}\n"
    assert twice.startswith("2 行目が YAML または JSON の書式として正しくありません（キー 'rules'")


def test_a_rules_import_the_dataset_cannot_use_is_refused_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n- {kind: category, column: industry, value: Fishing, points: 5}\n", "utf-8"
    )
    args = ("rules", "import", bad, "--dataset", "demo", "--author", "A")
    code, out, err = ja(capsys, db, *args)
    assert code == 2 and out == ""
    never = t("ruleset.values_never_held", "ja", name="'demo'", values="industry: 'Fishing'")
    assert err == f"エラー: {bad}: {never}\n"
    assert never.startswith("データセット 'demo' にない値が使われています — industry: 'Fishing'。")
    # rules save decides as import does: a value the dataset never holds is refused, not saved
    save = ("rules", "save", "--rules", bad, "--dataset", "demo", "--author", "A")
    assert ja(capsys, db, *save) == (2, "", f"エラー: {bad}: {never}\n")
    assert ja(capsys, db, "rules", "list")[1] == t("versions.none", "ja") + "\n"

    bad.write_text(
        "rules:\n- {kind: per_unit, column: web_visits, points: 2}\n"
        "version:\n  effective_from: soon\n",
        "utf-8",
    )
    code, _, err = ja(capsys, db, *args)
    assert code == 2
    assert err == (
        f"エラー: {bad}: version: effective_from: 'soon' は日付として読み取れません"
        "（例: 2026-12-01）。\n"
    )
    assert ja(capsys, db, "rules", "list")[1] == t("versions.none", "ja") + "\n"


def test_a_second_sign_off_for_one_side_names_the_side_in_japanese(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    save_and_propose(capsys, db, tmp_path)
    sign = ("rules", "sign", "#1", "--role", "marketing", "--name")
    assert ja(capsys, db, *sign, "佐藤")[0] == 0
    code, out, err = ja(capsys, db, *sign, "鈴木")
    assert code == 2 and out == ""
    assert (
        err
        == "エラー: "
        + t(
            "versions.already_signed",
            "ja",
            label="simple template v1",
            role="マーケティング",
            name="佐藤",
        )
        + "\n"
    )
    assert_japanese(err, allowed="simple template")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_template_without_rules_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, lang: str
) -> None:
    """A dataset without behaviour columns the template knows (Olist, bank) gets a file to
    edit and a warning saying why it has no rules yet."""
    rows = "\n".join(f"L{i},{'IT' if i % 2 else 'Retail'},{i % 2}" for i in range(60))
    (tmp_path / "attrs.csv").write_text("lead_id,industry,Converted\n" + rows + "\n", "utf-8")
    db = tmp_path / "attrs.duckdb"
    load = ["--lang", lang, "--db", str(db), "load", str(tmp_path / "attrs.csv")]
    assert main([*load, "--dataset", "attrs", "--outcome", "Converted"]) == 0
    capsys.readouterr()

    out_file = tmp_path / "t.yaml"
    argv = [
        "--lang",
        lang,
        "--db",
        str(db),
        "template",
        "--dataset",
        "attrs",
        "--out",
        str(out_file),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    message = t("cli.template_empty", lang, dataset="attrs")
    assert t("cli.warning", lang, message=message) in err
    written = out_file.read_text(encoding="utf-8")
    assert "rules: []" in written
    assert f"name: {t('rules.name.template', lang)}" in written  # in the reader's language


@pytest.mark.parametrize(("holdout", "warned"), [(0.58, True), (0.61, True), (0.7, False)])
def test_suggest_warns_when_it_does_no_better_than_the_template(
    capsys: pytest.CaptureFixture[str],
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    holdout: float,
    warned: bool,
) -> None:
    from dataclasses import replace

    from funnel.cli import scoring as cli
    from funnel.store import Store
    from funnel.suggest import Suggestion, suggest_rules, template_for

    with Store(db, read_only=True) as store:
        real = suggest_rules(
            store, store.require("demo"), baseline=template_for(store.require("demo"))
        )
    assert real.verdict.auc is not None
    auc = replace(real.verdict.auc, auc=holdout, low=holdout - 0.05, high=holdout + 0.05)
    made = replace(real, baseline_auc=0.61, verdict=replace(real.verdict, auc=auc))

    def fitted(*_args: object, **_kwargs: object) -> Suggestion:
        return made

    monkeypatch.setattr(cli, "suggest_rules", fitted)
    code, _, err = ja(capsys, db, "suggest", "--dataset", "demo", "--out", tmp_path / "s.yaml")
    assert code == 0
    message = t("cli.suggest_no_better", "ja", auc=f"{holdout:.3f}", base="0.610")
    assert (t("cli.warning", "ja", message=message) in err) == warned
