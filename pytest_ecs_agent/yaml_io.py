"""Safe, fast and deterministic YAML for cassettes.

Reading: :class:`CassetteLoader` is ``yaml.CSafeLoader`` (libyaml) when available,
``yaml.SafeLoader`` otherwise, restricted further to the JSON data model. It builds
strings, integers, floats, booleans, null, lists and mappings, and rejects with
:class:`~pytest_ecs_agent.errors.CassetteFormatError`:

* every explicit tag outside that model: ``!!python/...``, ``!!binary``, ``!!set``,
  ``!!timestamp``, custom ``!foo`` tags;
* anchors used as aliases (``*name``), which also rules out "billion laughs" files and
  ``<<`` merge keys (cassettes are written without them);
* integers beyond Python's digit limit, nesting deeper than the interpreter allows.

Plain scalars that look like dates stay strings (no implicit timestamps).

Writing: :func:`emit_yaml` dumps block-style YAML with keys in the order given,
multi-line strings as ``|`` literal blocks where YAML can hold them exactly (other
strings get a quoted style), lists of numbers in flow style, no aliases, no line
folding (a long line stays one line, which diffs well), Unicode kept readable.
libyaml's emitter (about 6x faster) is used unless its output escapes a character
outside the Basic Multilingual Plane (libyaml writes an emoji as ``\U0001F60A`` and so
turns a whole message into a quoted string); then PyYAML's pure-Python emitter, which
gives the same bytes, writes it. Every dump is parsed back and compared with the data:
if a string did not survive, the file is re-emitted with quoted styles only, so data is
never lost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pytest_ecs_agent.errors import CassetteFormatError, CassetteWriteError

__all__ = [
    "CassetteDumper",
    "CassetteLoader",
    "emit_yaml",
    "line_of",
    "parse_yaml",
]

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("null", "bool", "int", "float", "str", "seq", "map")
)
# Characters that only a double-quoted scalar carries exactly (written raw, the reader
# turns them into "\n" or drops them), so strings holding them are double-quoted.
_NOT_IN_BLOCKS = ("\r", "\x85", "\u2028", "\u2029", "\ufeff")
_WIDTH = 1 << 30  # no folding of long lines


class _ForbiddenTag(ConstructorError):
    pass


class _AliasUsed(ConstructorError):
    pass


class _DuplicateKey(ConstructorError):
    pass


class CassetteLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loader limited to JSON-like data: no extra tags, no aliases, no timestamps."""

    yaml_constructors: ClassVar[dict[Any, Any]] = {
        tag: constructor
        for tag, constructor in SafeConstructor.yaml_constructors.items()
        if tag in _ALLOWED_TAGS
    }
    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in _ALLOWED_TAGS]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_undefined(self, node: Node) -> Any:
        raise _ForbiddenTag(None, None, _short_tag(node.tag), node.start_mark)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _AliasUsed(None, None, "alias", node.start_mark)
        return super().construct_object(node, deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping; a key written twice is an error (YAML would keep the last silently)."""
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        if len(mapping) < len(node.value):
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = ((key_node.tag, key_node.value) if isinstance(key_node, ScalarNode)
                       else id(key_node))
                if key in seen:
                    raise _DuplicateKey(None, None, repr(key_node.value), key_node.start_mark)
                seen.add(key)
        return mapping


CassetteLoader.add_constructor(None, CassetteLoader.construct_undefined)


class _NoAnchorLoader(CassetteLoader):
    """For texts without any ``&``: no anchor exists, so an alias cannot resolve (libyaml
    fails on it); the per-node alias check, about 6% of the load time, is skipped."""

    construct_object = _SafeLoader.construct_object


def parse_yaml(text: str, *, path: Path) -> Any:
    """Parse one YAML document of JSON-like data; :class:`CassetteFormatError` otherwise."""
    loader = CassetteLoader(text) if "&" in text else _NoAnchorLoader(text)
    try:
        return loader.get_single_data()
    except _ForbiddenTag as exc:
        raise CassetteFormatError(
            f"the YAML tag {exc.problem} is not allowed: a cassette holds plain data only "
            "(strings, numbers, booleans, null, lists, mappings)",
            path=path,
            line=_line(exc),
            hint="Remove the tag; if you did not write it, do not trust this file.",
        ) from None
    except _DuplicateKey as exc:
        raise CassetteFormatError(
            f"duplicate key {exc.problem}: a mapping holds each key once (YAML would keep "
            "the last value silently)",
            path=path,
            line=_line(exc),
            hint="Remove one of the two; if you edited the file by hand, keep the value you meant.",
        ) from None
    except _AliasUsed as exc:
        raise CassetteFormatError(
            "YAML aliases (*name) and merge keys are not allowed in a cassette",
            path=path,
            line=_line(exc),
            hint="Write the value out in full where the alias is.",
        ) from None
    except yaml.MarkedYAMLError as exc:
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise CassetteFormatError(
            f"invalid YAML: {problem}", path=path, line=_line(exc)
        ) from None
    except yaml.YAMLError as exc:
        raise CassetteFormatError(f"invalid YAML: {exc}", path=path) from None
    except RecursionError:
        raise CassetteFormatError("the YAML is nested too deeply", path=path) from None
    except ValueError as exc:  # e.g. an integer beyond sys.get_int_max_str_digits()
        raise CassetteFormatError(f"unreadable value: {exc}", path=path) from None
    finally:
        loader.dispose()


def line_of(text: str, where: Sequence[str | int]) -> int | None:
    """1-based line of the node at field path ``where`` (or of its nearest parent)."""
    try:
        node: Node | None = yaml.compose(text, Loader=_SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if node is None:
        return None
    for step in where:
        child: Node | None = None
        if isinstance(step, str) and isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == step:
                    child = value
                    break
        elif (
            isinstance(step, int) and isinstance(node, SequenceNode)
            and 0 <= step < len(node.value)
        ):
            child = node.value[step]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _line(exc: yaml.MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return None if mark is None else int(mark.line) + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


# -- writing -----------------------------------------------------------------------------


class CassetteDumper(yaml.SafeDumper):
    """Block YAML with ``|`` literal blocks for multi-line text and no aliases."""

    literal_blocks = True

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _QuotingDumper(CassetteDumper):
    """The fallback: multi-line strings double-quoted (always exact)."""

    literal_blocks = False


_CDumper: type[Any] | None = None
if hasattr(yaml, "CSafeDumper"):

    class _FastDumper(yaml.CSafeDumper):
        """libyaml's emitter with the same representers as :class:`CassetteDumper`."""

        literal_blocks = True

        def ignore_aliases(self, data: Any) -> bool:
            return True

    _CDumper = _FastDumper


def _represent_str(dumper: Any, data: str) -> ScalarNode:
    style: str | None = None
    if any(ch in data for ch in _NOT_IN_BLOCKS):
        style = '"'  # escaped there; written raw elsewhere, the reader would alter them
    elif "\n" in data:
        # The emitter itself falls back to quotes when a block cannot hold the text.
        style = "|" if dumper.literal_blocks else '"'
    node: ScalarNode = dumper.represent_scalar(_CORE + "str", data, style=style)
    return node


def _represent_list(dumper: Any, data: list[Any]) -> SequenceNode:
    # Numbers (timing, shapes, float embeddings in a wire body) read best on one line.
    flow = bool(data) and all(type(item) in (int, float) for item in data)
    node: SequenceNode = dumper.represent_sequence(_CORE + "seq", data, flow_style=flow)
    return node


for _dumper in (CassetteDumper, _CDumper):
    if _dumper is not None:
        _dumper.add_representer(str, _represent_str)
        _dumper.add_representer(list, _represent_list)


def emit_yaml(data: dict[str, Any], *, path: Path) -> str:
    """Dump JSON-like ``data`` (``dict``/``list``/scalars only) as cassette YAML.

    The text is parsed back and compared with ``data``; a difference switches to the
    quoting dumper, and a second one raises :class:`CassetteWriteError`.
    """
    dumpers: list[type[Any]] = [CassetteDumper, _QuotingDumper]
    if _CDumper is not None:
        dumpers.insert(0, _CDumper)
    for dumper in dumpers:
        text = yaml.dump(
            data,
            Dumper=dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=_WIDTH,
            indent=2,
        )
        if dumper is _CDumper:
            if "\\U" in text:  # an escaped emoji (or a literal "\\U": rare, still exact)
                continue
            if text.endswith("\n...\n"):  # libyaml's optional end marker; PyYAML omits it
                text = text[:-4]
        if _same(parse_yaml(text, path=path), data):
            return text
    raise CassetteWriteError(
        f"cannot write cassette {path}: the YAML emitter does not reproduce the data "
        "exactly (please report this with the values involved)",
        path=path,
    )


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    # Slow path, only when == fails: NaN is not equal to itself.
    if isinstance(a, float) and isinstance(b, float):
        return math.isnan(a) and math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return False
