"""RetryProvider around the real OpenAI and Claude providers, over real sockets (loopback)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from ecs_agent import RetryConfig, RetryProvider
from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.providers.openai_provider import OpenAIProvider
from ecs_agent.types import CompletionResult, Message
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

KEY = "sk-test-retry-0123456789abcdef"
MESSAGES = [Message(role="user", content="Capital of France?")]


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def openai(llm_server: LoopbackServer) -> AsyncIterator[OpenAIProvider]:
    async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url,
                              model="gpt-4o-mini") as provider:
        yield provider


async def test_429_with_retry_after_then_200(llm_server: LoopbackServer,
                                             openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached", retry_after=1),
                       Reply.json(wire.openai_chat_completion("Paris.")))
    sleeps = Sleeps()
    result = await RetryProvider(provider=openai, sleep=sleeps).complete(MESSAGES)
    assert isinstance(result, CompletionResult)
    assert result.message.content == "Paris."
    assert sleeps.waits == [1.0]
    assert len(llm_server.requests) == 2
    assert llm_server.requests[0].json == llm_server.requests[1].json


async def test_retry_after_ms_header_over_http(llm_server: LoopbackServer,
                                               openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.error(503, "Overloaded", retry_after_ms=250),
                       Reply.json(wire.openai_chat_completion("ok")))
    sleeps = Sleeps()
    await RetryProvider(provider=openai, sleep=sleeps).complete(MESSAGES)
    assert sleeps.waits == [0.25]


async def test_401_is_not_retried(llm_server: LoopbackServer, openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.error(401, "Incorrect API key provided"),
                       Reply.json(wire.openai_chat_completion("never served")))
    sleeps = Sleeps()
    with pytest.raises(httpx.HTTPStatusError) as info:
        await RetryProvider(provider=openai, sleep=sleeps).complete(MESSAGES)
    assert info.value.response.status_code == 401
    assert "Incorrect API key provided" in str(info.value)
    assert sleeps.waits == []
    assert len(llm_server.requests) == 1


async def test_stream_is_not_retried(llm_server: LoopbackServer, openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached", retry_after=1),
                       Reply.sse(wire.openai_chat_stream(["Par", "is."])))
    sleeps = Sleeps()
    with pytest.raises(httpx.HTTPStatusError) as info:
        await RetryProvider(provider=openai, sleep=sleeps).complete(MESSAGES, stream=True)
    assert info.value.response.status_code == 429
    assert sleeps.waits == []
    assert len(llm_server.requests) == 1


async def test_a_stream_that_succeeds_passes_through(llm_server: LoopbackServer,
                                                     openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["Par", "is."])))
    stream = await RetryProvider(provider=openai, sleep=Sleeps()).complete(MESSAGES, stream=True)
    deltas = [delta async for delta in stream]
    assert "".join(d.content or "" for d in deltas) == "Paris."
    assert deltas[-1].finish_reason == "stop"


async def test_dropped_connection_is_retried(llm_server: LoopbackServer,
                                             openai: OpenAIProvider) -> None:
    llm_server.enqueue(Reply.drop(), Reply.json(wire.openai_chat_completion("Paris.")))
    sleeps = Sleeps()
    result = await RetryProvider(provider=openai, sleep=sleeps).complete(MESSAGES)
    assert isinstance(result, CompletionResult)
    assert result.message.content == "Paris."
    assert sleeps.waits == [4.0]  # default backoff: 1 * 2**0 raised to min_wait 4
    assert len(llm_server.requests) == 2


async def test_gives_up_with_the_last_http_error_and_never_logs_the_key(
    llm_server: LoopbackServer, openai: OpenAIProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    llm_server.enqueue(Reply.error(500, "first"), Reply.error(502, "second"),
                       Reply.error(503, "third"))
    sleeps = Sleeps()
    provider = RetryProvider(provider=openai, config=RetryConfig(max_retries=2), sleep=sleeps)
    with pytest.raises(httpx.HTTPStatusError) as info:
        await provider.complete(MESSAGES)
    assert info.value.response.status_code == 503
    assert "third" in str(info.value)
    assert sleeps.waits == [4.0, 4.0]
    assert len(llm_server.requests) == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "ecs_agent.retry"]
    assert len(retries) == 2
    assert "HTTP 500" in retries[0]
    assert "HTTP 502" in retries[1]
    assert KEY not in caplog.text


async def test_anthropic_529_is_not_retried_by_default(llm_server: LoopbackServer) -> None:
    # The seed's default list is kept (429, 500, 502, 503, 504): 529 is opt-in.
    llm_server.enqueue(Reply.error(529, "Overloaded", vendor="anthropic"),
                       Reply.json(wire.anthropic_message("never served")))
    sleeps = Sleeps()
    async with ClaudeProvider(api_key=KEY, base_url=llm_server.anthropic_base_url) as claude:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await RetryProvider(provider=claude, sleep=sleeps).complete(MESSAGES)
    assert info.value.response.status_code == 529
    assert "overloaded_error: Overloaded" in str(info.value)
    assert sleeps.waits == []
    assert len(llm_server.requests) == 1


async def test_anthropic_529_is_retried_when_configured(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.error(529, "Overloaded", vendor="anthropic"),
                       Reply.json(wire.anthropic_message("Paris.")))
    sleeps = Sleeps()
    config = RetryConfig(retry_status_codes=(*RetryConfig().retry_status_codes, 529),
                         min_wait=0.5, max_wait=2.0)
    async with ClaudeProvider(api_key=KEY, base_url=llm_server.anthropic_base_url) as claude:
        result = await RetryProvider(provider=claude, retry_config=config,
                                     sleep=sleeps).complete(MESSAGES)
    assert isinstance(result, CompletionResult)
    assert result.message.content == "Paris."
    assert sleeps.waits == [1.0]
    assert len(llm_server.requests) == 2


async def test_closing_the_retry_provider_closes_the_wrapped_one(
        llm_server: LoopbackServer) -> None:
    inner = OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url)
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("ok")))
    async with RetryProvider(provider=inner) as provider:
        result = await provider.complete(MESSAGES)
        assert isinstance(result, CompletionResult) and result.message.content == "ok"
    with pytest.raises(RuntimeError, match="client has been closed"):
        await inner.complete(MESSAGES)
