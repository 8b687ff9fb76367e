"""Tables show counts with thousands separators, and leave other columns as configured."""

from __future__ import annotations

from typing import Any

import pandas as pd

from app import ui


class Where:
    def __init__(self) -> None:
        self.calls: list[tuple[pd.DataFrame, dict[str, Any]]] = []

    def dataframe(self, frame: pd.DataFrame, **kwargs: Any) -> None:
        self.calls.append((frame, kwargs))


def test_whole_number_columns_are_shown_as_counts_unless_configured() -> None:
    where = Where()
    frame = pd.DataFrame(
        {
            "leads": [3000, 12],
            "won": pd.array([172, None], dtype="Int64"),
            "rate": [0.5, 0.25],
            "stage": ["lead", "won"],
            "points": [1, 2],
        }
    )
    mine = {"points": {"type_config": {"type": "number"}}}

    ui.dataframe(frame, where, hide_index=True, column_config=mine)

    ((_, kwargs),) = where.calls
    config = kwargs["column_config"]
    assert config["leads"] == config["won"] == ui.COUNT
    assert ui.COUNT["type_config"]["format"] == "localized"  # 3,000 (in the viewer's locale)
    assert "rate" not in config and "stage" not in config
    assert config["points"] is mine["points"]  # the caller's own setting wins
    assert kwargs["hide_index"] is True


def test_a_table_without_whole_numbers_gets_no_column_config() -> None:
    where = Where()
    ui.dataframe(pd.DataFrame({"name": ["a"], "share": [0.5]}), where)
    assert where.calls[0][1]["column_config"] is None


def test_table_downloads_are_written_as_excel_reads_japanese() -> None:
    """The CSV behind a table's download button has a BOM (Excel then reads UTF-8) and
    neutralised formulas, as the hand-off list does."""

    class Button:
        kwargs: dict[str, Any] = {}

        def download_button(self, _label: str, **kwargs: Any) -> None:
            Button.kwargs = kwargs

    frame = pd.DataFrame({"業種": ["製造業", "=HYPERLINK(1)"], "リード数": [3, 4]})
    ui.download_table(frame, "segments", "dl", Button())
    data = Button.kwargs["data"]
    raw = data() if callable(data) else data
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert "製造業" in text and "'=HYPERLINK(1)" in text
