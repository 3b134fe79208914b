"""A Hypothesis strategy for JSON values valid against a JSON Schema.

:func:`json_instances` draws values on top of the toolkit's one JSON Schema module,
:mod:`pytest_ecs_agent._jsonschema`, which owns ``$ref`` resolution, ``allOf`` merging
and the validator :func:`schema_errors` (re-exported here with
:class:`UnsupportedSchemaError`, as ``pytest_ecs_agent.strategies`` names them).
Every drawn value is checked with :func:`schema_errors`, so a schema the generator
cannot satisfy fails loudly instead of producing invalid data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from pytest_ecs_agent._jsonschema import (
    UnsupportedSchemaError,
    check_schema,
    merge_schemas,
    resolve_ref,
    schema_errors,
)

__all__ = ["UnsupportedSchemaError", "json_instances", "schema_errors"]


_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz_0123456789"


@functools.lru_cache(maxsize=256)
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=lo, max_value=hi)


@functools.lru_cache(maxsize=256)
def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


@functools.lru_cache(maxsize=256)
def _strings(lo: int, hi: int) -> st.SearchStrategy[str]:
    from pytest_ecs_agent.strategies._text import texts

    return texts(min_size=lo, max_size=hi)


_KEYS = st.text(_KEY_CHARS, min_size=1, max_size=8)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10))
_ANY_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=6,
)


def json_instances(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for JSON values valid against ``schema`` (generation subset).

    Supports ``type`` (one or a list), ``enum``, ``const``, ``anyOf``/``oneOf``,
    ``$ref``, object ``properties``/``required``/``additionalProperties``, array
    ``items``/``minItems``/``maxItems``, string lengths and number bounds. Every value
    is checked with :func:`schema_errors`, so an unsupported combination fails loudly
    (a filter that rejects everything) instead of producing invalid data.

    The schema is checked when the strategy is built: anything
    :func:`schema_errors` cannot check (not an object, an unknown keyword, a ``$ref``
    that does not resolve locally) raises :class:`hypothesis.errors.InvalidArgument`.
    """
    if not isinstance(schema, Mapping):
        raise InvalidArgument(f"json_instances(schema={schema!r:.80}): a schema must be a "
                              f"JSON Schema object (a dict), got {type(schema).__name__}")
    try:
        check_schema(schema)
    except UnsupportedSchemaError as exc:
        raise InvalidArgument(f"json_instances(schema=...): {exc}") from exc
    return _instances(schema).filter(lambda v: not schema_errors(v, schema))


@st.composite
def _instances(draw: st.DrawFn, schema: Mapping[str, Any]) -> Any:
    return _draw(draw, schema, schema, 0)


def _draw(draw: st.DrawFn, schema: Mapping[str, Any] | bool, root: Mapping[str, Any],
          depth: int) -> Any:
    if schema is True or schema == {}:
        return draw(_SCALARS if depth >= 2 else _ANY_JSON)
    if schema is False or not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"cannot generate a value for schema {schema!r:.80}")
    if "$ref" in schema:
        return _draw(draw, resolve_ref(schema["$ref"], root), root, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, Mapping) and "$ref" in part:
                part = resolve_ref(part["$ref"], root)
            if isinstance(part, Mapping):
                merged = merge_schemas(merged, part)
        return _draw(draw, merged, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return draw(st.sampled_from(list(schema["enum"])))
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branch = draw(st.sampled_from(list(schema[keyword])))
            return _draw(draw, branch, root, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = draw(st.sampled_from(kind))
    if kind is None:
        return draw(_SCALARS if depth >= 2 else _ANY_JSON)
    if kind == "null":
        return None
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "integer":
        return draw(_ints(math.ceil(schema.get("minimum", -(2**31))),
                          math.floor(schema.get("maximum", 2**31))))
    if kind == "number":
        return draw(_floats(float(schema.get("minimum", -1e12)),
                            float(schema.get("maximum", 1e12))))
    if kind == "string":
        lo = schema.get("minLength", 0)
        return draw(_strings(lo, schema.get("maxLength", max(20, lo))))
    if kind == "array":
        lo = schema.get("minItems", 0)
        size = draw(_ints(lo, schema.get("maxItems", lo + 3)))
        return [_draw(draw, schema.get("items", True), root, depth + 1) for _ in range(size)]
    if kind == "object":
        return _draw_object(draw, schema, root, depth)
    raise UnsupportedSchemaError(f"cannot generate a value for type {kind!r}")


def _draw_object(draw: st.DrawFn, schema: Mapping[str, Any], root: Mapping[str, Any],
                 depth: int) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for name, sub in properties.items():
        if name in required or draw(st.booleans()):
            out[name] = _draw(draw, sub, root, depth + 1)
    extra = schema.get("additionalProperties", True)
    if extra is not False and depth < 2 and draw(st.booleans()):
        key = draw(_KEYS)
        if key not in properties:
            out[key] = _draw(draw, extra, root, depth + 1)
    return out
