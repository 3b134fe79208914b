"""Recording the same traffic twice gives byte-identical cassettes.

The loopback server's port is the one thing that may differ: the recorded HTTP ``url``
keeps the address the request went to (real APIs have fixed URLs, and the URL is never
part of matching), so two loopback recordings on different ports differ in that line
only. ``examples/record_cassettes.py`` pins its port for that reason.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ecs_agent.providers import ClaudeProvider, OpenAIEmbeddingProvider, OpenAIProvider
from ecs_agent.types import CompletionResult
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.cassettes.engine_support import KEY, ask, collect, in_session


def _script(server: LoopbackServer) -> None:
    server.enqueue(Reply.json(wire.openai_chat_completion(
        "Calling the tool.", tool_calls=[("call_1", "get_weather", {"city": "Paris"})])),
        path="/v1/chat/completions")
    server.enqueue(Reply.sse(wire.openai_chat_stream(["Par", "is", "."], usage=(9, 3))),
                   path="/v1/chat/completions")
    server.enqueue(Reply.sse(wire.anthropic_stream(["Bon", "jour"], usage=(7, 2))),
                   path="/v1/messages")
    server.enqueue(Reply.json(wire.openai_embeddings([[0.25, -0.5, 0.125]])),
                   path="/v1/embeddings")


async def _traffic(server: LoopbackServer) -> None:
    async with OpenAIProvider(api_key=KEY, base_url=server.openai_base_url,
                              model="gpt-4o-mini") as openai:
        result = await openai.complete(ask("Weather in Paris?"))
        assert isinstance(result, CompletionResult)
        await collect(await openai.complete(ask("Capital of France?"), stream=True))
    async with ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url,
                              model="claude-3-5-haiku-latest") as claude:
        await collect(await claude.complete(ask("Say hello in French"), stream=True))
    async with OpenAIEmbeddingProvider(api_key=KEY, base_url=server.openai_base_url,
                                       model="text-embedding-3-small") as embedder:
        await embedder.embed(["one text"])


def _record(path: Path) -> str:
    """Record the traffic against a new server; returns the server's URL."""
    with LoopbackServer() as server:
        _script(server)
        asyncio.run(in_session(path, lambda: _traffic(server), record_mode="rewrite"))
        assert server.pending == 0
        return server.url


def test_the_same_traffic_records_byte_identical_cassettes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    url_one, url_two = _record(first), _record(second)
    one, two = first.read_bytes(), second.read_bytes()
    assert url_one.encode() in one and url_two.encode() in two
    assert one.replace(url_one.encode(), b"<URL>") == two.replace(url_two.encode(), b"<URL>")
    if url_one == url_two:  # the same port: no difference at all
        assert one == two
    else:  # only the url lines differ
        differing = [(a, b) for a, b in zip(one.splitlines(), two.splitlines(), strict=True)
                     if a != b]
        assert differing and all(a.strip().startswith(b"url: ") for a, _ in differing)


@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_recording_again_on_the_same_file_leaves_it_untouched(tmp_path: Path, mode: str) -> None:
    # ``all`` re-records every request: the new recordings replace the old ones in place.
    path = tmp_path / "c.yaml"
    with LoopbackServer() as server:
        _script(server)
        asyncio.run(in_session(path, lambda: _traffic(server), record_mode="rewrite"))
        before, mtime = path.read_bytes(), path.stat().st_mtime_ns
        _script(server)
        asyncio.run(in_session(path, lambda: _traffic(server), record_mode=mode))
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime
