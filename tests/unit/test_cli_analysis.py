"""``funnel funnel`` and ``funnel segments``: the same numbers as the library, as JSON that
automation can rely on, filters honoured, and bad input answered with exit 2 and one plain
sentence on stderr (never a traceback), leaving stored data untouched.

Datasets: the demo, Olist (leads + won deals) and UCI bank marketing (Moro, Cortez & Rita 2014,
doi:10.1016/j.dss.2014.03.001) from ../shared/datasets/.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

from funnel.cli import main
from funnel.filters import MISSING, NO_FILTERS, Filters
from funnel.funnels import cohort_trend, compute_funnel, default_stages, time_to_convert
from funnel.ingest import load_demo, load_files, read_inputs
from funnel.segments import Binning, segment_table
from funnel.store import Store

T = TypeVar("T")
DEMO_LEADS = 20_000
OLIST = "olist_marketing_funnel"
WEIRD_COLUMN = '会社 "規模"'
WEIRD_VALUES = ("O'Reilly", "<b>x</b>", "1; DROP TABLE x", "株式会社 テスト")
STEP_KEYS = {"stage", "n", "rate_from_previous", "rate_from_first"}
SEGMENT_KEYS = {"segment", "n", "converted", "rate", "ci_low", "ci_high", "lift", "small_sample"}
COHORT_KEYS = {"month", "n", "converted", "rate", "ci_low", "ci_high", "mature"}
TIME_KEYS = {"from_stage", "to_stage", "n", "median_days", "p25_days", "p75_days", "p90_days"}


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> Path:
    """A database holding demo, weird, olist and bank (loaded in that order), then closed."""
    folder = tmp_path_factory.mktemp("cli_analysis")
    path = folder / "funnel.duckdb"
    weird = folder / "weird.csv"
    with weird.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["lead id", "作成日", WEIRD_COLUMN, "result"])
        for i in range(40):
            value = WEIRD_VALUES[i % 4]
            writer.writerow(
                [f"X{i:03d}", f"2025-0{1 + i % 3}-10", value, "won" if i % 3 else "lost"]
            )
    base = shared_datasets / OLIST
    with Store(path) as store:
        load_demo(store, "demo", leads=DEMO_LEADS)
        leads, _, _ = read_inputs(weird)
        load_files(store, "weird", leads, outcome_column="result")
        leads, deals, _ = read_inputs(
            base / "olist_marketing_qualified_leads_dataset.csv",
            base / "olist_closed_deals_dataset.csv",
        )
        load_files(store, "olist", leads, deals)
        leads, _, _ = read_inputs(shared_datasets / "uci_bank_marketing" / "bank-full.csv")
        load_files(store, "bank", leads, outcome_column="y")
    return path


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNNEL_DEBUG", raising=False)
    monkeypatch.delenv("FUNNEL_LANG", raising=False)


def library(db: Path, compute: Callable[[Store], T]) -> T:
    """Compute with the library on the same database (closed again before the CLI runs)."""
    with Store(db) as store:
        return compute(store)


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> Any:
    code, out, err = run(capsys, db, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def segments_json(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> Any:
    """``funnel segments --json``'s segment records (the ranking beside them is checked in
    tests/unit/test_segment_ranking.py)."""
    printed = run_json(capsys, db, "segments", *argv)
    assert set(printed) >= {"best", "worst", "ranking", "evidence", "segments"}
    return printed["segments"]


def catalog(db: Path) -> list[tuple[Any, ...]]:
    """What is stored: each dataset's catalog entry and row counts, to prove nothing changed."""

    def read(store: Store) -> list[tuple[Any, ...]]:
        out = []
        for info in store.datasets():
            rows = store.fetch_frame(f"SELECT count(*) AS n FROM {info.table()}")["n"].iloc[0]
            out.append((info.name, info.schema, info.fingerprint, info.leads, info.won, int(rows)))
        return out

    return library(db, read)


# --- funnel ---------------------------------------------------------------------------------------


