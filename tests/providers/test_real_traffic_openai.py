"""Every recorded OpenAI chat (906) and embedding (53) response, served byte for byte.

The records (``tests/data/real_traffic/crewai-responses.jsonl``, see its README) are
real API answers with what an independent reading of them found (``expected``). Each is
served by the loopback server exactly as recorded (JSON objects re-serialised, SSE text
verbatim as ``text/event-stream``) to the real providers over a socket; streamed ones
are read with ``stream=True``. One test per API loops over all records and reports every
failing record (by its ``source``) at once. No record is excluded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ecs_agent.providers.embedding_provider import OpenAIEmbeddingProvider
from ecs_agent.providers.openai_provider import OpenAIProvider
from ecs_agent.types import CompletionResult, Message
from pytest_ecs_agent.loopback import LoopbackServer, Reply

DATA = Path(__file__).parent.parent / "data" / "real_traffic" / "crewai-responses.jsonl"
KEY = "sk-test-real-traffic"


def _records(api: str) -> list[dict[str, Any]]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["api"] == api]


def _reply(response: Any) -> Reply:
    if isinstance(response, str):
        return Reply.raw(response, content_type="text/event-stream")
    return Reply.raw(json.dumps(response))


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as loopback:
        yield loopback


def _report(failures: list[str], total: int) -> None:
    assert not failures, f"{len(failures)} of {total} records failed:\n" + "\n".join(failures)


async def _chat_outcome(provider: OpenAIProvider, stream: bool) -> dict[str, Any]:
    messages = [Message("user", "replay")]
    if not stream:
        result = await provider.complete(messages)
        assert isinstance(result, CompletionResult)
        return {"text": result.message.content,
                "tool_calls": [tc.to_dict() for tc in result.message.tool_calls or []],
                "total_tokens": result.usage.total_tokens if result.usage else None}
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    finals = 0
    total = None
    async for delta in await provider.complete(messages, stream=True):
        text.append(delta.content or "")
        calls.extend(tc.to_dict() for tc in delta.tool_calls or [])
        if delta.finish_reason is not None:
            finals += 1
            total = delta.usage.total_tokens if delta.usage else None
    assert finals == 1, f"{finals} deltas carried a finish_reason"
    return {"text": "".join(text), "tool_calls": calls, "total_tokens": total}


async def test_every_recorded_openai_chat_response(server: LoopbackServer) -> None:
    records = _records("openai_chat")
    assert len(records) == 906
    assert sum(isinstance(r["response"], str) for r in records) == 31
    failures: list[str] = []
    async with OpenAIProvider(KEY, base_url=server.openai_base_url) as provider:
        for record in records:
            expected = record["expected"]
            server.enqueue(_reply(record["response"]))
            try:
                got = await _chat_outcome(provider, stream=expected["stream"])
            except Exception as exc:  # report every failing record, not just the first
                failures.append(f"{record['source']}: {type(exc).__name__}: {exc}")
                continue
            want = {k: expected[k] for k in ("text", "tool_calls", "total_tokens")}
            if got != want:
                diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
                failures.append(f"{record['source']}: got != expected: {str(diff)[:400]}")
    assert server.pending == 0
    _report(failures, len(records))


async def test_every_recorded_openai_embedding_response(server: LoopbackServer) -> None:
    records = _records("openai_embed")
    assert len(records) == 53
    failures: list[str] = []
    async with OpenAIEmbeddingProvider(KEY, base_url=server.openai_base_url) as provider:
        for record in records:
            expected = record["expected"]
            server.enqueue(_reply(record["response"]))
            try:
                vectors = await provider.embed([f"text {i}" for i in range(expected["n"])])
            except Exception as exc:
                failures.append(f"{record['source']}: {type(exc).__name__}: {exc}")
                continue
            first = np.asarray(vectors[0][:8], dtype=np.float32)
            last = np.asarray(vectors[-1][-8:], dtype=np.float32)
            checks = {
                "n": len(vectors) == expected["n"],
                "dim": all(len(v) == expected["dim"] for v in vectors),
                "first": np.array_equal(first, np.asarray(expected["first"], dtype=np.float32)),
                "last": np.array_equal(last, np.asarray(expected["last"], dtype=np.float32)),
            }
            bad = [name for name, ok in checks.items() if not ok]
            if bad:
                failures.append(f"{record['source']}: mismatch in {bad}")
    assert server.pending == 0
    _report(failures, len(records))
