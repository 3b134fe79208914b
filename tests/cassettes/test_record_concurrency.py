"""Concurrent calls get their own recorded answers: interleaved streams, gathered calls of
every built-in provider, in record mode and on both replay paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from ecs_agent.providers import ClaudeProvider, OpenAIEmbeddingProvider, OpenAIProvider
from ecs_agent.types import CompletionResult, StreamDelta
from pytest_ecs_agent.cassette import load_cassette
from pytest_ecs_agent.loopback import LoopbackServer
from tests.cassettes.engine_support import KEY, ask, in_session

PROMPTS = ["alpha beta gamma delta", "one two three four five", "red green blue"]


async def _interleaved(server: LoopbackServer) -> list[str]:
    """Open three streams, then read them one delta at a time, round robin."""
    async with OpenAIProvider(api_key=KEY, base_url=server.openai_base_url,
                              model="gpt-4o-mini") as provider:
        streams: list[AsyncIterator[StreamDelta]] = []
        for prompt in PROMPTS:
            outcome = await provider.complete(ask(prompt), stream=True)
            assert not isinstance(outcome, CompletionResult)
            streams.append(outcome)
        texts = [""] * len(streams)
        live = set(range(len(streams)))
        while live:
            for n in sorted(live):
                try:
                    delta = await streams[n].__anext__()
                except StopAsyncIteration:
                    live.discard(n)
                    continue
                texts[n] += delta.content or ""
        return texts


async def _gathered(server: LoopbackServer) -> list[object]:
    """Every built-in provider at once: plain and streamed chat, Claude, embeddings."""
    async with (OpenAIProvider(api_key=KEY, base_url=server.openai_base_url,
                               model="gpt-4o-mini") as openai,
                ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url,
                               model="claude-3-5-haiku-latest") as claude,
                OpenAIEmbeddingProvider(api_key=KEY, base_url=server.openai_base_url) as embed):

        async def chat(provider: OpenAIProvider | ClaudeProvider, prompt: str,
                       stream: bool) -> str:
            outcome = await provider.complete(ask(prompt), stream=stream)
            if isinstance(outcome, CompletionResult):
                return outcome.message.content
            return "".join([delta.content or "" async for delta in outcome])

        return list(await asyncio.gather(
            chat(openai, "plain openai", False), chat(openai, "streamed openai", True),
            chat(claude, "plain claude", False), chat(claude, "streamed claude", True),
            embed.embed(["first text"]), embed.embed(["second text", "third text"])))


async def test_interleaved_streams_record_and_replay_their_own_deltas(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.echo = True
    live, _ = await in_session(path, lambda: _interleaved(llm_server), record_mode="once")
    assert live == [f"echo: {p}" for p in PROMPTS]
    for interaction in load_cassette(path).interactions:  # each exchange in its own call
        assert interaction.http is not None and len(interaction.http) == 1
        prompt = interaction.request["messages"][0]["content"]
        assert interaction.http[0].request["json"]["messages"][0]["content"] == prompt
        assert len(interaction.response["deltas"]) > 2  # really streamed in pieces
    sent = len(llm_server.requests)
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, lambda: _interleaved(llm_server), replay=replay)
        assert again == live, replay
    assert len(llm_server.requests) == sent


async def test_gathered_calls_of_every_provider_record_and_replay_their_own_answers(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.echo = True
    live, _ = await in_session(path, lambda: _gathered(llm_server), record_mode="once")
    assert live[:4] == ["echo: plain openai", "echo: streamed openai", "echo: plain claude",
                        "echo: streamed claude"]
    assert [len(v) for v in live[4:]] == [1, 2]  # type: ignore[arg-type]
    sent = len(llm_server.requests)
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, lambda: _gathered(llm_server), replay=replay)
        assert again == live, replay
    assert len(llm_server.requests) == sent
