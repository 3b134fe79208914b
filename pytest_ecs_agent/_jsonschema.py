"""The toolkit's one JSON Schema implementation: walking, validation, instance generation.

Used by the loopback server (echo answers, OpenAI strict-schema checks) and by the
Hypothesis strategies (which build their generator on top of the walking helpers here).
Imports nothing but the standard library, so the loopback server never loads Hypothesis.

* :func:`schema_errors` validates an instance against a subset of JSON Schema:
  ``type`` (one or a list), ``properties``, ``required``, ``additionalProperties``,
  ``items``, ``prefixItems``, ``minItems``/``maxItems``, ``uniqueItems``,
  ``minProperties``/``maxProperties``, ``minLength``/``maxLength``, ``pattern``,
  ``minimum``/``maximum`` (and the exclusive forms), ``multipleOf``, ``enum``, ``const``,
  ``anyOf``, ``oneOf``, ``allOf``, ``not`` and local ``$ref``. Annotations (``title``,
  ``description``, ``default``, ``format``, ...) are ignored; any other keyword raises
  :class:`UnsupportedSchemaError` naming it, so a check never passes by accident.
* :func:`schema_instance` returns one deterministic value valid against a schema of the
  kind LLM APIs take (tool parameters, structured outputs), including recursive ``$ref``.
* :func:`resolve_ref`, :func:`merge_schemas`, :func:`subschemas`, :func:`json_type` and
  :func:`json_equal` are the shared walking helpers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

_MAX_DEPTH = 24
_SHALLOW = 4
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "echo@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}

__all__ = [
    "ANNOTATIONS",
    "ASSERTIONS",
    "SchemaError",
    "UnsupportedSchemaError",
    "check_schema",
    "has_type",
    "json_equal",
    "json_type",
    "merge_schemas",
    "resolve_ref",
    "schema_errors",
    "schema_instance",
    "subschemas",
]

ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description",
    "default", "examples", "format", "readOnly", "writeOnly", "deprecated",
    "discriminator", "strict",
})
"""Keywords that never make an instance invalid."""

ASSERTIONS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "prefixItems",
    "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum", "const", "anyOf",
    "oneOf", "allOf", "not", "$ref", "uniqueItems", "minProperties", "maxProperties",
})
"""Keywords :func:`schema_errors` checks."""


class SchemaError(ValueError):
    """The schema cannot be used: malformed, unsatisfiable, or a remote ``$ref``."""


class UnsupportedSchemaError(SchemaError):
    """The schema uses a keyword or a reference outside the supported subset."""


def json_type(value: Any) -> str:
    """The JSON type name of ``value`` (``"integer"``, ``"object"``, ...), as vendors name it.

    A value that is not JSON gives its Python type name.
    """
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


def has_type(value: Any, name: str) -> bool:
    """Whether ``value`` is of JSON Schema type ``name`` (``2.0`` is an ``integer``)."""
    actual = json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def json_equal(a: Any, b: Any) -> bool:
    """Equality with JSON semantics (``True`` is not ``1``; ``1`` equals ``1.0``)."""
    ta, tb = json_type(a), json_type(b)
    if ta in ("integer", "number") and tb in ("integer", "number"):
        return bool(a == b)
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta == "object":
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def resolve_ref(ref: Any, root: Any, where: str = "$") -> Any:
    """The schema a local ``$ref`` (``#``, ``#/$defs/X``, ``#/definitions/X``) points at.

    Raises :class:`UnsupportedSchemaError` for a remote reference or one that does not
    resolve; ``where`` prefixes the message.
    """
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise UnsupportedSchemaError(
            f"{where}: only local $ref is supported ('#/$defs/...'), got {ref!r}")
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or key not in node:
            raise UnsupportedSchemaError(f"{where}: $ref {ref!r} does not resolve")
        node = node[key]
    if not isinstance(node, Mapping | bool):
        raise UnsupportedSchemaError(f"{where}: $ref {ref!r} does not point at a schema")
    return node


def merge_schemas(left: Mapping[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """``left`` and ``right`` combined (for ``allOf``): properties merged, required unioned."""
    out = dict(left)
    for key, value in right.items():
        if key == "properties" and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        elif key == "required" and isinstance(out.get(key), list):
            out[key] = [*out[key], *[v for v in value if v not in out[key]]]
        else:
            out[key] = value
    return out


def subschemas(schema: Mapping[str, Any],
               context: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The direct subschemas of ``schema`` with their keyword paths, in document order.

    Covers ``properties``, ``items`` (a schema), ``anyOf``/``allOf``/``oneOf``,
    ``$defs`` and ``definitions``.
    """
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            yield (*context, "properties", name), sub
    if isinstance(schema.get("items"), Mapping):
        yield (*context, "items"), schema["items"]
    for key in ("anyOf", "allOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list):
            for k, sub in enumerate(branches):
                yield (*context, key, str(k)), sub
    for key in ("$defs", "definitions"):
        defs = schema.get(key)
        if isinstance(defs, Mapping):
            for name, sub in defs.items():
                yield (*context, key, name), sub


def _check_keywords(schema: Any, path: str) -> None:
    if not isinstance(schema, Mapping):
        raise UnsupportedSchemaError(f"{path}: a schema must be an object or a bool, "
                                     f"got {schema!r:.80}")
    unknown = set(schema) - ANNOTATIONS - ASSERTIONS
    if unknown:
        raise UnsupportedSchemaError(
            f"{path}: JSON Schema keyword(s) {sorted(unknown)} are outside the subset this "
            "validator supports; use a schema with the supported keywords only")


def check_schema(schema: Any, root: Any = None, path: str = "$") -> None:
    """Raise :class:`UnsupportedSchemaError` unless :func:`schema_errors` supports ``schema``.

    Walks every subschema (``prefixItems``, ``additionalProperties`` and ``not`` too):
    each must be an object or a bool, use only supported keywords, and every ``$ref``
    must resolve locally. The error names the JSON path of the first problem.
    """
    if isinstance(schema, bool):
        return
    _check_keywords(schema, path)
    root = schema if root is None else root
    if "$ref" in schema:
        resolve_ref(schema["$ref"], root, path)
    children = [("/".join(where), sub) for where, sub in subschemas(schema)]
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        children += [(f"prefixItems/{i}", sub) for i, sub in enumerate(prefix)]
    children += [(key, schema[key]) for key in ("additionalProperties", "not") if key in schema]
    for where, sub in children:
        check_schema(sub, root, f"{path}/{where}")


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
    _check_keywords(schema, path)
    root = schema if root is None else root
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(instance, resolve_ref(schema["$ref"], root, path), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(has_type(instance, t) for t in types):
            return [*errors, f"{path}: expected type {' or '.join(types)}, "
                             f"got {json_type(instance)} {instance!r:.80}"]
    if "enum" in schema and not any(json_equal(instance, v) for v in schema["enum"]):
        errors.append(f"{path}: {instance!r:.80} is not one of {schema['enum']!r:.120}")
    if "const" in schema and not json_equal(instance, schema["const"]):
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
    elif json_type(instance) in ("integer", "number"):
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
            if any(json_equal(item, s) for s in seen):
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


# -- one deterministic instance ------------------------------------------------------


def schema_instance(schema: Any, *, text: str = "echo") -> Any:
    """A value valid against ``schema``; strings are ``text`` where constraints allow.

    Deterministic (the same schema and text give the same value). Supports ``object``
    (properties, required, additionalProperties), ``string`` (enum, const, lengths,
    common formats), ``integer``/``number`` (bounds, exclusive bounds, multipleOf),
    ``boolean``, ``null``, ``array`` (items, prefixItems, minItems/maxItems), ``enum``,
    ``const``, ``anyOf``/``oneOf`` (a non-recursive branch first), ``allOf`` (merged)
    and local ``$ref``, including recursive ones. The value is checked with
    :func:`schema_errors`; :class:`SchemaError` is raised when the schema cannot be
    satisfied (a string ``pattern`` the text does not match, for one).
    """
    if not isinstance(schema, dict | bool):
        raise SchemaError(f"schema must be an object, got {type(schema).__name__}")
    value = _Generator(schema if isinstance(schema, dict) else {}, text).value(schema, 0, "#")
    try:
        errors = schema_errors(value, schema)
    except UnsupportedSchemaError:  # keywords the validator does not know: not checked
        errors = []
    if errors:  # never hand out an invalid value (e.g. a string ``pattern``)
        raise SchemaError(f"cannot generate a value valid against this schema: {errors[0]}")
    return value


class _Generator:
    def __init__(self, root: dict[str, Any], text: str) -> None:
        self.root = root
        self.text = text

    def value(self, schema: Any, depth: int, where: str) -> Any:
        if schema is True or schema == {}:
            return self.text
        if not isinstance(schema, dict):
            raise SchemaError(f"{where}: a schema must be an object or a boolean")
        if depth > _MAX_DEPTH:
            raise SchemaError(f"{where}: schema nests deeper than {_MAX_DEPTH} levels")
        if "$ref" in schema:
            target = resolve_ref(schema["$ref"], self.root, where)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            merged = {**target, **rest} if isinstance(target, Mapping) else target
            return self.value(merged, depth + 1, schema["$ref"])
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in schema.items() if k != key}
                return self.branch(base, branches, depth, f"{where}/{key}")
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                if isinstance(part, dict) and "$ref" in part:
                    part = resolve_ref(part["$ref"], self.root, where)
                merged = merge_schemas(merged, part)
            return self.value(merged, depth + 1, f"{where}/allOf")
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or ["null"]
            kind = kinds[0]
        if kind is None:
            kind = _infer_type(schema)
        return self.typed(kind, schema, depth, where)

    def branch(
        self, base: dict[str, Any], branches: list[Any], depth: int, where: str
    ) -> Any:
        # prefer a non-null branch that is not a recursive reference back up the tree
        deep = depth >= _SHALLOW

        def rank(b: Any) -> tuple[bool, bool]:
            is_null = isinstance(b, dict) and b.get("type") == "null"
            is_ref = isinstance(b, dict) and "$ref" in b
            return (is_null != deep, is_ref)

        ordered = sorted(branches, key=rank)
        error: SchemaError | None = None
        for choice in ordered:
            try:
                return self.value({**base, **choice} if isinstance(choice, dict) else choice,
                                  depth + 1, where)
            except SchemaError as exc:
                error = exc
        assert error is not None
        raise error

    def typed(self, kind: str, schema: dict[str, Any], depth: int, where: str) -> Any:
        if kind == "object":
            return self.obj(schema, depth, where)
        if kind == "array":
            return self.array(schema, depth, where)
        if kind == "string":
            return self.string(schema)
        if kind in ("integer", "number"):
            return _number(schema, kind == "integer", where)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        raise SchemaError(f"{where}: unknown type {kind!r}")

    def obj(self, schema: dict[str, Any], depth: int, where: str) -> dict[str, Any]:
        props = schema.get("properties") or {}
        required = schema.get("required") or []
        out: dict[str, Any] = {}
        for name, sub in props.items():
            try:
                out[name] = self.value(sub, depth + 1, f"{where}/properties/{name}")
            except SchemaError:
                if name in required:
                    raise
        for name in required:
            if name not in out:
                extra = schema.get("additionalProperties", True)
                out[name] = self.value(extra if isinstance(extra, dict) else True,
                                       depth + 1, f"{where}/{name}")
        return out

    def array(self, schema: dict[str, Any], depth: int, where: str) -> list[Any]:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        # one item near the top, none deep down (so recursive schemas terminate)
        count = max(int(schema.get("minItems", 1 if depth < _SHALLOW else 0)), len(prefix))
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        out = [self.value(p, depth + 1, f"{where}/prefixItems") for p in prefix[:count]]
        while len(out) < count:
            out.append(self.value(items, depth + 1, f"{where}/items"))
        return out

    def string(self, schema: dict[str, Any]) -> str:
        text = _FORMATS.get(str(schema.get("format")), self.text)
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if len(text) < low:
            text = (text * (low // max(len(text), 1) + 1))[: max(low, 1)] if text else "x" * low
        if high is not None:
            text = text[: int(high)]
        return text


def _infer_type(schema: dict[str, Any]) -> str:
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _bound(schema: dict[str, Any], key: str) -> float | None:
    value = schema.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None  # draft-4 boolean exclusive bounds are ignored
    return value


def _number(schema: dict[str, Any], integer: bool, where: str) -> int | float:
    low, xlow = _bound(schema, "minimum"), _bound(schema, "exclusiveMinimum")
    high, xhigh = _bound(schema, "maximum"), _bound(schema, "exclusiveMaximum")
    step = _bound(schema, "multipleOf")
    nudge = 1 if integer else 0.5
    candidate: float
    if low is not None or xlow is not None:
        candidate = max(b for b in (low, xlow) if b is not None)
        if xlow is not None and candidate <= xlow:
            candidate = xlow + nudge
    elif high is not None and high < 0:
        candidate = high
    elif xhigh is not None and xhigh <= 0:
        candidate = xhigh - nudge
    else:
        candidate = 0
    if integer:
        candidate = math.ceil(candidate)
    if step is not None and step > 0:
        candidate = math.ceil(candidate / step) * step
    if (high is not None and candidate > high) or (xhigh is not None and candidate >= xhigh):
        raise SchemaError(f"{where}: cannot find a number within the bounds of {schema}")
    return int(candidate) if integer else candidate
