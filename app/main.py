"""Entry point: ``streamlit run app/main.py`` — a router over the pages in ``pages/``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import auth, ui  # noqa: E402

st.set_page_config(page_title="funnel", page_icon="🔥", layout="wide")
ui.language_switch()
PAGES = ROOT / "pages"
# (script, title key, icon, url path); the first page is the default
PAGE_TABLE = (
    ("overview.py", "page.overview", ":material/dashboard:", "overview"),
    ("funnel.py", "page.funnel", ":material/filter_list:", "funnel"),
    ("segments.py", "page.segments", ":material/bar_chart:", "segments"),
    ("tuner.py", "page.tuner", ":material/tune:", "tuner"),
    ("rulesets.py", "page.rulesets", ":material/verified:", "rulesets"),
    ("review.py", "page.review", ":material/rate_review:", "review"),
    ("data.py", "page.data", ":material/upload_file:", "data"),
    ("audit.py", "page.audit", ":material/history:", "audit"),
)
navigation = st.navigation(
    [
        st.Page(PAGES / script, title=ui.t(title), icon=icon, url_path=path, default=i == 0)
        for i, (script, title, icon, path) in enumerate(PAGE_TABLE)
    ]
)
auth.gate()  # with sign-in on, nothing below runs for someone not signed in with a role
ui.dataset_picker()
navigation.run()
