"""Issue 12, "every column left out of scoring is listed where the user looks": the columns the
suggestion's reading of their values leaves out (a hash key, an identifier, a constant column)
are listed by ``funnel load`` too, with the sentence ``suggest`` uses, in English and Japanese,
text and JSON. Before, only ``suggest`` and the Tuner listed them."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pandas as pd
import pytest

from funnel.i18n import MESSAGES, t
from funnel.mapping import ColumnSpec, Mapping
from funnel.mapping.leaks import READ_PREFIX, LeftOut, left_out
from funnel.suggest.columns import UNSCORED, file_left_out, read_left_out
from tests.support import cli
from tests.synthetic import awkward_leads


def sentence(key: str, lang: str, **known: str) -> re.Pattern[str]:
    """The catalog's sentence for ``key`` with ``known`` filled in and any other part free."""
    raw = MESSAGES[key][0 if lang == "en" else 1]
    names = {name for _, name, _, _ in string.Formatter().parse(raw) if name}
    marks = {name: f"\x00{name}\x00" for name in names}
    pattern = re.escape(t(key, lang, **marks))
    for name, mark in marks.items():
        pattern = pattern.replace(
            re.escape(mark), re.escape(known[name]) if name in known else ".+?"
        )
    return re.compile(pattern)


def the_file(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = awkward_leads(n=1500).assign(channel="web")  # one value for every lead
    path = tmp_path / "awkward.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_load_lists_a_hash_key_and_a_constant_column_with_the_suggestions_sentence(
    tmp_path: Path, lang: str
) -> None:
    path, frame = the_file(tmp_path)
    db = tmp_path / "f.duckdb"

    code, out, err = cli("--lang", lang, "load", path, "--db", db)

    assert code == 0, err
    lines = [line.strip() for line in out.splitlines()]
    values = f"{frame['session_hash'].nunique():,}"
    key = sentence("suggest.type.generated_key", lang, share="100%", values=values)
    (hashed,) = [line for line in lines if line.startswith("session_hash: ")]
    assert key.fullmatch(hashed), hashed
    assert t("suggest.type.constant", lang, column="channel") in lines
    # listed under the same header as the id and the leaks, before the hint
    assert lines.index(t("left.header", lang)) < lines.index(hashed)
    assert "pricing_visits" not in out and "Marital_Status" not in out  # scored columns are not

    code, out, err = cli("--lang", lang, "load", path, "--db", db, "--dataset", "j", "--json")
    assert code == 0, err
    listed = {x["column"]: x for x in json.loads(out)["left_out"]}
    assert listed["session_hash"]["reason"] == "suggest.type.generated_key"
    assert listed["session_hash"]["evidence"]["values"] == values
    assert key.fullmatch(f"session_hash: {listed['session_hash']['why']}")
    assert listed["channel"]["reason"] == "suggest.type.constant"


def test_the_load_and_suggest_read_a_column_alike(tmp_path: Path) -> None:
    """One place per idea: both say it with the suggestion's own message key."""
    path, _ = the_file(tmp_path)
    db = tmp_path / "f.duckdb"
    assert cli("load", path, "--db", db)[0] == 0
    rules = tmp_path / "s.yaml"
    code, out, err = cli("suggest", "--dataset", "awkward", "--out", rules, "--json", "--db", db)
    assert code == 0, err
    suggested = {x["column"]: x["reason"] for x in json.loads(out)["left_out"]}
    code, out, err = cli("load", path, "--db", db, "--dataset", "again", "--json")
    loaded = {x["column"]: x for x in json.loads(out)["left_out"]}
    for column in ("session_hash", "channel"):
        assert sentence(loaded[column]["reason"], "en").fullmatch(suggested[column])


def test_every_reading_sentence_starts_with_the_column() -> None:
    """``LeftOut.why`` drops the leading ``{column}: `` of the suggestion's sentence for the
    Data page's table (which has the column beside it): every such message must start so."""
    keys = [f"{READ_PREFIX}{kind}" for kind in UNSCORED]  # the kinds never scored
    for key in keys:
        for text in MESSAGES[key]:
            assert text.startswith("{column}: "), (key, text)


def test_a_column_the_mapping_already_lists_or_a_scored_one_is_not_listed_twice() -> None:
    mapping = Mapping(
        leads=(
            ColumnSpec("lead_id", "id"),
            ColumnSpec("ref", "attribute"),
            ColumnSpec("plan", "attribute"),
        )
    )
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(80)],
            "ref": [f"{i:032x}" for i in range(80)],
            "plan": ["a", "b"] * 40,
        }
    )
    read = read_left_out(mapping, frame)
    assert [x.column for x in read] == ["ref"]
    items = left_out(mapping, [*read, LeftOut("lead_id", "suggest.type.identifier")])
    assert [x.column for x in items] == ["lead_id", "ref"]
    assert items[1].why("ja") == items[1].line("ja").removeprefix("ref: ")
    assert not items[1].overrulable


def test_a_file_not_yet_loaded_is_read_as_the_load_will() -> None:
    """Its cells are text: numbers are parsed and placeholders cleared first, so a measured
    number, all different, is not an identifier, and a column of placeholders is empty."""
    mapping = Mapping(
        leads=(
            ColumnSpec("revenue", "number"),
            ColumnSpec("notes", "attribute"),
            ColumnSpec("plan", "attribute"),
        )
    )
    frame = pd.DataFrame(
        {
            "revenue": [f"{1000 + i * 1.37:.2f}" for i in range(100)],
            "notes": ["n/a"] * 99 + ["x"],
            "plan": ["a", "b"] * 50,
        }
    )
    read = {x.column: x.reason for x in file_left_out(mapping, frame)}
    assert read == {"notes": "suggest.type.empty"}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_mapping_proposal_lists_them_too(tmp_path: Path, lang: str) -> None:
    path, frame = the_file(tmp_path)

    code, _, err = cli("--lang", lang, "mapping", path)

    assert code == 0, err
    lines = [line.strip() for line in err.splitlines()]
    values = f"{frame['session_hash'].nunique():,}"
    key = sentence("suggest.type.generated_key", lang, share="100%", values=values)
    assert [line for line in lines if key.fullmatch(line)]
    assert t("suggest.type.constant", lang, column="channel") in lines
