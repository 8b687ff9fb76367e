"""``funnel rules``, ``score FILE``, ``hot`` and ``sql``: the agreed rules, applied anywhere."""

from __future__ import annotations

import csv
import http.server
import io
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, tzinfo
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest

from funnel.cli import main
from funnel.demo import generate_leads
from funnel.i18n import t
from funnel.ingest import load_files, read_inputs
from funnel.meeting import EXPORTS, Target
from funnel.rules import (
    CategoryRule,
    PerUnitRule,
    RuleSet,
    Tier,
    ruleset_from_text,
    ruleset_to_yaml,
)
from funnel.scoring.leads import score_leads
from funnel.store import Store
from funnel.suggest import template_for
from funnel.versions.files import import_version, version_from_text, version_to_yaml
from funnel.versions.history import get_version, list_versions, save_version
from tests.templates import copy_database

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNEL_DEBUG", raising=False)
    monkeypatch.delenv("FUNNEL_LANG", raising=False)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    """Demo leads with a company name column, and a database holding them as "crm"."""
    frame = generate_leads(2500, seed=11)
    frame.insert(1, "company", [f"Company {i}" for i in range(len(frame))])
    folder = tmp_path_factory.mktemp("crm")
    frame.to_csv(folder / "crm.csv", index=False)
    with Store(folder / "funnel.duckdb") as store:
        load_files(store, "crm", *read_inputs(folder / "crm.csv"))
    return frame, folder


@pytest.fixture
def leads(crm: tuple[pd.DataFrame, Path]) -> pd.DataFrame:
    return crm[0].copy()


@pytest.fixture
def db(tmp_path: Path, crm: tuple[pd.DataFrame, Path]) -> Path:
    """A copy of the database holding the leads as "crm" (loaded once for the module)."""
    shutil.copyfile(crm[1] / "crm.csv", tmp_path / "crm.csv")
    return copy_database(crm[1] / "funnel.duckdb", tmp_path / "funnel.duckdb")


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*(str(a) for a in argv), "--db", str(db)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], db: Path, *argv: str | Path) -> str:
    code, out, err = run(capsys, db, *argv)
    assert code == 0, err
    return out


def template_file(db: Path, folder: Path) -> Path:
    with Store(db) as store:
        rs = template_for(store.require("crm"))
    path = folder / "template.yaml"
    path.write_text(ruleset_to_yaml(rs), encoding="utf-8")
    return path


def agree(capsys: pytest.CaptureFixture[str], db: Path, rules: Path) -> int:
    saved = json.loads(
        ok(capsys, db, "rules", "save", "--rules", rules, "--dataset", "crm",
           "--author", "Aiko", "--rationale", "Q1 definition", "--json")
    )  # fmt: skip
    vid = saved["id"]
    ok(capsys, db, "rules", "propose", str(vid), "--name", "Aiko")
    ok(capsys, db, "rules", "sign", str(vid), "--role", "marketing", "--name", "Aiko")
    ok(capsys, db, "rules", "sign", f"#{vid}", "--role", "sales", "--name", "Ben",
       "--comment", "works for us")  # fmt: skip
    return int(vid)


