"""Audit log: every change to the store, who made it, when, and from which files."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import ui
from funnel import audit

st.title(ui.t("audit.title"))
st.caption(ui.t("audit.caption"))
events = audit.events(ui.store())
if not events:
    st.info(ui.t("audit.none"))
    st.stop()
datasets = sorted({e.dataset for e in events if e.dataset})
ALL = ""
only = st.selectbox(
    ui.t("audit.only"),
    [ALL, *datasets],
    format_func=ui.labels([ALL, *datasets], lambda d: d or ui.t("audit.all")),
    key="audit_dataset",
)
shown = [e for e in reversed(events) if not only or e.dataset == only]


def detail(e: audit.AuditEvent) -> str:
    """What the row is about beyond its action: the version, the side, the new name."""
    parts = [str(e.detail.get("label") or "")]
    if e.detail.get("role"):
        parts.append(ui.t(f"report.role.{e.detail['role']}"))
    if e.detail.get("to"):
        parts.append("→ " + str(e.detail["to"]))
    if e.detail.get("file"):
        parts.append(str(e.detail["file"]))
    if e.detail.get("files"):
        parts.append(", ".join(str(f) for f in e.detail["files"]))
    return " · ".join(p for p in parts if p)


ui.dataframe(
    pd.DataFrame(
        {
            ui.t("audit.col.at"): [e.at for e in shown],
            ui.t("audit.col.who"): [e.actor for e in shown],
            ui.t("audit.col.name"): [e.actor_name for e in shown],
            ui.t("audit.col.via"): [ui.t(f"audit.via.{e.via}") for e in shown],
            ui.t("audit.col.what"): [ui.t(f"audit.action.{e.action}") for e in shown],
            ui.t("audit.col.dataset"): [e.dataset or "" for e in shown],
            ui.t("audit.col.detail"): [detail(e) for e in shown],
            ui.t("audit.col.fingerprint"): [e.fingerprint or "" for e in shown],
        }
    ),
    hide_index=True,
    width="stretch",
)
ui.download_table(
    pd.DataFrame([e.as_dict() for e in shown]).astype({"detail": "str"}),
    "audit",
    key="audit_csv",
)
