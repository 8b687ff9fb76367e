"""Reading exports: delimiters and encodings are detected from the content, Excel and Parquet
read like CSV, and nothing is ever decoded into mojibake."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from funnel.demo import generate_leads
from funnel.problems import LoadError
from funnel.readers import read_bytes, read_file, sniff_delimiter

ROWS = [
    ["lead_id", "created_at", "source", "note"],
    ["00017", "2025-04-01", "Web form", "asked for a demo"],
    ["00018", "2025-04-02", "Trade show", ""],
    ["00019", "2025-04-03", "Referral", "call back in May"],
]


def delimited(delimiter: str, rows: list[list[str]] = ROWS) -> str:
    return "".join(delimiter.join(r) + "\r\n" for r in rows)


def problem_codes(error: LoadError) -> list[str]:
    return [p.code for p in error.problems]


# --- delimiters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(",", "leads.csv"), (";", "leads.csv"), ("\t", "leads.tsv"), ("|", "leads.txt")],
    ids=["comma", "semicolon", "tab", "pipe"],
)
def test_the_delimiter_is_detected_from_the_content(delimiter: str, name: str) -> None:
    source = read_bytes(delimited(delimiter).encode("utf-8"), name)

    assert source.kind == "csv" and source.delimiter == delimiter
    assert source.columns == ROWS[0]
    assert source.frame["lead_id"].tolist() == ["00017", "00018", "00019"]  # text, zeros kept
    assert source.frame["note"].isna().tolist() == [False, True, False]


def test_a_semicolon_file_named_csv_is_read_with_semicolons() -> None:
    text = 'id;"name";amount\n1;"Dupont, Marie";"1.234,50"\n2;"Ito";"980,00"\n'

    source = read_bytes(text.encode("utf-8"), "export.csv")

    assert source.delimiter == ";"
    assert source.frame.to_dict("list") == {
        "id": ["1", "2"],
        "name": ["Dupont, Marie", "Ito"],
        "amount": ["1.234,50", "980,00"],
    }


def test_delimiters_inside_quoted_values_do_not_fool_the_sniffer() -> None:
    text = 'name,note\n"Sato; Ito","a|b|c"\n"Kato; Abe","d|e"\n'

    assert sniff_delimiter(text) == ","
    assert read_bytes(text.encode(), "x.csv").frame["note"].tolist() == ["a|b|c", "d|e"]


def test_quoted_line_breaks_stay_inside_their_cell() -> None:
    text = 'lead_id,note,source\nL1,"line one\nline two",Web\nL2,"",Ads\n'

    source = read_bytes(text.encode("utf-8"), "x.csv")

    assert source.frame["note"].tolist()[0] == "line one\nline two"
    assert len(source.frame) == 2


# --- encodings -----------------------------------------------------------------------------------


def test_a_utf8_bom_is_removed_from_the_first_header() -> None:
    source = read_bytes(("\ufeff" + delimited(",")).encode("utf-8"), "excel_export.csv")

    assert source.encoding == "utf-8-sig"
    assert source.columns[0] == "lead_id"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(encoding: str) -> None:
    rows = [["リードID", "流入元"], ["A1", "展示会"], ["A2", "Web広告"]]
    data = delimited("\t", rows).encode(encoding)
    if encoding != "utf-16":  # the plain codec writes its own BOM
        data = ("\ufeff").encode(encoding) + data

    source = read_bytes(data, "leads.txt")

    assert source.encoding == "utf-16"
    assert source.delimiter == "\t"
    assert source.frame.to_dict("list") == {
        "リードID": ["A1", "A2"],
        "流入元": ["展示会", "Web広告"],
    }


def test_cp932_is_detected_without_being_told() -> None:
    rows = [["リードID", "業種", "流入元"], ["A1", "製造業", "セミナー"], ["A2", "小売", "紹介"]]

    source = read_bytes(delimited(",", rows).encode("cp932"), "leads.csv")

    assert source.encoding == "cp932"
    assert source.frame.to_dict("list") == {
        "リードID": ["A1", "A2"],
        "業種": ["製造業", "小売"],
        "流入元": ["セミナー", "紹介"],
    }


@pytest.mark.parametrize("given", ["shift_jis", "Shift-JIS", "sjis", "cp932"])
def test_a_named_japanese_encoding_is_used(given: str) -> None:
    data = delimited(",", [["会社名", "地域"], ["髙橋㈱", "関東"]]).encode("cp932")

    source = read_bytes(data, "leads.csv", encoding=given)

    assert source.frame.to_dict("list") == {"会社名": ["髙橋㈱"], "地域": ["関東"]}


@pytest.mark.parametrize("given", ["klingon-8", "punycode", "idna", "hex", "rot13", "undefined"])
def test_a_name_that_is_not_a_file_encoding_is_a_problem_not_a_crash(given: str) -> None:
    with pytest.raises(LoadError) as caught:
        read_bytes(b"lead_id,source\nL1,web\n", "leads.csv", encoding=given)

    assert problem_codes(caught.value) == ["not_a_text_encoding"]
    problem = caught.value.problems[0]
    assert given in problem.message("en") and given in problem.message("ja")
    assert "utf-8" in problem.fix("en") and "cp932" in problem.fix("ja")


# --- Excel and Parquet ---------------------------------------------------------------------------


def test_xlsx_cells_are_read_as_text_like_csv(tmp_path: Path) -> None:
    frame = generate_leads(30, seed=2, lang="ja")
    frame["リードID"] = [f"{i:05d}" for i in range(30)]
    path = tmp_path / "リード.xlsx"
    frame.to_excel(path, index=False)

    source = read_file(path)

    assert source.kind == "xlsx"
    assert source.columns == list(frame.columns)
    assert source.frame["リードID"].tolist()[:2] == ["00000", "00001"]
    assert source.frame["流入元"].tolist() == frame["流入元"].tolist()
    assert source.frame["作成日"].iloc[0].startswith(str(frame["作成日"].iloc[0].date()))
    assert source.frame["失注理由"].isna().sum() == frame["失注理由"].isna().sum()


def test_an_xlsx_with_only_a_header_or_nothing_is_refused(tmp_path: Path) -> None:
    header_only = tmp_path / "header.xlsx"
    pd.DataFrame(columns=["lead_id", "source"]).to_excel(header_only, index=False)
    empty = tmp_path / "empty.xlsx"
    pd.DataFrame().to_excel(empty, index=False)

    with pytest.raises(LoadError) as first:
        read_file(header_only)
    with pytest.raises(LoadError) as second:
        read_file(empty)

    assert problem_codes(first.value) == ["header_only"]
    assert problem_codes(second.value) == ["file_empty"]
    assert "empty.xlsx" in second.value.problems[0].message("en")


def test_parquet_is_read_with_its_types(tmp_path: Path) -> None:
    frame = generate_leads(30, seed=2)
    path = tmp_path / "leads.parquet"
    frame.to_parquet(path, index=False)

    source = read_file(path)

    assert source.kind == "parquet"
    assert source.columns == list(frame.columns)
    assert pd.api.types.is_datetime64_any_dtype(source.frame["created_at"].dtype)
    assert pd.api.types.is_integer_dtype(source.frame["web_visits"].dtype)
    assert source.frame["lead_id"].tolist() == frame["lead_id"].tolist()


def test_a_parquet_file_without_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    generate_leads(5, seed=2).head(0).to_parquet(path, index=False)

    with pytest.raises(LoadError) as caught:
        read_file(path)

    assert problem_codes(caught.value) == ["header_only"]


def test_uploaded_bytes_and_files_on_disk_read_the_same(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    generate_leads(20, seed=2).to_excel(buffer, index=False)
    path = tmp_path / "leads.xlsx"
    path.write_bytes(buffer.getvalue())

    assert read_file(path).frame.equals(read_bytes(buffer.getvalue(), "leads.xlsx").frame)


# --- size ----------------------------------------------------------------------------------------


def test_the_size_limit_is_checked_before_the_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"\x00" * 5000)  # would be refused as binary if it were read

    with pytest.raises(LoadError) as caught:
        read_file(path, max_bytes=4096)

    assert problem_codes(caught.value) == ["too_large"]
    message = caught.value.problems[0].message("en")
    assert "4.9 KiB" in message and "4.0 KiB" in message


def test_a_file_exactly_at_the_limit_is_accepted() -> None:
    data = delimited(",").encode("utf-8")

    assert len(read_bytes(data, "leads.csv", max_bytes=len(data)).frame) == 3


def test_the_kind_a_refused_file_looks_like_is_named_in_the_readers_language() -> None:
    from funnel.problems import Problem

    binary = Problem("unsupported_binary", "x.csv", params={"what": "binary"})
    assert "it looks like binary data" in binary.message("en")
    assert "バイナリデータのようです" in binary.message("ja")
    wrong = Problem("wrong_format", "x.csv", params={"ext": ".csv", "actual": "xlsx"})
    assert "its content is an Excel workbook" in wrong.message("en")
    assert "中身はExcel ブックです" in wrong.message("ja")
