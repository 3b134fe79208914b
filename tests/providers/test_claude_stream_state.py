"""The Anthropic stream state machine, fed plain events (no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_agent.errors import StreamError
from ecs_agent.providers._anthropic_stream import ClaudeStreamState
from ecs_agent.types import StreamDelta, ToolCall, Usage


def ev(payload: dict[str, Any]) -> tuple[str, str]:
    return payload["type"], json.dumps(payload)


START = ev({"type": "message_start", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "content": [],
    "usage": {"input_tokens": 10, "cache_creation_input_tokens": None,
              "cache_read_input_tokens": 5, "output_tokens": 1}}})
STOP = ev({"type": "message_stop"})


def text_block(index: int, *pieces: str) -> list[tuple[str, str]]:
    return [
        ev({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}),
        *[ev({"type": "content_block_delta", "index": index,
              "delta": {"type": "text_delta", "text": p}}) for p in pieces],
        ev({"type": "content_block_stop", "index": index}),
    ]


def tool_block(index: int, tool_id: str, name: str, *fragments: str) -> list[tuple[str, str]]:
    return [
        ev({"type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}}}),
        *[ev({"type": "content_block_delta", "index": index,
              "delta": {"type": "input_json_delta", "partial_json": f}}) for f in fragments],
        ev({"type": "content_block_stop", "index": index}),
    ]


def message_delta(stop_reason: str, output_tokens: int) -> tuple[str, str]:
    return ev({"type": "message_delta", "delta": {"stop_reason": stop_reason},
               "usage": {"output_tokens": output_tokens}})


def run(events: list[tuple[str, str]], structured: str | None = None) -> list[StreamDelta]:
    state = ClaudeStreamState(structured)
    out: list[StreamDelta] = []
    for name, data in events:
        out.extend(state.feed(name, data))
    state.finish()
    return out


def test_text_is_yielded_piece_by_piece_then_one_final_delta() -> None:
    deltas = run([START, *text_block(0, "Hel", "lo"), ("ping", '{"type": "ping"}'),
                  message_delta("end_turn", 7), STOP])
    assert deltas == [
        StreamDelta(content="Hel"), StreamDelta(content="lo"),
        StreamDelta(finish_reason="stop", usage=Usage(15, 7, 22)),
    ]


def test_tool_call_fragments_yield_one_complete_call() -> None:
    deltas = run([START, *text_block(0, "Sure."),
                  *tool_block(1, "toolu_1", "get_weather", "", '{"ci', 'ty": "Par', 'is"}'),
                  *tool_block(2, "toolu_2", "now"),
                  message_delta("tool_use", 30), STOP])
    assert deltas == [
        StreamDelta(content="Sure."),
        StreamDelta(tool_calls=[ToolCall("toolu_1", "get_weather", {"city": "Paris"})]),
        StreamDelta(tool_calls=[ToolCall("toolu_2", "now", {})]),
        StreamDelta(finish_reason="tool_calls", usage=Usage(15, 30, 45)),
    ]
    assert [d.finish_reason is not None for d in deltas] == [False, False, False, True]


def test_structured_tool_is_yielded_as_compact_json_content() -> None:
    deltas = run([START, *tool_block(0, "toolu_1", "person", '{"name": ', '"Ada"}'),
                  message_delta("tool_use", 9), STOP], structured="person")
    assert deltas == [StreamDelta(content='{"name":"Ada"}'),
                      StreamDelta(finish_reason="stop", usage=Usage(15, 9, 24))]


def test_message_delta_usage_replaces_start_figures() -> None:
    deltas = run([START, *text_block(0, "x"),
                  ev({"type": "message_delta", "delta": {"stop_reason": "max_tokens"},
                      "usage": {"input_tokens": 12, "cache_read_input_tokens": 0,
                                "output_tokens": 3}}),
                  STOP])
    assert deltas[-1] == StreamDelta(finish_reason="length", usage=Usage(12, 3, 15))


def test_unknown_events_and_delta_types_are_ignored() -> None:
    deltas = run([START, ("future_event", '{"type": "future_event", "x": 1}'),
                  ("weird", "not json"),
                  *text_block(0, "a"),
                  ev({"type": "content_block_delta", "index": 0,
                      "delta": {"type": "citations_delta", "citation": {}}}),
                  message_delta("end_turn", 1), STOP])
    assert [d.content for d in deltas] == ["a", None]


def test_error_event_raises_stream_error_with_type_and_message() -> None:
    state = ClaudeStreamState()
    state.feed(*START)
    with pytest.raises(StreamError) as info:
        state.feed("error", json.dumps({"type": "error", "error": {
            "type": "overloaded_error", "message": "Overloaded"}}))
    assert "overloaded_error" in str(info.value)
    assert "Overloaded" in str(info.value)
    assert info.value.body == {"type": "error", "error": {"type": "overloaded_error",
                                                          "message": "Overloaded"}}


def test_end_without_message_stop_raises() -> None:
    state = ClaudeStreamState()
    state.feed(*START)
    state.feed(*text_block(0, "partial")[1])
    with pytest.raises(StreamError, match="before message_stop"):
        state.finish()


def test_invalid_tool_json_raises_naming_the_tool() -> None:
    with pytest.raises(StreamError, match="get_weather"):
        run([START, *tool_block(0, "toolu_1", "get_weather", '{"city": '), STOP])


def test_invalid_json_in_known_event_raises() -> None:
    state = ClaudeStreamState()
    with pytest.raises(StreamError, match="invalid JSON"):
        state.feed("message_start", "{broken")


def test_events_after_message_stop_are_ignored() -> None:
    state = ClaudeStreamState()
    state.feed(*START)
    assert state.feed(*STOP)[-1].finish_reason == "stop"
    assert state.feed(*text_block(0, "late")[1]) == []


def test_structured_answer_cut_by_max_tokens_is_partial_content_and_length() -> None:
    deltas = run([START, *tool_block(0, "toolu_1", "person", '{"name": "Ad'),
                  message_delta("max_tokens", 9), STOP], structured="person")
    assert deltas == [StreamDelta(content='{"name": "Ad'),
                      StreamDelta(finish_reason="length", usage=Usage(15, 9, 24))]
