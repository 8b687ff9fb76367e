"""Data: upload → proposed mapping → confirm → validation report or stored dataset.

Loading into a dataset that exists asks whether to update it by lead id (the counts shown and
confirmed before anything is stored) or replace it. Also lists stored datasets, with rename,
(confirmed) delete and each one's load history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import auth, ui
from app.done import rerun_saying, said, show
from app.sources_form import database_section
from funnel.feedback import (
    DISPOSITIONS,
    feedback_summary,
    load_feedback,
    propose_feedback,
    status_values,
)
from funnel.formats import fmt_pct
from funnel.i18n import CodedError
from funnel.ingest import load_files, prepare_refresh
from funnel.loads import history_row
from funnel.mapping import (
    DispositionSpec,
    Mapping,
    OutcomeSpec,
    Overrides,
    disposition_values,
)
from funnel.mapping.dispositions import with_status_meanings
from funnel.mapping.leaks import LeftOut, left_out
from funnel.mapping.propose import propose_mapping
from funnel.mapping.rows import (
    OUTCOMES_FILE_CHOICES,
    ROLE_CHOICES,
    apply_rows,
    mapping_rows,
    outcome_value_options,
)
from funnel.mapping.sample import proposal_sample
from funnel.parsing import DEFAULT_PLACEHOLDERS
from funnel.problems import LoadError, Problem
from funnel.readers import SourceFile, read_bytes
from funnel.refresh import carry_mapping
from funnel.store import DatasetInfo
from funnel.suggest.columns import file_left_out, stored_left_out
from funnel.wrongfile import HEAD_BYTES, outcomes_file_problem, yaml_file_problem

_LAST = "_data_last_load"
_PREVIEW = "_refresh_preview"


def read_upload(upload: Any, sheet: str | None = None) -> SourceFile | list[Problem]:
    """Read an uploaded file (a workbook's ``sheet``) once; remember problems, never raise.

    A rule set or mapping YAML is named as such (and where it belongs) instead of being read
    as a table.
    """
    cache: dict[str, SourceFile | list[Problem]] = st.session_state.setdefault("_reads", {})
    key = f"{upload.file_id}:{upload.name}:{sheet or ''}"
    if key not in cache:
        wrong = yaml_file_problem(upload.getvalue()[:HEAD_BYTES], upload.name)
        if wrong is not None:
            cache[key] = [wrong]
            return cache[key]
        try:
            cache[key] = read_bytes(upload.getvalue(), upload.name, sheet=sheet)
        except LoadError as exc:
            cache[key] = list(exc.problems)
    return cache[key]


def pick_sheet(upload: Any) -> str | None:
    """The leads workbook's sheet to read: a picker when it has several visible sheets."""
    first = read_upload(upload)
    if not isinstance(first, SourceFile) or len(first.sheets) < 2:
        return None
    picked: str = st.selectbox(
        ui.t("data.sheet"), list(first.sheets), key=f"sheet_{upload.file_id}"
    )
    return picked


def read_out(key: tuple[Any, ...], compute: Callable[[], list[LeftOut]]) -> list[LeftOut]:
    """The columns the suggestion's reading leaves out, read once per file or stored dataset
    and mapping (not on every rerun of the page)."""
    cache: dict[tuple[Any, ...], list[LeftOut]] = st.session_state.setdefault("_read_out", {})
    if key not in cache:
        if len(cache) >= 4:  # the file being mapped, the last load, the dataset managed
            cache.clear()
        cache[key] = compute()
    return cache[key]


def file_read_out(mapping: Mapping, leads: SourceFile) -> list[LeftOut]:
    features = tuple((s.name, s.role) for s in mapping.features())
    key = ("file", leads.name, leads.digest, len(leads.frame), features, mapping.placeholders)
    return read_out(key, lambda: file_left_out(mapping, leads.frame))


def stored_read_out(info: DatasetInfo) -> list[LeftOut]:
    features = tuple((s.name, s.role) for s in info.mapping.features())
    key = ("stored", info.name, info.fingerprint, info.loaded_at, features)
    return read_out(key, lambda: stored_left_out(ui.store(), info))


def left_out_table(mapping: Mapping, read: Sequence[LeftOut] = ()) -> None:
    """The columns kept out of scoring and why (and those scored although flagged); ``read``:
    those the suggestion's reading of their values leaves out."""
    items = left_out(mapping, read)
    if not items:
        return
    st.markdown(f"**{ui.t('left.header')}**")
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("data.col.column"): [item.column for item in items],
                ui.t("left.col.why"): [item.why(ui.lang()) for item in items],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def describe(source: SourceFile) -> str:
    enc = f", {source.encoding}" if source.encoding else ""
    sheet = f" · {source.sheet}" if source.sheet else ""
    return ui.t(
        "data.read_info",
        file=source.name,
        rows=f"{len(source.frame):,}",
        cols=len(source.columns),
        format=source.kind.upper() + sheet,
        encoding=enc,
    )


def editor(
    mapping: Mapping, source: SourceFile, file: str, choices: tuple[str, ...], key: str
) -> Mapping:
    """Show the mapping of one file as an editable table; return the edited mapping."""
    rows = pd.DataFrame(mapping_rows(mapping, source, file, ui.lang()))
    rows["role"] = rows["role"].map(ui.role_label)
    edited = st.data_editor(
        rows,
        key=key,
        hide_index=True,
        width="stretch",
        height=min(36 + 35 * len(rows), 36 + 35 * 30),
        disabled=["column", "why", "sample"],
        column_config={
            "column": st.column_config.TextColumn(ui.t("data.col.column"), width="medium"),
            "role": st.column_config.SelectboxColumn(
                ui.t("data.col.role"),
                options=[ui.role_label(c) for c in choices],
                required=True,
                width="medium",
            ),
            "leak": st.column_config.CheckboxColumn(ui.t("data.col.leak"), width="small"),
            "why": st.column_config.TextColumn(ui.t("data.col.reason"), width="large"),
            "sample": st.column_config.TextColumn(ui.t("data.col.sample"), width="medium"),
        },
    )
    back = ui.role_labels()  # edits made before a language switch keep their meaning
    records = [
        {"column": r["column"], "role": back.get(r["role"], "ignore"), "leak": bool(r["leak"])}
        for r in edited.to_dict("records")
    ]
    return apply_rows(mapping, records, file)


def outcome_controls(mapping: Mapping, leads: SourceFile, outcomes: SourceFile | None) -> Mapping:
    st.markdown(f"**{ui.t('data.outcome_header')}**")
    spec = mapping.outcome
    if spec is not None and spec.won_only:
        st.info(ui.t("data.outcome_won_only"))
        return mapping
    if spec is None or spec.column is None:
        return mapping
    st.caption(
        ui.escape_md(
            ui.t(
                "data.outcome_column",
                column=spec.column,
                file=leads.name if spec.file == "leads" else (outcomes.name if outcomes else ""),
            )
        )
    )
    options = outcome_value_options(mapping, leads, outcomes)
    cols = st.columns(3)
    won = cols[0].multiselect(
        ui.t("data.won_values"),
        options,
        default=[v for v in spec.won if v in options],
        key="won_values",
        placeholder=ui.t("ui.choose"),
    )
    lost = cols[1].multiselect(
        ui.t("data.lost_values"),
        options,
        default=[v for v in spec.lost if v in options],
        key="lost_values",
        placeholder=ui.t("ui.choose"),
    )
    open_ = cols[2].multiselect(
        ui.t("data.open_values"),
        options,
        default=[v for v in spec.open if v in options],
        key="open_values",
        placeholder=ui.t("ui.choose"),
    )
    chosen = set(won) | set(lost) | set(open_)
    unassigned = [v for v in options if v not in chosen]
    if unassigned:
        st.warning(
            ui.t(
                "data.outcome_unassigned",
                column=spec.column,
                values=", ".join(unassigned[:10]) + (" …" if len(unassigned) > 10 else ""),
            )
        )
    return replace(
        mapping, outcome=replace(spec, won=tuple(won), lost=tuple(lost), open=tuple(open_))
    )


def lead_status_controls(mapping: Mapping, leads: SourceFile) -> Mapping:
    """Which column holds sales' verdict on each lead and what each of its values means, as
    proposed; a person confirms or changes each value (the CLI's ``--lead-status``,
    ``--accepted``, ``--rejected`` and ``--not-contacted``, through the same library code)."""
    st.markdown(f"**{ui.t('lead_status.header')}**")
    st.caption(ui.t("lead_status.help"))
    spec = mapping.disposition or DispositionSpec()
    options = [""] + [s.name for s in mapping.leads if s.name != mapping.column("id")]
    proposed = spec.column if spec.column in options else ""
    column = st.selectbox(
        ui.t("lead_status.column"),
        options,
        index=options.index(proposed),
        format_func=ui.labels(options, lambda c: c or ui.t("data.none")),
        key="lead_status_column",
    )
    if not column:
        kept = replace(spec, column=None, accepted=(), rejected=(), not_contacted=())
        return replace(mapping, disposition=kept if kept.columns() else None)
    if column != spec.column:  # another column: propose its values' meanings afresh
        fresh = replace(spec, column=column, accepted=(), rejected=(), not_contacted=())
        spec = with_status_meanings(replace(mapping, disposition=fresh), leads).disposition or fresh
    values = status_values(leads, column)
    chosen: dict[str, tuple[str, ...]] = {}
    for widget, disposition in zip(st.columns(3), DISPOSITIONS, strict=True):
        chosen[disposition] = tuple(
            widget.multiselect(
                ui.t(f"feedback.values.{disposition}"),
                values,
                default=[v for v in values if spec.classify(v) == disposition],
                key=f"lead_status_{disposition}:{column}",
                placeholder=ui.t("ui.choose"),
            )
        )
    placed = {v for vs in chosen.values() for v in vs}
    unplaced = [v for v in values if v not in placed]
    if unplaced:
        st.warning(
            ui.tm(
                "lead_status.unplaced",
                column=column,
                values=", ".join(unplaced[:10]) + (" …" if len(unplaced) > 10 else ""),
            )
        )
    said_here = Overrides(
        lead_status=column,
        accepted=chosen["accepted"],
        rejected=chosen["rejected"],
        not_contacted=chosen["not_contacted"],
    )
    blank = replace(spec, accepted=(), rejected=(), not_contacted=())
    return disposition_values(replace(mapping, disposition=blank), said_here, leads.name)


def refresh_section(
    existing: DatasetInfo,
    sources: tuple[SourceFile, SourceFile | None, SourceFile | None],
    mapping: Mapping,
    keep_last: bool,
    preview_key: str,
) -> None:
    """Update ``existing`` by lead id: check, show the counts, confirm, then store."""
    if st.button(ui.t("refresh.check_button"), type="primary", key="refresh_check"):
        bar = st.progress(0.0, text=ui.t("progress.validate"))
        try:
            prepared, plan = prepare_refresh(
                ui.store(),
                existing.name,
                *sources,
                mapping=mapping,
                keep_last=keep_last,
                progress=ui.progress_reporter(bar),
            )
        except (LoadError, CodedError) as exc:
            bar.empty()
            ui.load_refused(exc)
            return
        bar.empty()
        st.session_state[_PREVIEW] = {"key": preview_key, "prepared": prepared, "plan": plan}
    preview = st.session_state.get(_PREVIEW)
    if not preview or preview["key"] != preview_key:
        return
    plan = preview["plan"]
    st.markdown(f"**{ui.tm('refresh.plan_header', name=existing.name)}**")
    for column, key in zip(
        st.columns(4), ("added", "changed", "unchanged", "missing"), strict=True
    ):
        column.metric(ui.t(f"refresh.metric.{key}"), f"{getattr(plan, key):,}")
    st.caption(
        ui.tm(
            "refresh.plan_caption",
            rows=f"{plan.rows:,}",
            before=f"{plan.before:,}",
            outcomes=f"{plan.outcomes_changed:,}",
            examples=", ".join(plan.missing_examples) or "-",
        )
    )
    accepted = True
    if plan.recorded_changed:
        count = f"{plan.recorded_changed:,}"
        st.warning(
            ui.tm(
                "refresh.outcomes_changed_page",
                count=count,
                transitions=plan.transitions(ui.lang()),
                examples=plan.example_text(ui.lang()),
            )
        )
        accepted = st.checkbox(ui.t("refresh.accept", count=count), key="accept_changed")
    if st.button(
        ui.t("refresh.commit_button"), type="primary", key="refresh_commit", disabled=not accepted
    ):
        st.session_state.pop(_PREVIEW, None)
        try:
            info, done = ui.store().refresh(
                existing.name,
                preview["prepared"],
                accept_changed_outcomes=accepted,
                expected=plan,
                by=auth.actor(),
            )
        except (LoadError, CodedError) as exc:
            ui.load_refused(exc)
            return
        ui.select_dataset(info.name)
        rerun_saying(
            _LAST,
            ui.tm("refresh.done", **done.done_params(info)),
            preview["prepared"].problems,
            info.name,
        )


def history_section(name: str) -> None:
    """The load history of one dataset, newest first."""
    st.markdown(f"**{ui.tm('loads.header', name=name)}**")
    rows = [history_row(r, ui.lang()) for r in reversed(ui.store().load_history(name))]
    frame = pd.DataFrame(rows).drop(columns=["dataset"], errors="ignore")
    ui.dataframe(
        frame.rename(columns={k: ui.t(f"loads.col.{k}") for k in frame.columns}),
        hide_index=True,
        width="stretch",
    )


_FEEDBACK_DONE = "_feedback_done"


def feedback_section(info: DatasetInfo) -> None:
    """Sales' verdict on the dataset's leads: what is stored, and a file to replace it."""
    st.markdown(f"**{ui.t('feedback.header')}**")
    st.caption(ui.t("feedback.intro"))
    show(said(_FEEDBACK_DONE))
    summary = feedback_summary(ui.store(), info.name)
    if summary is None:
        st.info(ui.tm("feedback.none", name=info.name))
    else:
        cols = st.columns(4)
        for column, key in zip(cols, ("accepted", "rejected", "not_contacted"), strict=False):
            column.metric(ui.t(f"feedback.metric.{key}"), f"{summary.counts[key]:,}")
        rate = summary.acceptance_rate
        cols[3].metric(ui.t("feedback.metric.acceptance"), fmt_pct(rate))
        if summary.reasons:
            reasons = pd.DataFrame(
                {
                    ui.t("feedback.col.reason"): [
                        r or ui.t("feedback.no_reason") for r, _ in summary.reasons
                    ],
                    ui.t("feedback.col.leads"): [n for _, n in summary.reasons],
                }
            )
            ui.dataframe(reasons, hide_index=True)
        at = f"{summary.loaded_at:%Y-%m-%d %H:%M}"
        st.caption(ui.tm("feedback.from", file=summary.file, at=at))
    upload = st.file_uploader(ui.t("feedback.file"), key="up_feedback")
    if upload is None:
        return
    source = read_upload(upload)
    if not isinstance(source, SourceFile):
        st.error(ui.t("data.failed"))
        ui.show_problems(source)
        return
    st.caption(ui.escape_md(describe(source)))
    proposed = propose_feedback(source)
    options = [""] + source.columns
    label = ui.labels(options, lambda c: c or ui.t("data.none"))
    picked: dict[str, str | None] = {}
    for column, role in zip(st.columns(5), ("id", "status", "reason", "at", "by"), strict=True):
        current = getattr(proposed, role)
        picked[role] = (
            column.selectbox(
                ui.t(f"feedback.column.{role}"),
                options,
                index=options.index(current) if current in options else 0,
                format_func=label,
                key=f"fb_{role}_{upload.file_id}",
            )
            or None
        )
    mapping = propose_feedback(source, status=picked["status"])
    mapping = replace(
        mapping,
        id=picked["id"],
        status=picked["status"],
        reason=picked["reason"],
        at=picked["at"],
        by=picked["by"],
    )
    values = status_values(source, mapping.status)
    chosen: dict[str, list[str]] = {}
    for column, disposition in zip(st.columns(3), DISPOSITIONS, strict=True):
        chosen[disposition] = column.multiselect(
            ui.t(f"feedback.values.{disposition}"),
            values,
            default=[v for v in getattr(mapping, disposition) if v in values],
            key=f"fb_{disposition}_{upload.file_id}_{mapping.status}",
            placeholder=ui.t("ui.choose"),
        )
    mapping = replace(
        mapping,
        accepted=tuple(chosen["accepted"]),
        rejected=tuple(chosen["rejected"]),
        not_contacted=tuple(chosen["not_contacted"]),
    )
    if st.button(ui.t("feedback.load_button"), key="feedback_load"):
        try:
            stored = load_feedback(ui.store(), info.name, source, mapping, by=auth.actor())
        except (LoadError, CodedError) as exc:
            ui.load_refused(exc)
            return
        counts = stored.counts
        rerun_saying(
            _FEEDBACK_DONE,
            ui.tm(
                "feedback.loaded",
                name=info.name,
                leads=f"{sum(counts.values()):,}",
                accepted=f"{counts['accepted']:,}",
                rejected=f"{counts['rejected']:,}",
                not_contacted=f"{counts['not_contacted']:,}",
            ),
        )


st.title(ui.t("data.title"))
st.caption(ui.t("data.intro"))

last = said(_LAST)
st.subheader(ui.t("data.load_header"))
# loading, renaming and deleting are offered only to whom the roles allow (the library checks
# again when it is asked)
manage = auth.may("manage_datasets")
leads_up = outcomes_up = activities_up = None
if manage:
    limit = ui.t("data.upload_limit", size=ui.upload_size())
    leads_up = st.file_uploader(ui.t("data.leads_file"), key="up_leads")
    st.caption(limit)
    with st.expander(ui.t("data.outcomes_file") + " · " + ui.t("data.activities_file")):
        outcomes_up = st.file_uploader(ui.t("data.outcomes_file"), key="up_outcomes")
        activities_up = st.file_uploader(ui.t("data.activities_file"), key="up_activities")
        st.caption(limit)
    database_section()  # or read where the data lives (PostgreSQL, Spark)

if not manage:
    st.info(ui.t("data.view_only"))
elif leads_up is None:
    st.info(ui.t("data.upload_first"))
    st.caption(ui.t("data.cli_hint"))
else:
    sheet = pick_sheet(leads_up)
    reads = {
        k: (read_upload(u, sheet if k == "leads" else None) if u is not None else None)
        for k, u in (("leads", leads_up), ("outcomes", outcomes_up), ("activities", activities_up))
    }
    read_problems = [p for r in reads.values() if isinstance(r, list) for p in r]
    if read_problems:
        st.error(ui.t("data.failed"))
        ui.show_problems(read_problems)
        if any(p.code == "looks_like_rules" for p in read_problems):  # its place, one click away
            st.page_link(
                "../pages/rulesets.py", label=ui.t("data.to_rulesets"), icon=":material/verified:"
            )
        st.stop()
    leads: SourceFile = reads["leads"]  # type: ignore[assignment]
    outcomes: SourceFile | None = reads["outcomes"]  # type: ignore[assignment]
    activities: SourceFile | None = reads["activities"]  # type: ignore[assignment]
    for source in (leads, outcomes, activities):
        if source is not None:
            st.caption(ui.escape_md(describe(source)))

    placeholders_text = st.text_input(
        ui.t("data.placeholders"),
        value=", ".join(p for p in DEFAULT_PLACEHOLDERS if p),
        key="placeholders",
    )
    placeholders = ("",) + tuple(p.strip() for p in placeholders_text.split(",") if p.strip())
    outcome_choice = st.session_state.get("outcome_column")
    stored = {d.name: d for d in ui.datasets()}
    typed_name = str(st.session_state.get("dataset_name") or Path(leads.name).stem)
    existing = stored.get(" ".join(typed_name.split()))
    refreshing = existing is not None and st.session_state.get("load_mode", "refresh") == "refresh"
    uploads_key = hashlib.sha1(
        repr(
            [(u.file_id if u else None) for u in (leads_up, outcomes_up, activities_up)]
            + [placeholders, outcome_choice, sheet]
            + [existing.fingerprint if existing is not None and refreshing else None]
        ).encode()
    ).hexdigest()[:12]
    proposals: dict[str, Mapping] = st.session_state.setdefault("_proposals", {})
    if uploads_key not in proposals:
        with st.spinner(ui.t("progress.map")):
            proposed = propose_mapping(
                leads,
                outcomes,
                activities,
                outcome_column=outcome_choice if outcome_choice else None,
                placeholders=placeholders,
            )
            if existing is not None and refreshing:  # the stored decisions still apply
                proposed = carry_mapping(existing.mapping, proposed)
            proposals[uploads_key] = proposed
    mapping = proposals[uploads_key]
    wrong = outcomes_file_problem(leads, mapping)
    if wrong is not None:  # said before Load is pressed
        st.warning(wrong.message(ui.lang()) + " " + wrong.fix(ui.lang()))

    st.subheader(ui.t("data.mapping_header"))
    st.caption(ui.t("data.mapping_help"))
    sample = proposal_sample(len(leads.frame))
    if sample is not None:  # a big file: the proposal read a sample, loading reads every row
        st.caption(sample.sentence(ui.lang()))
    mapping = editor(mapping, leads, "leads", ROLE_CHOICES, f"map_leads_{uploads_key}")
    if outcomes is not None:
        st.caption(ui.escape_md(outcomes.name))
        mapping = editor(
            mapping, outcomes, "outcomes", OUTCOMES_FILE_CHOICES, f"map_out_{uploads_key}"
        )
    if activities is not None:
        st.caption(ui.escape_md(activities.name))
        mapping = editor(
            mapping,
            activities,
            "activities",
            ("id", "created", "source", "ignore"),
            f"map_act_{uploads_key}",
        )

    if outcomes is None and (mapping.outcome is None or outcome_choice):
        # The picker stays on the page once a column is picked: a widget not drawn in a run
        # loses its value, and the next click would go back to the proposal without an outcome.
        if mapping.outcome is None:
            st.warning(ui.t("data.outcome_none"))
        picked = ("attribute", "number", "ignore", "outcome")
        text_cols = [s.name for s in mapping.leads if s.role in picked]
        st.selectbox(
            ui.t("data.outcome_pick"),
            [""] + text_cols,
            key="outcome_column",
            format_func=ui.labels([""] + text_cols, lambda c: c or ui.t("data.none")),
        )
    elif mapping.outcome is None and mapping.column("outcome") is not None:
        mapping = replace(mapping, outcome=OutcomeSpec("leads", mapping.column("outcome")))
    mapping = outcome_controls(mapping, leads, outcomes)
    mapping = lead_status_controls(mapping, leads)
    left_out_table(mapping, file_read_out(mapping, leads))

    cols = st.columns(3)
    name = cols[0].text_input(
        ui.t("data.dataset_name"), value=Path(leads.name).stem, key="dataset_name"
    )
    first_stage = cols[1].selectbox(
        ui.t("data.first_stage"),
        ["lead", "mql"],
        index=0 if mapping.first_stage == "lead" else 1,
        format_func=ui.labels(["lead", "mql"], lambda s: ui.t(f"stage.{s}")),
        key="first_stage",
    )
    keep_last = cols[2].checkbox(ui.t("data.keep_last"), key="keep_last")
    mapping = replace(mapping, first_stage=first_stage, placeholders=placeholders)
    existing = stored.get(" ".join(name.split()))
    mode = "new"
    if existing is not None:
        mode = st.radio(
            ui.tm("refresh.choice", name=existing.name, leads=f"{existing.leads:,}"),
            ["refresh", "replace"],
            format_func=ui.labels(["refresh", "replace"], lambda m: ui.t(f"refresh.choice_{m}")),
            key="load_mode",
        )
    if existing is not None and mode == "refresh":
        preview_key = hashlib.sha1(
            repr([uploads_key, mapping, keep_last, existing.fingerprint]).encode()
        ).hexdigest()[:12]
        refresh_section(existing, (leads, outcomes, activities), mapping, keep_last, preview_key)
    elif existing is not None:
        st.warning(
            ui.tm("refresh.replace_warning", name=existing.name, leads=f"{existing.leads:,}")
        )

    if mode != "refresh" and st.button(ui.t("data.load_button"), type="primary", key="load"):
        bar = st.progress(0.0, text=ui.t("progress.validate"))
        try:
            result = load_files(
                ui.store(),
                name,
                leads,
                outcomes,
                activities,
                mapping=mapping,
                keep_last=keep_last,
                progress=ui.progress_reporter(bar),
                by=auth.actor(),
            )
        except (LoadError, CodedError) as exc:  # refused: nothing was read or stored
            bar.empty()
            ui.load_refused(exc)
        else:
            info = result.dataset
            ui.select_dataset(info.name)
            rerun_saying(
                _LAST,
                ui.tm(
                    "data.loaded",
                    name=info.name,
                    leads=f"{info.leads:,}",
                    won=f"{info.won:,}",
                    lost=f"{info.lost:,}",
                    open=f"{info.open:,}",
                ),
                result.problems,
                info.name,
            )

show(last)  # the result of the load that just finished, next to its button
if last is not None and last.dataset is not None:
    loaded = ui.store().dataset(last.dataset)
    if loaded is not None:
        left_out_table(loaded.mapping, stored_read_out(loaded))

st.divider()
st.subheader(ui.t("data.stored_header"))
infos = ui.datasets()
if not infos:
    st.info(ui.t("data.no_datasets"))
elif not manage:
    ui.dataframe(ui.datasets_frame(infos), hide_index=True, width="stretch")
else:
    ui.dataframe(
        ui.datasets_frame(infos),
        hide_index=True,
        width="stretch",
    )
    names = [d.name for d in infos]
    target = st.selectbox(ui.t("app.dataset"), names, key="manage_dataset")
    chosen = next(d for d in infos if d.name == target)
    with st.expander(ui.t("left.stored", name=chosen.name)):
        left_out_table(chosen.mapping, stored_read_out(chosen))
    actions = st.columns([2, 1, 1])
    new_name = actions[0].text_input(ui.t("data.new_name"), key="new_name")
    if actions[1].button(ui.t("data.rename"), key="rename") and new_name.strip():
        try:
            renamed = ui.store().rename(target, new_name, by=auth.actor())
        except CodedError as exc:
            st.error(ui.refusal(exc))
        else:
            ui.select_dataset(renamed.name)
            st.rerun()
    if actions[2].button(ui.t("data.delete"), key="delete"):
        st.session_state["_pending_delete"] = target
    pending = st.session_state.get("_pending_delete")
    if pending in names:
        info = next(d for d in infos if d.name == pending)
        st.warning(ui.tm("data.delete_confirm", name=info.name, leads=f"{info.leads:,}"))
        yes, no = st.columns(2)
        if yes.button(ui.t("data.delete_yes"), type="primary", key="delete_yes"):
            st.session_state.pop("_pending_delete", None)
            try:
                ui.store().delete(pending, by=auth.actor())
            except CodedError as exc:
                st.error(ui.refusal(exc))
            else:
                st.rerun()
        if no.button(ui.t("data.cancel"), key="delete_no"):
            st.session_state.pop("_pending_delete", None)
            st.rerun()
    if target in names:
        history_section(target)
        feedback_section(chosen)
