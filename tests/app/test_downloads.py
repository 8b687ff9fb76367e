"""Every table on the analysis pages downloads as CSV and every chart as HTML."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.store import DatasetInfo


def _labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_every_funnel_chart_has_an_html_download(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=3000)
    at = open_app("funnel")
    checked(at.multiselect(key="cmp_a:source").set_value(["Ads"]).run())
    checked(at.multiselect(key="cmp_b:source").set_value(["Seminar"]).run())

    charts = len(at.get("plotly_chart"))
    labels = _labels(at)
    assert charts >= 4  # funnel, comparison, cohorts, at least one time-to-convert
    assert labels.count(t("download.html", "en")) == charts
    assert labels.count(t("download.csv", "en")) == 3  # funnel, comparison, cohort tables
    assert info.leads == 3000


def test_the_segments_chart_and_table_download(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    seed("demo", leads=1000)
    at = checked(open_app("segments"))
    labels = _labels(at)
    assert labels.count(t("download.html", "en")) == len(at.get("plotly_chart")) == 1
    assert labels.count(t("download.csv", "en")) == 1
