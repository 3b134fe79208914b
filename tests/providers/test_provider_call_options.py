"""Provider settings that change the answer are part of the recorded request (``options``).

Two ``OpenAIEmbeddingProvider`` differing only in ``dimensions`` (or two
``ClaudeProvider`` differing only in ``max_tokens``) must not be served each other's
recording; a provider left at its defaults records no ``options`` key, so cassettes
recorded before the field existed still match.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_agent.intercept import use_interceptor
from ecs_agent.providers import ClaudeProvider, OpenAIEmbeddingProvider
from ecs_agent.types import CompletionResult, Message
from pytest_ecs_agent.errors import CassetteMismatchError
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.session import CassetteSession
from tests.providers.spy import SpyInterceptor

KEY = "sk-test-options-0123456789"


def embedder(server: LoopbackServer, dimensions: int | None) -> OpenAIEmbeddingProvider:
    return OpenAIEmbeddingProvider(api_key=KEY, base_url=server.openai_base_url,
                                   dimensions=dimensions)


def claude(server: LoopbackServer, max_tokens: int = 4096) -> ClaudeProvider:
    return ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url,
                          max_tokens=max_tokens)


async def test_embed_call_carries_dimensions_only_when_set(llm_server: LoopbackServer) -> None:
    llm_server.echo = True
    spy = SpyInterceptor()
    with use_interceptor(spy):
        async with embedder(llm_server, 3) as provider:
            await provider.embed(["a"])
        async with embedder(llm_server, None) as provider:
            await provider.embed(["a"])
    assert [call.options for call in spy.calls] == [{"dimensions": 3}, {}]


async def test_chat_call_carries_max_tokens_only_when_not_the_default(
    llm_server: LoopbackServer,
) -> None:
    llm_server.echo = True
    spy = SpyInterceptor()
    with use_interceptor(spy):
        async with claude(llm_server, 100) as provider:
            await provider.complete([Message("user", "hi")])
        async with claude(llm_server) as provider:
            await provider.complete([Message("user", "hi")])
    assert [call.options for call in spy.calls] == [{"max_tokens": 100}, {}]


async def record_embed(path: Path, server: LoopbackServer, dimensions: int | None,
                       mode: str) -> tuple[list[list[float]], CassetteSession]:
    session = CassetteSession(path, record_mode=mode)
    with session.activate():
        async with embedder(server, dimensions) as provider:
            vectors = await provider.embed(["alpha"])
    session.finish()
    return vectors, session


async def test_dimensions_are_matched_on_replay(tmp_path: Path,
                                                llm_server: LoopbackServer) -> None:
    path = tmp_path / "embed.yaml"
    llm_server.enqueue(Reply.json(wire.openai_embeddings([[0.6, 0.8, 0.0]])))
    live, session = await record_embed(path, llm_server, 3, "once")
    assert session.interactions[0].request == {"model": "text-embedding-3-small",
                                               "input": ["alpha"],
                                               "options": {"dimensions": 3}}
    assert "dimensions: 3" in path.read_text()

    replayed, _ = await record_embed(path, llm_server, 3, "none")
    assert replayed == live
    with pytest.raises(CassetteMismatchError):
        await record_embed(path, llm_server, 8, "none")
    with pytest.raises(CassetteMismatchError):
        await record_embed(path, llm_server, None, "none")
    assert len(llm_server.requests) == 1  # replays never reached the server


async def test_default_settings_record_no_options_key(tmp_path: Path,
                                                      llm_server: LoopbackServer) -> None:
    path = tmp_path / "plain.yaml"
    llm_server.enqueue(Reply.json(wire.openai_embeddings([[1.0, 0.0]])))
    _, session = await record_embed(path, llm_server, None, "once")
    assert session.interactions[0].request == {"model": "text-embedding-3-small",
                                               "input": ["alpha"]}
    assert "options" not in path.read_text()


async def test_max_tokens_is_matched_on_replay(tmp_path: Path,
                                               llm_server: LoopbackServer) -> None:
    path = tmp_path / "claude.yaml"
    llm_server.enqueue(Reply.json(wire.anthropic_message("Short.")))

    async def run(max_tokens: int, mode: str) -> str:
        session = CassetteSession(path, record_mode=mode)
        with session.activate():
            async with claude(llm_server, max_tokens) as provider:
                result = await provider.complete([Message("user", "hi")])
        session.finish()
        assert isinstance(result, CompletionResult)
        return result.message.content

    assert await run(50, "once") == "Short."
    assert await run(50, "none") == "Short."
    with pytest.raises(CassetteMismatchError):
        await run(4096, "none")
