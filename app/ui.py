"""Shared UI pieces: the store connection, language switch, dataset picker, problem tables.

Pages stay thin: read widgets, call one library function, render what comes back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from funnel.filters import Filters
from funnel.formats import Metric
from funnel.handoff import to_csv_bytes
from funnel.i18n import DEFAULT_LANG, LANGUAGES, CodedError
from funnel.i18n import t as _t
from funnel.problems import LoadError, Problem, format_rows
from funnel.rules import RuleSet, encode_ruleset
from funnel.store import DatasetInfo, Store, StoreError, default_db_path


def _dataset_key(info: DatasetInfo) -> tuple[int, str]:
    return (info.dataset_id, info.name)


def _filters_key(filters: Filters) -> str:
    return filters.key()


#: How ``st.cache_data`` keys the library's objects: a dataset by its id (a reload gives it a
#: new one) and name, a rule set by its encoded form, filters by their key.
HASH_FUNCS: dict[type | str, Callable[[Any], Any]] = {
    DatasetInfo: _dataset_key,
    RuleSet: encode_ruleset,
    Filters: _filters_key,
}

_LANG_KEY = "lang"
_DATASET_KEY = "dataset"
_PENDING_DATASET = "_select_dataset"


def lang() -> str:
    """Return the current UI language code."""
    value = st.session_state.get(_LANG_KEY, DEFAULT_LANG)
    return value if value in LANGUAGES else DEFAULT_LANG


def t(key: str, **params: Any) -> str:
    """Translate a message into the current UI language."""
    return _t(key, lang(), **params)


def tm(key: str, **params: Any) -> str:
    """Translate for places Streamlit renders as Markdown: user-supplied values are escaped."""
    return _t(key, lang(), **{k: escape_md(str(v)) for k, v in params.items()})


def role_labels() -> dict[str, str]:
    """Map the label of every role choice, in every language, back to its code."""
    from funnel.mapping.rows import ROLE_CHOICES

    out: dict[str, str] = {}
    for code in LANGUAGES:
        for choice in ROLE_CHOICES:
            out[role_label(choice, code)] = choice
    return out


def role_label(choice: str, code: str | None = None) -> str:
    """Label of a role choice (``stage:mql`` reads "Stage date: MQL")."""
    code = code or lang()
    if choice.startswith("stage:"):
        stage = choice.split(":", 1)[1]
        return f"{_t('role.stage', code)}: {_t('stage.' + stage, code)}"
    return _t(f"role.{choice}", code)


def language_switch() -> None:
    """Sidebar language selector; ``?lang=ja`` in the URL sets the starting language."""
    if _LANG_KEY not in st.session_state:
        wanted = st.query_params.get("lang", DEFAULT_LANG)
        st.session_state[_LANG_KEY] = wanted if wanted in LANGUAGES else DEFAULT_LANG
    st.sidebar.selectbox(
        "Language / 言語",
        options=list(LANGUAGES),
        format_func=lambda code: LANGUAGES[code],
        key=_LANG_KEY,
    )
    # the URL says the language, so a reload (or a link) opens the page in it again
    code = lang()
    if code != DEFAULT_LANG and st.query_params.get("lang") != code:
        st.query_params["lang"] = code
    elif code == DEFAULT_LANG and "lang" in st.query_params:
        del st.query_params["lang"]
    st.html(f"<style>{uploader_css()}</style>")


def uploader_css() -> str:
    """Streamlit's file uploader writes "Upload" and "1GB per file" in English only: its limits
    are said by each page under the uploader instead, and its button reads in the page's
    language (CSS, as Streamlit has no setting for these words)."""
    button = t("upload.button").replace("\\", "\\\\").replace('"', '\\"')
    zone = '[data-testid="stFileUploaderDropzone"]'
    return (
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] {{ display: none; }}'
        f' {zone} [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"]'
        " { display: none; }"
        f' {zone} [data-testid="stBaseButton-secondary"] span[data-has-shortcut]::after'
        f' {{ content: "{button}"; }}'
        # the "add files" button's hidden English words (its icon says it)
        f' {zone} [data-testid="stBaseButton-borderlessIcon"] span[data-has-shortcut]'
        " > span:first-child:not(:has([data-testid])) { display: none; }"
    )


def shown_value(value: str) -> str:
    """A data value as shown: the markers for empty values and for the values folded into one
    segment, ``(missing)`` and ``(other)``, in the page's language."""
    from funnel.filters import MISSING
    from funnel.segments import OTHER

    return t("value.missing") if value == MISSING else t("value.other") if value == OTHER else value