def test_save_propose_sign_twice_then_export_reimports_identically(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    vid = agree(capsys, db, template_file(db, tmp_path))
    listed = json.loads(ok(capsys, db, "rules", "list", "--dataset", "crm", "--json"))
    assert [(v["id"], v["current"], v["version"]["status"]) for v in listed] == [
        (vid, True, "agreed")
    ]
    assert [s["name"] for s in listed[0]["version"]["signoffs"]] == ["Aiko", "Ben"]
    for fmt in ("yaml", "json"):
        out = tmp_path / f"agreed.{fmt}"
        ok(capsys, db, "rules", "export", "current", "--dataset", "crm", "--format", fmt,
           "--out", out)  # fmt: skip
        with Store(db) as store:
            original = get_version(store, vid)
        assert version_from_text(out.read_text(encoding="utf-8")) == original
    ok(capsys, db, "rules", "import", tmp_path / "agreed.yaml", "--dataset", "crm",
       "--author", "Carol")  # fmt: skip
    with Store(db) as store:
        versions = list_versions(store, "crm")
    assert [v.number for v in versions] == [2, 1]
    assert versions[0].ruleset == versions[1].ruleset and versions[0].status == "draft"
    shown = ok(capsys, db, "rules", "show", "current", "--dataset", "crm")
    assert "agreed (current)" in shown and "Each web_visits" in shown


def test_cli_scores_a_fresh_leads_file_with_the_exported_yaml_exactly_as_the_app(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    vid = agree(capsys, db, template_file(db, tmp_path))
    exported = tmp_path / "agreed.yaml"
    ok(capsys, db, "rules", "export", str(vid), "--format", "yaml", "--out", exported)
    fresh = leads.drop(columns=["outcome", "amount", "lost_reason", "closed_date"])
    fresh.to_csv(tmp_path / "fresh.csv", index=False, encoding="cp932")
    out = ok(capsys, db, "score", "--rules", exported, tmp_path / "fresh.csv")
    cli = pd.read_csv(io.StringIO(out), dtype={"id": str}, keep_default_na=False)
    with Store(db) as store:
        app = score_leads(store, store.require("crm"), get_version(store, vid).ruleset)
    merged = app.merge(cli, on="id", suffixes=("_app", "_cli"), validate="one_to_one")
    assert len(merged) == len(leads)
    assert (merged["tier_app"] == merged["tier_cli"]).all()
    assert (merged["score_app"] == merged["score_cli"]).all()
    assert (merged["reasons_app"] == merged["reasons_cli"]).all()


def test_score_file_names_a_column_the_rules_need_and_the_file_lacks(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    rules = template_file(db, tmp_path)
    leads.drop(columns=["web_visits"]).to_csv(tmp_path / "fresh.csv", index=False)
    code, out, err = run(capsys, db, "score", "--rules", rules, tmp_path / "fresh.csv")
    assert code == 2 and out == ""
    assert "fresh.csv" in err and "web_visits" in err


def test_bad_dates_do_not_stop_scoring_which_never_reads_them_but_do_stop_since(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    rules = template_file(db, tmp_path)
    broken = leads.head(40).astype({"created_at": "object"})
    broken.loc[[3, 7], "created_at"] = ["not a date", "31/31/2024"]
    broken.to_csv(tmp_path / "bad_dates.csv", index=False)

    scored = ok(capsys, db, "score", "--rules", rules, tmp_path / "bad_dates.csv")
    assert len(scored.splitlines()) == 41  # header + every lead
    hot = ok(capsys, db, "hot", "--rules", rules, tmp_path / "bad_dates.csv", "--format", "json")
    assert isinstance(json.loads(hot), list)
    # "since" reads the creation date: there the bad cells are named
    code, _, err = run(capsys, db, "hot", "--rules", rules, tmp_path / "bad_dates.csv",
                       "--since", "2024-01-01")  # fmt: skip
    assert code == 2 and "not a date" in err and "created_at" in err


def test_hot_lists_the_hot_leads_and_since_keeps_only_new_ones(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    rules = template_file(db, tmp_path)
    leads.to_csv(tmp_path / "today.csv", index=False)
    hot = json.loads(
        ok(capsys, db, "hot", "--rules", rules, tmp_path / "today.csv", "--format", "json")
    )
    rs = ruleset_from_text(rules.read_text(encoding="utf-8"))
    with Store(db) as store:
        app = score_leads(store, store.require("crm"), rs, only="hot")
    assert [h["id"] for h in hot] == list(app["id"]) and hot
    assert {h["tier"] for h in hot} == {rs.hot.name}
    recent = json.loads(
        ok(
            capsys,
            db,
            "hot",
            "--rules",
            rules,
            tmp_path / "today.csv",
            "--format",
            "json",
            "--since",
            "2026-07-01",
        )  # fmt: skip
    )
    created = dict(
        zip(leads["lead_id"].astype(str), pd.to_datetime(leads["created_at"]), strict=True)
    )
    expected = [h["id"] for h in hot if created[h["id"]] >= pd.Timestamp("2026-07-01")]
    assert [h["id"] for h in recent] == expected and 0 < len(expected) < len(hot)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[Any] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()


def test_hot_posts_the_hot_leads_to_a_webhook(
    capsys: pytest.CaptureFixture[str],
    db: Path,
    tmp_path: Path,
    leads: pd.DataFrame,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    rules = template_file(db, tmp_path)
    leads.to_csv(tmp_path / "today.csv", index=False)
    code, out, err = run(capsys, db, "hot", "--rules", rules, tmp_path / "today.csv",
                         "--webhook", url)  # fmt: skip
    assert code == 0 and out == ""
    (payload,) = hook.received
    assert payload["count"] == len(payload["leads"]) > 0
    assert payload["rule_set"] == ruleset_from_text(rules.read_text()).name
    assert f"posted {payload['count']:,} hot leads" in err


def test_a_failing_webhook_is_reported_with_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str],
    db: Path,
    tmp_path: Path,
    leads: pd.DataFrame,
    webhook: tuple[str, type[_Hook]],
) -> None:
    url, hook = webhook
    hook.status = 500
    rules = template_file(db, tmp_path)
    leads.head(200).to_csv(tmp_path / "today.csv", index=False)
    code, _, err = run(
        capsys, db, "hot", "--rules", rules, tmp_path / "today.csv", "--webhook", url
    )
    assert code == 3 and "HTTP 500" in err and "Nothing was delivered" in err
    closed = "http://127.0.0.1:9/nothing-listens-here"
    code, _, err = run(
        capsys, db, "hot", "--rules", rules, tmp_path / "today.csv", "--webhook", closed
    )
    assert code == 3 and "could not be reached" in err


def test_handoff_csv_and_excel_neutralise_a_formula_planted_in_a_company_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, leads: pd.DataFrame
) -> None:
    db = tmp_path / "planted.duckdb"
    with Store(db) as store:
        info = load_files(store, "crm", *read_inputs(_write(leads, tmp_path / "a.csv"))).dataset
        rs = template_for(info)
        best = str(score_leads(store, info, rs, only="hot")["id"].iloc[0])
    planted = leads.assign(
        company=leads["company"].mask(leads["lead_id"].astype(str) == best, FORMULA)
    )
    with Store(db) as store:
        load_files(store, "crm", *read_inputs(_write(planted, tmp_path / "crm.csv")))
    vid = agree(capsys, db, template_file(db, tmp_path))
    ok(
        capsys,
        db,
        "rules",
        "export",
        str(vid),
        "--format",
        "handoff-csv",
        "--out",
        tmp_path / "h.csv",
    )
    rows = list(csv.DictReader(io.StringIO((tmp_path / "h.csv").read_text(encoding="utf-8-sig"))))
    row = next(r for r in rows if r["id"] == best)
    assert row["company"] == "'" + FORMULA
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
    ok(
        capsys,
        db,
        "rules",
        "export",
        str(vid),
        "--format",
        "handoff-xlsx",
        "--out",
        tmp_path / "h.xlsx",
    )
    sheet = openpyxl.load_workbook(tmp_path / "h.xlsx").active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    cells = [r for r in sheet.iter_rows(min_row=2) if str(r[0].value) == best]
    company = cells[0][header.index("company")]
    assert company.value == "'" + FORMULA and company.data_type == "s"


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_report_export_is_one_self_contained_html_file(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    vid = agree(capsys, db, template_file(db, tmp_path))
    out = tmp_path / "report.html"
    ok(capsys, db, "rules", "export", str(vid), "--format", "report", "--out", out, "--lang", "ja")
    html = out.read_text(encoding="utf-8")
    assert html.count("Aiko") >= 1 and "Ben" in html and "合意済み" in html
    links: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            links.extend(v or "" for k, v in attrs if k in ("src", "href"))

    Tags().feed(html)
    assert not [x for x in links if x.startswith(("http:", "https:", "//"))]


def test_diff_reports_rule_changes_metric_deltas_and_tier_moves(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rules = template_file(db, tmp_path)
    first = agree(capsys, db, rules)
    rs = ruleset_from_text(rules.read_text()).with_points(0, 5)
    (tmp_path / "v2.yaml").write_text(ruleset_to_yaml(rs), encoding="utf-8")
    second = agree(capsys, db, tmp_path / "v2.yaml")
    diff = json.loads(ok(capsys, db, "rules", "diff", str(first), str(second), "--json"))
    assert [c["kind"] for c in diff["changes"]] == ["changed"]
    assert diff["changed_leads"] == sum(m["leads"] for m in diff["tier_moves"]) > 0
    text = ok(capsys, db, "rules", "diff", str(first), str(second))
    assert "changed" in text and "→" in text
    with Store(db) as store:
        assert (
            get_version(store, first).status == "agreed" and not get_version(store, first).current
        )


def test_sql_export_runs_on_duckdb_and_tiers_every_lead_like_the_app(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    vid = agree(capsys, db, template_file(db, tmp_path))
    ok(capsys, db, "rules", "export", str(vid), "--format", "yaml", "--out", tmp_path / "r.yaml")
    sql = ok(capsys, db, "sql", "--rules", tmp_path / "r.yaml", "--dialect", "duckdb",
             "--table", "raw_leads")  # fmt: skip
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw_leads AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(tmp_path / "crm.csv")],
    )
    got = con.execute(sql).df()
    with Store(db) as store:
        app = score_leads(store, store.require("crm"), get_version(store, vid).ruleset)
    merged = app.merge(got.astype({"id": str}), on="id", suffixes=("_app", "_sql"))
    assert len(merged) == len(app) and (merged["tier_app"] == merged["tier_sql"]).all()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("rules", "sign", "999", "--role", "sales", "--name", "X"), "no saved version #999"),
        (("rules", "show", "current", "--dataset", "crm"), "no agreed version yet"),
        (("rules", "show", "nonsense v7"), "No version matches"),
    ],
)
def test_bad_version_commands_explain_what_to_do(
    capsys: pytest.CaptureFixture[str], db: Path, argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, db, *argv)
    assert code == 2 and message in err


def test_signing_a_draft_is_refused_and_nothing_is_recorded(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    saved = json.loads(
        ok(
            capsys,
            db,
            "rules",
            "save",
            "--rules",
            template_file(db, tmp_path),
            "--dataset",
            "crm",
            "--author",
            "Aiko",
            "--json",
        )  # fmt: skip
    )
    code, _, err = run(capsys, db, "rules", "sign", str(saved["id"]), "--role", "sales",
                       "--name", "Ben")  # fmt: skip
    assert code == 2 and "propose it first" in err
    with Store(db) as store:
        assert get_version(store, saved["id"]).signoffs == ()


def test_sql_is_refused_for_a_dataset_whose_file_had_no_id_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "noid.duckdb"
    rows = "\n".join(f"{'IT' if i % 2 else 'Retail'},{i % 5},{'yes' if i % 3 else 'no'}"
                     for i in range(60))  # fmt: skip
    (tmp_path / "noid.csv").write_text("industry,visits,y\n" + rows + "\n", encoding="utf-8")
    with Store(db) as store:
        files = read_inputs(tmp_path / "noid.csv")
        info = load_files(store, "noid", *files, outcome_column="y").dataset
        rules = tmp_path / "r.yaml"
        rules.write_text(ruleset_to_yaml(template_for(info)), encoding="utf-8")
    code, out, err = run(capsys, db, "sql", "--rules", rules, "--dialect", "postgres",
                         "--dataset", "noid")  # fmt: skip
    assert code == 2 and out == ""
    assert "no lead id column" in err and "noid" in err
    # a rule-set file made from it carries no made-up id: its SQL is refused, its scoring works
    template = tmp_path / "template.yaml"
    ok(capsys, db, "template", "--dataset", "noid", "--out", template)
    assert "lead_id" not in template.read_text(encoding="utf-8")
    code, out, err = run(capsys, db, "sql", "--rules", template, "--dialect", "duckdb")
    assert code == 2 and out == "" and "no id column" in err
    scored = ok(capsys, db, "score", "--rules", template, tmp_path / "noid.csv")
    assert len(scored.splitlines()) == 61  # a header and every row, numbered as at load


def test_hot_since_with_an_activity_log_lists_only_leads_that_crossed_the_threshold_since(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    leads = "lead_id,created_at,industry,Converted\n" + "\n".join(
        f"L{i},2024-01-0{i},IT,{i % 2}" for i in range(1, 5)
    )
    log = "lead_id,occurred_at,activity\n" + "\n".join(
        [
            "L1,2024-02-01,web_visit", "L1,2024-02-02,web_visit", "L1,2024-02-03,web_visit",
            "L2,2024-02-01,web_visit", "L2,2024-02-02,web_visit", "L2,2024-03-05,web_visit",
            "L3,2024-03-06,web_visit", "L4,2024-02-01,web_visit",
        ]
    )  # fmt: skip
    (tmp_path / "leads.csv").write_text(leads + "\n", encoding="utf-8")
    (tmp_path / "log.csv").write_text(log + "\n", encoding="utf-8")
    db = tmp_path / "acts.duckdb"
    rs = RuleSet(
        name="visits",
        rules=(PerUnitRule("activity_web_visit", 10, cap=50),),
        tiers=(Tier("hot", 25), Tier("cold", float("-inf"))),
    )
    with Store(db) as store:
        files = read_inputs(tmp_path / "leads.csv", None, tmp_path / "log.csv")
        info = load_files(store, "acts", *files).dataset
        version = save_version(store, info, rs, author="A")
    rules = tmp_path / "visits.yaml"
    rules.write_text(version_to_yaml(version), encoding="utf-8")
    hot = ("hot", "--rules", rules, tmp_path / "leads.csv", "--activities", tmp_path / "log.csv")

    now = json.loads(ok(capsys, db, *hot, "--format", "json"))
    assert [h["id"] for h in now] == ["L1", "L2"]  # three visits each
    since = json.loads(ok(capsys, db, *hot, "--since", "2024-03-01", "--format", "json"))
    assert [h["id"] for h in since] == ["L2"]  # L1 was already hot before March


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_and_lang_work_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    db = tmp_path / "mine.duckdb"
    options = ["--db", str(db), "--lang", "ja"]
    command = ["rules", "show", "7"]
    argv = [*options, *command] if where == "before" else [*command, *options]
    capsys.readouterr()
    with Store(db):
        pass  # an empty but valid database
    assert main(argv) == 2
    assert "保存済みのバージョン #7 はありません" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_a_category_value_in_another_case_means_the_stored_spelling_everywhere(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    exact = RuleSet(
        name="fit",
        rules=(CategoryRule("industry", "IT / Software", 40), PerUnitRule("web_visits", 2, cap=20)),
        tiers=(Tier("hot", 40), Tier("cold", float("-inf"))),
    )
    typed = CategoryRule("industry", " it  /  SOFTWARE ", 40)
    loose = RuleSet(name="fit", rules=(typed, exact.rules[1]), tiers=exact.tiers)
    files = {}
    for name, rs in (("exact", exact), ("loose", loose)):
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(ruleset_to_yaml(rs), encoding="utf-8")
    evaluate = ("evaluate", "--dataset", "crm", "--json", "--rules")
    assert json.loads(ok(capsys, db, *evaluate, files["loose"])) == json.loads(
        ok(capsys, db, *evaluate, files["exact"])
    )
    leads.drop(columns=["outcome"]).to_csv(tmp_path / "fresh.csv", index=False)
    scored = {
        name: ok(capsys, db, "score", "--rules", path, tmp_path / "fresh.csv")
        for name, path in files.items()
    }
    assert scored["loose"] == scored["exact"]
    with Store(db) as store:
        info = store.require("crm")
        v = import_version(store, info, ruleset_to_yaml(loose), source="loose.yaml", author="Aiko")
    assert v.ruleset.rules[0] == exact.rules[0]
    hot = json.loads(ok(capsys, db, *evaluate, files["exact"]))["tiers"][0]["n"]
    assert 0 < hot < len(leads)  # the category rule matters on this data


def test_score_file_with_a_repeated_id_offers_keep_last_and_it_works(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, leads: pd.DataFrame
) -> None:
    rules = template_file(db, tmp_path)
    doubled = pd.concat([leads.head(50), leads.head(1)])
    doubled.to_csv(tmp_path / "doubled.csv", index=False)
    code, _, err = run(capsys, db, "score", "--rules", rules, tmp_path / "doubled.csv")
    assert code == 2 and "--keep-last" in err
    out = ok(capsys, db, "score", "--rules", rules, tmp_path / "doubled.csv", "--keep-last")
    assert len(out.splitlines()) == 51


def test_output_cut_short_by_a_closed_pipe_is_not_an_error(db: Path, tmp_path: Path) -> None:
    rules = template_file(db, tmp_path)
    command = [sys.executable, "-m", "funnel.cli", "score", "--rules", str(rules),
               str(tmp_path / "crm.csv"), "--db", str(db)]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 0
    assert "internal error" not in err and "Traceback" not in err


def test_sql_reads_activity_counts_from_the_activities_table_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`funnel sql --activities-table` and `rules export --format sql` write the activity-log
    join, and the query tiers every lead of a dataset with a log as the app does."""
    from tests.engines.sqlcases import assert_same_as_app, duckdb_text_rows, load_activity_case

    db = tmp_path / "acts.duckdb"
    with Store(db) as store:
        found = load_activity_case(store, tmp_path)
    rules = tmp_path / "r.yaml"
    rules.write_text(ruleset_to_yaml(found.case.rules), encoding="utf-8")

    sql = ok(capsys, db, "sql", "--rules", rules, "--dataset", "activities", "--dialect", "duckdb",
             "--table", "raw_leads", "--activities-table", "raw_log")  # fmt: skip
    # the rules probe a category rule on a count ('1') the log never makes: `rules save`
    # refuses a value the dataset never holds, so the version is saved as the library can
    with Store(db) as store:
        save_version(store, store.require("activities"), found.case.rules, author="Aiko")
    ok(capsys, db, "rules", "export", "1", "--format", "sql", "--table", "raw_leads",
       "--activities-table", "raw_log", "--out", tmp_path / "v1.sql")  # fmt: skip
    assert (tmp_path / "v1.sql").read_text(encoding="utf-8").count('"raw_log"') == 2

    assert '"raw_log"' in sql and "activity_counts" in sql
    rows = duckdb_text_rows(sql, {"raw_leads": found.case.csv, "raw_log": found.log})
    assert_same_as_app(found.case, rows)


def test_sql_of_a_rules_file_without_a_mapping_asks_for_a_dataset_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --dataset there is nothing to open: the message is about the missing mapping,
    not about a database the command never needed."""
    rules = tmp_path / "plain.yaml"
    rules.write_text(ruleset_to_yaml(RuleSet(rules=(CategoryRule("industry", "IT", 5),))), "utf-8")
    code, out, err = run(capsys, tmp_path / "none.duckdb", "sql", "--rules", rules,
                         "--dialect", "duckdb")  # fmt: skip
    assert code == 2 and out == ""
    assert "--dataset" in err and "does not exist" not in err
    assert not (tmp_path / "none.duckdb").exists()


def test_every_registered_export_is_a_format_of_rules_export_writing_the_pages_bytes(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the report prints when it was generated: one clock for both renders (two readings a
    # second apart made the bytes differ now and then)
    import funnel.report

    class Clock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Clock:
            return cls(2026, 4, 1, 9, 30, tzinfo=tz)

    monkeypatch.setattr(funnel.report, "datetime", Clock)
    vid = agree(capsys, db, template_file(db, tmp_path))
    for e in EXPORTS:
        out = tmp_path / f"export_{e.name}"
        ok(capsys, db, "rules", "export", str(vid), "--format", e.name, "--out", out)
        with Store(db) as store:
            v = get_version(store, vid)
            written = e.write(v, Target(store, store.require(v.dataset)))
        if e.suffix.endswith(".xlsx"):  # a workbook records when it was written: compare cells
            assert sheet_rows(out.read_bytes()) == sheet_rows(written)
        else:
            assert out.read_bytes() == written, e.name
        assert t(f"export.{e.name}", "ja") != t(f"export.{e.name}", "en")  # labelled both ways
    with pytest.raises(SystemExit) as refused:
        main(["rules", "export", str(vid), "--format", "pdf", "--out", "x", "--db", str(db)])
    assert refused.value.code == 2 and "invalid choice: 'pdf'" in capsys.readouterr().err


def sheet_rows(workbook: bytes) -> list[tuple[object, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]
