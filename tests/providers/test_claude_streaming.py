"""ClaudeProvider streaming over real sockets: deltas, structured output, failures."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ecs_agent.errors import StreamError
from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

KEY = "sk-ant-test-stream-0123456789"
WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}}})


def claude(server: LoopbackServer, **kwargs: Any) -> ClaudeProvider:
    return ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url, model="claude-test",
                          **kwargs)


async def open_stream(provider: ClaudeProvider, **kwargs: Any) -> AsyncIterator[StreamDelta]:
    stream = await provider.complete([Message("user", "Go")], stream=True, **kwargs)
    assert not isinstance(stream, CompletionResult)
    return stream


async def collect(stream: AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    return [delta async for delta in stream]


def assert_one_final_delta_last(deltas: list[StreamDelta]) -> None:
    finals = [i for i, d in enumerate(deltas) if d.finish_reason is not None]
    assert finals == [len(deltas) - 1]


async def test_text_and_tool_calls_stream(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(
        ["I'll ", "check."],
        tool_calls=[("toolu_1", "get_weather", {"city": "San Francisco"}),
                    ("toolu_2", "get_weather", {})],
        usage=(351, 85), cache_read_input_tokens=9, json_chunk_size=3)))
    async with claude(llm_server) as provider:
        deltas = await collect(await open_stream(provider, tools=[WEATHER]))
    assert deltas == [
        StreamDelta(content="I'll "),
        StreamDelta(content="check."),
        StreamDelta(tool_calls=[ToolCall("toolu_1", "get_weather", {"city": "San Francisco"})]),
        StreamDelta(tool_calls=[ToolCall("toolu_2", "get_weather", {})]),
        StreamDelta(finish_reason="tool_calls", usage=Usage(360, 85, 445)),
    ]
    body = llm_server.requests[0].json
    assert body["stream"] is True
    assert llm_server.requests[0].headers["accept"] == "text/event-stream"


async def test_max_tokens_stream_finishes_with_length(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["cut"], stop_reason="max_tokens")))
    async with claude(llm_server) as provider:
        deltas = await collect(await open_stream(provider))
    assert_one_final_delta_last(deltas)
    assert deltas[-1].finish_reason == "length"


async def test_structured_output_streams_as_content(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(
        tool_calls=[("toolu_1", "person", '{"name": "Ada", "age": 36}')], json_chunk_size=4)))
    response_format = {"type": "json_schema", "json_schema": {
        "name": "person", "schema": {"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"type": "integer"}}}}}
    async with claude(llm_server) as provider:
        deltas = await collect(await open_stream(provider, response_format=response_format))
    assert [d.content for d in deltas[:-1]] == ['{"name":"Ada","age":36}']
    assert all(d.tool_calls is None for d in deltas)
    assert deltas[-1].finish_reason == "stop"
    body = llm_server.requests[0].json
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "person"}


async def test_error_event_mid_stream_raises_stream_error(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture,
) -> None:
    frames = wire.anthropic_stream(["Hello", " world"])
    cut = next(i for i, f in enumerate(frames) if "text_delta" in f) + 1
    llm_server.enqueue(Reply.sse([*frames[:cut],
                                  wire.anthropic_error_event("overloaded_error", "Overloaded")]))
    got: list[StreamDelta] = []
    async with claude(llm_server) as provider:
        stream = await open_stream(provider)
        with pytest.raises(StreamError) as info:
            async for delta in stream:
                got.append(delta)
    assert got == [StreamDelta(content="Hello")]
    assert "overloaded_error" in str(info.value)
    assert "Overloaded" in str(info.value)
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert "overloaded_error" in caplog.text
    assert KEY not in caplog.text


async def test_error_event_before_any_output_is_an_http_error(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.sse([wire.anthropic_error_event("overloaded_error", "Overloaded")]))
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "Go")], stream=True)
    assert info.value.response.status_code == 529
    assert "Overloaded" in str(info.value)
    assert KEY not in str(info.value)


async def test_dropped_stream_raises_stream_error(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["a", "b", "c"]), drop_after=4))
    got: list[StreamDelta] = []
    async with claude(llm_server) as provider:
        stream = await open_stream(provider)
        with pytest.raises(StreamError, match="incomplete") as info:
            async for delta in stream:
                got.append(delta)
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert all(d.finish_reason is None for d in got)


async def test_stream_cut_before_any_event_is_a_request_error(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["a"]), drop_after=0))
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.RemoteProtocolError):
            await provider.complete([Message("user", "Go")], stream=True)


async def test_json_answer_to_a_stream_request_is_a_stream_error(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message("not a stream")))
    async with claude(llm_server) as provider:
        with pytest.raises(StreamError, match="not an Anthropic event stream"):
            await provider.complete([Message("user", "Go")], stream=True)


async def test_stream_without_message_stop_raises(llm_server: LoopbackServer) -> None:
    frames = [f for f in wire.anthropic_stream(["partial"]) if "message_stop" not in f]
    llm_server.enqueue(Reply.sse(frames))
    async with claude(llm_server) as provider:
        stream = await open_stream(provider)
        with pytest.raises(StreamError, match="before message_stop"):
            await collect(stream)


async def test_http_error_on_stream_request(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.error(429, "slow down", vendor="anthropic"))
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError, match="slow down"):
            await provider.complete([Message("user", "Go")], stream=True)


async def test_closing_early_closes_the_response(llm_server: LoopbackServer) -> None:
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["one", "two", "three"]), delay=0.05))
    async with httpx.AsyncClient(event_hooks={"response": [keep]}) as client:
        provider = claude(llm_server, client=client)
        stream = await open_stream(provider)
        first = await stream.__anext__()
        assert first == StreamDelta(content="one")
        assert not responses[0].is_closed
        await stream.aclose()  # type: ignore[attr-defined]
        assert responses[0].is_closed
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_unread_stream_closed_at_once_releases_the_response(
    llm_server: LoopbackServer,
) -> None:
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["x"])))
    async with httpx.AsyncClient(event_hooks={"response": [keep]}) as client:
        stream = await open_stream(claude(llm_server, client=client))
        await stream.aclose()  # type: ignore[attr-defined]
        assert responses[0].is_closed


async def test_stream_ends_cleanly_and_closes(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture,
) -> None:
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        responses.append(response)

    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["ok"])))
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(event_hooks={"response": [keep]}) as client:
        deltas = await collect(await open_stream(claude(llm_server, client=client)))
    assert "".join(d.content or "" for d in deltas) == "ok"
    assert_one_final_delta_last(deltas)
    assert responses[0].is_closed
    assert KEY not in caplog.text
