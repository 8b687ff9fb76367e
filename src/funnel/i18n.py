"""The one translation layer: every user-facing string, in English and Japanese.

The strings live in gettext catalogs, one per area of the product (``locales/<area>.pot`` holds
the English source, ``locales/ja/<area>.po`` its Japanese translation), so translators can use
their usual tools. Each message is found by its ``msgctxt`` key (``tuner.hot``); its ``{name}``
fields are filled by ``t(key, lang, **params)`` with user data as plain text (pages render the
result as text, never as Markdown/HTML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT_LANG = "en"
LOCALES = Path(__file__).resolve().parent / "locales"


def catalog_areas() -> list[str]:
    """The areas with a message catalog (``ingest``, ``tuner`` ...)."""
    return sorted(p.stem for p in LOCALES.glob("*.pot"))


def read_catalogs(root: Path = LOCALES) -> dict[str, tuple[str, str]]:
    """Every message as ``key → (English, Japanese)``; a missing translation is ``""``.

    >>> read_catalogs()["rows.more"]
    ('{shown} (and {more} more)', '{shown}（他 {more} 行）')
    """
    from babel.messages.pofile import read_po

    messages: dict[str, tuple[str, str]] = {}
    for pot in sorted(root.glob("*.pot")):
        with pot.open("rb") as f:
            english = read_po(f)
        with (root / "ja" / f"{pot.stem}.po").open("rb") as f:
            japanese = {m.context: m for m in read_po(f) if m.context}
        for m in english:
            if not m.context:
                continue
            ja = japanese.get(m.context)
            translated = ja.string if ja is not None and ja.id == m.id and not ja.fuzzy else ""
            messages[m.context] = (str(m.id), str(translated or ""))
    return messages


MESSAGES: dict[str, tuple[str, str]] = read_catalogs()

# A problem found inside another file's reader keeps its sentence: a rule-set file's YAML or
# mapping problem is RuleSetError("yaml.<code>") / RuleSetError("mappingfile.<code>"), a
# mapping file's YAML problem MappingFileError("yaml.<code>").
MESSAGES.update(
    {f"ruleset.{key}": pair for key, pair in MESSAGES.items() if key.startswith("yaml.")}
    | {f"ruleset.{key}": pair for key, pair in MESSAGES.items() if key.startswith("mappingfile.")}
    | {f"mappingfile.{key}": pair for key, pair in MESSAGES.items() if key.startswith("yaml.")}
)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """Render a message in ``lang`` (``en`` or ``ja``); unknown keys render as the key.

    >>> t("overview.demo_created", "ja", name="demo")
    'デモデータセット demo を作成しました。'
    """
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "ja" and pair[1] else pair[0]
    return text.format_map(_Params(params)) if params else text.replace("{{", "{")


class CodedError(Exception):
    """An error whose message is chosen by a code: ``<prefix>.<code>`` in :data:`MESSAGES`.

    ``str(exc)`` is the English message, ``message(lang)`` the reader's; subclasses set
    ``prefix`` and may put the parameters in the reader's words (:meth:`localized`).

    >>> class E(CodedError, ValueError):
    ...     prefix = "overview"
    >>> E("demo_created", name="d").message("ja")
    'デモデータセット d を作成しました。'
    """

    prefix = ""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def localized(self, lang: str) -> dict[str, Any]:
        """The parameters as the message in ``lang`` shows them."""
        return self.params

    def message(self, lang: str = DEFAULT_LANG) -> str:
        return t(f"{self.prefix}.{self.code}", lang, **self.localized(lang))
