"""The Data page's "from a database" form: leads, outcomes and an activity log read where they
live (PostgreSQL or Spark, :mod:`funnel.sources`) and stored through the files' own mapping,
validation and all-or-nothing store.

The connection string is typed into a password field: it is never shown back, and every name
the page shows (what was read, the load history) is the masked one. Folders of files on the
server are not offered here (the page would read any file the server can): that is
``funnel load --from``'s.
"""

from __future__ import annotations

import streamlit as st

from app import auth, ui
from app.done import rerun_saying, said, show
from funnel.i18n import CodedError
from funnel.problems import LoadError
from funnel.sources import Source, default_name, load, read_inputs, typed_source

_DONE = "_sources_done"


def database_section() -> None:
    """The form, for whom may manage datasets; the result of its last load under it."""
    if not auth.may("manage_datasets"):
        return
    with st.expander(ui.t("sources.page.header")):
        st.caption(ui.t("sources.page.help"))
        origin = st.text_input(
            ui.t("sources.page.where"),
            type="password",
            key="src_origin",
            placeholder="postgresql://user@host:5432/db",
        )
        leads = st.text_area(ui.t("sources.page.leads"), key="src_leads", height=68)
        outcomes = st.text_area(ui.t("sources.page.outcomes"), key="src_outcomes", height=68)
        activities = st.text_area(ui.t("sources.page.activities"), key="src_activities", height=68)
        name = st.text_input(ui.t("sources.page.dataset"), key="src_dataset")
        if st.button(ui.t("sources.page.load"), key="src_load", type="primary"):
            _load(origin.strip(), leads, outcomes, activities, name)
        show(said(_DONE))


def _load(origin: str, leads: str, outcomes: str, activities: str, name: str) -> None:
    if not origin or not leads.strip():
        st.error(ui.t("sources.page.need_both"))
        return
    if Source(origin).engine == "files":
        st.error(ui.t("sources.page.not_files"))
        return
    first = typed_source(origin, leads)
    assert first is not None
    dataset = " ".join(name.split()) or default_name(first)
    try:
        with st.spinner(ui.tm("sources.page.reading", source=first.name)):
            inputs = read_inputs(
                first, typed_source(origin, outcomes), typed_source(origin, activities)
            )
            result = load(ui.store(), dataset, inputs, by=auth.actor())
    except (LoadError, CodedError) as exc:
        ui.load_refused(exc)
        return
    info = result.dataset
    ui.select_dataset(info.name)
    rerun_saying(
        _DONE,
        ui.tm(
            "sources.page.loaded",
            name=info.name,
            source=first.name,
            leads=f"{info.leads:,}",
            won=f"{info.won:,}",
            lost=f"{info.lost:,}",
            open=f"{info.open:,}",
        ),
    )
