"""Rule sets: the saved versions, their sign-off, diffs between them, and every export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pandas as pd
import streamlit as st

from app import auth, tuning, ui
from funnel.dialects import DIALECTS, SqlExportError
from funnel.formats import fmt_pct, metric, shown_in
from funnel.i18n import CodedError
from funnel.meeting import EXPORTS, Target, export, reads_activities
from funnel.population import stored_description
from funnel.rules import PROMISES, RuleSetError, ServiceLevel
from funnel.store import DatasetInfo
from funnel.versions.diff import VersionDiff, compare_versions
from funnel.versions.files import import_version
from funnel.versions.history import get_version, list_versions, save_version
from funnel.versions.record import ROLES, Version
from funnel.versions.signoff import propose, sign

MAX_RULES_FILE = 2_000_000  # bytes; a rule set is a few kilobytes
st.title(ui.t("rulesets.title"))
info = ui.current_dataset()
if info is None:
    st.info(ui.t("analysis.empty"))
    st.stop()
store = ui.store()

# A refused import keeps the file and the author, to fix and try again; a successful one
# empties the form (new widget keys) and selects the new draft in the history below.
form_round = st.session_state.setdefault(f"_rulesets_import:{info.dataset_id}", 0)
# who may save, propose and sign is the roles' decision (checked again by the library);
# with sign-in, who acts is the signed-in person, never a typed name
signed_in = auth.signing_in()


def import_form(info: DatasetInfo) -> None:
    """Import a rule-set file as a new draft (offered to whom the roles let save versions)."""
    with st.expander(ui.t("rulesets.import")):
        with st.form(f"import_form:{info.dataset_id}"):
            upload = st.file_uploader(
                ui.t("rulesets.import_file"),
                type=["yaml", "yml", "json"],
                key=f"import_file:{info.dataset_id}:{form_round}",
            )
            st.caption(ui.t("rulesets.upload_limit", size=f"{MAX_RULES_FILE / 1e6:g} MB"))
            importer = (
                ""
                if signed_in
                else st.text_input(
                    ui.t("report.author"), key=f"import_author:{info.dataset_id}:{form_round}"
                )
            )
            if st.form_submit_button(ui.t("rulesets.import_button")):
                if upload is None:
                    st.error(ui.t("rulesets.import_none"))
                elif upload.size > MAX_RULES_FILE:
                    st.error(ui.t("rulesets.import_too_big", file=upload.name))
                else:
                    try:
                        text = upload.getvalue().decode("utf-8-sig")
                        imported = import_version(
                            store, info, text, source=upload.name, author=importer, by=auth.actor()
                        )
                    except UnicodeDecodeError:
                        st.error(ui.t("rulesets.import_not_text", file=upload.name))
                    except CodedError as exc:
                        st.error(ui.refusal(exc))
                    else:
                        saved = ui.t(
                            "versions.saved", label=imported.label(), id=imported.version_id
                        )
                        st.session_state["_rulesets_msg"] = ("success", saved)
                        st.session_state[f"_rulesets_import:{info.dataset_id}"] = form_round + 1
                        st.session_state[f"rs_pick:{info.dataset_id}"] = imported.version_id
                        st.rerun()


if auth.may("edit_versions"):
    import_form(info)

versions = list_versions(store, info.name)
if not versions:
    st.info(ui.t("versions.none"))
    st.stop()
by_id = {v.version_id: v for v in versions}


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=ui.HASH_FUNCS)
def version_diff(info: DatasetInfo, a_id: int, b_id: int, lang: str) -> VersionDiff:
    """Versions never change and a reload gives the dataset a new id: safe to keep."""
    store = ui.store()
    return compare_versions(
        store, info, get_version(store, a_id), get_version(store, b_id), lang=lang
    )


def status_text(v: Version) -> str:
    text = ui.t(f"report.status.{v.status}")
    return f"{text} ★ {ui.t('rulesets.current')}" if v.current else text


def signer(v: Version, role: str) -> str:
    done = v.signoff(role)
    if done is None:
        return ""
    # a signature made signed in carries the provider's e-mail: who it is, not a typed name
    return f"{done.name} <{done.email}>" if done.email else done.name


def act(run: Callable[[], object]) -> bool:
    """Run a sign-off action; a refusal is said where the action was asked for (its form),
    never as a traceback. Returns whether it was done."""
    try:
        run()
    except CodedError as exc:
        st.error(ui.refusal(exc))
        return False
    return True


def promises_view(info: DatasetInfo, v: Version) -> None:
    """The service-level promises signed with ``v``; who may save versions can change them,
    which saves a new draft of the same rules."""
    st.caption(ui.t("promise.title"))
    lines = v.ruleset.service_level.describe(ui.lang()) or [ui.t("promise.none")]
    st.text("\n".join(lines))
    if not auth.may("edit_versions"):
        return
    with st.expander(ui.t("promise.change")), st.form(f"promises_form:{v.version_id}"):
        st.caption(ui.t("promise.change_help"))
        now = v.ruleset.service_level
        cols = st.columns(len(PROMISES))
        typed = {
            key: col.number_input(
                ui.t(f"promise.field.{key}"),
                min_value=0,
                max_value=limit,
                value=getattr(now, key) or 0,
                step=1,
                help=ui.t("promise.field_help"),
                key=f"promise:{key}:{v.version_id}",
            )
            for col, (key, limit) in zip(cols, PROMISES.items(), strict=True)
        }
        who = (
            ""
            if signed_in
            else st.text_input(ui.t("report.author"), key=f"promise_by:{v.version_id}")
        )
        if st.form_submit_button(ui.t("promise.save")):
            wanted = ServiceLevel(**{k: int(n) if n else None for k, n in typed.items()})
            if wanted == now:
                st.error(ui.t("promise.unchanged", label=v.label()))  # beside the button
            elif act(
                lambda: save_version(
                    store,
                    info,
                    replace(v.ruleset, service_level=wanted),
                    author=who,
                    rationale=v.rationale,
                    by=auth.actor(),
                )
            ):
                st.session_state["_rulesets_msg"] = ("success", ui.t("rulesets.done.promises"))
                st.rerun()


# --- the history ----------------------------------------------------------------------------------
st.caption(ui.t("rulesets.help"))
history = pd.DataFrame(
    [
        {
            "#": v.version_id,
            ui.t("rulesets.col.version"): v.label(),
            ui.t("report.status"): status_text(v),
            ui.t("report.author"): v.author,
            ui.t("rulesets.col.saved"): v.saved_at,
            ui.t("report.effective_from"): v.effective_from,
            ui.t("report.role.marketing"): signer(v, "marketing"),
            ui.t("report.role.sales"): signer(v, "sales"),
        }
        | {m.label(ui.lang()): v.metrics.get(m.key) for m in shown_in("history")}
        for v in versions
    ]
)
ui.dataframe(
    history,
    hide_index=True,
    width="stretch",
    column_config=ui.metric_columns(shown_in("history")),
)
message = st.session_state.pop("_rulesets_msg", None)
if message:
    (st.error if message[0] == "error" else st.success)(message[1])

ids = [v.version_id for v in versions]
picked = st.selectbox(
    ui.t("rulesets.pick"),
    ids,
    format_func=lambda i: f"#{i} {by_id[i].label()}",
    key=f"rs_pick:{info.dataset_id}",
)
v = by_id[int(picked)]

# --- one version ----------------------------------------------------------------------------------
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(v.label())
    st.text(
        ui.t(
            "rulesets.meta",
            status=status_text(v),
            author=v.author,
            saved=f"{v.saved_at:%Y-%m-%d %H:%M}",
            effective=f"{v.effective_from}" if v.effective_from else "–",
            tuned_on=v.tuned_on,
            fingerprint=v.fingerprint,
        )
    )
    if v.rationale:
        st.text(v.rationale)
    for line in v.ruleset.describe(ui.lang(), info.mapping.labels()):
        st.text("• " + line)
    promises_view(info, v)
    tiers = pd.DataFrame(v.metrics.get("tiers") or [])
    if not tiers.empty:
        st.caption(ui.t("rulesets.metrics_then"))
        counted = stored_description(v.metrics, ui.lang())
        if counted:
            st.caption(counted)
        ui.dataframe(
            pd.DataFrame(
                {
                    ui.t("tuner.col.tier"): tiers["tier"],
                    ui.t("funnel.col.leads"): tiers["n"],
                    ui.t("overview.won"): tiers["won"],
                    ui.t("funnel.col.rate"): tiers["rate"].map(fmt_pct),
                    ui.t("segments.ci_low"): tiers["ci_low"].map(fmt_pct),
                    ui.t("segments.ci_high"): tiers["ci_high"].map(fmt_pct),
                }
            ),
            hide_index=True,
            width="stretch",
        )

with right:
    st.subheader(ui.t("report.signoffs"))
    for role in ROLES:
        done = v.signoff(role)
        label = ui.t(f"report.role.{role}")
        if done is None:
            st.text(f"{label}: {ui.t('report.not_signed')}")
        else:
            comment = f" — {done.comment}" if done.comment else ""
            st.text(f"{label}: {signer(v, role)} ({done.at:%Y-%m-%d %H:%M}){comment}")
    open_roles = [r for r in ROLES if v.signoff(r) is None and auth.may(f"sign_{r}")]
    # A refusal is said under its button and keeps what was typed; a done action empties the
    # form (new widget keys) and says so under it.
    rounds: dict[int, int] = st.session_state.setdefault("_rulesets_rounds", {})
    turn = rounds.get(v.version_id, 0)
    again = f":{turn}" if turn else ""  # the first round keeps the plain keys
    done_key = f"_rulesets_done:{v.version_id}"
    if v.status == "draft" and auth.may("edit_versions"):
        with st.form(f"propose_form:{v.version_id}"):
            who = (
                ""
                if signed_in
                else st.text_input(
                    ui.t("rulesets.your_name"), key=f"propose_name:{v.version_id}{again}"
                )
            )
            if st.form_submit_button(ui.t("rulesets.propose")):
                if act(lambda: propose(store, v.version_id, who, by=auth.actor())):
                    rounds[v.version_id] = turn + 1
                    st.session_state[done_key] = ui.t("rulesets.done.propose")
                    st.rerun()
    elif v.status == "proposed" and not open_roles:
        st.info(ui.t("rulesets.no_sign_role"))
    elif v.status == "proposed":
        # a form: the name and comment reach the server together with the click
        with st.form(f"sign_form:{v.version_id}"):
            role = st.radio(
                ui.t("rulesets.sign_as"),
                open_roles,
                format_func=ui.labels(ROLES, lambda r: ui.t(f"report.role.{r}")),
                horizontal=True,
                key=f"sign_role:{v.version_id}{again}",
            )
            if signed_in:
                me = auth.actor()
                st.caption(ui.tm("rulesets.signing_as", name=me.name, email=me.id))
                who = ""
            else:
                who = st.text_input(
                    ui.t("rulesets.your_name"), key=f"sign_name:{v.version_id}{again}"
                )
            comment = st.text_input(
                ui.t("rulesets.comment"), key=f"sign_comment:{v.version_id}{again}"
            )
            if st.form_submit_button(ui.t("rulesets.sign"), type="primary"):
                if act(lambda: sign(store, v.version_id, str(role), who, comment, by=auth.actor())):
                    rounds[v.version_id] = turn + 1
                    st.session_state[done_key] = ui.t("rulesets.done.sign")
                    st.rerun()
    elif v.status == "agreed":
        st.success(ui.t("rulesets.is_agreed"))
    done = st.session_state.pop(done_key, None)
    if done:
        st.success(done)

    def open_in_tuner(info: DatasetInfo, version: Version) -> None:
        """Load the version into the proposal being edited on the Tuner."""
        kept = tuning.state(info)
        tuning.store_proposal(info, kept.active, version.ruleset, new_widgets=True)

    if st.button(
        ui.t("rulesets.open"), key=f"open:{v.version_id}", on_click=open_in_tuner, args=(info, v)
    ):
        st.switch_page("../pages/tuner.py")

# --- exports --------------------------------------------------------------------------------------
st.subheader(ui.t("rulesets.exports"))
lang = ui.lang()
c1, c2, c3 = st.columns(3)
for e in EXPORTS:  # the rule set itself, then what is measured on the leads; SQL beside them
    if e.warehouse:
        continue
    target = Target(store, info, lang=lang)
    where = c2 if e.reads else c1
    data = partial(e.write, v, target) if e.reads == "leads" else e.write(v, target)  # on click
    where.download_button(
        ui.t(f"export.{e.name}"),
        data,
        e.file_name(v),
        e.mime,
        key=f"dl_{e.name}",
        on_click="ignore",
    )
sql = export("sql")
dialect = c3.selectbox(ui.t("rulesets.dialect"), DIALECTS, key="sql_dialect")
table = c3.text_input(ui.t("rulesets.table"), "leads", key="sql_table")
activities = "activities"
if reads_activities(info, v):
    activities = c3.text_input(ui.t("rulesets.activities_table"), "activities", key="sql_acts")
target = Target(
    store,
    info,
    lang=lang,
    dialect=dialect,
    table=table or "leads",
    activities_table=activities or "activities",
)
try:
    sql_bytes = sql.write(v, target)
except SqlExportError as exc:
    c3.warning(ui.refusal(exc))
else:
    c3.download_button(
        ui.t(f"export.{sql.name}"),
        sql_bytes,
        sql.file_name(v, dialect),
        sql.mime,
        key=f"dl_{sql.name}",
        on_click="ignore",
    )
    with st.expander(ui.t("rulesets.show_sql")):
        st.code(sql_bytes.decode("utf-8"), language="sql")

# --- diff -----------------------------------------------------------------------------------------
st.subheader(ui.t("rulesets.diff"))
if len(versions) < 2:
    st.info(ui.t("rulesets.diff_need_two"))
    st.stop()
older = [i for i in ids if i != v.version_id]
d1, d2 = st.columns(2)
a_id = d1.selectbox(
    ui.t("rulesets.diff_from"),
    older,
    format_func=lambda i: f"#{i} {by_id[i].label()}",
    key=f"diff_a:{v.version_id}",
)
d2.text(ui.t("rulesets.diff_to", label=f"#{v.version_id} {v.label()}"))
a = by_id[int(a_id)]
with st.spinner(ui.t("rulesets.diffing")):
    try:
        diff = version_diff(info, a.version_id, v.version_id, lang)
    except RuleSetError as exc:  # an older version naming columns this dataset lost
        st.warning(ui.refusal(exc))
        st.stop()
if diff.changes:
    ui.dataframe(
        pd.DataFrame(
            [
                {
                    ui.t("rulesets.col.change"): ui.t(f"report.{c.kind}"),
                    ui.t("report.col.before"): c.before or "",
                    ui.t("report.col.after"): c.after or "",
                }
                for c in diff.changes
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.text(ui.t("report.no_rule_changes"))
st.caption(ui.t("rulesets.diff_metrics", dataset=info.name))
ui.dataframe(
    pd.DataFrame(
        [
            {
                ui.t("report.col.metric"): m.label(lang),
                a.label(): m.text(x),
                v.label(): m.text(y),
            }
            for m, x, y in ((metric(key), x, y) for key, x, y in diff.metrics)
        ]
    ),
    hide_index=True,
    width="stretch",
)
st.caption(ui.t("rulesets.moves", count=f"{diff.changed_leads:,}"))
if diff.moves:
    ui.dataframe(
        pd.DataFrame(
            diff.moves,
            columns=[a.label(), v.label(), ui.t("funnel.col.leads")],
        ),
        hide_index=True,
        width="stretch",
    )
    outcomes = {k: ui.t(f"overview.{k}") for k in ("won", "lost", "open")}
    ui.dataframe(
        pd.DataFrame(
            {
                ui.t("tuner.lead_id"): diff.leads["id"],
                f"{a.label()}: {ui.t('tuner.col.tier')}": diff.leads["tier_a"],
                f"{v.label()}: {ui.t('tuner.col.tier')}": diff.leads["tier_b"],
                f"{a.label()}: {ui.t('rulesets.col.score')}": diff.leads["score_a"],
                f"{v.label()}: {ui.t('rulesets.col.score')}": diff.leads["score_b"],
                ui.t("rulesets.col.outcome"): diff.leads["outcome"].map(outcomes),
            }
        ),
        hide_index=True,
        width="stretch",
    )
