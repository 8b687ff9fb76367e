"""Entry point: ``streamlit run app/main.py`` — a router over the pages in ``pages/``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

st.set_page_config(page_title="funnel", page_icon="🔥", layout="wide")
ui.language_switch()
PAGES = ROOT / "pages"
navigation = st.navigation(
    [
        st.Page(
            PAGES / "overview.py",
            title=ui.t("page.overview"),
            icon=":material/dashboard:",
            default=True,
            url_path="overview",
        ),
        st.Page(
            PAGES / "funnel.py",
            title=ui.t("page.funnel"),
            icon=":material/filter_list:",
            url_path="funnel",
        ),
        st.Page(
            PAGES / "segments.py",
            title=ui.t("page.segments"),
            icon=":material/bar_chart:",
            url_path="segments",
        ),
        st.Page(
            PAGES / "tuner.py",
            title=ui.t("page.tuner"),
            icon=":material/tune:",
            url_path="tuner",
        ),
        st.Page(
            PAGES / "data.py",
            title=ui.t("page.data"),
            icon=":material/upload_file:",
            url_path="data",
        ),
    ]
)
ui.dataset_picker()
navigation.run()
