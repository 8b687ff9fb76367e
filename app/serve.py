"""Serve the app: ``python -m app.serve [streamlit run options]`` (``make run``; ``funnel serve``
runs this file) is ``streamlit run app/main.py`` with the libraries every page needs imported
before the server listens.

Streamlit imports a page's modules when a user first opens it: after a restart, the first page
waited for pandas, DuckDB, pyarrow and the funnel library (a second or more on a busy 2-core
machine) before it could compute anything. Imported here, while the server starts, they are
ready when the first user arrives. Libraries only some actions need stay lazy where they are
used: scikit-learn ("start from the data"), pandera (validating an upload), openpyxl (Excel).

Streamlit itself does two slow things once per process, on the first page anyone opens (py-spy
on a first open of the 50k demo, under load): ``st.set_page_config``'s icon check imports its
emoji table, compiling a regular expression of every emoji (about 0.4 s), and the first element
sent asks whether it runs in a REPL through ``inspect.stack()``, which maps every loaded module
to its file (about 0.2 s). :func:`warm_streamlit` does both before the server listens.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What every page imports (through app.ui and the analysis pages' shared modules).
PRELOAD = (
    "pandas",
    "duckdb",
    "pyarrow",
    "funnel.store",
    "funnel.filters",
    "funnel.funnels",
    "funnel.segments",
    "funnel.scoring",
    "funnel.charts",
    "funnel.records",
    "funnel.tunerstate",
    "funnel.versions",
    "funnel.meeting",
    "funnel.mapping",
    "funnel.readers",
)


def warm_streamlit() -> None:
    """Pay Streamlit's once-per-process costs now rather than on the first page opened.

    These are Streamlit's own helpers (pinned in constraints.txt); were one renamed, the first
    page would pay for it again, which is no reason to refuse to start.
    """
    try:
        from streamlit import env_util, string_util
    except ImportError:  # pragma: no cover - another Streamlit
        return
    try:
        string_util.is_emoji("🔥")
        env_util.is_repl()
    except AttributeError:  # pragma: no cover - another Streamlit
        pass


def main() -> int:
    """Import :data:`PRELOAD`, then run Streamlit. A first argument naming a ``.py`` file is
    the entry point (``funnel serve --app``), else ``app/main.py``; the rest are Streamlit's
    options."""
    import importlib

    if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "app":
        sys.path[0] = str(ROOT)  # run as a file: app/ itself is no package root
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for name in PRELOAD:
        importlib.import_module(name)
    from streamlit.web import cli

    warm_streamlit()

    args = sys.argv[1:]
    entry = str(ROOT / "app" / "main.py")
    if args and args[0].endswith(".py"):
        entry, args = args[0], args[1:]
    sys.argv = ["streamlit", "run", entry, *args]
    code = cli.main(prog_name="streamlit")  # exits with streamlit's own status
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
