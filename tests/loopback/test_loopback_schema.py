"""The echo mode's JSON Schema instance generator yields valid instances."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest

from pytest_ecs_agent.loopback import SchemaError, schema_instance

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "string", "minLength": 12, "maxLength": 15},
    {"type": "string", "maxLength": 2},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email"},
    {"type": "integer", "minimum": 7, "maximum": 9},
    {"type": "integer", "exclusiveMinimum": 7},
    {"type": "integer", "minimum": 3, "multipleOf": 5},
    {"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 2},
    {"type": "number", "maximum": -4},
    {"type": "boolean"},
    {"type": "null"},
    {"type": ["null", "integer"]},
    {"enum": ["red", "green"]},
    {"const": {"fixed": [1, 2]}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3},
    {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}]},
    {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 2}]},
    {"oneOf": [{"type": "integer", "minimum": 10}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
    {"type": "object", "required": ["extra"], "additionalProperties": {"type": "integer"}},
    {"properties": {"inferred": {"minimum": 2}}, "required": ["inferred"]},
    {   # pydantic-style model with $defs, nested objects, optional fields and enums
        "type": "object",
        "$defs": {
            "Unit": {"enum": ["C", "F"], "type": "string"},
            "Reading": {"type": "object", "additionalProperties": False,
                        "required": ["value", "unit"],
                        "properties": {"value": {"type": "number"},
                                       "unit": {"$ref": "#/$defs/Unit"}}},
        },
        "additionalProperties": False,
        "required": ["city", "readings", "note"],
        "properties": {
            "city": {"type": "string"},
            "readings": {"type": "array", "items": {"$ref": "#/$defs/Reading"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
    },
    {   # a recursive tree via "#"
        "type": "object", "required": ["name", "children"],
        "properties": {"name": {"type": "string"},
                       "children": {"type": "array", "items": {"$ref": "#"}}},
    },
    {   # recursion through definitions and a nullable branch
        "definitions": {"Node": {"type": "object", "required": ["next"], "properties": {
            "next": {"anyOf": [{"$ref": "#/definitions/Node"}, {"type": "null"}]}}}},
        "$ref": "#/definitions/Node",
    },
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
def test_instances_are_valid_against_their_schema(schema: dict[str, Any]) -> None:
    instance = schema_instance(schema, text="hello")
    jsonschema.validate(instance, schema)


def test_strings_carry_the_given_text_and_output_is_deterministic() -> None:
    schema = SCHEMAS[-3]
    first = schema_instance(schema, text="Paris")
    assert first == schema_instance(schema, text="Paris")
    assert first["city"] == "Paris"
    assert first["readings"] == [{"value": 0, "unit": "C"}]


def test_a_recursive_schema_terminates_with_data_at_the_top() -> None:
    tree = schema_instance(SCHEMAS[-2], text="n")
    assert tree["name"] == "n"
    assert isinstance(tree["children"], list) and tree["children"]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "https://example.com/schema.json"}, "only local \\$ref is supported"),
        ({"$ref": "#/$defs/Missing"}, "does not resolve"),
        ({"type": "integer", "minimum": 5, "maximum": 1}, "cannot find a number"),
        ({"type": "tuple"}, "unknown type 'tuple'"),
        ({"type": "string", "pattern": "^[0-9]+$"},
         "cannot generate a value valid .*'echo' does not match pattern"),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 1},
         "cannot generate a value valid .*fewer than minItems 3"),
        ({"type": "object", "required": ["x"], "properties": {"x": {"$ref": "#"}}},
         "nests deeper than"),
    ],
)
def test_unsatisfiable_schemas_raise_a_schema_error(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        schema_instance(schema)


def test_a_non_object_schema_is_rejected() -> None:
    with pytest.raises(SchemaError, match="schema must be an object"):
        schema_instance(["not", "a", "schema"])


def test_public_names_are_pinned() -> None:
    import pytest_ecs_agent.loopback as loopback

    assert sorted(loopback.__all__) == [
        "LoopbackServer", "ReceivedRequest", "Reply", "SchemaError", "ValidationFailure",
        "schema_instance", "validate", "wire",
    ]
    for name in loopback.__all__:
        assert getattr(loopback, name) is not None
