"""No page ever shows a traceback: every page, on every awkward dataset, opens with a message.

The awkward datasets (``tests.support.AWKWARD_FILES``) are loaded as the Data page loads files:
one stage (a closed-deals file uploaded as leads), no outcome, no dates, no lead features, every
lead won, and an ordinary dataset filtered to a month without leads. On each, every page is
opened, and on the Tuner every result tab, the missed won deals and an explanation too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.store import DatasetInfo, Store
from tests.support import AWKWARD_FILES, EMPTY_RANGE, FILTERED, store_awkward

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
PAGES = ("overview", "funnel", "segments", "tuner", "rulesets", "data")
TABS = ("tiers", "deciles", "curve", "matrix", "compare")


@pytest.fixture
def awkward(db_path: Path) -> Iterator[dict[str, DatasetInfo]]:
    with Store(db_path) as store:
        infos = store_awkward(store)
    yield infos


def tracebacks(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]


def open_page(name: str, info: DatasetInfo, lang: str) -> AppTest:
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    at.query_params["lang"] = lang
    at.query_params["dataset"] = info.name
    if info.name == FILTERED:
        at.session_state[f"flt:{info.dataset_id}:dates"] = tuple(
            date.fromisoformat(d) for d in EMPTY_RANGE
        )
    at.run()
    assert tracebacks(at) == []
    if name != "overview":
        at.switch_page(f"../pages/{name}.py").run()
    return at


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("dataset", sorted(AWKWARD_FILES))
def test_every_page_opens_on_an_awkward_dataset_without_a_traceback(
    awkward: dict[str, DatasetInfo], dataset: str, lang: str
) -> None:
    info = awkward[dataset]
    for page in PAGES:
        at = open_page(page, info, lang)
        assert tracebacks(at) == [], f"{page} on {dataset}"
        assert at.sidebar.selectbox(key="dataset").value == dataset
        said = [x.value for x in (*at.main.info, *at.main.warning)]
        if dataset == FILTERED and page in ("funnel", "segments", "tuner"):
            assert t("funnel.no_leads", lang) in said
        if dataset == "one-stage" and page in ("funnel", "segments"):
            stage = t("stage.mql", lang)
            assert t("funnel.one_stage", lang, dataset=dataset, stage=stage) in said
        if page != "tuner" or not at.metric:
            continue
        for tab in TABS:  # the Tuner's lazy parts, each computed only when open
            at.session_state["tuner_tab"] = t(f"tuner.tab.{tab}", lang)
            at.run()
            assert tracebacks(at) == [], f"tuner tab {tab} on {dataset}"
            for table in at.dataframe:  # an empty tier or a missing AUC reads "—"
                cells = table.value.astype(object)
                assert not cells.isna().any().any(), f"an empty cell in tab {tab}: {table.value}"
        at.toggle(key="show_missed").set_value(True).run()
        assert tracebacks(at) == [], f"missed won deals on {dataset}"
        at.text_input(key="explain_id").set_value("L1").run()
        assert tracebacks(at) == [], f"explain on {dataset}"
