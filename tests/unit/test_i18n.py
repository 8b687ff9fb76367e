"""Every user-facing string exists in English and Japanese, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from funnel.i18n import LOCALES, MESSAGES, catalog_areas, t
from funnel.mapping import ROLES
from funnel.problems import Problem
from funnel.validation import _CODES

SRC = Path(__file__).resolve().parents[2] / "src" / "funnel"
APP = Path(__file__).resolve().parents[2]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    en, ja = MESSAGES[key]
    assert en.strip() and ja.strip()
    assert _fields(en) == _fields(ja)


def _catalog(path: Path) -> dict[str, Message]:
    with path.open("rb") as f:
        return {m.context: m for m in read_po(f) if m.context}


@pytest.mark.parametrize("area", catalog_areas())
def test_every_catalog_has_a_current_translation_of_each_english_message(area: str) -> None:
    english = _catalog(LOCALES / f"{area}.pot")
    japanese = _catalog(LOCALES / "ja" / f"{area}.po")
    assert sorted(japanese) == sorted(english)  # no message missing, none left over
    stale = [k for k, m in japanese.items() if m.id != english[k].id or m.fuzzy]
    assert stale == []  # the English changed: translate again


def test_every_key_lives_in_one_catalog_and_every_catalog_is_used() -> None:
    areas = {a: set(_catalog(LOCALES / f"{a}.pot")) for a in catalog_areas()}
    assert len(areas) >= 6 and all(areas.values())
    seen: dict[str, str] = {}
    for area, keys in areas.items():
        for key in keys:
            assert key not in seen, f"{key} is in both {seen[key]} and {area}"
            seen[key] = area


def test_a_note_without_a_fix_renders_an_empty_fix() -> None:
    note = Problem("activities_counted", "log.csv", severity="info", count=3)
    assert "fix.activities_counted" not in MESSAGES
    assert note.fix("ja") == "" and note.message("ja")


def _codes_emitted_by_source() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    return set(re.findall(r'Problem\(\s*"([a-z_]+)"', text)) | set(_CODES.values())


def test_every_problem_code_has_a_message_and_a_fix() -> None:
    codes = _codes_emitted_by_source()
    assert len(codes) > 30
    # notes with nothing to fix
    notes = {"activities_counted", "sheet_read", "excel_serial_dates", "source_files_read"}
    missing = sorted(
        c
        for c in codes
        if f"problem.{c}" not in MESSAGES or (f"fix.{c}" not in MESSAGES and c not in notes)
    )
    assert missing == []


def test_every_store_error_code_has_a_message() -> None:
    text = (SRC / "store.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'StoreError\(\s*"([a-z_]+)"', text))
    assert codes and all(f"store.{c}" in MESSAGES for c in codes)


def test_every_leak_reason_and_role_has_a_label() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))
    reasons = set(re.findall(r'"(leak\.[a-z_]+)"', text))
    assert reasons and all(r in MESSAGES for r in reasons)
    assert all(f"role.{r}" in MESSAGES for r in ROLES)


def test_every_key_the_ui_uses_exists() -> None:
    used: set[str] = set()
    for path in [*(APP / "app").glob("*.py"), *(APP / "pages").glob("*.py")]:
        used |= set(re.findall(r'ui\.t\(\s*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'\bt\(\s*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert len(used) > 20
    assert sorted(k for k in used if k not in MESSAGES) == []


def test_every_key_named_in_the_code_and_the_tests_exists() -> None:
    """A key renamed in the catalogs and not where it is named renders as the key itself: a
    test building its expectation from it would look for text no page shows."""
    folders = [SRC, APP / "tests", APP / "app", APP / "pages", APP / "bench"]
    named: dict[str, str] = {}
    for path in (p for folder in folders for p in folder.rglob("*.py")):
        for key in re.findall(r'\bt\(\s*"([a-z_][a-z0-9_.\-]*)"', path.read_text(encoding="utf-8")):
            named.setdefault(key, path.name)
    assert len(named) > 300
    assert {k: f for k, f in named.items() if k not in MESSAGES} == {"no.such.key": "test_i18n.py"}


def test_japanese_renders_parameters_as_given() -> None:
    assert t("data.deleted", "ja", name="<b>x</b>") == "<b>x</b> を削除しました。"
    assert t("no.such.key", "ja") == "no.such.key"
