"""LiteLLMProvider over real HTTP against the loopback server (``openai/`` models).

A network guard (the plugin's own, at the socket level) is on for every test here:
litellm must not reach anything but 127.0.0.1 (no cost-map download, no telemetry).
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from ecs_agent import RetryConfig, RetryProvider
from ecs_agent.errors import MissingDependencyError, StreamError
from ecs_agent.intercept import ChatCall, use_interceptor
from ecs_agent.providers.litellm_provider import LiteLLMProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.network import NetworkGuard, install, uninstall
from tests.providers.spy import SpyInterceptor

# Two warnings raised inside litellm's own code while it handles a stream (pydantic on
# its ReadOnly TypedDicts, and its dir()/getattr() walk over pydantic models). With
# warnings as errors, litellm catches them and reports a connection error. Not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(
        "ignore:Accessing the 'model_.*' attribute on the instance is deprecated"
        ":DeprecationWarning"),
]

KEY = "sk-test-litellm-0123456789"
TOOL = ToolSchema(name="lookup", description="Look something up",
                  parameters={"type": "object", "properties": {"q": {"type": "string"}}})


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[NetworkGuard]:
    guard = NetworkGuard(["127.0.0.1"], describe="a LiteLLMProvider test")
    install(guard)
    try:
        yield guard
    finally:
        uninstall(guard)
    assert guard.blocked == [], f"litellm tried to reach the network: {guard.blocked}"


def provider_for(server: LoopbackServer, **kwargs: Any) -> LiteLLMProvider:
    return LiteLLMProvider(model="openai/gpt-4o-mini", api_key=KEY,
                           base_url=server.openai_base_url, **kwargs)


async def plain(provider: LiteLLMProvider, messages: list[Message], **kwargs: Any
                ) -> CompletionResult:
    result = await provider.complete(messages, **kwargs)
    assert isinstance(result, CompletionResult)
    return result


async def stream_of(provider: LiteLLMProvider, **kwargs: Any) -> AsyncIterator[StreamDelta]:
    stream = await provider.complete([Message("user", "go")], stream=True, **kwargs)
    assert not isinstance(stream, CompletionResult)
    return stream


async def test_text_answer_and_request(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Paris.", usage=(12, 2))))
    async with provider_for(llm_server, temperature=0.25) as provider:
        result = await plain(provider, [Message("system", "Be brief."),
                                        Message("user", "Capital of France?")])
    assert result.message == Message("assistant", "Paris.")
    assert result.usage == Usage(12, 2, 14)
    [request] = llm_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json is not None
    assert request.json["model"] == "gpt-4o-mini"
    assert request.json["temperature"] == 0.25
    assert request.json["messages"] == [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Capital of France?"}]


async def test_tools_and_tool_history_round_trip(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion(
        tool_calls=[("call_2", "lookup", {"q": "y"})])))
    history = [
        Message("user", "find x then y, answer in JSON"),
        Message("assistant", "", tool_calls=[ToolCall("call_1", "lookup", {"q": "x"})]),
        Message("tool", "x is 1", tool_call_id="call_1"),
    ]
    async with provider_for(llm_server) as provider:
        result = await plain(provider, history, tools=[TOOL],
                             response_format={"type": "json_object"})
    assert result.message.tool_calls == [ToolCall("call_2", "lookup", {"q": "y"})]
    body = llm_server.requests[0].json
    assert body is not None
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"q": "x"}'
    assert body["messages"][2]["tool_call_id"] == "call_1"
    assert body["tools"][0]["function"]["name"] == "lookup"
    assert body["response_format"] == {"type": "json_object"}


async def test_stream_accumulates_tool_calls_and_reads_usage(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(
        ["Let me ", "look."], tool_calls=[("call_1", "lookup", {"q": "a long query"}),
                                          ("call_2", "lookup", {})],
        usage=(20, 9), arguments_chunk_size=3)))
    async with provider_for(llm_server) as provider:
        deltas = [d async for d in await stream_of(provider, tools=[TOOL])]
    assert "".join(d.content or "" for d in deltas) == "Let me look."
    assert [d.finish_reason for d in deltas].count(None) == len(deltas) - 1
    final = deltas[-1]
    assert final.finish_reason == "tool_calls"
    assert final.usage == Usage(20, 9, 29)
    calls = [c for d in deltas for c in d.tool_calls or []]
    assert calls == [ToolCall("call_1", "lookup", {"q": "a long query"}),
                     ToolCall("call_2", "lookup", {})]
    body = llm_server.requests[0].json
    assert body is not None
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(("status", "message"),
                         [(401, "Incorrect API key provided"), (429, "Rate limit reached"),
                          (503, "The engine is currently overloaded")])
async def test_http_errors_become_httpx_status_errors(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture, status: int, message: str,
) -> None:
    llm_server.enqueue(Reply.error(status, message, retry_after=3))
    caplog.set_level(logging.DEBUG)
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "x")])
    assert info.value.response.status_code == status
    assert info.value.response.headers["retry-after"] == "3"
    assert message in str(info.value)
    assert KEY not in str(info.value)
    assert message in caplog.text
    assert KEY not in caplog.text
    assert len(llm_server.requests) == 1, "litellm's own retries must be off"


async def test_http_error_on_a_stream_request(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached", retry_after=1))
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "x")], stream=True)
    assert info.value.response.status_code == 429
    assert KEY not in str(info.value)


async def test_dropped_connection_is_a_request_error(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.drop())
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.RequestError) as info:
            await provider.complete([Message("user", "x")])
    assert llm_server.url in str(info.value.request.url)


async def test_connection_refused_is_a_request_error(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = LiteLLMProvider(model="openai/gpt-4o-mini", api_key=KEY,
                               base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(httpx.RequestError):
        await provider.complete([Message("user", "x")])
    assert KEY not in caplog.text


async def test_dropped_stream_raises_stream_error(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["a", "b", "c", "d"]), drop_after=3))
    async with provider_for(llm_server) as provider:
        stream = await stream_of(provider)
        with pytest.raises(StreamError, match="incomplete"):
            async for _ in stream:
                pass


async def test_closing_a_stream_early_stops_it(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["one", "two", "three"]), delay=0.05))
    async with provider_for(llm_server) as provider:
        stream = await stream_of(provider)
        assert (await stream.__anext__()).content == "one"
        await stream.aclose()  # type: ignore[attr-defined]
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_retry_provider_retries_litellm_like_any_provider(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached"),
                       Reply.json(wire.openai_chat_completion("done")))
    config = RetryConfig(max_attempts=2, min_wait=0.0, max_wait=0.0)
    result = await RetryProvider(provider_for(llm_server), retry_config=config).complete(
        [Message("user", "x")])
    assert isinstance(result, CompletionResult)
    assert result.message.content == "done"
    assert len(llm_server.requests) == 2


async def test_complete_goes_through_the_interceptor(llm_server: LoopbackServer) -> None:
    spy = SpyInterceptor()
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("hi")))
    messages = [Message("user", "hello")]
    with use_interceptor(spy):
        result = await plain(provider_for(llm_server), messages)
    assert result.message.content == "hi"
    assert spy.calls == [ChatCall(provider="litellm", model="openai/gpt-4o-mini", messages=messages,
                             tools=None, stream=False, response_format=None, secrets=(KEY,))]


def test_reserved_kwargs_are_refused() -> None:
    with pytest.raises(TypeError, match="api_base"):
        LiteLLMProvider(model="openai/gpt-4o-mini", api_base="http://x")


def test_cost_map_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    LiteLLMProvider(model="openai/gpt-4o-mini")
    import os

    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"


def test_missing_litellm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)
    with pytest.raises(MissingDependencyError) as info:
        LiteLLMProvider(model="openai/gpt-4o-mini")
    assert isinstance(info.value, ImportError)
    assert 'pip install "ecs-agent[litellm]"' in str(info.value)


def test_repr_hides_the_key() -> None:
    text = repr(LiteLLMProvider(model="openai/gpt-4o-mini", api_key=KEY))
    assert KEY not in text
    assert json.dumps("openai/gpt-4o-mini")[1:-1] in text
