"""OpenAIProvider streaming over real sockets against the loopback server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ecs_agent.errors import StreamError
from ecs_agent.intercept import ChatCall, use_interceptor
from ecs_agent.providers.openai_provider import OpenAIProvider
from ecs_agent.types import Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.providers.spy import SpyInterceptor

KEY = "sk-test-stream-0123456789-SECRET"
HI = [Message("user", "Say hello")]
WEATHER = ToolSchema("get_weather", "Weather for a city",
                     {"type": "object", "properties": {"city": {"type": "string"}},
                      "required": ["city"]})


def provider_for(server: LoopbackServer, **kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider(api_key=KEY, base_url=server.openai_base_url, **kwargs)


async def collect(stream: AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    return [delta async for delta in stream]


async def test_text_stream_request_shape_and_deltas(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["Hel", "lo", " wörld 🙂"],
                                                         usage=(9, 4))))
    async with provider_for(llm_server) as provider:
        deltas = await collect(await provider.complete(HI, stream=True))
    assert deltas == [
        StreamDelta(content="Hel"), StreamDelta(content="lo"), StreamDelta(content=" wörld 🙂"),
        StreamDelta(finish_reason="stop", usage=Usage(9, 4, 13)),
    ]
    sent = llm_server.last_request.json
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert llm_server.last_request.headers["authorization"] == f"Bearer {KEY}"


async def test_parallel_streamed_tool_calls_arrive_once_complete_in_the_final_delta(
    llm_server: LoopbackServer,
) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("call_1", "get_weather", {"city": "São Paulo", "days": [1, 2, 3]}),
        ("call_2", "get_weather", {"city": "Oslo"}),
    ]
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(tool_calls=calls,
                                                         arguments_chunk_size=3)))
    async with provider_for(llm_server) as provider:
        deltas = await collect(await provider.complete(HI, tools=[WEATHER], stream=True))
    assert deltas == [StreamDelta(
        tool_calls=[ToolCall(*calls[0]), ToolCall(*calls[1])],
        finish_reason="tool_calls",
        usage=Usage(10, 5, 15),
    )]


async def test_a_stream_reassembles_into_what_a_plain_call_returns(
    llm_server: LoopbackServer,
) -> None:
    calls: list[tuple[str, str, dict[str, Any] | str]] = [
        ("call_9", "get_weather", {"city": "Lima"})]
    llm_server.enqueue(
        Reply.json(wire.openai_chat_completion("Checking.", tool_calls=calls, usage=(7, 3))),
        Reply.sse(wire.openai_chat_stream(["Check", "ing."], tool_calls=calls, usage=(7, 3))),
    )
    async with provider_for(llm_server) as provider:
        plain = await provider.complete(HI, tools=[WEATHER])
        deltas = await collect(await provider.complete(HI, tools=[WEATHER], stream=True))
    finals = [d for d in deltas if d.finish_reason is not None]
    assert finals == [deltas[-1]]
    assert "".join(d.content or "" for d in deltas) == plain.message.content
    assert [tc for d in deltas for tc in d.tool_calls or []] == plain.message.tool_calls
    assert deltas[-1].usage == plain.usage


async def test_first_delta_reaches_the_caller_while_the_server_holds_back_the_rest(
    llm_server: LoopbackServer,
) -> None:
    frames = wire.openai_chat_stream(["first", "second"])[1:]  # first frame carries text
    # the server waits 120 s before each later frame; a buffering provider would hang
    llm_server.enqueue(Reply.sse(frames, delay=120))
    async with provider_for(llm_server) as provider:
        stream = await provider.complete(HI, stream=True)
        first = await asyncio.wait_for(anext(stream), timeout=30)
        assert first == StreamDelta(content="first")
        await stream.aclose()  # type: ignore[attr-defined]


async def test_closing_a_stream_early_releases_the_connection(
    llm_server: LoopbackServer,
) -> None:
    # one pooled connection: if aclose() leaked it, the next request could not get one
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["a", "b"])[1:], delay=120),
                       Reply.sse(wire.openai_chat_stream(["c"]), delay=120),
                       Reply.json(wire.openai_chat_completion("still works")))
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(10, pool=3)) as client:
        provider = OpenAIProvider(KEY, base_url=llm_server.openai_base_url, client=client)
        stream = await provider.complete(HI, stream=True)
        assert await anext(stream) == StreamDelta(content="a")
        await stream.aclose()  # type: ignore[attr-defined]
        never_read = await provider.complete(HI, stream=True)
        await never_read.aclose()  # type: ignore[attr-defined]
        result = await provider.complete(HI)
        assert result.message.content == "still works"
        with pytest.raises(StopAsyncIteration):
            await anext(stream)


async def test_dropped_stream_raises_the_httpx_protocol_error(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    # frames: role, "Hel", "lo", finish, usage, [DONE]; cut after the first two
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["Hel", "lo"]), drop_after=2))
    caplog.set_level(logging.ERROR)
    received: list[StreamDelta] = []
    async with provider_for(llm_server) as provider:
        stream = await provider.complete(HI, stream=True)
        with pytest.raises(httpx.RemoteProtocolError):
            async for delta in stream:
                received.append(delta)
    assert received == [StreamDelta(content="Hel")]
    assert "openai: request failed: RemoteProtocolError" in caplog.text
    assert KEY not in caplog.text


async def test_stream_that_ends_cleanly_without_finish_or_done_raises_stream_error(
    llm_server: LoopbackServer,
) -> None:
    frames = wire.openai_chat_stream(["Hel", "lo"])[:3]  # role, "Hel", "lo": then EOF
    llm_server.enqueue(Reply.sse(frames))
    async with provider_for(llm_server) as provider:
        stream = await provider.complete(HI, stream=True)
        received: list[StreamDelta] = []
        with pytest.raises(StreamError, match="without a finish_reason"):
            async for delta in stream:
                received.append(delta)
    assert received == [StreamDelta(content="Hel"), StreamDelta(content="lo")]


async def test_error_object_inside_the_stream_raises(llm_server: LoopbackServer) -> None:
    error = wire.sse_frame(wire.openai_error("The model is overloaded", type="server_error"))
    frames = [*wire.openai_chat_stream(["Hel"])[:2], error]
    llm_server.enqueue(Reply.sse(frames))
    async with provider_for(llm_server) as provider:
        stream = await provider.complete(HI, stream=True)
        with pytest.raises(StreamError, match="The model is overloaded"):
            await collect(stream)


async def test_http_errors_raise_from_the_complete_call(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    llm_server.enqueue(Reply.error(401, f"Incorrect API key provided: {KEY}"))
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError, match="Incorrect API key") as info:
            await provider.complete(HI, stream=True)
    assert KEY not in str(info.value)
    assert KEY not in caplog.text


async def test_json_answer_to_a_stream_request_raises_stream_error(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("not streamed")))
    async with provider_for(llm_server) as provider:
        with pytest.raises(StreamError, match="asked for a stream but got a JSON answer"):
            await provider.complete(HI, stream=True)


async def test_streaming_goes_through_the_interceptor(llm_server: LoopbackServer) -> None:
    spy = SpyInterceptor()
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["ok"])))
    async with provider_for(llm_server) as provider:
        with use_interceptor(spy):
            deltas = await collect(await provider.complete(HI, stream=True))
    assert deltas[0] == StreamDelta(content="ok")
    assert [(c.provider, isinstance(c, ChatCall) and c.stream, c.secrets)
            for c in spy.calls] == [("openai", True, (KEY,))]


async def test_a_stalled_stream_hits_the_read_timeout(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["a", "b"])[1:], delay=60))
    async with provider_for(llm_server, read_timeout=0.3) as provider:
        stream = await provider.complete(HI, stream=True)
        assert await anext(stream) == StreamDelta(content="a")
        with pytest.raises(httpx.ReadTimeout):
            await anext(stream)
        with pytest.raises(StopAsyncIteration):  # closed after the failure
            await anext(stream)


async def test_finished_streams_hand_their_connection_back_to_the_pool(
    llm_server: LoopbackServer,
) -> None:
    connects: list[str] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.started":
            connects.append(event)

    async def add_trace(request: httpx.Request) -> None:
        request.extensions["trace"] = trace

    for _ in range(3):
        llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["x"])))
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("done")))
    async with httpx.AsyncClient(event_hooks={"request": [add_trace]}) as client:
        provider = OpenAIProvider(KEY, base_url=llm_server.openai_base_url, client=client)
        await collect(await provider.complete(HI, stream=True))  # read to the end
        stream = await provider.complete(HI, stream=True)
        async for delta in stream:  # stop at the final delta, then close
            if delta.finish_reason:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await collect(await provider.complete(HI, stream=True))
        assert (await provider.complete(HI)).message.content == "done"
    assert len(llm_server.requests) == 4
    assert len(connects) == 1, "a streamed call did not give its connection back"
