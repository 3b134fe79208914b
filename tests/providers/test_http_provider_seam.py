"""The HTTP seam every built-in HTTP provider shares (OpenAI, Claude, embeddings).

One client per provider, built from its constructor's timeouts, or injected (a client
or a transport); an injected client is its owner's to close, a built one is closed by
``aclose()`` / ``async with``. Claude streams text as it arrives, as OpenAI does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from ecs_agent.providers import ClaudeProvider, OpenAIEmbeddingProvider, OpenAIProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

KEY = "sk-test-seam-0123456789"
NAMES = ["openai", "claude", "openai-embedding"]
TIMEOUTS = {"connect_timeout": 1.5, "read_timeout": 2.5, "write_timeout": 3.5,
            "pool_timeout": 4.5}


def build(name: str, base: str, **kwargs: Any) -> Any:
    if name == "openai":
        return OpenAIProvider(KEY, base_url=f"{base}/v1", **kwargs)
    if name == "claude":
        return ClaudeProvider(KEY, base_url=base, **kwargs)
    return OpenAIEmbeddingProvider(KEY, base_url=f"{base}/v1", **kwargs)


async def call(provider: Any) -> Any:
    if isinstance(provider, OpenAIEmbeddingProvider):
        return await provider.embed(["a"])
    result = await provider.complete([Message("user", "hi")])
    assert isinstance(result, CompletionResult)
    return result.message.content


ANSWERS = {
    "openai": (wire.openai_chat_completion("ok"), "ok"),
    "claude": (wire.anthropic_message("ok"), "ok"),
    "openai-embedding": (wire.openai_embeddings([[0.5, 0.25]]), [[0.5, 0.25]]),
}
PATHS = {"openai": "/v1/chat/completions", "claude": "/v1/messages",
         "openai-embedding": "/v1/embeddings"}


@pytest.mark.parametrize("name", NAMES)
async def test_constructor_timeouts_reach_the_client(name: str) -> None:
    async with build(name, "http://127.0.0.1:9", **TIMEOUTS) as provider:
        assert provider._client.timeout == httpx.Timeout(connect=1.5, read=2.5, write=3.5,
                                                         pool=4.5)


@pytest.mark.parametrize("name", NAMES)
async def test_an_injected_transport_carries_every_request(name: str) -> None:
    seen: list[httpx.Request] = []
    body, expected = ANSWERS[name]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    async with build(name, "https://api.example.test",
                     transport=httpx.MockTransport(handler)) as provider:
        assert await call(provider) == expected
    [request] = seen
    assert str(request.url) == f"https://api.example.test{PATHS[name]}"
    assert KEY in (request.headers.get("authorization", "") + request.headers.get("x-api-key",
                                                                                  ""))
    assert json.loads(request.content)["model"] == provider.model


@pytest.mark.parametrize("name", NAMES)
async def test_an_injected_client_is_used_and_left_open(
    name: str, llm_server: LoopbackServer
) -> None:
    body, expected = ANSWERS[name]
    llm_server.enqueue(Reply.json(body))
    async with httpx.AsyncClient(headers={"x-team": "blue"}) as client:
        async with build(name, llm_server.url, client=client) as provider:
            assert await call(provider) == expected
        assert not client.is_closed
    assert llm_server.last_request.headers["x-team"] == "blue"
    assert llm_server.last_request.path == PATHS[name]


@pytest.mark.parametrize("name", NAMES)
async def test_a_built_client_is_closed_by_aclose(name: str) -> None:
    provider = build(name, "http://127.0.0.1:9")
    await provider.aclose()
    assert provider._client.is_closed


@pytest.mark.parametrize("name", NAMES)
async def test_client_and_transport_together_are_refused(name: str) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="either client= or transport="):
            build(name, "http://127.0.0.1:9", client=client,
                  transport=httpx.AsyncHTTPTransport())


async def test_claude_first_delta_reaches_the_caller_while_the_server_holds_back_the_rest(
    llm_server: LoopbackServer,
) -> None:
    frames = wire.anthropic_stream(["first", "second"], ping=False)
    # message_start and the text block's start and first delta, then a 120 s pause
    # before every later frame: a buffering provider would hang here
    text_at = next(i for i, f in enumerate(frames) if '"text_delta"' in f)
    llm_server.enqueue(Reply.sse(["".join(frames[:text_at + 1]), *frames[text_at + 1:]],
                                 delay=120))
    async with build("claude", llm_server.url) as provider:
        stream = await provider.complete([Message("user", "hi")], stream=True)
        first = await asyncio.wait_for(anext(stream), timeout=30)
        assert first == StreamDelta(content="first")
        await stream.aclose()
