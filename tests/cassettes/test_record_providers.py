"""Claude, OpenAI embeddings, LiteLLM and RetryProvider: recorded over the loopback
server, replayed on the domain and wire paths without reaching it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_agent import RetryConfig, RetryProvider
from ecs_agent.providers import (
    ClaudeProvider,
    LiteLLMProvider,
    OpenAIEmbeddingProvider,
    OpenAIProvider,
)
from ecs_agent.types import CompletionResult, StreamDelta, ToolCall, ToolSchema
from pytest_ecs_agent.cassette import load_cassette, validate_cassette
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.cassettes.engine_support import KEY, FakeSleep, ask, collect, in_session, outcome_dict

WEATHER = ToolSchema("get_weather", "Weather of a city",
                     {"type": "object", "properties": {"city": {"type": "string"}},
                      "required": ["city"]})


async def claude_call(server: LoopbackServer, **kwargs: Any) -> Any:
    async with ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url,
                              model="claude-3-5-haiku-latest", max_tokens=256) as provider:
        outcome = await provider.complete(ask("Weather in Paris?"), tools=[WEATHER], **kwargs)
        if isinstance(outcome, CompletionResult):
            return outcome
        return await collect(outcome)


async def replay_both(path: Path, server: LoopbackServer, run: Any, live: Any) -> None:
    for replay in ("domain", "wire"):
        before = len(server.requests)
        again, session = await in_session(path, run, replay=replay)
        assert outcome_dict(again) == outcome_dict(live), replay
        assert len(server.requests) == before, f"{replay} replay reached the server"
        assert session.stats.replayed == len(load_cassette(path).interactions)


async def test_claude_plain_and_streamed_tool_use(tmp_path: Path,
                                                  llm_server: LoopbackServer) -> None:
    path = tmp_path / "claude.yaml"
    llm_server.enqueue(Reply.json(wire.anthropic_message(
        "Let me check.", tool_calls=[("toolu_1", "get_weather", {"city": "Paris"})])))
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(
        ["Let me ", "check."], tool_calls=[("toolu_2", "get_weather", {"city": "Paris"})],
        json_chunk_size=3)))

    async def run() -> tuple[Any, Any]:
        return (await claude_call(llm_server), await claude_call(llm_server, stream=True))

    (plain, streamed), _ = await in_session(path, run, record_mode="once")
    assert plain.message.tool_calls == [ToolCall("toolu_1", "get_weather", {"city": "Paris"})]
    assert [tc for d in streamed for tc in d.tool_calls or ()] == [
        ToolCall("toolu_2", "get_weather", {"city": "Paris"})]
    cassette = load_cassette(path)
    validate_cassette(cassette)  # what the engine writes passes the store's deep check
    assert [i.provider for i in cassette.interactions] == ["claude", "claude"]
    http = cassette.interactions[1].http
    assert http is not None
    assert http[0].request["headers"]["x-api-key"] == "<REDACTED>"
    assert http[0].response["sse"][0]["event"] == "message_start"

    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        (p2, s2), _ = await in_session(path, run, replay=replay)
        assert outcome_dict(p2) == outcome_dict(plain)
        assert outcome_dict(s2) == outcome_dict(streamed)
        assert len(llm_server.requests) == before


async def test_batched_embeddings_keep_every_exchange_in_order(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "embed.yaml"
    llm_server.echo = True
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]

    async def run() -> list[list[float]]:
        async with OpenAIEmbeddingProvider(api_key=KEY, base_url=llm_server.openai_base_url,
                                           batch_size=2) as provider:
            return await provider.embed(texts)

    live, _ = await in_session(path, run, record_mode="once")
    assert len(live) == 5 and len(llm_server.requests) == 3
    validate_cassette(load_cassette(path))
    (interaction,) = load_cassette(path).interactions
    assert (interaction.kind, interaction.provider) == ("embed", "openai-embedding")
    assert interaction.request == {"model": "text-embedding-3-small", "input": texts}
    assert interaction.response["vectors"] == live
    assert interaction.http is not None
    assert [e.request["json"]["input"] for e in interaction.http] == [
        ["alpha", "beta"], ["gamma", "delta"], ["epsilon"]]
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, run, replay=replay)
        assert again == live, replay
        assert len(llm_server.requests) == 3


@pytest.mark.parametrize("status", [429, 500])
async def test_recorded_errors_replay_through_retry_provider(
        tmp_path: Path, llm_server: LoopbackServer, status: int) -> None:
    path = tmp_path / "retry.yaml"
    llm_server.enqueue(Reply.error(status, "Slow down", retry_after=7))
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Finally.")))

    async def run() -> tuple[Any, list[float]]:
        sleep = FakeSleep()
        async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as inner:
            retrying = RetryProvider(inner, RetryConfig(max_attempts=3, min_wait=0.5,
                                                        max_wait=30), sleep=sleep)
            result = await retrying.complete(ask("Q"))
        return result, sleep.waits

    (live, waits), _ = await in_session(path, run, record_mode="once")
    assert waits == [7.0]  # the recorded retry-after was honoured
    validate_cassette(load_cassette(path))
    interactions = load_cassette(path).interactions
    error = interactions[0].response["error"]
    assert (error["type"], error["exception"], error["status"]) == (
        "http_status", "httpx.HTTPStatusError", status)
    assert error["headers"]["retry-after"] == "7"
    assert "Slow down" in error["body"]
    assert interactions[1].response["result"]["message"]["content"] == "Finally."

    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        (again, again_waits), _ = await in_session(path, run, replay=replay)
        assert outcome_dict(again) == outcome_dict(live)
        assert again_waits == waits, replay
        assert len(llm_server.requests) == before


async def test_replayed_http_error_carries_status_headers_and_body(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "error.yaml"
    llm_server.enqueue(Reply.error(400, "Unknown parameter: 'foo'"))

    async def run() -> httpx.HTTPStatusError:
        async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as p:
            with pytest.raises(httpx.HTTPStatusError) as info:
                await p.complete(ask("Q"))
        return info.value

    live, _ = await in_session(path, run, record_mode="once")
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, run, replay=replay)
        assert str(again) == str(live)
        assert again.response.status_code == 400
        assert again.response.json() == live.response.json()
        assert again.response.headers["content-type"] == live.response.headers["content-type"]
        assert again.request.method == "POST"
        assert str(again.request.url) == str(live.request.url)


async def test_litellm_is_recorded_at_the_domain_level(tmp_path: Path,
                                                       llm_server: LoopbackServer) -> None:
    path = tmp_path / "litellm.yaml"
    llm_server.echo = True

    async def run() -> tuple[Any, list[StreamDelta]]:
        provider = LiteLLMProvider(model="openai/gpt-4o-mini", api_key=KEY,
                                   base_url=llm_server.openai_base_url)
        plain = await provider.complete(ask("hello there"))
        streamed = await collect(await provider.complete(ask("and streamed"), stream=True))
        await provider.aclose()
        return plain, streamed

    (plain, streamed), _ = await in_session(path, run, record_mode="once")
    assert plain.message.content == "echo: hello there"
    assert "".join(d.content or "" for d in streamed) == "echo: and streamed"
    interactions = load_cassette(path).interactions
    assert [i.provider for i in interactions] == ["litellm", "litellm"]
    assert all(i.http is None for i in interactions)  # LiteLLM's HTTP stack is not ours
    for replay in ("domain", "wire"):  # wire falls back to the domain outcome
        before = len(llm_server.requests)
        (p2, s2), _ = await in_session(path, run, replay=replay)
        assert outcome_dict(p2) == outcome_dict(plain)
        assert outcome_dict(s2) == outcome_dict(streamed)
        assert len(llm_server.requests) == before
