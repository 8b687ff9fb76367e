"""Read YAML the way people write it: safely, and without YAML 1.1's surprise booleans.

PyYAML's safe loader turns unquoted ``yes``, ``no``, ``on`` and ``off`` into booleans, so a
hand-written ``value: Yes`` would silently become ``True``. This loader keeps them as text
(YAML 1.2 behaviour: only true/false are booleans) and never constructs objects.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class _Loader(yaml.SafeLoader):
    """SafeLoader whose only booleans are true/false."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class YamlError(ValueError):
    """A file that is not valid YAML; the message is one sentence naming the line."""


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML (or JSON) text; errors name the file and the line in one sentence.

    >>> load_yaml("value: Yes\\nflag: true\\n", "x.yaml")
    {'value': 'Yes', 'flag': True}
    """
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        what = (exc.problem or exc.context or "unreadable").strip()
        raise YamlError(f"{source}: not valid YAML or JSON{where} ({what}).") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}: not valid YAML or JSON ({type(exc).__name__}).") from None
