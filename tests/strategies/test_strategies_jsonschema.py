"""The one JSON Schema module: shared by the loopback server and the strategies.

Generated values are checked against ``jsonschema`` (an independent implementation),
not only against our own validator.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import InvalidArgument

import pytest_ecs_agent._jsonschema as shared
import pytest_ecs_agent.loopback as loopback
from ecs_agent.providers import pydantic_to_response_format
from pytest_ecs_agent import strategies as ecs_st
from pytest_ecs_agent.loopback.validate_openai import strict_schema_problem

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_public_names_are_the_shared_implementation() -> None:
    assert ecs_st.schema_errors is shared.schema_errors
    assert ecs_st.UnsupportedSchemaError is shared.UnsupportedSchemaError
    assert loopback.schema_instance is shared.schema_instance
    assert loopback.SchemaError is shared.SchemaError
    # one family: code catching the loopback's SchemaError catches the validator's too
    assert issubclass(ecs_st.UnsupportedSchemaError, loopback.SchemaError)
    assert issubclass(loopback.SchemaError, ValueError)


def test_the_loopback_server_does_not_import_hypothesis() -> None:
    code = ("import sys, pytest_ecs_agent.loopback as lb\n"
            "lb.schema_instance({'type': 'object', 'properties': {'a': {'type': 'integer'}}})\n"
            "print('hypothesis' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


@FAST
@given(ecs_st.tool_schemas())
def test_schema_instance_is_valid_for_every_generated_tool_schema(tool: Any) -> None:
    value = shared.schema_instance(tool.parameters, text="abc")
    jsonschema.validate(value, tool.parameters)
    assert shared.schema_errors(value, tool.parameters) == []


ALL_OF = {
    "$defs": {"Named": {"type": "object", "properties": {"name": {"type": "string",
                                                                  "minLength": 1}},
                        "required": ["name"]}},
    "type": "object",
    "allOf": [{"$ref": "#/$defs/Named"},
              {"properties": {"age": {"type": "integer", "minimum": 0, "maximum": 150}},
               "required": ["age"]}],
}


@FAST
@given(ecs_st.json_instances(ALL_OF))
def test_json_instances_merge_all_of(value: Any) -> None:
    jsonschema.validate(value, ALL_OF)
    assert {"name", "age"} <= set(value)


def test_schema_instance_merges_all_of_too() -> None:
    value = shared.schema_instance(ALL_OF, text="Ada")
    jsonschema.validate(value, ALL_OF)
    assert value == {"name": "Ada", "age": 0}


@pytest.mark.parametrize(("schema", "message"), [
    ("not a schema", "a schema must be a JSON Schema object \\(a dict\\), got str"),
    ({"type": "object", "properties": {"a": {"if": {"type": "string"}}}},
     "\\$/properties/a: JSON Schema keyword\\(s\\) \\['if'\\] are outside"),
    ({"type": "array", "items": {"$ref": "#/$defs/Missing"}},
     "\\$/items: \\$ref '#/\\$defs/Missing' does not resolve"),
    ({"$ref": "https://example.com/s.json"}, "only local \\$ref is supported"),
    ({"type": "object", "additionalProperties": {"patternProperties": {}}},
     "\\$/additionalProperties: .*'patternProperties'"),
    ({"type": "array", "prefixItems": [{"type": "string"}, 3]},
     "\\$/prefixItems/1: a schema must be an object or a bool, got 3"),
])
def test_json_instances_check_the_schema_when_built(schema: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ecs_st.json_instances(schema)


def test_check_schema_accepts_what_the_strategies_generate() -> None:
    for model in ecs_st.EXAMPLE_MODELS:
        schema = ecs_st.response_format_schema(pydantic_to_response_format(model))
        assert schema is not None
        shared.check_schema(schema)


@pytest.mark.parametrize(("schema", "context"), [
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "array", "items": {"type": "object", "properties": {}}}}},
     "('properties', 'a', 'items')"),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/P"}]}},
      "$defs": {"P": {"type": "object", "properties": {"x": {"type": "string"}},
                      "additionalProperties": False}}},
     "('$defs', 'P')"),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"anyOf": [{"type": "null"},
                                     {"type": "object", "properties": {}}]}}},
     "('properties', 'a', 'anyOf', '1')"),
])
def test_strict_schema_rules_reach_nested_schemas(schema: dict[str, Any], context: str) -> None:
    problem = strict_schema_problem(schema)
    assert problem is not None and problem.startswith(f"In context={context}, ")


def test_a_strict_schema_passes() -> None:
    for model in ecs_st.EXAMPLE_MODELS:
        schema = ecs_st.response_format_schema(pydantic_to_response_format(model))
        assert schema is not None
        assert strict_schema_problem(schema) is None
