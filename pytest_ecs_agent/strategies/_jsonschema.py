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


def json_instances(schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None,
                   _depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for JSON values valid against ``schema`` (generation subset).

    Supports ``type``, ``enum``, ``const``, ``anyOf``/``oneOf`` (first matching branch
    by draw), ``$ref``, object ``properties``/``required``/``additionalProperties``,
    array ``items``/``minItems``/``maxItems``, string lengths and number bounds.
    Generated values are checked with :func:`schema_errors`, so an unsupported
    combination fails loudly instead of producing invalid data.
    """
    root = schema if root is None else root
    return _instances(schema, root, _depth).filter(
        lambda v: not schema_errors(v, schema, root)
    )


def _instances(schema: Mapping[str, Any] | bool, root: Mapping[str, Any],
               depth: int) -> st.SearchStrategy[Any]:
    if schema is True or schema == {}:
        return _any_json(depth)
    if schema is False or not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"cannot generate a value for schema {schema!r}")
    if "$ref" in schema:
        return _instances(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return st.one_of([_instances(s, root, depth) for s in schema[keyword]])
    types = schema.get("type")
    if types is None:
        return _any_json(depth)
    if isinstance(types, list):
        return st.one_of([_instances({**schema, "type": t}, root, depth) for t in types])
    if types == "null":
        return st.none()
    if types == "boolean":
        return st.booleans()
    if types == "integer":
        lo = schema.get("minimum", -(2**31))
        hi = schema.get("maximum", 2**31)
        return st.integers(min_value=math.ceil(lo), max_value=math.floor(hi))
    if types == "number":
        return st.floats(min_value=schema.get("minimum", -1e12),
                         max_value=schema.get("maximum", 1e12),
                         allow_nan=False, allow_infinity=False)
    if types == "string":
        from pytest_ecs_agent.strategies._text import texts

        return texts(min_size=schema.get("minLength", 0),
                     max_size=schema.get("maxLength", max(20, schema.get("minLength", 0))))
    if types == "array":
        return st.lists(_instances(schema.get("items", True), root, depth + 1),
                        min_size=schema.get("minItems", 0),
                        max_size=schema.get("maxItems", schema.get("minItems", 0) + 3))
    if types == "object":
        return _objects(schema, root, depth)
    raise UnsupportedSchemaError(f"cannot generate a value for type {types!r}")


def _objects(schema: Mapping[str, Any], root: Mapping[str, Any],
             depth: int) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required or draw(st.booleans()):
                out[name] = draw(_instances(sub, root, depth + 1))
        extra = schema.get("additionalProperties", True)
        if extra is not False and depth < 2 and draw(st.booleans()):
            key = draw(st.text(_KEY_CHARS, min_size=1, max_size=8))
            if key not in properties:
                out[key] = draw(_instances(extra, root, depth + 1))
        return out

    return build()


def _any_json(depth: int) -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=10))
    if depth >= 2:
        return scalars
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(_KEY_CHARS, min_size=1, max_size=8), children, max_size=3),
        max_leaves=6,
    )
