"""A small JSON Schema subset: a validator and a Hypothesis strategy for instances.

The subset is what the strategies generate (tool parameter schemas) and what pydantic
emits for ordinary models (response formats): ``type`` (one or a list), ``properties``,
``required``, ``additionalProperties`` (bool or schema), ``items``, ``prefixItems``,
``minItems``/``maxItems``, ``minLength``/``maxLength``, ``pattern``, ``minimum``/
``maximum`` (and the exclusive forms), ``multipleOf``, ``enum``, ``const``, ``anyOf``,
``oneOf``, ``allOf``, ``not``, ``$ref`` to ``#/...`` (``$defs``). Annotations
(``title``, ``description``, ``default``, ``examples``, ``format``, ...) are ignored.

A keyword outside the subset is never silently ignored: :func:`schema_errors` raises
:class:`UnsupportedSchemaError` naming it, so a check can never pass by accident.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

__all__ = ["UnsupportedSchemaError", "json_instances", "schema_errors"]

_ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description",
    "default", "examples", "format", "readOnly", "writeOnly", "deprecated",
    "discriminator", "strict",
})
_ASSERTIONS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum", "const", "anyOf",
    "oneOf", "allOf", "not", "$ref", "uniqueItems", "minProperties", "maxProperties",
})


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword outside the supported subset."""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _has_type(value: Any, name: str) -> bool:
    actual = _json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        raise UnsupportedSchemaError(f"only local $ref ('#/...') is supported, got {ref!r}")
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            raise UnsupportedSchemaError(f"$ref {ref!r} does not resolve")
        node = node[part]
    if not isinstance(node, Mapping):
        raise UnsupportedSchemaError(f"$ref {ref!r} does not point at a schema")
    return node


def _json_equal(a: Any, b: Any) -> bool:
    """Equality with JSON semantics (``True`` is not ``1``; ``1`` equals ``1.0``)."""
    ta, tb = _json_type(a), _json_type(b)
    if ta in ("integer", "number") and tb in ("integer", "number"):
        return bool(a == b)
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta == "object":
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def schema_errors(instance: Any, schema: Mapping[str, Any] | bool,
                  root: Mapping[str, Any] | None = None, path: str = "$") -> list[str]:
    """Every way ``instance`` fails ``schema``, as ``"<json path>: <problem>"`` lines.

    An empty list means valid. Raises :class:`UnsupportedSchemaError` for keywords
    outside the subset (see the module docstring).
    """
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: no value is allowed here (schema false)"]
    if not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"{path}: a schema must be an object or a bool, "
                                     f"got {schema!r}")
    root = schema if root is None else root
    unknown = set(schema) - _ANNOTATIONS - _ASSERTIONS
    if unknown:
        raise UnsupportedSchemaError(
            f"{path}: JSON Schema keyword(s) {sorted(unknown)} are outside the subset this "
            "validator supports; use a schema with the supported keywords only"
        )
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(instance, _resolve(schema["$ref"], root), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_has_type(instance, t) for t in types):
            return [*errors, f"{path}: expected type {' or '.join(types)}, "
                             f"got {_json_type(instance)} {instance!r:.80}"]
    if "enum" in schema and not any(_json_equal(instance, v) for v in schema["enum"]):
        errors.append(f"{path}: {instance!r:.80} is not one of {schema['enum']!r:.120}")
    if "const" in schema and not _json_equal(instance, schema["const"]):
        errors.append(f"{path}: expected {schema['const']!r:.80}, got {instance!r:.80}")
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            matches = sum(not schema_errors(instance, s, root, path) for s in schema[keyword])
            if matches == 0 or (keyword == "oneOf" and matches > 1):
                errors.append(f"{path}: {instance!r:.80} matches {matches} of the "
                              f"{keyword} alternatives")
    for sub in schema.get("allOf", ()):
        errors += schema_errors(instance, sub, root, path)
    if "not" in schema and not schema_errors(instance, schema["not"], root, path):
        errors.append(f"{path}: {instance!r:.80} must not match {schema['not']!r:.80}")
    if isinstance(instance, str):
        errors += _string_errors(instance, schema, path)
    elif _json_type(instance) in ("integer", "number"):
        errors += _number_errors(instance, schema, path)
    elif isinstance(instance, list):
        errors += _array_errors(instance, schema, root, path)
    elif isinstance(instance, dict):
        errors += _object_errors(instance, schema, root, path)
    return errors


def _string_errors(value: str, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: string shorter than minLength {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: string longer than maxLength {schema['maxLength']}")
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        errors.append(f"{path}: {value!r:.80} does not match pattern {schema['pattern']!r}")
    return errors


def _number_errors(value: float, schema: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(f"{path}: {value!r} is not a JSON number")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: {value!r} < minimum {schema['minimum']!r}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{path}: {value!r} > maximum {schema['maximum']!r}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        errors.append(f"{path}: {value!r} <= exclusiveMinimum {schema['exclusiveMinimum']!r}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        errors.append(f"{path}: {value!r} >= exclusiveMaximum {schema['exclusiveMaximum']!r}")
    if "multipleOf" in schema and not float(value / schema["multipleOf"]).is_integer():
        errors.append(f"{path}: {value!r} is not a multiple of {schema['multipleOf']!r}")
    return errors


def _array_errors(value: list[Any], schema: Mapping[str, Any], root: Mapping[str, Any],
                  path: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minItems", 0):
        errors.append(f"{path}: fewer than minItems {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: more than maxItems {schema['maxItems']} items")
    prefix = schema.get("prefixItems", [])
    for i, item in enumerate(value):
        sub = prefix[i] if i < len(prefix) else schema.get("items", True)
        errors += schema_errors(item, sub, root, f"{path}[{i}]")
    if schema.get("uniqueItems"):
        seen: list[Any] = []
        for item in value:
            if any(_json_equal(item, s) for s in seen):
                errors.append(f"{path}: items are not unique ({item!r:.80} repeats)")
                break
            seen.append(item)
    return errors


def _object_errors(value: dict[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any],
                   path: str) -> list[str]:
    errors = [f"{path}: missing required property {name!r}"
              for name in schema.get("required", ()) if name not in value]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], root, f"{path}.{key}")
        elif extra is False:
            errors.append(f"{path}: property {key!r} is not allowed "
                          "(additionalProperties is false)")
        else:
            errors += schema_errors(item, extra, root, f"{path}.{key}")
    if len(value) < schema.get("minProperties", 0):
        errors.append(f"{path}: fewer than minProperties {schema['minProperties']}")
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(f"{path}: more than maxProperties {schema['maxProperties']}")
    return errors


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
    """
    if not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"a schema must be an object, got {schema!r:.80}")
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
        return _draw(draw, _resolve(schema["$ref"], root), root, depth + 1)
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
