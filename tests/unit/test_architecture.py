"""docs/architecture.md stays true: the files it names exist, the layers point one way, and a
rule kind is decided only where the registry lives."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from funnel import rules
from funnel.formats import METRICS
from funnel.i18n import t
from funnel.meeting import EXPORTS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
SOURCES = [
    *sorted((ROOT / "src" / "funnel").rglob("*.py")),
    *sorted((ROOT / "app").glob("*.py")),
    *sorted((ROOT / "pages").glob("*.py")),
]
#: The two modules allowed to branch on a rule's kind: the spec and its renderer tables.
REGISTRY = {ROOT / "src/funnel/rules.py", ROOT / "src/funnel/renderers.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_file_the_architecture_page_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:src|app|pages|tests|bench|docs)/[\w/.]+\.\w+)`", text))
    named |= {f"src/funnel/{p}" for p in re.findall(r"`(locales/[\w/.]+\.pot?)`", text)}
    assert len(named) > 15, named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_the_layers_point_one_way() -> None:
    library = sorted((ROOT / "src" / "funnel").rglob("*.py"))
    ui = sorted(p for p in library if _imports(p) & {"streamlit", "app"})
    assert not ui, f"the library imports the UI: {ui}"
    # the rule spec declares; it runs no SQL and knows no renderer
    spec = _imports(ROOT / "src/funnel/rules.py")
    runs_sql = {"duckdb", "funnel.store", "funnel.renderers", "funnel.rulesql", "funnel.scoring"}
    assert not spec & runs_sql, spec & runs_sql
    # pages hold no SQL: they never talk to DuckDB themselves
    for page in sorted((ROOT / "pages").glob("*.py")):
        assert "duckdb" not in _imports(page), page


def test_only_the_registry_branches_on_a_rule_kind() -> None:
    kinds = {cls.__name__ for cls in rules.KINDS.values()}
    assert {"CategoryRule", "RangeRule", "CountRule"} <= kinds
    offenders = []
    for path in SOURCES:
        if path in REGISTRY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                checked = ast.dump(node.args[1]) if len(node.args) > 1 else ""
                hit = sorted(k for k in kinds if f"'{k}'" in checked)
                if hit:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {hit}")
    assert not offenders, "isinstance on a rule kind outside rules.py/renderers.py: " + str(
        offenders
    )


def test_every_rule_kind_is_declared_in_the_spec_module() -> None:
    """A new kind needs no module beyond the spec and its renderer tables."""
    assert all(cls.__module__ == "funnel.rules" for cls in rules.KINDS.values())


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_registered_metric_and_export_has_its_label(lang: str) -> None:
    for m in METRICS:
        assert t(f"metric.{m.key}", lang) != f"metric.{m.key}"
    for e in EXPORTS:
        assert t(f"export.{e.name}", lang) != f"export.{e.name}"


def test_no_page_relies_on_streamlit_magic() -> None:
    """Magic is off (.streamlit/config.toml, for a faster first open): a bare expression in a
    page or in the app's modules would silently show nothing. Calls, docstrings and ``...`` are
    statements, not magic."""
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert re.search(r"^magicEnabled = false$", config, re.M)
    bare = []
    for path in [*sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "app").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Expr):
                continue
            value = node.value
            if isinstance(value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
                continue
            if isinstance(value, ast.Constant) and (
                isinstance(value.value, str) or value.value is Ellipsis
            ):
                continue
            bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, bare
