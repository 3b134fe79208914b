"""Response formats, embedding inputs and the JSON Schema subset validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from pydantic import BaseModel

from pytest_ecs_agent import strategies as ecs_st

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NO_SHRINK = settings(max_examples=500, phases=[Phase.generate], database=None)
MODELS = {m.__name__: m for m in ecs_st.EXAMPLE_MODELS}


@FAST
@given(st.data())
def test_response_formats_are_strict_schemas_pydantic_accepts(data: st.DataObject) -> None:
    fmt = data.draw(ecs_st.response_formats())
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = ecs_st.response_format_schema(fmt)
    assert schema is not None and schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # pydantic is the independent oracle: an instance of the schema is a valid model.
    value = data.draw(ecs_st.json_instances(schema))
    MODELS[fmt["json_schema"]["name"]].model_validate_json(json.dumps(value))


def test_response_format_schema_accepts_model_dumps_and_rejects_others() -> None:
    weather = MODELS["Weather"](city="Oslo", temperature=-3.5, unit="celsius", raining=False)
    fmt = ecs_st.response_formats(models=[MODELS["Weather"]])
    schema = ecs_st.response_format_schema(find(fmt, lambda _: True))
    assert schema is not None
    assert ecs_st.schema_errors(weather.model_dump(mode="json"), schema) == []
    bad = {**weather.model_dump(mode="json"), "unit": "kelvin", "extra": 1}
    errors = ecs_st.schema_errors(bad, schema)
    assert any("kelvin" in e for e in errors) and any("'extra'" in e for e in errors)


def test_response_format_schema_of_other_kinds() -> None:
    assert ecs_st.response_format_schema({"type": "json_object"}) is None
    with pytest.raises(ValueError, match="unknown response_format type"):
        ecs_st.response_format_schema({"type": "xml"})


@FAST
@given(ecs_st.embedding_inputs())
def test_embedding_inputs_are_lists_of_text(texts: list[str]) -> None:
    assert isinstance(texts, list) and len(texts) <= 6
    for text in texts:
        text.encode("utf-8")


def test_embedding_inputs_include_empty_and_long_texts() -> None:
    assert "" in find(ecs_st.embedding_inputs(), lambda ts: "" in ts, settings=NO_SHRINK)
    long = find(ecs_st.embedding_inputs(), lambda ts: any(len(t) > 1000 for t in ts),
                settings=NO_SHRINK)
    assert max(len(t) for t in long) > 1000


@FAST
@given(ecs_st.embedding_inputs(min_size=1, allow_empty=False, long_texts=False))
def test_embedding_inputs_options(texts: list[str]) -> None:
    assert texts and all(t.strip() and len(t) <= 30 for t in texts)


class _Bad:
    pass


@pytest.mark.parametrize("build", [
    lambda: ecs_st.response_formats(models=[]),
    lambda: ecs_st.response_formats(models=[_Bad]),  # type: ignore[list-item]
    lambda: ecs_st.embedding_inputs(min_size=3, max_size=2),
    lambda: ecs_st.embedding_inputs(allow_empty=None),  # type: ignore[arg-type]
])
def test_bad_arguments_raise_invalid_argument_eagerly(build: object) -> None:
    with pytest.raises(InvalidArgument):
        build()  # type: ignore[operator]


class _Free(BaseModel):
    values: dict[str, int]


def test_response_formats_reject_models_strict_mode_cannot_express() -> None:
    with pytest.raises(InvalidArgument, match="_Free cannot be a strict response format"):
        ecs_st.response_formats(models=[_Free])


DEFS = {"$defs": {"P": {"type": "object", "properties": {"n": {"type": "integer"}},
                        "required": ["n"], "additionalProperties": False}}}
CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"type": "integer"}, 3, True),
    ({"type": "integer"}, 3.0, True),
    ({"type": "integer"}, 3.5, False),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, 2, True),
    ({"type": "string"}, 1, False),
    ({"type": ["string", "null"]}, None, True),
    ({"type": "string", "maxLength": 2}, "abc", False),
    ({"type": "string", "pattern": "^a+$"}, "aaa", True),
    ({"type": "integer", "minimum": 1, "maximum": 3}, 4, False),
    ({"type": "integer", "exclusiveMinimum": 1}, 1, False),
    ({"enum": [1, "a"]}, True, False),
    ({"enum": [1, "a"]}, "a", True),
    ({"const": {"a": [1]}}, {"a": [1.0]}, True),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 0, False),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1, False),
    ({"allOf": [{"minimum": 1}, {"maximum": 2}]}, 3, False),
    ({"not": {"type": "null"}}, None, False),
    ({"type": "array", "items": {"type": "integer"}, "maxItems": 2}, [1, 2], True),
    ({"type": "array", "items": {"type": "integer"}}, [1, "2"], False),
    ({"type": "array", "minItems": 1}, [], False),
    ({"type": "array", "uniqueItems": True}, [1, 1.0], False),
    ({"type": "object", "required": ["a"]}, {}, False),
    ({"type": "object", "properties": {"a": {}}, "additionalProperties": False}, {"b": 1}, False),
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}, False),
    ({**DEFS, "$ref": "#/$defs/P"}, {"n": 1}, True),
    ({**DEFS, "type": "array", "items": {"$ref": "#/$defs/P"}}, [{"n": "x"}], False),
    ({"title": "T", "description": "d", "default": 1, "type": "integer"}, 1, True),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), CASES)
def test_schema_errors_subset(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    assert (ecs_st.schema_errors(instance, schema) == []) is valid


def test_schema_errors_refuses_unknown_keywords() -> None:
    with pytest.raises(ecs_st.UnsupportedSchemaError, match="if"):
        ecs_st.schema_errors(1, {"if": {"type": "integer"}, "then": {"minimum": 3}})
    with pytest.raises(ecs_st.UnsupportedSchemaError, match="does not resolve"):
        ecs_st.schema_errors(1, {"$ref": "#/$defs/Missing"})


@FAST
@given(st.data())
def test_json_instances_are_valid_against_the_schema(data: st.DataObject) -> None:
    tool = data.draw(ecs_st.tool_schemas())
    value = data.draw(ecs_st.json_instances(tool.parameters))
    assert ecs_st.schema_errors(value, tool.parameters) == []
    assert json.loads(json.dumps(value)) == value