def upload_size() -> str:
    """The most a file upload may hold (Streamlit's ``server.maxUploadSize``), e.g. "1GB"."""
    megabytes = int(st.get_option("server.maxUploadSize"))
    return f"{megabytes // 1024}GB" if megabytes % 1024 == 0 else f"{megabytes}MB"


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> tuple[Store, StoreError | None]:
    """Open the one store of this process; fall back to read-only browsing if needed.

    Returns the store and, when it is open read-only, why. A store that cannot be opened at all
    raises (Streamlit never caches a raise), so the next page run tries again: once the other
    process lets go of the file, or the file is back, the app works without a restart.
    """
    try:
        return Store(path), None
    except StoreError as exc:
        if exc.code not in ("db_locked", "db_read_only"):
            raise
        return Store(path, read_only=True), exc


def labels(options: Sequence[Any], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A widget's ``format_func`` whose labels are looked up now, in this run's language.

    A function calling :func:`t` itself would be called whenever a label is drawn, outside
    the run (where the language is not known, as in Streamlit's AppTest).
    """
    return {option: label(option) for option in options}.__getitem__


def refusal(exc: CodedError) -> str:
    """A refusal as one sentence in the page's language, the user's text escaped for Markdown."""
    return exc.message(lang(), quote=escape_md)


def load_refused(exc: LoadError | CodedError) -> None:
    """Say why a load or an action on stored data was refused: a load's problems in full
    (file, column, rows and the fix each), or a coded refusal's one sentence."""
    if isinstance(exc, LoadError):
        st.error(t("data.failed"))
        show_problems(exc.problems)
    else:
        st.error(refusal(exc))


def store() -> Store:
    """Return the process's store, or stop the page with a message saying what to do."""
    path = str(default_db_path())
    try:
        opened, problem = _open_store(path)
    except StoreError as exc:
        st.error(refusal(exc))
        st.stop()
        raise  # st.stop() raises; this line only tells type checkers so
    return opened


def store_warning() -> None:
    """Say once per page, at the top, why the store is read-only (if it is)."""
    path = str(default_db_path())
    _, problem = _open_store(path)
    if problem is not None:
        st.warning(refusal(problem))


def datasets() -> list[DatasetInfo]:
    return store().datasets()


def select_dataset(name: str) -> None:
    """Ask the sidebar picker to select ``name`` on the next run."""
    st.session_state[_PENDING_DATASET] = name


def dataset_picker() -> DatasetInfo | None:
    """Sidebar dataset picker shared by every page; returns the selected dataset."""
    infos = datasets()
    store_warning()
    names = [d.name for d in infos]
    pending = st.session_state.pop(_PENDING_DATASET, None)
    if _DATASET_KEY not in st.session_state and st.query_params.get("dataset") in names:
        pending = st.query_params.get("dataset")  # a shared link names its dataset
    if pending in names:
        st.session_state[_DATASET_KEY] = pending
    if st.session_state.get(_DATASET_KEY) not in names:
        st.session_state[_DATASET_KEY] = names[0] if names else None
    if not names:
        st.sidebar.caption(t("app.no_datasets"))
        return None
    st.sidebar.selectbox(t("app.dataset"), options=names, key=_DATASET_KEY)
    st.sidebar.caption(tm("app.db_path", path=str(default_db_path())))
    return current_dataset()


def current_dataset() -> DatasetInfo | None:
    name = st.session_state.get(_DATASET_KEY)
    return store().dataset(name) if name else None


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_md(text: str) -> str:
    """Escape user text for places Streamlit renders as Markdown (titles, captions).

    >>> escape_md("**x** [a](b)")
    '\\\\*\\\\*x\\\\*\\\\* \\\\[a\\\\]\\\\(b\\\\)'
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def datasets_frame(infos: Sequence[DatasetInfo], *, detailed: bool = False) -> pd.DataFrame:
    """The stored datasets as a table (names are user text: rendered as plain cells)."""
    columns: dict[str, list[Any]] = {
        t("overview.name"): [d.name for d in infos],
        t("overview.leads"): [d.leads for d in infos],
        t("overview.won"): [d.won for d in infos],
        t("overview.lost"): [d.lost for d in infos],
        t("overview.open"): [d.open for d in infos],
    }
    if detailed:
        columns[t("overview.win_rate")] = [
            None if d.win_rate is None else 100 * d.win_rate for d in infos
        ]
        columns[t("overview.columns")] = [len(d.columns) for d in infos]
    columns[t("overview.loaded_at")] = [d.loaded_at for d in infos]
    return pd.DataFrame(columns)


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """Render problems as a table in the UI language (values stay plain text)."""
    code = lang()
    rows = [
        {
            t("data.col.severity"): t(f"severity.{p.severity}"),
            t("data.col.file"): p.file,
            t("data.col.column"): p.column or "",
            t("data.col.rows"): ", ".join(str(r) for r in p.rows),
            t("data.col.message"): p.message(code),
            t("data.col.fix"): p.fix(code),
        }
        for p in problems
    ]
    return pd.DataFrame(rows)


#: Problems shown as text before the rest are counted (all of them stay in the table below).
PROBLEMS_SHOWN = 20


def show_problems(problems: Sequence[Problem]) -> None:
    """Show problems as readable text: where (file, column, rows), what is wrong and how to fix
    it, each in full; then every problem as a table to sort or download."""
    if not problems:
        return
    code = lang()
    for p in problems[:PROBLEMS_SHOWN]:
        where = " · ".join(
            part
            for part in (
                t(f"severity.{p.severity}"),
                p.file,
                p.column or "",
                t("data.problem_rows", rows=format_rows(p.rows, p.count, code)) if p.rows else "",
            )
            if part
        )
        box = st.container(border=True)
        box.markdown(f"**{escape_md(where)}**")
        box.markdown(escape_md(p.message(code)))
        fix = p.fix(code)
        if fix:
            box.markdown(f"{escape_md(t('data.col.fix'))}: {escape_md(fix)}")
    if len(problems) > PROBLEMS_SHOWN:
        st.caption(t("data.problems_more", count=f"{len(problems) - PROBLEMS_SHOWN:,}"))
    widths = {
        "data.col.severity": "small",
        "data.col.file": "small",
        "data.col.column": "small",
        "data.col.rows": "small",
        "data.col.message": "large",
        "data.col.fix": "large",
    }
    with st.expander(t("data.problems_table", count=f"{len(problems):,}")):
        frame = problems_frame(problems)
        dataframe(
            frame,
            hide_index=True,
            width="stretch",
            column_config={t(k): st.column_config.TextColumn(width=w) for k, w in widths.items()},  # type: ignore[arg-type]
        )
        digest = hashlib.sha1(repr([q.as_dict() for q in problems]).encode()).hexdigest()[:10]
        download_table(frame, "problems", f"dl_problems_{digest}")


def download_table(frame: pd.DataFrame, name: str, key: str, where: Any = st) -> None:
    """A CSV download button for a table, as the hand-off list is written (UTF-8 with a BOM so
    Excel reads Japanese, formula-like cells neutralised), built only when clicked."""
    where.download_button(
        t("download.csv"),
        data=lambda: to_csv_bytes(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
        wrap=True,  # never cut short ("表をダウンロード（C…")
    )


def download_chart(fig: Any, name: str, key: str, where: Any = st) -> None:
    """A self-contained HTML download of a Plotly figure, built only when clicked."""
    from funnel.charts import to_html

    where.download_button(
        t("download.html"),
        data=lambda: to_html(fig),
        file_name=f"{name}.html",
        mime="text/html",
        key=key,
        wrap=True,
    )


def progress_reporter(bar: Any) -> Any:
    """Return a library progress callback that drives a Streamlit progress bar."""

    def report(step: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t(f"progress.{step}"))

    return report


#: Whole numbers (lead counts, wins) read with thousands separators, in the viewer's locale.
COUNT = st.column_config.NumberColumn(format="localized")


#: How a table column shows each kind of metric (tables keep the numbers, to sort by them).
_METRIC_FORMATS = {"count": "localized", "pct": "percent", "auc": "%.3f", "ratio": "%.2f×"}


def metric_columns(metrics: Sequence[Metric]) -> dict[str, Any]:
    """``column_config`` for table columns holding metrics, named by their labels."""
    return {
        m.label(lang()): st.column_config.NumberColumn(format=_METRIC_FORMATS.get(m.kind, "%.1f"))
        for m in metrics
    }


def dataframe(frame: pd.DataFrame, where: Any = st, **kwargs: Any) -> Any:
    """``st.dataframe`` with every whole-number column shown as a count (``3,000``, not
    ``3000``), unless ``column_config`` says otherwise for it."""
    config = dict(kwargs.pop("column_config", None) or {})
    for column in frame.columns:
        if column not in config and pd.api.types.is_integer_dtype(frame[column].dtype):
            config[column] = COUNT
    return where.dataframe(frame, column_config=config or None, **kwargs)
