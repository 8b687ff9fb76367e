"""Whole numbers that are codes, not amounts: one rule for the suggestion and for Segments.

A region, device or prefecture code is stored as a number, but ``14 ≤ x < 23`` means nothing
for it: each value is its own group. A column is read as codes when its values are whole
numbers with only a few different values (or a few dozen when its name says it is a code,
e.g. 47 prefectures), and its name does not say it counts something (visits, opens, 回数).
"""

from __future__ import annotations

import re
import unicodedata

CODE_MAX_VALUES = 12  # whole numbers with at most this many values are codes
CODE_NAMED_MAX_VALUES = 60  # ... or this many when named like a code (47 prefectures)
CODE_NAME = re.compile(
    r"(code|cd|type|kind|class|category|region|area|pref|segment|group|flag|status"
    r"|区分|コード|種別|地域|都道府県|分類)"
)
COUNT_NAME = re.compile(
    r"(visit|view|open|click|download|request|signup|submit|inquir|attend|trial|session"
    r"|webinar|count|num|times|回数|訪問|閲覧|開封|件数|数$)"
)


def name_key(name: str) -> str:
    """The name as the patterns read it (NFKC, lower case)."""
    return unicodedata.normalize("NFKC", name).lower()


def named_count(name: str) -> bool:
    """The name says the column counts something (``web_visits``, ``閲覧数``)."""
    return bool(COUNT_NAME.search(name_key(name)))


def looks_like_code(name: str, distinct: int, whole: bool) -> bool:
    """Whether a number column with ``distinct`` values (all whole when ``whole``) is codes.

    >>> looks_like_code("region_code", 30, True), looks_like_code("都道府県コード", 47, True)
    (True, True)
    >>> looks_like_code("employees", 30, True), looks_like_code("web_visits", 5, True)
    (False, False)
    >>> looks_like_code("rating", 5, True), looks_like_code("score", 5, False)
    (True, False)
    """
    if not whole or named_count(name):
        return False
    named_code = bool(CODE_NAME.search(name_key(name)))
    return distinct <= CODE_MAX_VALUES or (named_code and distinct <= CODE_NAMED_MAX_VALUES)
