"""The Data page's "From a database or Spark" form without a database: what it refuses, and that
a typed password never comes back on the page. (Loads from the real PostgreSQL server and Spark
are in tests/engines/test_sources.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from funnel.i18n import t
from funnel.store import DatasetInfo


def submit(at: AppTest, origin: str, leads: str) -> AppTest:
    at.text_input(key="src_origin").input(origin)
    at.text_area(key="src_leads").input(leads)
    at.button(key="src_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_form_asks_for_a_connection_string_and_the_leads(
    open_app: Callable[..., AppTest],
) -> None:
    at = submit(open_app("data"), "", "crm.leads")
    assert [e.value for e in at.error] == [t("sources.page.need_both")]


def test_the_form_does_not_read_folders_on_the_server(
    open_app: Callable[..., AppTest], tmp_path: Path, stored: Callable[[], dict[str, DatasetInfo]]
) -> None:
    at = submit(open_app("data", lang="ja"), str(tmp_path / "*.csv"), "leads")
    assert [e.value for e in at.error] == [t("sources.page.not_files", "ja")]
    assert stored() == {}


def test_a_bad_connection_string_is_named_masked_and_nothing_is_stored(
    open_app: Callable[..., AppTest], stored: Callable[[], dict[str, DatasetInfo]]
) -> None:
    at = submit(open_app("data"), "postgresql://ann:hunter2@db:notaport/crm", "crm.leads")
    (error,) = [e.value for e in at.error]
    assert "postgresql://ann:***@db:notaport/crm" in error.replace("\\", "")  # Markdown escapes
    assert "PGPASSWORD" in error
    shown = [e.value for kind in ("markdown", "error", "caption", "success") for e in at.get(kind)]
    assert not any("hunter2" in str(v) for v in shown)
    assert stored() == {}
