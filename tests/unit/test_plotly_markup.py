"""User text reaches Plotly escaped: a category value or a tier name is shown, never rendered.

Plotly draws a subset of HTML in tick labels, hovers, legends, titles and annotations, so an
``<a href=...>`` category value would be a live link in the Segments chart, its HTML download
and the meeting report. (``tests/e2e/test_chart_markup.py`` checks what Chromium draws.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from funnel import charts
from funnel.ingest import load_files
from funnel.readers import read_bytes
from funnel.rules import RuleSet, Tier
from funnel.scoring.histogram import evaluate, score_histogram
from funnel.segments import segment_table
from funnel.store import Store

LINK = '<a href="https://evil.example/login">Renew your password</a>'
SHOWN = "&lt;a href"


def markup_dataset(store: Store) -> object:
    rows = [
        {
            "lead_id": f"L{i:03d}",
            "created_at": f"2024-01-{i % 28 + 1:02d}",
            "industry": LINK if i % 2 else "<b>SaaS</b>",
            LINK: "x" if i % 3 else "y",
            "outcome": "Won" if i % 4 == 0 else "Lost",
        }
        for i in range(80)
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode()
    return load_files(store, LINK, read_bytes(data, "markup.csv")).dataset


def strings(figure: object) -> list[str]:
    """Every string in a figure's JSON (data and layout)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(figure.to_json()))  # type: ignore[attr-defined]
    return found


def assert_no_markup(figure: object) -> None:
    texts = strings(figure)
    assert not [s for s in texts if "<a " in s or "<b>" in s], texts
    assert any(SHOWN in s for s in texts)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "f.duckdb")


def test_segment_charts_escape_values_and_column_names(store: Store) -> None:
    info = markup_dataset(store)
    one = segment_table(store, info, ["industry"], min_n=1)  # type: ignore[arg-type]
    two = segment_table(store, info, ["industry", LINK], min_n=1)  # type: ignore[arg-type]

    assert_no_markup(charts.segment_bar_figure(one, "rate", "overall", "small"))
    heatmap = charts.segment_heatmap_figure(two, "rate", "small")
    assert_no_markup(heatmap)
    assert heatmap.layout.xaxis.title.text.startswith(SHOWN)  # the column's name
    html = charts.to_html(charts.segment_bar_figure(one, "rate", "overall", "small")).decode()
    assert "evil.example" in html and '<a href="https://evil.example' not in html


def test_tier_names_and_a_dataset_name_reach_charts_escaped(store: Store) -> None:
    info = markup_dataset(store)
    rs = RuleSet(tiers=(Tier(LINK, 0), Tier("<i>cold</i>", float("-inf"))))
    result = evaluate(score_histogram(store, info, rs), rs)  # type: ignore[arg-type]

    assert_no_markup(charts.tiers_figure(result, "leads", "rate"))
    assert_no_markup(charts.threshold_figure(result, [(LINK, 0.0)], "p", "r", "score"))
    funnel = charts.funnel_figure([(LINK, [])], str)
    assert funnel.data[0].name.startswith(SHOWN)
