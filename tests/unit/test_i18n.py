"""Every user-facing string exists in English and Japanese, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from funnel.i18n import MESSAGES, t
from funnel.mapping import ROLES
from funnel.validation import _CODES

SRC = Path(__file__).resolve().parents[2] / "src" / "funnel"
APP = Path(__file__).resolve().parents[2]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    en, ja = MESSAGES[key]
    if key == "fix.activities_counted":  # a note with nothing to fix
        assert en == ja == ""
        return
    assert en.strip() and ja.strip()
    assert _fields(en) == _fields(ja)


def _codes_emitted_by_source() -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.glob("*.py"))
    return set(re.findall(r'Problem\(\s*"([a-z_]+)"', text)) | set(_CODES.values())


def test_every_problem_code_has_a_message_and_a_fix() -> None:
    codes = _codes_emitted_by_source()
    assert len(codes) > 30
    missing = sorted(
        c for c in codes if f"problem.{c}" not in MESSAGES or f"fix.{c}" not in MESSAGES
    )
    assert missing == []


def test_every_store_error_code_has_a_message() -> None:
    text = (SRC / "store.py").read_text(encoding="utf-8")
    codes = set(re.findall(r'StoreError\(\s*"([a-z_]+)"', text))
    assert codes and all(f"store.{c}" in MESSAGES for c in codes)


def test_every_leak_reason_and_role_has_a_label() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in SRC.glob("*.py"))
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


def test_japanese_renders_parameters_as_given() -> None:
    assert t("data.deleted", "ja", name="<b>x</b>") == "<b>x</b> を削除しました。"
    assert t("no.such.key", "ja") == "no.such.key"
