"""Every chat strategy's output is valid: checked here, not assumed."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent import strategies as ecs_st

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NO_SHRINK = settings(max_examples=500, phases=[Phase.generate], database=None)
ID_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@FAST
@given(ecs_st.texts())
def test_texts_encode_as_utf8_and_have_no_nul(text: str) -> None:
    text.encode("utf-8")  # no lone surrogates: this would raise
    assert "\x00" not in text


def test_texts_give_nul_only_when_asked() -> None:
    assert "\x00" in find(ecs_st.texts(allow_nul=True), lambda s: "\x00" in s, settings=NO_SHRINK)


@FAST
@given(ecs_st.texts(min_size=2, max_size=5, allow_blank=False))
def test_texts_sizes_and_blank(text: str) -> None:
    assert 2 <= len(text) <= 5
    assert text.strip()


@FAST
@given(ecs_st.tool_schemas())
def test_tool_schemas_are_json_schema_objects(tool: ToolSchema) -> None:
    params = tool.parameters
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert set(params["required"]) <= set(params["properties"])
    assert tool.name[0].isalpha() and set(tool.name) <= ID_OK
    assert tool.description.strip()
    json.dumps(params)  # plain JSON
    assert ToolSchema.from_dict(tool.to_dict()) == tool


@FAST
@given(st.data())
def test_tool_calls_are_valid_for_the_given_tools(data: st.DataObject) -> None:
    tools = data.draw(st.lists(ecs_st.tool_schemas(), min_size=1, max_size=3,
                               unique_by=lambda t: t.name))
    call = data.draw(ecs_st.tool_calls(tools=tools))
    by_name = {t.name: t for t in tools}
    assert call.name in by_name
    assert set(call.id) <= ID_OK and call.id
    assert ecs_st.schema_errors(call.arguments, by_name[call.name].parameters) == []
    assert json.loads(json.dumps(call.arguments)) == call.arguments
    params = by_name[call.name].parameters
    assert set(params["required"]) <= set(call.arguments) <= set(params["properties"])


def _check_conversation(conversation: list[Message], tools: list[ToolSchema]) -> None:
    by_name = {t.name: t for t in tools}
    roles = [m.role for m in conversation]
    assert "system" not in roles[1:]
    body = roles[1:] if roles[0] == "system" else roles
    assert body[0] == "user"
    assert conversation[-1].role in ("user", "tool")
    seen_ids: set[str] = set()
    i = 0
    while i < len(conversation):
        message = conversation[i]
        assert isinstance(message.content, str)
        if message.role == "tool":
            raise AssertionError(f"tool message {i} answers no call")
        if message.role == "assistant" and message.tool_calls:
            for j, call in enumerate(message.tool_calls):
                assert call.id not in seen_ids
                seen_ids.add(call.id)
                assert ecs_st.schema_errors(call.arguments, by_name[call.name].parameters) == []
                answer = conversation[i + 1 + j]
                assert answer.role == "tool" and answer.tool_call_id == call.id
                assert answer.content.strip()
            i += 1 + len(message.tool_calls)
            continue
        assert message.content.strip()
        assert message.tool_call_id is None
        i += 1


@FAST
@given(st.data())
def test_conversations_are_valid(data: st.DataObject) -> None:
    tools = data.draw(st.lists(ecs_st.tool_schemas(max_depth=1), min_size=1, max_size=3,
                               unique_by=lambda t: t.name))
    conversation = data.draw(ecs_st.conversations(tools=tools, max_rounds=4))
    _check_conversation(conversation, tools)
    for message in conversation:
        assert Message.from_dict(message.to_dict()) == message


def test_conversations_do_produce_tool_turns() -> None:
    found = find(ecs_st.conversations(tools=True),
                 lambda c: any(m.role == "tool" for m in c), settings=NO_SHRINK)
    assert any(m.tool_calls for m in found)


@FAST
@given(ecs_st.conversations())
def test_conversations_without_tools_have_no_tool_turns(conversation: list[Message]) -> None:
    assert all(m.role != "tool" and not m.tool_calls for m in conversation)
    _check_conversation(conversation, [])


@FAST
@given(st.from_type(Message))
def test_from_type_message_is_a_valid_message(message: Message) -> None:
    assert message.role in ("system", "user", "assistant", "tool")
    assert (message.role == "tool") == (message.tool_call_id is not None)
    if message.tool_calls is not None:
        assert message.role == "assistant" and message.tool_calls
    else:
        assert message.content.strip()
    assert Message.from_dict(message.to_dict()) == message


@FAST
@given(ecs_st.messages(roles=["user"]))
def test_messages_respect_roles(message: Message) -> None:
    assert message.role == "user"


@FAST
@given(st.from_type(CompletionResult), st.from_type(Usage), st.from_type(ToolCall),
       st.from_type(ToolSchema), st.from_type(StreamDelta))
def test_every_domain_type_is_registered(result: CompletionResult, usage: Usage, call: ToolCall,
                                         tool: ToolSchema, delta: StreamDelta) -> None:
    assert result.message.role == "assistant"
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert isinstance(call.arguments, dict)
    assert tool.parameters["type"] == "object"
    assert any((delta.content, delta.tool_calls, delta.finish_reason))
    assert StreamDelta.from_dict(delta.to_dict()) == delta


@FAST
@given(st.data())
def test_completion_results_are_valid(data: st.DataObject) -> None:
    tools = data.draw(st.lists(ecs_st.tool_schemas(max_depth=1), min_size=1, max_size=2,
                               unique_by=lambda t: t.name))
    result = data.draw(ecs_st.completion_results(tools=tools, tool_calls=True, usage=True))
    assert result.message.role == "assistant" and result.message.tool_calls
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    ids = [c.id for c in result.message.tool_calls]
    assert len(set(ids)) == len(ids)
    by_name = {t.name: t for t in tools}
    for call in result.message.tool_calls:
        assert ecs_st.schema_errors(call.arguments, by_name[call.name].parameters) == []
    assert CompletionResult.from_dict(result.to_dict()) == result


@FAST
@given(ecs_st.completion_results(tool_calls=False, usage=False))
def test_completion_results_options(result: CompletionResult) -> None:
    assert result.message.tool_calls is None and result.usage is None


@pytest.mark.parametrize("build", [
    lambda: ecs_st.texts(min_size=-1),
    lambda: ecs_st.texts(min_size=3, max_size=1),
    lambda: ecs_st.texts(allow_nul="yes"),  # type: ignore[arg-type]
    lambda: ecs_st.texts(max_size=0, allow_blank=False),
    lambda: ecs_st.tool_schemas(max_depth=-1),
    lambda: ecs_st.tool_schemas(min_properties=5, max_properties=2),
    lambda: ecs_st.tool_calls(tools=[]),
    lambda: ecs_st.tool_calls(tools=["not a tool"]),  # type: ignore[list-item]
    lambda: ecs_st.tool_calls(tools=[ToolSchema("a", "d", {"type": "object"})] * 2),
    lambda: ecs_st.messages(roles=["robot"]),
    lambda: ecs_st.conversations(max_rounds="3"),  # type: ignore[arg-type]
    lambda: ecs_st.conversations(min_rounds=4, max_rounds=1),
    lambda: ecs_st.conversations(system=1),  # type: ignore[arg-type]
    lambda: ecs_st.completion_results(tools=[], tool_calls=True),
    lambda: ecs_st.completion_results(usage="always"),  # type: ignore[arg-type]
])
def test_bad_arguments_raise_invalid_argument_eagerly(build: object) -> None:
    with pytest.raises(InvalidArgument):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(("build", "message"), [
    (lambda: ecs_st.identifiers(max_size=0), "max_size=0 must be >= 1: an identifier"),
    (lambda: ecs_st.texts(min_size=-1), "min_size=-1 must be >= 0"),
    (lambda: ecs_st.messages(roles=[]), "roles=\\[\\] must be a non-empty subset"),
    (lambda: ecs_st.tool_schemas(max_depth=True), "max_depth=True must be an int, not a bool"),
    (lambda: ecs_st.conversations(tools="yes"),  # type: ignore[arg-type]
     "tools must be a sequence of ToolSchema or a strategy, got str"),
])
def test_invalid_argument_messages_name_the_argument(build: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        build()  # type: ignore[operator]
