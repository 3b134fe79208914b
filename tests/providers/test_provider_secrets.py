"""The API key never appears in a log line or an exception message, for any provider.

Every failure mode a provider reports is driven over real HTTP (the loopback server),
with a server that echoes the key back in everything it says (as a misconfigured proxy
or a vendor's "Incorrect API key provided: sk-..." message does): an error status, a
2xx answer that is not JSON, an error inside a stream, a connection dropped mid-stream,
and a connection refused. Logs are captured at DEBUG from every logger (httpx and
litellm included).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from ecs_agent.providers import (
    ClaudeProvider,
    LiteLLMProvider,
    OpenAIEmbeddingProvider,
    OpenAIProvider,
)
from ecs_agent.types import CompletionResult, Message, StreamDelta
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.network import NetworkGuard, install, uninstall

pytestmark = [  # raised inside litellm while it handles a stream (see test_litellm_provider)
    pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(
        "ignore:Accessing the 'model_.*' attribute on the instance is deprecated"
        ":DeprecationWarning"),
]

KEY = "sk-test-secret-5f2a9c1e7b3d"
ASK = [Message("user", "hello")]

Call = Callable[[Any], Awaitable[Any]]


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    guard = NetworkGuard(["127.0.0.1"], describe="a provider secrets test")
    install(guard)
    try:
        yield
    finally:
        uninstall(guard)
    assert guard.blocked == [], f"a provider tried to reach the network: {guard.blocked}"


def build(name: str, base: str) -> Any:
    if name == "openai":
        return OpenAIProvider(api_key=KEY, base_url=f"{base}/v1")
    if name == "claude":
        return ClaudeProvider(api_key=KEY, base_url=base)
    if name == "openai-embedding":
        return OpenAIEmbeddingProvider(api_key=KEY, base_url=f"{base}/v1")
    return LiteLLMProvider(model="openai/gpt-4o-mini", api_key=KEY, base_url=f"{base}/v1")


async def drain(outcome: CompletionResult | AsyncIterator[StreamDelta]) -> None:
    if not isinstance(outcome, CompletionResult):
        async for _ in outcome:
            pass


async def call(provider: Any, stream: bool = False) -> None:
    if isinstance(provider, OpenAIEmbeddingProvider):
        await provider.embed(["hello"])
    else:
        await drain(await provider.complete(ASK, stream=stream))


def assert_clean(info: pytest.ExceptionInfo[BaseException], caplog: pytest.LogCaptureFixture
                 ) -> None:
    exc: BaseException | None = info.value
    while exc is not None:  # the exception and everything it was raised from
        assert KEY not in str(exc), f"{type(exc).__name__} message holds the key: {exc}"
        exc = exc.__cause__
    assert caplog.records, "the failure was not logged"
    for record in caplog.records:
        assert KEY not in record.getMessage(), f"{record.name} logged the key"


ALL = ["openai", "claude", "openai-embedding", "litellm"]
CHAT = ["openai", "claude", "litellm"]


def echoing_error(name: str) -> Reply:
    vendor = "anthropic" if name == "claude" else "openai"
    return Reply.error(401, f"Incorrect API key provided: {KEY}.", vendor=vendor)


@pytest.mark.parametrize("name", ALL)
async def test_an_error_status_echoing_the_key(
    name: str, llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.enqueue(echoing_error(name))
    async with build(name, llm_server.url) as provider:
        with pytest.raises(Exception, match="Incorrect API key provided") as info:
            await call(provider)
    assert_clean(info, caplog)
    assert "<redacted>" in str(info.value)


@pytest.mark.parametrize("name", ALL)
async def test_a_2xx_answer_that_is_not_json_echoing_the_key(
    name: str, llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.enqueue(Reply.raw(f"upstream proxy: bad key {KEY}", status=200))
    async with build(name, llm_server.url) as provider:
        with pytest.raises(Exception) as info:
            await call(provider)
    assert_clean(info, caplog)


def stream_error(name: str) -> Reply:
    if name == "claude":
        frames = wire.anthropic_stream(["Hel", "lo"])
        error = wire.sse_frame({"type": "error", "error": {
            "type": "api_error", "message": f"key {KEY} revoked mid-answer"}}, event="error")
        return Reply.sse([*frames[:4], error])
    frames = wire.openai_chat_stream(["Hel", "lo"])
    error = wire.sse_frame({"error": {"message": f"key {KEY} revoked mid-answer",
                                      "type": "server_error"}})
    return Reply.sse([frames[0], frames[1], error])


@pytest.mark.parametrize("name", CHAT)
async def test_an_error_inside_a_stream_echoing_the_key(
    name: str, llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.enqueue(stream_error(name))
    async with build(name, llm_server.url) as provider:
        with pytest.raises(Exception) as info:
            await call(provider, stream=True)
    assert_clean(info, caplog)


@pytest.mark.parametrize("name", CHAT)
async def test_a_stream_dropped_midway(
    name: str, llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    frames = (wire.anthropic_stream(["Hel", "lo"]) if name == "claude"
              else wire.openai_chat_stream(["Hel", "lo"]))
    llm_server.enqueue(Reply.sse(frames, drop_after=3))
    async with build(name, llm_server.url) as provider:
        with pytest.raises(Exception) as info:
            await call(provider, stream=True)
    assert_clean(info, caplog)


@pytest.mark.parametrize("name", ALL)
async def test_a_refused_connection(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with build(name, f"http://127.0.0.1:{port}") as provider:
        with pytest.raises(Exception) as info:
            await call(provider)
    assert_clean(info, caplog)


@pytest.mark.parametrize("name", ALL)
def test_repr_never_shows_the_key(name: str) -> None:
    provider = build(name, "http://127.0.0.1:9")
    assert KEY not in repr(provider)
    assert KEY not in str(provider)


@pytest.mark.parametrize("name", ALL)
async def test_a_2xx_json_error_object_echoing_the_key(
    name: str, llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.enqueue(Reply.json({"error": {"message": f"key {KEY} is not allowed here"}}))
    async with build(name, llm_server.url) as provider:
        with pytest.raises(Exception) as info:
            await call(provider)
    assert_clean(info, caplog)
    body = getattr(info.value, "body", None)
    assert KEY not in str(body)
