"""Pure OpenAI wire <-> domain functions, tested with plain dicts and bytes (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from ecs_agent.errors import ProviderResponseError, StreamError
from ecs_agent.providers._openai_stream import OpenAIStreamParser, parse_stream
from ecs_agent.providers._openai_wire import (
    chat_request_body,
    message_to_wire,
    parse_chat_completion,
    parse_tool_arguments,
)
from ecs_agent.types import Message, StreamDelta, ToolCall, ToolSchema, Usage

WEATHER = ToolSchema(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)


# ---------------------------------------------------------------- request bodies


def test_request_body_carries_messages_tools_and_tool_history_in_openai_format() -> None:
    messages = [
        Message("system", "Be brief."),
        Message("user", "Weather in Paris?"),
        Message("assistant", "", tool_calls=[ToolCall("call_1", "get_weather", {"city": "Paris"})]),
        Message("tool", '{"temp": 21}', tool_call_id="call_1"),
    ]
    body = chat_request_body(model="gpt-4o-mini", messages=messages, tools=[WEATHER])
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": WEATHER.parameters,
                },
            }
        ],
    }
    # arguments are a JSON *string* that round-trips to the original dict
    wire_args = body["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert isinstance(wire_args, str)
    assert json.loads(wire_args) == {"city": "Paris"}


def test_assistant_text_next_to_tool_calls_is_kept() -> None:
    wire = message_to_wire(
        Message("assistant", "Let me check.", tool_calls=[ToolCall("c", "f", {})])
    )
    assert wire["content"] == "Let me check."
    assert wire["tool_calls"][0]["function"]["arguments"] == "{}"


def test_streaming_request_asks_for_usage_and_forwards_response_format() -> None:
    rf = {"type": "json_object"}
    body = chat_request_body(model="m", messages=[Message("user", "hi")], stream=True,
                             response_format=rf)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"] is rf


def test_non_streaming_request_omits_stream_keys_and_empty_tools() -> None:
    body = chat_request_body(model="m", messages=[Message("user", "hi")], tools=[])
    assert set(body) == {"model", "messages"}


def test_tool_message_without_tool_call_id_is_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="role 'tool' needs tool_call_id"):
        message_to_wire(Message("tool", "42"))


def test_sdk_style_arguments_get_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"messages\[0\] is a dict, not an ecs_agent Message"):
        chat_request_body(model="m", messages=[{"role": "user", "content": "hi"}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-empty list of Message"):
        chat_request_body(model="m", messages=[])
    with pytest.raises(TypeError, match=r"tools\[0\] is a dict, not a ToolSchema"):
        chat_request_body(model="m", messages=[Message("user", "hi")],
                          tools=[{"type": "function"}])  # type: ignore[list-item]

    class Answer(BaseModel):
        text: str

    with pytest.raises(TypeError, match=r"pass pydantic_to_response_format\(Model\)"):
        chat_request_body(model="m", messages=[Message("user", "hi")],
                          response_format=Answer)  # type: ignore[arg-type]


# ---------------------------------------------------------------- non-streamed results


def completion(message: dict[str, Any], usage: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def test_text_answer_and_usage() -> None:
    result = parse_chat_completion(completion(
        {"role": "assistant", "content": "Paris.", "refusal": None},
        {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13},
    ))
    assert result.message == Message("assistant", "Paris.")
    assert result.usage == Usage(11, 2, 13)


def test_null_content_becomes_empty_string_and_missing_usage_is_none() -> None:
    result = parse_chat_completion(completion({"role": "assistant", "content": None}))
    assert result.message.content == ""
    assert result.usage is None


def test_refusal_is_surfaced_as_content_when_content_is_null() -> None:
    result = parse_chat_completion(completion(
        {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    ))
    assert result.message.content == "I can't help with that."


def test_tool_calls_have_parsed_arguments() -> None:
    result = parse_chat_completion(completion({
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_b", "type": "function",
             "function": {"name": "get_time", "arguments": "{}"}},
        ],
    }))
    assert result.message.content == ""
    assert result.message.tool_calls == [
        ToolCall("call_a", "get_weather", {"city": "Paris"}),
        ToolCall("call_b", "get_time", {}),
    ]


def test_unparseable_tool_arguments_name_the_tool_call() -> None:
    body = completion({"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_bad", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Par'}},
    ]})
    with pytest.raises(ProviderResponseError, match=r"'call_bad' \(get_weather\).*not valid JSON"):
        parse_chat_completion(body)


def test_tool_arguments_that_are_not_an_object_are_rejected() -> None:
    with pytest.raises(ProviderResponseError, match="JSON list, expected an object"):
        parse_tool_arguments("[1, 2]", call_id="c", name="f")
    assert parse_tool_arguments("", call_id="c", name="f") == {}


@pytest.mark.parametrize("body", [
    {"id": "x", "choices": []},
    {"id": "x"},
    [],
    {"choices": [{"index": 0}]},
])
def test_answers_without_a_choice_raise(body: Any) -> None:
    with pytest.raises(ProviderResponseError, match="openai: "):
        parse_chat_completion(body)


# ---------------------------------------------------------------- streams


def frame(delta: dict[str, Any] | None = None, finish: str | None = None,
          usage: dict[str, int] | None = None, choices: bool = True) -> bytes:
    data: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk"}
    data["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}] \
        if choices else []
    data["usage"] = usage
    return f"data: {json.dumps(data)}\n\n".encode()


DONE = b"data: [DONE]\n\n"
USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def test_text_deltas_come_out_as_their_frames_complete() -> None:
    parser = OpenAIStreamParser()
    assert parser.feed(frame({"role": "assistant", "content": ""})) == []
    assert parser.feed(frame({"content": "Hel"})) == [StreamDelta(content="Hel")]
    first_half = frame({"content": "lo"})
    assert parser.feed(first_half[:10]) == []
    assert parser.feed(first_half[10:]) == [StreamDelta(content="lo")]
    # finish_reason is held back until [DONE], after the usage chunk
    assert parser.feed(frame({}, finish="stop")) == []
    assert parser.feed(frame(choices=False, usage=USAGE)) == []
    assert parser.feed(DONE) == [StreamDelta(finish_reason="stop", usage=Usage(5, 3, 8))]
    assert parser.done
    assert parser.close() == []


def test_parallel_tool_calls_are_reassembled_by_index_and_yielded_once_in_order() -> None:
    chunks = [
        frame({"role": "assistant", "content": None, "tool_calls": [
            {"index": 1, "id": "call_B", "type": "function",
             "function": {"name": "get_time", "arguments": ""}}]}),
        frame({"tool_calls": [{"index": 0, "id": "call_A", "type": "function",
                               "function": {"name": "get_weather", "arguments": '{"ci'}}]}),
        frame({"tool_calls": [{"index": 1, "function": {"arguments": '{"tz": "UTC"}'}}]}),
        frame({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        frame({}, finish="tool_calls"),
        frame(choices=False, usage=USAGE),
        DONE,
    ]
    deltas = parse_stream(chunks)
    assert deltas == [StreamDelta(
        tool_calls=[ToolCall("call_A", "get_weather", {"city": "Paris"}),
                    ToolCall("call_B", "get_time", {"tz": "UTC"})],
        finish_reason="tool_calls",
        usage=Usage(5, 3, 8),
    )]


def test_stream_without_usage_chunk_ends_with_finish_only() -> None:
    deltas = parse_stream([frame({"content": "ok"}), frame({}, finish="length"), DONE])
    assert deltas == [StreamDelta(content="ok"), StreamDelta(finish_reason="length")]


def test_stream_with_finish_reason_but_no_done_still_finishes() -> None:
    deltas = parse_stream([frame({"content": "ok"}), frame({}, finish="stop")])
    assert deltas[-1] == StreamDelta(finish_reason="stop")


def test_stream_cut_before_finish_raises_stream_error() -> None:
    parser = OpenAIStreamParser()
    assert parser.feed(frame({"content": "Hel"})) == [StreamDelta(content="Hel")]
    with pytest.raises(StreamError, match="without a finish_reason or 'data: \\[DONE\\]'"):
        parser.close()


def test_error_object_in_a_data_frame_raises_with_its_message() -> None:
    parser = OpenAIStreamParser()
    parser.feed(frame({"content": "Hel"}))
    error = b'data: {"error": {"message": "The server had an error", "type": "server_error"}}\n\n'
    with pytest.raises(StreamError, match="The server had an error"):
        parser.feed(error)


def test_non_json_frame_raises_stream_error() -> None:
    with pytest.raises(StreamError, match="not JSON"):
        OpenAIStreamParser().feed(b"data: {oops\n\n")


def test_bad_streamed_tool_arguments_name_the_tool_call() -> None:
    chunks = [
        frame({"tool_calls": [{"index": 0, "id": "call_X", "type": "function",
                               "function": {"name": "f", "arguments": '{"a": '}}]}),
        frame({}, finish="tool_calls"),
        DONE,
    ]
    with pytest.raises(ProviderResponseError, match=r"'call_X' \(f\)"):
        parse_stream(chunks)


def test_streamed_refusal_is_surfaced_as_content() -> None:
    deltas = parse_stream([frame({"content": None, "refusal": "I can't"}),
                           frame({"refusal": " help."}), frame({}, finish="stop"), DONE])
    assert [d.content for d in deltas[:-1]] == ["I can't", " help."]


def test_comments_and_bytes_after_done_are_ignored() -> None:
    deltas = parse_stream([b": keep-alive\n\n", frame({"content": "a"}), frame({}, finish="stop"),
                           DONE, b"data: {garbage\n\n"])
    assert deltas == [StreamDelta(content="a"), StreamDelta(finish_reason="stop")]
