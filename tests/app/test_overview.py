"""Overview page and the shared sidebar (language switch, dataset picker), through AppTest."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.store import DatasetInfo

MARKUP_NAME = "**bold** <script>x</script>"


def datasets_table(at: AppTest) -> pd.DataFrame:
    """The "All datasets" table: the one with a Name column."""
    name = t("overview.name", "en")
    return next(df.value for df in at.dataframe if name in df.value.columns)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(info: DatasetInfo, lang: str = "en") -> dict[str, str]:
    return {
        t("overview.leads", lang): f"{info.leads:,}",
        t("overview.won", lang): f"{info.won:,}",
        t("overview.lost", lang): f"{info.lost:,}",
        t("overview.open", lang): f"{info.open:,}",
        t("overview.win_rate", lang): f"{info.won / info.leads:.1%}",
    }


def test_empty_store_shows_the_empty_state_and_the_demo_button(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app()

    assert [i.value for i in at.info] == [t("overview.empty", "en")]
    assert at.button(key="create_demo").label == t("overview.create_demo", "en")
    assert not at.metric
    assert [c.value for c in at.sidebar.caption] == [t("app.no_datasets", "en")]


def test_create_demo_button_stores_the_demo_dataset_and_shows_its_counts(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    at = open_app()

    checked(at.button(key="create_demo").click().run())

    datasets = stored()
    assert list(datasets) == ["demo"]
    demo = datasets["demo"]
    assert demo.leads == 50_000
    assert demo.won + demo.lost + demo.open == demo.leads
    assert not at.info
    assert at.sidebar.selectbox(key="dataset").value == "demo"
    assert metrics(at) == expected_metrics(demo)


def test_overview_shows_the_counts_of_the_dataset_picked_in_the_sidebar(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    seed("small", leads=200, seed=1)
    seed("larger", leads=700, seed=2)
    at = open_app()
    # The newest dataset is selected first.
    assert at.sidebar.selectbox(key="dataset").value == "larger"
    assert metrics(at) == expected_metrics(stored()["larger"])

    checked(at.sidebar.selectbox(key="dataset").set_value("small").run())

    small = stored()["small"]
    assert (small.leads, small.won + small.lost + small.open) == (200, 200)
    assert metrics(at) == expected_metrics(small)
    assert at.subheader[0].value == "small"
    # "Lead → won" counts every lead, still-open ones included, and says so
    (rate,) = [m for m in at.metric if m.label == t("overview.win_rate", "en")]
    assert rate.help == t("population.funnel_all_leads", "en")


def test_dataset_picker_lists_every_stored_dataset(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    stored: Callable[[], dict[str, DatasetInfo]],
) -> None:
    for i, name in enumerate(["alpha", "beta", "広告リード 2026"]):
        seed(name, leads=100, seed=i)

    at = open_app()

    assert at.sidebar.selectbox(key="dataset").options == list(stored())
    assert sorted(at.sidebar.selectbox(key="dataset").options) == sorted(
        ["alpha", "beta", "広告リード 2026"]
    )
    table = datasets_table(at)
    assert sorted(table[t("overview.name", "en")]) == sorted(stored())


def test_switching_the_language_to_japanese_renders_japanese_titles(
    open_app: Callable[..., AppTest],
    checked: Callable[[AppTest], AppTest],
    seed: Callable[..., DatasetInfo],
) -> None:
    info = seed("demo", leads=200)
    at = open_app()
    assert at.title[0].value == t("overview.title", "en")

    checked(at.sidebar.selectbox(key="lang").set_value("ja").run())

    assert at.title[0].value == t("overview.title", "ja")
    assert at.caption[0].value == t("app.tagline", "ja")
    assert at.subheader[1].value == t("overview.all_datasets", "ja")
    assert metrics(at) == expected_metrics(info, "ja")
    assert at.sidebar.selectbox(key="dataset").label == t("app.dataset", "ja")

    checked(at.switch_page("../pages/data.py").run())
    assert at.title[0].value == t("data.title", "ja") == "データ"


def test_lang_query_parameter_starts_the_app_in_japanese(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app(lang="ja")

    assert at.sidebar.selectbox(key="lang").value == "ja"
    assert at.title[0].value == t("overview.title", "ja")
    assert [i.value for i in at.info] == [t("overview.empty", "ja")]
    assert at.button(key="create_demo").label == t("overview.create_demo", "ja")


def test_unknown_lang_query_parameter_falls_back_to_english(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app(lang="fr")

    assert at.sidebar.selectbox(key="lang").value == "en"
    assert at.title[0].value == t("overview.title", "en")


def test_dataset_name_with_markup_is_shown_as_plain_text_on_the_overview(
    open_app: Callable[..., AppTest],
    seed: Callable[..., DatasetInfo],
    literal: Callable[[str], str],
) -> None:
    seed(MARKUP_NAME, leads=100)

    at = open_app()

    assert literal(at.subheader[0].value) == MARKUP_NAME
    # Selectbox options and table cells are plain text already: the exact name, unescaped.
    assert at.sidebar.selectbox(key="dataset").options == [MARKUP_NAME]
    assert list(datasets_table(at)[t("overview.name", "en")]) == [MARKUP_NAME]
    for caption in at.main.caption:
        literal(caption.value)
