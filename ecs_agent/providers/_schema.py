"""Pydantic model -> OpenAI strict ``json_schema`` response format.

OpenAI's Structured Outputs (``strict: true``) accept a subset of JSON Schema. This
module rewrites the schema pydantic generates so the API accepts it:

* the root is an object (not ``anyOf``);
* every object has ``additionalProperties: false`` and lists every property in
  ``required`` (an ``Optional`` field stays required and becomes nullable: pydantic
  already renders it as ``anyOf: [..., {"type": "null"}]``);
* nested models stay in ``$defs`` and are rewritten the same way;
* a ``$ref`` has no sibling keywords (a field ``description`` next to a ``$ref`` is
  kept by inlining the referenced schema; for a recursive reference the sibling
  keywords are dropped instead);
* ``default`` (rejected by strict mode) and ``title`` (noise) are removed;
* ``oneOf`` (pydantic's discriminated unions) becomes ``anyOf`` and its
  ``discriminator`` is dropped.

What strict mode cannot express (a ``dict[str, X]`` field, i.e. an object with free
keys) raises :class:`ValueError` naming the path of the offending schema node.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel

__all__ = ["pydantic_to_response_format", "to_strict_json_schema"]

_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")
_DROPPED = ("title", "default", "discriminator")
_SCHEMA_LISTS = ("anyOf", "allOf", "prefixItems")


def pydantic_to_response_format(model: type[BaseModel], *, name: str | None = None
                                ) -> dict[str, Any]:
    """The ``response_format`` that makes OpenAI answer with JSON valid for ``model``.

    ``name`` defaults to the model's class name (characters the API rejects become
    ``_``; at most 64 characters). Parse the answer with
    ``model.model_validate_json(result.message.content)``.
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(
            "pydantic_to_response_format expects a pydantic BaseModel subclass, got "
            f"{model!r}"
        )
    schema_name = _NAME_OK.sub("_", name if name is not None else model.__name__)[:64]
    if not schema_name:
        raise ValueError("the response format name must not be empty")
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema_name,
            "schema": to_strict_json_schema(model.model_json_schema()),
            "strict": True,
        },
    }


def to_strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A strict-mode copy of the JSON Schema ``schema`` (the input is not modified)."""
    root = copy.deepcopy(schema)
    ref = root.get("$ref")
    if isinstance(ref, str):  # a recursive root model: the root points into $defs
        target = _resolve(root, ref, "#")
        root = {**copy.deepcopy(target), **{k: v for k, v in root.items() if k != "$ref"}}
    if root.get("type") != "object":
        raise ValueError(
            "a strict response format needs an object at the root, got "
            f"{_describe(root)}: wrap the value in a model with one field"
        )
    defs = root.get("$defs")
    if isinstance(defs, dict):
        for def_name in list(defs):
            ref = f"#/$defs/{def_name}"
            defs[def_name] = _strict(defs[def_name], ref, root, (ref,))
    out: dict[str, Any] = _strict(
        {k: v for k, v in root.items() if k != "$defs"}, "#", root, ()
    )
    if isinstance(defs, dict):
        out["$defs"] = defs
    return out


def _describe(node: dict[str, Any]) -> str:
    for key in ("type", "anyOf", "oneOf", "$ref", "enum"):
        if key in node:
            return f"{key}={node[key]!r}"[:120]
    return "a schema without a type"


def _strict(node: Any, path: str, root: dict[str, Any], expanding: tuple[str, ...]
            ) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if k not in _DROPPED}
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        del node["allOf"]
        return _strict({**all_of[0], **node}, path, root, expanding)

    ref = node.get("$ref")
    if isinstance(ref, str):
        if len(node) == 1:
            return node
        if ref in expanding:  # a recursive reference: keep the ref, lose the annotations
            return {"$ref": ref}
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**copy.deepcopy(_resolve(root, ref, path)), **siblings}
        return _strict(merged, path, root, (*expanding, ref))

    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties")
        if properties is None and node.get("additionalProperties", False) is not False:
            raise ValueError(
                f"strict mode needs every object to have fixed keys, but the schema at "
                f"{path} allows free keys (a dict field?): use a model with named fields"
            )
        properties = properties or {}
        node["additionalProperties"] = False
        node["properties"] = {
            key: _strict(value, f"{path}/properties/{key}", root, expanding)
            for key, value in properties.items()
        }
        node["required"] = list(properties)

    items = node.get("items")
    if isinstance(items, dict):
        node["items"] = _strict(items, f"{path}/items", root, expanding)
    for key in _SCHEMA_LISTS:
        variants = node.get(key)
        if isinstance(variants, list):
            node[key] = [
                _strict(v, f"{path}/{key}/{i}", root, expanding) for i, v in enumerate(variants)
            ]
    return node


def _resolve(root: dict[str, Any], ref: str, path: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"cannot resolve $ref {ref!r} at {path}: only local refs are supported")
    target: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            raise ValueError(f"$ref {ref!r} at {path} points nowhere")
        target = target[part]
    if not isinstance(target, dict):
        raise ValueError(f"$ref {ref!r} at {path} does not point to a schema")
    return target