def test_funnel_json_is_the_librarys_funnel_stage_by_stage(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(capsys, cli_db, "funnel", "--dataset", "demo")
    expected = library(
        cli_db,
        lambda s: [
            x.as_dict()
            for x in compute_funnel(s, s.require("demo"), default_stages(s.require("demo")))
        ],
    )
    assert isinstance(printed, list)
    assert all(STEP_KEYS <= set(step) for step in printed)
    assert printed == expected
    assert [step["stage"] for step in printed] == ["lead", "mql", "sql", "opportunity", "won"]
    assert printed[0]["n"] == DEMO_LEADS


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [("olist", [("mql", 8000), ("won", 842)]), ("bank", [("lead", 45211), ("won", 5289)])],
)
def test_funnel_json_on_the_real_datasets(
    capsys: pytest.CaptureFixture[str], cli_db: Path, dataset: str, expected: list[tuple[str, int]]
) -> None:
    printed = run_json(capsys, cli_db, "funnel", "--dataset", dataset)
    assert [(s["stage"], s["n"]) for s in printed] == expected
    assert printed[1]["rate_from_first"] == pytest.approx(
        expected[1][1] / expected[0][1], abs=1e-12
    )


def test_without_a_dataset_the_most_recently_loaded_one_is_used(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(capsys, cli_db, "funnel")
    assert [(s["stage"], s["n"]) for s in printed] == [("lead", 45211), ("won", 5289)]


def test_funnel_where_from_and_to_are_honoured(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(
        capsys,
        cli_db,
        "funnel",
        "--dataset",
        "demo",
        "--where",
        "source=Seminar",
        "--where",
        "source=Ads",
        "--where",
        "budget=(missing)",
        "--from",
        "2025-06-01",
        "--to",
        "2025-12-31",
        "--stages",
        "lead,sql,won",
    )
    filters = Filters(
        date_from=date(2025, 6, 1),
        date_to=date(2025, 12, 31),
        equals=(("source", ("Seminar", "Ads")), ("budget", (MISSING,))),
    )
    expected = library(
        cli_db,
        lambda s: [
            x.as_dict()
            for x in compute_funnel(s, s.require("demo"), ["lead", "sql", "won"], filters)
        ],
    )
    assert printed == expected
    everyone = run_json(capsys, cli_db, "funnel", "--dataset", "demo", "--stages", "lead,sql,won")
    assert 0 < printed[0]["n"] < everyone[0]["n"]


def test_funnel_where_missing_selects_olists_empty_and_unknown_origins(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(
        capsys, cli_db, "funnel", "--dataset", "olist", "--where", "origin=(missing)"
    )
    assert [s["n"] for s in printed] == [1159, 193]


def test_funnel_text_names_the_dataset_and_its_filters(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(
        capsys,
        cli_db,
        "funnel",
        "--dataset",
        "demo",
        "--where",
        "source=Seminar",
        "--from",
        "2025-06-01",
        "--to",
        "2025-12-31",
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "demo: created = 2025-06-01 – 2025-12-31, source = Seminar"
    assert [line.split()[0] for line in lines[2:7]] == ["lead", "mql", "sql", "opportunity", "won"]
    code, out, _ = run(capsys, cli_db, "funnel", "--dataset", "olist")
    assert out.splitlines()[0] == "olist: all leads"
    assert "8,000" in out and "842" in out and "10.5%" in out


def test_funnel_cohorts_json_has_the_funnel_months_and_horizon(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(
        capsys, cli_db, "funnel", "--dataset", "demo", "--cohorts", "--where", "source=Seminar"
    )
    filters = Filters(equals=(("source", ("Seminar",)),))

    def expected(s: Store) -> tuple[list[dict[str, Any]], Any]:
        info = s.require("demo")
        return (
            [x.as_dict() for x in compute_funnel(s, info, default_stages(info), filters)],
            cohort_trend(s, info, default_stages(info), filters),
        )

    steps, trend = library(cli_db, expected)
    assert set(printed) == {"funnel", "cohorts", "days_to_convert_p90"}
    assert printed["funnel"] == steps
    assert printed["days_to_convert_p90"] == pytest.approx(trend.days_to_convert_p90)
    assert all(set(c) == COHORT_KEYS for c in printed["cohorts"])
    assert [(c["month"], c["n"], c["converted"], c["mature"]) for c in printed["cohorts"]] == [
        (c.month.date().isoformat(), c.n, c.converted, c.mature) for c in trend.cohorts
    ]
    assert printed["cohorts"][0]["month"] == "2025-04-01"
    for got, want in zip(printed["cohorts"], trend.cohorts, strict=True):
        assert got["rate"] == pytest.approx(want.rate, abs=1e-12)
        assert (got["ci_low"], got["ci_high"]) == pytest.approx(
            (want.ci_low, want.ci_high), abs=1e-12
        )


def test_funnel_times_json_lists_each_transition_without_the_histogram(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(capsys, cli_db, "funnel", "--dataset", "demo", "--times")
    transitions = library(
        cli_db, lambda s: time_to_convert(s, s.require("demo"), default_stages(s.require("demo")))
    )
    assert set(printed) == {"funnel", "times"}
    assert [(t["from_stage"], t["to_stage"]) for t in printed["times"]] == [
        ("lead", "mql"),
        ("mql", "sql"),
        ("sql", "opportunity"),
        ("opportunity", "won"),
    ]
    for got, want in zip(printed["times"], transitions, strict=True):
        assert TIME_KEYS <= set(got) and "histogram" not in got
        assert got["n"] == want.n
        assert got["median_days"] == pytest.approx(want.median_days)
        assert got["p90_days"] == pytest.approx(want.p90_days)


def test_funnel_times_of_a_dataset_without_dates_is_an_empty_list(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(capsys, cli_db, "funnel", "--dataset", "bank", "--times")
    assert printed["times"] == []
    assert [s["n"] for s in printed["funnel"]] == [45211, 5289]


@pytest.mark.parametrize("extra", [["--cohorts"], ["--times"]])
def test_funnel_stages_written_with_spaces_after_commas_work_everywhere(
    capsys: pytest.CaptureFixture[str], cli_db: Path, extra: list[str]
) -> None:
    base = ["funnel", "--dataset", "demo", *extra, "--stages"]
    tight = run_json(capsys, cli_db, *base, "lead,sql,won")
    code, out, err = run(capsys, cli_db, *base, "lead, sql, won", "--json")
    assert code == 0, err
    assert json.loads(out) == tight
    if "--times" in extra:
        assert [(x["from_stage"], x["to_stage"]) for x in tight["times"]] == [
            ("lead", "sql"),
            ("sql", "won"),
        ]


def test_funnel_text_with_cohorts_marks_immature_months(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(capsys, cli_db, "funnel", "--dataset", "demo", "--cohorts", "--times")
    assert code == 0, err
    assert "cohorts (won; p90 days to convert:" in out
    assert "2026-09" in out and "(immature)" in out
    assert "lead -> mql: median" in out


# --- segments ---------------------------------------------------------------------------------


def test_segments_json_is_the_librarys_table(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = segments_json(capsys, cli_db, "--dataset", "olist", "--by", "origin")
    expected = library(
        cli_db,
        lambda s: [x.as_dict() for x in segment_table(s, s.require("olist"), ["origin"]).segments],
    )
    assert all(SEGMENT_KEYS <= set(record) for record in printed)
    assert printed == expected
    by = {r["segment"]: (r["converted"], r["n"]) for r in printed}
    assert by["paid_search"] == (195, 1586) and by[MISSING] == (193, 1159)
    whole = run_json(capsys, cli_db, "segments", "--dataset", "olist", "--by", "origin")
    ranking = library(
        cli_db, lambda s: segment_table(s, s.require("olist"), ["origin"]).ranking.as_dict()
    )
    assert whole["ranking"] == ranking
    assert whole["best"] == (ranking["best"] or {}).get("segment")
    assert whole["worst"] == (ranking["worst"] or {}).get("segment")
    assert len(whole["evidence"]) >= 1


def test_segments_by_two_columns_label_each_cell_with_both_values(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = segments_json(capsys, cli_db, "--dataset", "bank", "--by", "job", "--by", "education")
    expected = library(
        cli_db,
        lambda s: [
            x.as_dict() for x in segment_table(s, s.require("bank"), ["job", "education"]).segments
        ],
    )
    assert printed == expected
    assert "admin. × tertiary" in {r["segment"] for r in printed}
    assert sum(r["n"] for r in printed) == 45211
    assert sum(r["converted"] for r in printed) == 5289


def test_segments_filters_stages_minimum_and_edges_are_honoured(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = segments_json(
        capsys,
        cli_db,
        "--dataset",
        "demo",
        "--by",
        "employees",
        "--where",
        "source=Seminar",
        "--from",
        "2025-09-01",
        "--from-stage",
        "mql",
        "--to-stage",
        "opportunity",
        "--min-n",
        "100",
        "--edges",
        "employees=50,300,1000",
    )
    filters = Filters(date_from=date(2025, 9, 1), equals=(("source", ("Seminar",)),))
    table = library(
        cli_db,
        lambda s: segment_table(
            s,
            s.require("demo"),
            ["employees"],
            filters,
            from_stage="mql",
            to_stage="opportunity",
            min_n=100,
            bins={"employees": Binning(edges=(50, 300, 1000))},
        ),
    )
    assert printed == [x.as_dict() for x in table.segments]
    assert [r["segment"] for r in printed] == ["< 50", "50 ≤ x < 300", "300 ≤ x < 1,000", "≥ 1,000"]
    assert [r["small_sample"] for r in printed] == [r["n"] < 100 for r in printed]


def test_segments_bins_option_sets_the_number_of_quantile_bins(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = segments_json(capsys, cli_db, "--dataset", "bank", "--by", "age", "--bins", "4")
    table = library(
        cli_db, lambda s: segment_table(s, s.require("bank"), ["age"], bins={"age": Binning(q=4)})
    )
    assert printed == [x.as_dict() for x in table.segments]
    assert len(printed) == 4


def test_segments_text_names_the_dataset_population_and_overall_rate(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(capsys, cli_db, "segments", "--dataset", "olist", "--by", "origin")
    assert code == 0, err
    assert out.splitlines()[0] == (
        "olist (all leads): mql -> won by origin; overall 10.5% of 8,000"
    )
    assert "paid_search" in out and MISSING in out
    assert out.splitlines()[-1].startswith("Conversion here counts every lead, still-open ones")


def test_segments_text_names_the_filters_it_applied(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(
        capsys,
        cli_db,
        "segments",
        "--dataset",
        "demo",
        "--by",
        "industry",
        "--where",
        "source=Seminar",
        "--from",
        "2025-06-01",
        "--to",
        "2025-12-31",
    )
    assert code == 0, err
    header = "\n".join(out.splitlines()[:2])
    assert "demo" in header
    assert "source = Seminar" in header
    assert "2025-06-01 – 2025-12-31" in header


def test_quotes_markup_sql_and_japanese_pass_through_the_command_line(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    before = catalog(cli_db)
    printed = segments_json(
        capsys,
        cli_db,
        "--dataset",
        "weird",
        "--by",
        WEIRD_COLUMN,
        "--where",
        f"{WEIRD_COLUMN}=1; DROP TABLE x",
        "--where",
        f"{WEIRD_COLUMN}=O'Reilly",
        "--min-n",
        "5",
    )
    assert sorted(r["segment"] for r in printed) == ["1; DROP TABLE x", "O'Reilly"]
    assert [r["n"] for r in printed] == [10, 10]
    everyone = segments_json(capsys, cli_db, "--dataset", "weird", "--by", WEIRD_COLUMN)
    assert sorted(r["segment"] for r in everyone) == sorted(WEIRD_VALUES)
    assert catalog(cli_db) == before


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["funnel", "--dataset", "demo", "--where", "nonsense"],
            "Write filters as COLUMN=VALUE, not nonsense.",
        ),
        (
            ["funnel", "--dataset", "demo", "--where", "nope=1"],
            "There is no column nope to filter on. Columns: lead_id",
        ),
        (
            ["funnel", "--dataset", "demo", "--from", "2025-13-01"],
            "2025-13-01 is not a date: write YYYY-MM-DD.",
        ),
        (
            ["funnel", "--dataset", "demo", "--to", "yesterday"],
            "yesterday is not a date: write YYYY-MM-DD.",
        ),
        (
            ["funnel", "--dataset", "bank", "--from", "2025-01-01"],
            "bank has no created date, so it cannot be filtered by date.",
        ),
        (
            ["funnel", "--dataset", "bank", "--cohorts"],
            "This dataset has no created date, so there is no time-based view.",
        ),
        (
            ["funnel", "--dataset", "demo", "--stages", "lead,demo_booked"],
            "This dataset has no stage demo_booked.",
        ),
        (
            ["funnel", "--dataset", "olist", "--stages", "lead,won"],
            "This dataset has no stage lead.",
        ),
        (["funnel", "--dataset", "nosuch"], "There is no dataset named nosuch."),
        (
            ["segments", "--dataset", "demo", "--by", "nope"],
            "nope cannot be a segment. Columns: source",
        ),
        (["segments", "--dataset", "demo", "--by", "lead_id"], "lead_id cannot be a segment."),
        (
            [
                "segments",
                "--dataset",
                "demo",
                "--by",
                "source",
                "--by",
                "industry",
                "--by",
                "region",
            ],
            "Segment by one column, or two for a heatmap.",
        ),
        (
            [
                "segments",
                "--dataset",
                "demo",
                "--by",
                "source",
                "--from-stage",
                "won",
                "--to-stage",
                "mql",
            ],
            "Conversion must go from an earlier stage to a later one (won → mql;",
        ),
        (
            ["segments", "--dataset", "demo", "--by", "employees", "--edges", "employees=10,lots"],
            "Bin edges must be numbers: COLUMN=0,10,100 (not employees=10,lots).",
        ),
        (
            ["segments", "--dataset", "demo", "--by", "source", "--where", "source"],
            "Write filters as COLUMN=VALUE",
        ),
        (
            ["segments", "--dataset", "bank", "--by", "job", "--to", "2010-01-01"],
            "bank has no created date",
        ),
    ],
)
def test_bad_analysis_input_exits_2_with_one_plain_sentence_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], cli_db: Path, argv: list[str], message: str
) -> None:
    before = catalog(cli_db)
    code, out, err = run(capsys, cli_db, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err and "internal error" not in err
    assert catalog(cli_db) == before


def test_a_funnel_of_a_single_stage_is_refused(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(
        capsys, cli_db, "funnel", "--dataset", "demo", "--stages", "lead", "--json"
    )
    assert code == 2
    assert out == ""
    assert "A funnel needs at least two stages." in err


def test_bad_input_messages_follow_the_language_option(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    code, out, err = run(
        capsys, cli_db, "funnel", "--dataset", "demo", "--where", "業種", "--lang", "ja"
    )
    assert code == 2 and out == ""
    assert err.strip() == "エラー: 絞り込みは 列=値 の形で書いてください（業種 ではなく）。"


def test_no_filters_in_the_cli_means_the_whole_dataset(
    capsys: pytest.CaptureFixture[str], cli_db: Path
) -> None:
    printed = run_json(capsys, cli_db, "funnel", "--dataset", "olist")
    expected = library(
        cli_db,
        lambda s: [
            x.as_dict() for x in compute_funnel(s, s.require("olist"), ["mql", "won"], NO_FILTERS)
        ],
    )
    assert printed == expected
