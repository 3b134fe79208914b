"""A small deterministic JSON Schema instance generator for the echo mode.

:func:`schema_instance` returns a value valid against a schema of the kind LLM APIs
take for tool parameters and structured outputs: ``object`` (properties, required,
additionalProperties), ``string`` (enum, const, min/maxLength, common formats),
``integer``/``number`` (minimum, maximum, exclusive bounds, multipleOf), ``boolean``,
``null``, ``array`` (items, prefixItems, minItems/maxItems), ``enum``, ``const``,
``anyOf``/``oneOf`` (the first branch), ``allOf`` (merged) and local ``$ref``
(``#/$defs/...``, ``#/definitions/...``, ``#``), including recursive ones.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["SchemaError", "schema_instance"]

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


class SchemaError(ValueError):
    """The schema uses something the generator cannot satisfy (e.g. a remote ``$ref``)."""


def schema_instance(schema: Any, *, text: str = "echo") -> Any:
    """A value valid against ``schema``; strings are ``text`` where constraints allow."""
    if not isinstance(schema, dict | bool):
        raise SchemaError(f"schema must be an object, got {type(schema).__name__}")
    return _Generator(schema if isinstance(schema, dict) else {}, text).value(schema, 0, "#")


class _Generator:
    def __init__(self, root: dict[str, Any], text: str) -> None:
        self.root = root
        self.text = text

    def resolve(self, ref: str, where: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(f"{where}: only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise SchemaError(f"{where}: $ref {ref!r} does not resolve")
            node = node[key]
        return node

    def value(self, schema: Any, depth: int, where: str) -> Any:
        if schema is True or schema == {}:
            return self.text
        if not isinstance(schema, dict):
            raise SchemaError(f"{where}: a schema must be an object or a boolean")
        if depth > _MAX_DEPTH:
            raise SchemaError(f"{where}: schema nests deeper than {_MAX_DEPTH} levels")
        if "$ref" in schema:
            target = self.resolve(schema["$ref"], where)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            merged = {**target, **rest} if isinstance(target, dict) else target
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
                part = self.resolve(part["$ref"], where) if "$ref" in part else part
                merged = _merge(merged, part)
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


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        if key == "properties" and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        elif key == "required" and isinstance(out.get(key), list):
            out[key] = [*out[key], *[v for v in value if v not in out[key]]]
        else:
            out[key] = value
    return out


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
