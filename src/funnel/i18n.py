"""The one translation layer: every user-facing string, in English and Japanese.

The strings live in gettext catalogs, one per area of the product (``locales/<area>.pot`` holds
the English source, ``locales/ja/<area>.po`` its Japanese translation), so translators can use
their usual tools. Each message is found by its ``msgctxt`` key (``tuner.hot``); its ``{name}``
fields are filled by ``t(key, lang, **params)`` with user data as plain text (pages render the
result as text, never as Markdown/HTML).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

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
            english = read_po(f, abort_invalid=True)  # a broken catalog fails loudly
        with (root / "ja" / f"{pot.stem}.po").open("rb") as f:
            japanese = {m.context: m for m in read_po(f, abort_invalid=True) if m.context}
        for m in english:
            if not m.context:
                continue
            ja = japanese.get(m.context)
            translated = ja.string if ja is not None and ja.id == m.id and not ja.fuzzy else ""
            messages[m.context] = (str(m.id), str(translated or ""))
    return messages


MESSAGES: dict[str, tuple[str, str]] = read_catalogs()


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


class Location(Protocol):
    """Where a problem is, in the reader's words (e.g. :class:`funnel.rules.Where`)."""

    def text(self, lang: str) -> str: ...


class CodedError(Exception):
    """Every refusal a user reads: a message chosen by a code, in English or Japanese.

    The message is ``<prefix>.<code>`` in :data:`MESSAGES`; a namespaced code (one with a
    dot) is a key of its own, so a problem found by another reader keeps its sentence (a
    YAML problem inside a rule-set file is ``RuleSetError("yaml.syntax", ...)``). ``where``
    says where the problem is (a file name, or a :class:`Location`) and comes first.
    ``str(exc)`` is the English message, ``message(lang)`` the reader's; ``exit_code`` is
    what the CLI exits with (2: bad input). Subclasses set ``prefix`` and may put the
    parameters in the reader's words (:meth:`localized`).

    >>> class E(CodedError, ValueError):
    ...     prefix = "overview"
    >>> E("demo_created", name="d").message("ja")
    'デモデータセット d を作成しました。'
    >>> print(E("yaml.deep", where="r.yaml", limit=100))
    r.yaml: not valid YAML or JSON (nested more than 100 levels deep).
    >>> E("demo_created", name="d").message("en", quote=str.upper)
    'Demo dataset D created.'
    """

    prefix: ClassVar[str] = ""
    exit_code: ClassVar[int] = 2

    def __init__(self, code: str, *, where: Location | str | None = None, **params: Any) -> None:
        self.code = code
        self.where = where
        self.params = params
        super().__init__(self.message("en"))

    @property
    def key(self) -> str:
        """The message's key: the code itself when namespaced, else ``<prefix>.<code>``."""
        return self.code if "." in self.code else f"{self.prefix}.{self.code}"

    def localized(self, lang: str) -> dict[str, Any]:
        """The parameters as the message in ``lang`` shows them."""
        return self.params

    def place(self, lang: str = DEFAULT_LANG) -> str:
        """Where the problem is, in ``lang`` ("" when nowhere in particular)."""
        if self.where is None:
            return ""
        return self.where if isinstance(self.where, str) else self.where.text(lang)

    def message(
        self, lang: str = DEFAULT_LANG, *, quote: Callable[[str], str] | None = None
    ) -> str:
        """The message in ``lang``, after where it is; ``quote`` escapes the user's text in it."""
        params = self.localized(lang)
        place = self.place(lang)
        if quote is not None:
            params = {k: quote(str(v)) for k, v in params.items()}
            place = quote(place)
        text = t(self.key, lang, **params)
        return f"{place}: {text}" if place else text
