"""A big file's text columns are cleaned once per distinct value: the same typed dataset and
the same problems, in the same words, as cleaning every cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel import ingest
from funnel.ingest import choose_mapping, prepare
from funnel.problems import LoadError, Problem
from funnel.readers import SourceFile

ROWS = 12_000  # above the 10,000 rows from which a column is cleaned by value
NOW = pd.Timestamp("2026-12-01")


def export(seed: int, **columns: list[str]) -> SourceFile:
    """A CRM export of ROWS leads whose columns repeat the given values at random."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"lead_id": [f"L{i:06d}" for i in range(ROWS)]}
        | {
            name: rng.choice(np.array(values, dtype=object), ROWS)
            for name, values in columns.items()
        }
    ).astype("str")
    return SourceFile("leads.csv", frame, "csv")


BASE = {
    # ISO, slashes, Japanese, era dates, a time zone, placeholders and stray spaces
    "created_at": [
        "2024-01-05",
        "2024/02/03 10:00",
        "2024年3月4日",
        "令和6年4月1日",
        "R6.4.2",
        "unknown",
        "",
        " 2024-03-01 ",
        "2024-03-01T00:30:00+09:00",
        "Select",
    ],
    # day before month (13/01 tells), and an Excel serial day number
    "mql_date": ["13/01/2024", "05/02/2024", "", "N/A", "45390"],
    "industry": ["IT", "Retail", "Health", "不明", "-", " IT"],
    "employees": ["1,200", "３", "12", "1e3", "", "150"],
    "web_visits": ["0", "1", "2", "10", ""],
    "outcome": ["Won", "Lost", "Open"],
    "closed_date": ["2024-05-01", "", "2024/06/01"],
    "amount": ["1,000,000", "500000", "", "unknown"],
}


def both_ways(source: SourceFile, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """prepare() by value, then cell by cell: the result, or the problems refused."""

    def run() -> object:
        try:
            prepared = prepare(source, choose_mapping(source), now=NOW)
        except LoadError as exc:
            return list(exc.problems)
        return prepared.leads, prepared.outcomes, prepared.problems, prepared.mapping

    by_value = run()
    with monkeypatch.context() as m:
        m.setattr(ingest, "_clean_by_value", lambda *args: None)
        by_cell = run()
    return by_value, by_cell


def assert_same(by_value: object, by_cell: object) -> None:
    if isinstance(by_cell, tuple):
        assert isinstance(by_value, tuple)
        pd.testing.assert_frame_equal(by_value[0], by_cell[0])
        pd.testing.assert_frame_equal(by_value[1], by_cell[1])
        assert by_value[2:] == by_cell[2:]
    else:
        assert by_value == by_cell


def codes(result: object) -> set[str]:
    problems = result[2] if isinstance(result, tuple) else result
    assert isinstance(problems, (list, tuple))
    return {p.code for p in problems if isinstance(p, Problem)}


def test_a_clean_big_export_is_typed_the_same_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    by_value, by_cell = both_ways(export(1, **BASE), monkeypatch)
    assert_same(by_value, by_cell)
    assert {"placeholders", "excel_serial_dates"} <= codes(by_value)


def test_spellings_to_merge_are_merged_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    source = export(2, **(BASE | {"industry": ["IT", "it", "Retail", "RETAIL ", "Health"]}))
    by_value, by_cell = both_ways(source, monkeypatch)
    assert_same(by_value, by_cell)
    assert "merged_spellings" in codes(by_value)


@pytest.mark.parametrize(
    "bad",
    [
        {"sql_date": ["05/01/2024", "02/03/2024", ""]},  # day or month: cannot tell
        {"web_visits": ["0", "1", "-1", "x"]},  # a negative count, not a number
        {"created_at": ["2024-01-05", "2999-01-01", "1800-01-01", "soon"]},  # future, ancient
        {"outcome": ["Won", "Lost", "Maybe"]},  # an outcome value nobody said
    ],
)
def test_a_bad_big_export_is_refused_in_the_same_words(
    bad: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_value, by_cell = both_ways(export(3, **(BASE | bad)), monkeypatch)
    assert isinstance(by_cell, list) and by_cell  # refused
    assert by_value == by_cell
