"""Domain types: lossless to_dict/from_dict for every type, and validating from_dict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.types import (
    CompletionResult,
    Message,
    RetryConfig,
    StreamDelta,
    ToolCall,
    ToolSchema,
    Usage,
)

json_scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(
    allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=5)
optional_text = st.none() | st.text()

tool_calls = st.builds(ToolCall, id=st.text(), name=st.text(), arguments=json_objects)
messages = st.builds(
    Message,
    role=st.sampled_from(["system", "user", "assistant", "tool"]),
    content=st.text(),
    tool_calls=st.none() | st.lists(tool_calls, max_size=3),
    tool_call_id=optional_text,
)
tool_schemas = st.builds(ToolSchema, name=st.text(), description=st.text(),
                         parameters=json_objects, sandbox_compatible=st.booleans())
counts = st.integers(min_value=0, max_value=10**9)
usages = st.builds(Usage, prompt_tokens=counts, completion_tokens=counts, total_tokens=counts)
completion_results = st.builds(CompletionResult, message=messages, usage=st.none() | usages)
stream_deltas = st.builds(
    StreamDelta,
    content=optional_text,
    tool_calls=st.none() | st.lists(tool_calls, max_size=3),
    finish_reason=st.none() | st.sampled_from(["stop", "tool_calls", "length",
                                               "content_filter"]),
    usage=st.none() | usages,
)
waits = st.floats(min_value=0, max_value=1e6)
retry_configs = st.builds(
    lambda attempts, multiplier, a, b, codes: RetryConfig(
        max_attempts=attempts, multiplier=multiplier, min_wait=min(a, b), max_wait=max(a, b),
        retry_status_codes=tuple(codes)),
    st.integers(min_value=1, max_value=50), st.floats(min_value=0, max_value=100),
    waits, waits, st.lists(st.integers(min_value=100, max_value=599), max_size=6),
)

ALL = {
    ToolCall: tool_calls, Message: messages, ToolSchema: tool_schemas, Usage: usages,
    CompletionResult: completion_results, StreamDelta: stream_deltas, RetryConfig: retry_configs,
}


@pytest.mark.parametrize("cls", list(ALL), ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip(cls: type[Any], data: st.DataObject) -> None:
    value: Any = data.draw(ALL[cls])
    as_dict = value.to_dict()
    again = cls.from_dict(json.loads(json.dumps(as_dict)))  # through real JSON
    assert again == value
    assert again.to_dict() == as_dict


@settings(max_examples=40, deadline=None)
@given(message=messages)
def test_none_fields_are_left_out(message: Message) -> None:
    as_dict = message.to_dict()
    assert ("tool_calls" in as_dict) == (message.tool_calls is not None)
    assert ("tool_call_id" in as_dict) == (message.tool_call_id is not None)


@settings(max_examples=40, deadline=None)
@given(delta=stream_deltas)
def test_stream_delta_omits_none(delta: StreamDelta) -> None:
    as_dict = delta.to_dict()
    for name in ("content", "tool_calls", "finish_reason", "usage"):
        assert (name in as_dict) == (getattr(delta, name) is not None)


@settings(max_examples=40, deadline=None)
@given(call=tool_calls)
def test_to_dict_copies_arguments(call: ToolCall) -> None:
    as_dict = call.to_dict()
    as_dict["arguments"]["__added__"] = 1
    assert "__added__" not in call.arguments


def test_known_dicts() -> None:
    message = Message(role="assistant", content="",
                      tool_calls=[ToolCall(id="c1", name="f", arguments={"x": [1, {"y": None}]})])
    assert message.to_dict() == {
        "role": "assistant", "content": "",
        "tool_calls": [{"id": "c1", "name": "f", "arguments": {"x": [1, {"y": None}]}}],
    }
    assert ToolSchema(name="f", description="d", parameters={}).to_dict() == {
        "name": "f", "description": "d", "parameters": {}}
    assert ToolSchema(name="f", description="d", parameters={},
                      sandbox_compatible=True).to_dict()["sandbox_compatible"] is True
    assert StreamDelta().to_dict() == {}
    assert CompletionResult(message=Message(role="user", content="x")).to_dict() == {
        "message": {"role": "user", "content": "x"}}


@pytest.mark.parametrize(
    ("cls", "data", "message"),
    [
        (Message, [1, 2], r"Message.from_dict expects a mapping, got list"),
        (Message, {"role": "user"}, r"invalid Message: content: Field required"),
        (Message, {"role": "user", "content": None}, r"invalid Message: content: "),
        (Message, {"role": "user", "content": "x", "extra": 1},
         r"invalid Message: extra: Unexpected keyword"),
        (CompletionResult, {"message": {"role": "assistant", "content": "x",
                                        "tool_calls": [{"id": "c", "name": "f"}]}},
         r"invalid CompletionResult: message\.tool_calls\.0\.arguments: Field required"),
        (ToolCall, {"id": "c", "name": "f", "arguments": "{}"},
         r"invalid ToolCall: arguments: "),
        (Usage, {"prompt_tokens": 1, "completion_tokens": 2}, r"total_tokens: Field required"),
        (StreamDelta, {"usage": {"prompt_tokens": "many", "completion_tokens": 1,
                                 "total_tokens": 1}}, r"invalid StreamDelta: usage\.prompt_tokens"),
        (ToolSchema, {"name": "f", "description": "d"}, r"parameters: Field required"),
    ],
)
def test_from_dict_errors_name_the_field(cls: type[Any], data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls.from_dict(data)


def test_from_dict_builds_nested_instances() -> None:
    result = CompletionResult.from_dict({
        "message": {"role": "assistant", "content": "",
                    "tool_calls": [{"id": "c", "name": "f", "arguments": {"a": 1}}]},
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    })
    assert isinstance(result.message, Message)
    assert result.message.tool_calls == [ToolCall(id="c", name="f", arguments={"a": 1})]
    assert result.usage == Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3)
