"""AppTest fixtures: a fresh temporary database and fresh Streamlit caches for every test.

No ``__init__.py`` here on purpose: it would make this folder a package named ``app`` and
shadow the real ``app`` package the pages import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from funnel.ingest import load_demo
from funnel.store import DatasetInfo, Store

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "app" / "main.py"
# AppTest.switch_page takes paths relative to the main script (app/main.py).
PAGES = {
    "overview": "../pages/overview.py",
    "data": "../pages/data.py",
    "funnel": "../pages/funnel.py",
    "segments": "../pages/segments.py",
    "tuner": "../pages/tuner.py",
    "review": "../pages/review.py",
}


# CommonMark treats a backslash before ASCII punctuation as a literal character; these
# unescaped characters start emphasis, code, links, strike-through or inline HTML.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_MARKUP = set("*_`<>[]~")


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Caches are process-wide and shared across AppTest instances: start and end empty."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(autouse=True)
def funnel_db(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app at a temporary database (never data/funnel.duckdb)."""
    monkeypatch.setenv("FUNNEL_DB", str(db_path))
    return db_path


def check(at: AppTest) -> AppTest:
    """Fail with the app's own traceback if the last run raised."""
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def open_app() -> Callable[..., AppTest]:
    """Return a factory: ``open_app("data", lang="ja")`` runs the app on that page."""

    def factory(page: str = "overview", *, lang: str | None = None) -> AppTest:
        at = AppTest.from_file(str(MAIN), default_timeout=60)
        if lang is not None:
            at.query_params["lang"] = lang
        check(at.run())
        if page != "overview":
            check(at.switch_page(PAGES[page]).run())
        return at

    return factory


@pytest.fixture
def seed(db_path: Path) -> Callable[..., DatasetInfo]:
    """Return a helper storing a small demo dataset the way ``funnel demo`` does."""

    def add(name: str, leads: int = 200, seed: int = 7) -> DatasetInfo:
        with Store(db_path) as s:
            return load_demo(s, name, leads=leads, seed=seed).dataset

    return add


@pytest.fixture
def stored(db_path: Path) -> Callable[[], dict[str, DatasetInfo]]:
    """Return a helper reading the catalog straight from the database file."""

    def read() -> dict[str, DatasetInfo]:
        with Store(db_path) as s:
            return {d.name: d for d in s.datasets()}

    return read


def shown_text(markdown: str) -> str:
    """Return the text a Markdown element displays, failing if any of it would be markup.

    ``\\*\\*x\\*\\*`` displays as ``**x**``; ``**x**`` fails (it would display a bold x).
    """
    active = sorted({c for c in _ESCAPED.sub("", markdown) if c in _MARKUP})
    assert not active, f"user text is rendered as Markdown/HTML ({' '.join(active)}): {markdown!r}"
    return _ESCAPED.sub(r"\1", markdown)


@pytest.fixture
def literal() -> Callable[[str], str]:
    """Return :func:`shown_text` (fixtures are how the test modules here share helpers)."""
    return shown_text


@pytest.fixture
def checked() -> Callable[[AppTest], AppTest]:
    """Return :func:`check`."""
    return check
