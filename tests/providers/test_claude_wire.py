"""Anthropic wire <-> domain translation, on plain dicts (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_agent.providers._anthropic_wire import (
    build_request_body,
    finish_reason_from_wire,
    messages_to_wire,
    result_from_wire,
    structured_output_tool,
    tools_to_wire,
    usage_from_wire,
)
from ecs_agent.types import Message, ToolCall, ToolSchema, Usage

WEATHER = ToolSchema(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)
PERSON_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "strict": True,
        "schema": {"type": "object", "properties": {"name": {"type": "string"}},
                   "required": ["name"], "additionalProperties": False},
    },
}


def test_system_messages_go_top_level_joined() -> None:
    system, wire = messages_to_wire([
        Message("system", "Be brief."),
        Message("user", "Hi"),
        Message("system", "Answer in French."),
    ])
    assert system == "Be brief.\n\nAnswer in French."
    assert wire == [{"role": "user", "content": "Hi"}]


def test_no_system_gives_none() -> None:
    system, _ = messages_to_wire([Message("user", "Hi")])
    assert system is None


def test_assistant_tool_calls_become_tool_use_after_text() -> None:
    _, wire = messages_to_wire([
        Message("user", "Weather?"),
        Message("assistant", "Let me look.", tool_calls=[
            ToolCall("toolu_1", "get_weather", {"city": "Paris"}),
            ToolCall("toolu_2", "get_weather", {"city": "Rome"}),
        ]),
    ])
    assert wire[1] == {"role": "assistant", "content": [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
    ]}


def test_assistant_with_empty_content_sends_no_empty_text_block() -> None:
    _, wire = messages_to_wire([
        Message("user", "Weather?"),
        Message("assistant", "", tool_calls=[ToolCall("toolu_1", "get_weather", {})]),
    ])
    assert wire[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}
    ]


def test_consecutive_tool_results_and_next_user_text_make_one_user_turn() -> None:
    _, wire = messages_to_wire([
        Message("user", "Weather in Paris and Rome?"),
        Message("assistant", "", tool_calls=[ToolCall("t1", "get_weather", {"city": "Paris"}),
                                             ToolCall("t2", "get_weather", {"city": "Rome"})]),
        Message("tool", "18C", tool_call_id="t1"),
        Message("tool", "24C", tool_call_id="t2"),
        Message("user", "And which is warmer?"),
    ])
    assert [turn["role"] for turn in wire] == ["user", "assistant", "user"]
    assert wire[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "18C"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "24C"},
        {"type": "text", "text": "And which is warmer?"},
    ]


def test_tool_results_come_before_text_even_when_the_text_came_first() -> None:
    _, wire = messages_to_wire([
        Message("assistant", "", tool_calls=[ToolCall("t1", "f", {})]),
        Message("user", "(note)"),
        Message("tool", "done", tool_call_id="t1"),
    ])
    assert wire[1]["content"][0]["type"] == "tool_result"
    assert wire[1]["content"][1] == {"type": "text", "text": "(note)"}


def test_empty_tool_result_has_no_content_key() -> None:
    _, wire = messages_to_wire([
        Message("user", "go"),
        Message("assistant", "", tool_calls=[ToolCall("t1", "f", {})]),
        Message("tool", "", tool_call_id="t1"),
    ])
    assert wire[2] == {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]}


def test_consecutive_user_messages_merge() -> None:
    _, wire = messages_to_wire([Message("user", "a"), Message("user", "b")])
    assert wire == [{"role": "user", "content": [{"type": "text", "text": "a"},
                                                  {"type": "text", "text": "b"}]}]


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([Message("tool", "x")], "messages[0]: a 'tool' message needs tool_call_id"),
        ([Message("user", "a"), Message("robot", "x")], "messages[1]: unknown role 'robot'"),
        ([Message("system", "only a system prompt")], "at least one non-empty user"),
    ],
)
def test_bad_messages_raise_value_error(messages: list[Message], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        messages_to_wire(messages)


def test_tools_use_input_schema() -> None:
    silent = ToolSchema(name="noop", description="", parameters={"type": "object"})
    assert tools_to_wire([WEATHER, silent]) == [
        {"name": "get_weather", "description": "Weather for a city",
         "input_schema": WEATHER.parameters},
        {"name": "noop", "input_schema": {"type": "object"}},
    ]


def test_plain_body_has_required_keys_only() -> None:
    body = build_request_body(model="claude-x", messages=[Message("user", "Hi")], tools=None,
                              max_tokens=100, stream=False, structured=None)
    assert body == {"model": "claude-x", "max_tokens": 100,
                    "messages": [{"role": "user", "content": "Hi"}]}


def test_stream_flag_and_tools_in_body() -> None:
    body = build_request_body(model="m", messages=[Message("user", "Hi")], tools=[WEATHER],
                              max_tokens=5, stream=True, structured=None)
    assert body["stream"] is True
    assert body["tools"][0]["input_schema"] == WEATHER.parameters
    assert "tool_choice" not in body


def test_json_schema_format_becomes_forced_tool() -> None:
    structured = structured_output_tool(PERSON_FORMAT)
    body = build_request_body(model="m", messages=[Message("user", "Who?")], tools=None,
                              max_tokens=5, stream=False, structured=structured)
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "person"}
    assert body["tools"] == [{
        "name": "person",
        "description": "Give your complete answer as the input of this tool (person).",
        "input_schema": PERSON_FORMAT["json_schema"]["schema"],
    }]


def test_json_schema_format_with_tools_lets_the_model_choose_any_tool() -> None:
    structured = structured_output_tool(PERSON_FORMAT)
    body = build_request_body(model="m", messages=[Message("user", "Who?")], tools=[WEATHER],
                              max_tokens=5, stream=False, structured=structured)
    assert body["tool_choice"] == {"type": "any"}
    assert [t["name"] for t in body["tools"]] == ["get_weather", "person"]


def test_json_object_format_is_a_forced_permissive_tool() -> None:
    structured = structured_output_tool({"type": "json_object"})
    assert structured is not None
    assert structured.name == "json_object"
    assert structured.input_schema == {"type": "object", "additionalProperties": True}


def test_text_format_and_none_add_nothing() -> None:
    assert structured_output_tool({"type": "text"}) is None
    assert structured_output_tool(None) is None


def test_json_schema_without_name_gets_default_name() -> None:
    structured = structured_output_tool({"type": "json_schema",
                                         "json_schema": {"schema": {"type": "object"}}})
    assert structured is not None and structured.name == "json_response"


@pytest.mark.parametrize(
    ("response_format", "fragment"),
    [
        ({"type": "xml"}, "'json_schema', 'json_object' or 'text'"),
        ({}, "'json_schema', 'json_object' or 'text'"),
        ({"type": "json_schema"}, "needs 'json_schema'"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "array"}}},
         "must have \"type\": \"object\""),
        ({"type": "json_schema", "json_schema": {"name": "bad name!",
                                                 "schema": {"type": "object"}}},
         "must match"),
    ],
)
def test_bad_response_format_raises(response_format: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        structured_output_tool(response_format)
    assert fragment in str(info.value)


def test_format_tool_name_clash_with_user_tool_raises() -> None:
    clash = ToolSchema(name="person", description="d", parameters={"type": "object"})
    with pytest.raises(ValueError, match="rename the tool"):
        build_request_body(model="m", messages=[Message("user", "x")], tools=[clash],
                           max_tokens=5, stream=False,
                           structured=structured_output_tool(PERSON_FORMAT))


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("tool_use", "tool_calls"),
     ("max_tokens", "length"), ("refusal", "content_filter"), ("pause_turn", "pause_turn"),
     (None, "stop")],
)
def test_finish_reason_mapping(stop_reason: str | None, expected: str) -> None:
    assert finish_reason_from_wire(stop_reason) == expected


def test_usage_counts_cache_reads_and_writes_as_prompt() -> None:
    usage = usage_from_wire({"input_tokens": 3, "cache_creation_input_tokens": 10,
                             "cache_read_input_tokens": 1217, "output_tokens": 4})
    assert usage == Usage(prompt_tokens=1230, completion_tokens=4, total_tokens=1234)


def test_usage_missing_or_null_counts_zero() -> None:
    usage = usage_from_wire({"input_tokens": 7, "cache_creation_input_tokens": None,
                             "output_tokens": 2})
    assert usage == Usage(prompt_tokens=7, completion_tokens=2, total_tokens=9)


def test_result_with_text_and_tool_use() -> None:
    result, finish = result_from_wire({
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_9", "name": "get_weather",
             "input": {"city": "Oslo"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 20, "output_tokens": 5},
    })
    assert finish == "tool_calls"
    assert result.message == Message(
        "assistant", "Checking.", tool_calls=[ToolCall("toolu_9", "get_weather", {"city": "Oslo"})]
    )
    assert result.usage == Usage(20, 5, 25)


def test_result_without_text_has_empty_content_and_no_tool_calls() -> None:
    result, finish = result_from_wire({"content": [], "stop_reason": "max_tokens"})
    assert result.message == Message("assistant", "")
    assert result.usage is None
    assert finish == "length"


def test_structured_result_is_content_not_a_tool_call() -> None:
    result, finish = result_from_wire({
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "person",
                     "input": {"name": "Ada", "note": "é"}}],
        "stop_reason": "tool_use",
    }, "person")
    assert result.message.content == '{"name":"Ada","note":"é"}'
    assert result.message.tool_calls is None
    assert finish == "stop"


def test_thinking_blocks_are_skipped() -> None:
    result, _ = result_from_wire({"content": [{"type": "thinking", "thinking": "hmm"},
                                              {"type": "text", "text": "42"}]})
    assert result.message.content == "42"


@pytest.mark.parametrize("body", [None, {"content": "x"}, {"content": [1]},
                                  {"content": [{"type": "tool_use", "input": "x"}]}])
def test_unreadable_result_raises(body: Any) -> None:
    with pytest.raises(ValueError):
        result_from_wire(body)
