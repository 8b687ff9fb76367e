"""Read YAML the way people write it: safely, and without YAML 1.1's surprise booleans.

PyYAML's safe loader turns unquoted ``yes``, ``no``, ``on`` and ``off`` into booleans, so a
hand-written ``value: Yes`` would silently become ``True``. This loader keeps them as text
(YAML 1.2 behaviour: only true/false are booleans) and never constructs objects.

:func:`dump_yaml` writes what :func:`load_yaml` reads back exactly (PyYAML's own dumper folds a
NEL or line-separator character inside a quoted string into a space).

Hostile files get a one-sentence :class:`YamlError`, never a traceback or a hang: the text is
bounded, a document may not expand (through aliases) beyond :data:`MAX_NODES` values or nest
deeper than :data:`MAX_DEPTH`, a key may not repeat, and a value that cannot be built (a
timestamp like 2024-02-30, a 5,000-digit integer) names its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from funnel.i18n import CodedError

#: Longest YAML/JSON text read, in characters (rule sets and mappings are a few KiB).
MAX_CHARS = 10_000_000
#: Most values a document may hold once its aliases are expanded ("billion laughs").
MAX_NODES = 1_000_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 100
# A lone UTF-16 surrogate ("\\ud800" escaped in JSON or YAML) cannot be stored or encoded.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refusal(ConstructorError):
    """A node the loader refuses; :func:`load_yaml` turns it into ``YamlError(code)``."""

    def __init__(self, code: str, node: Node, **params: Any) -> None:
        super().__init__(None, None, code, node.start_mark)
        self.code = code
        self.params = params


class _Loader(yaml.SafeLoader):
    """SafeLoader whose only booleans are true/false, with bounds against hostile documents."""

    def construct_document(self, node: Node) -> Any:
        _check_size(node)
        return super().construct_document(node)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # 2024-02-30, integers past 4,300 digits
            raise _Refusal("bad_value", node, detail=str(exc)[:120]) from None
        if isinstance(value, str) and _SURROGATE.search(value):
            raise _Refusal("surrogate_at", node)
        return value

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)  # scalars are hashable
                if key in seen:
                    raise _Refusal("duplicate_key", key_node, name=repr(str(key)[:80]))
                seen.add(key)
        return super().construct_mapping(node, deep)


# YAML 1.1 reads yes/no/on/off as booleans and 1:30 as the base-60 number 90 (so "points: 1:30"
# became 90 points). Only true/false are booleans here, and numbers never have a colon: 1:30
# stays text, which a rule refuses as "not a whole number".
_REPLACED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _check_size(root: Node) -> None:
    """Refuse a document too deep, self-referencing, or too big once aliases are expanded."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise _Refusal("alias_loop", node)
        if depth > MAX_DEPTH:
            raise _Refusal("deep_at", node, limit=MAX_DEPTH)
        open_.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        if total > MAX_NODES:
            raise _Refusal("too_many_values", node, limit=f"{MAX_NODES:,}")
        open_.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes text holding YAML line breaks other than \\n."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if any(c in data for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """Write plain data as YAML that :func:`load_yaml` reads back exactly.

    >>> dump_yaml({"name": "a\\x85b"}), load_yaml(dump_yaml({"name": "a\\x85b"}), "x")
    ('name: "a\\\\Nb"\\n', {'name': 'a\\x85b'})
    """
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _json_problem(data: Any) -> str | None:
    """Say why parsed JSON cannot be used (a :class:`YamlError` code): nested too deep
    (``deep``), or a lone surrogate in its text (``surrogate``).

    >>> print(_json_problem([[1], {"a": ["x"]}]))
    None
    >>> _json_problem({"name": "\\ud800"})
    'surrogate'
    """
    stack = [(data, 0)]
    while stack:  # iterative: the data may be deep
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return "deep"
        if isinstance(value, str) and _SURROGATE.search(value):
            return "surrogate"
        if isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


class YamlError(CodedError, ValueError):
    """A file that is not valid YAML; the message is one sentence naming the file and line.

    ``code`` selects the message (``yaml.<code>``), ``source`` names the file. Readers that
    wrap it keep its sentence: ``RuleSetError("yaml.<code>")``, ``MappingFileError(...)``.

    >>> print(YamlError("alias_loop", source="r.yaml", line=2).message("ja").split("（")[0])
    r.yaml: 2 行目が YAML または JSON の書式として正しくありません
    """

    prefix = "yaml"

    def __init__(self, code: str, *, source: str, **params: Any) -> None:
        self.source = source
        super().__init__(code, where=source, **params)


def read_text(path: str | Path, refuse: Callable[..., Exception]) -> str:
    """Read a YAML/JSON file a person wrote (UTF-8, with or without a BOM).

    A missing file, an unreadable one or one that is not UTF-8 text raises
    ``refuse(code, **params)`` with code ``file_missing``, ``cannot_read`` (with ``reason``) or
    ``not_utf8``: each reader refuses in its own words.
    """
    p = Path(path)
    if not p.is_file():
        raise refuse("file_missing")
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise refuse("not_utf8") from None
    except OSError as exc:
        raise refuse("cannot_read", reason=exc.strerror) from None


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML (or JSON) text; errors name the file and the line in one sentence.

    >>> load_yaml("value: Yes\\nflag: true\\n", "x.yaml")
    {'value': 'Yes', 'flag': True}
    >>> try:
    ...     load_yaml("a: &x [1]\\nb: *x\\na: 2\\n", "x.yaml")
    ... except YamlError as exc:
    ...     print(exc)
    x.yaml: not valid YAML or JSON at line 3 (the key 'a' appears twice).
    """
    if len(text) > MAX_CHARS:
        raise YamlError("too_long", source=source, chars=f"{len(text):,}", limit=f"{MAX_CHARS:,}")
    if text.lstrip()[:1] in ("{", "["):
        # JSON first: PyYAML refuses characters JSON allows (DEL, C1 controls) in strings.
        try:
            data = json.loads(text, object_pairs_hook=_json_object)
        except json.JSONDecodeError:
            pass  # YAML flow style, or broken: the YAML parser says where
        except RecursionError:
            raise YamlError("deep", source=source, limit=MAX_DEPTH) from None
        except _DuplicateKey as exc:
            raise YamlError("json_duplicate_key", source=source, name=repr(exc.key[:80])) from None
        except ValueError as exc:  # an integer of more than 4,300 digits
            raise YamlError("json_value", source=source, detail=str(exc)[:120]) from None
        else:
            problem = _json_problem(data)
            if problem:
                raise YamlError(problem, source=source, limit=MAX_DEPTH)
            return data
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _Refusal as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else "?"
        raise YamlError(exc.code, source=source, line=line, **exc.params) from None
    except yaml.MarkedYAMLError as exc:  # PyYAML's own wording of the problem, kept as it is
        mark = exc.problem_mark or exc.context_mark
        what = (exc.problem or exc.context or "unreadable").strip()
        if mark is None:
            raise YamlError("syntax_unplaced", source=source, detail=what) from None
        raise YamlError("syntax", source=source, line=mark.line + 1, detail=what) from None
    except yaml.YAMLError as exc:
        raise YamlError("syntax_unplaced", source=source, detail=type(exc).__name__) from None
    except RecursionError:  # the composer recurses before the depth check can run
        raise YamlError("deep", source=source, limit=MAX_DEPTH) from None
