"""Every real Anthropic answer of the crewAI recordings, served byte for byte to ClaudeProvider.

``tests/data/real_traffic/crewai-responses.jsonl`` (see its README) holds 91 ``anthropic``
records: each is served from the loopback server (JSON bodies re-serialised with
``json.dumps``; streamed ones as their recorded ``text/event-stream`` text, verbatim in one
body and also frame by frame) and the provider's text, tool calls and usage must equal
the independent reading in ``expected`` (streamed usage: figures read by hand, below).
No record is skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply

DATA = Path(__file__).resolve().parents[1] / "data" / "real_traffic" / "crewai-responses.jsonl"
RECORDS = [
    record
    for record in (json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines())
    if record["api"] == "anthropic"
]
STREAMED = [r for r in RECORDS if r["expected"]["stream"]]
PLAIN = [r for r in RECORDS if not r["expected"]["stream"]]


# The README's ``expected`` has no usage for streamed records; these figures were read by
# hand from each record's message_delta frame (input + cache writes + cache reads, output).
_STREAM_PREFIX = "crewAIInc/crewAI:lib/crewai/tests/cassettes/llms/"
STREAMED_USAGE = {
    _STREAM_PREFIX + "TestAnthropicToolCallStreaming."
    "test_anthropic_streaming_emits_tool_call_events.yaml#0": Usage(351, 85, 436),
    _STREAM_PREFIX + "TestAnthropicToolCallStreaming."
    "test_anthropic_streaming_emits_tool_call_events.yaml#1": Usage(457, 33, 490),
    _STREAM_PREFIX + "anthropic/test_anthropic_streaming_cached_prompt_tokens.yaml#0":
        Usage(1220, 4, 1224),
    _STREAM_PREFIX + "anthropic/test_anthropic_streaming_cached_prompt_tokens.yaml#1":
        Usage(1220, 6, 1226),
}


def test_every_anthropic_record_is_used() -> None:
    assert len(RECORDS) == 91
    assert len(STREAMED) == 4
    assert len(PLAIN) == 87
    assert sorted(STREAMED_USAGE) == sorted(r["source"] for r in STREAMED)


def expected_calls(record: dict[str, Any]) -> list[ToolCall]:
    return [ToolCall(c["id"], c["name"], c["arguments"]) for c in record["expected"]["tool_calls"]]


def expected_usage(record: dict[str, Any]) -> Usage | None:
    e = record["expected"]
    if "prompt_tokens" not in e:
        return None
    return Usage(e["prompt_tokens"], e["completion_tokens"], e["total_tokens"])


def provider_for(server: LoopbackServer) -> ClaudeProvider:
    return ClaudeProvider(api_key="sk-ant-test-real-traffic", base_url=server.anthropic_base_url)


@pytest.mark.parametrize("record", PLAIN, ids=[r["source"] for r in PLAIN])
async def test_plain_record(llm_server: LoopbackServer, record: dict[str, Any]) -> None:
    source = record["source"]
    llm_server.enqueue(Reply.raw(json.dumps(record["response"])))
    async with provider_for(llm_server) as provider:
        result = await provider.complete([Message("user", "replay")])
    assert isinstance(result, CompletionResult), source
    assert result.message.content == record["expected"]["text"], source
    assert (result.message.tool_calls or []) == expected_calls(record), source
    usage = expected_usage(record)
    assert usage is not None, f"{source}: a plain record always has usage figures"
    assert result.usage == usage, source


@pytest.mark.parametrize("framing", ["one-body", "frame-by-frame"])
@pytest.mark.parametrize("record", STREAMED, ids=[r["source"] for r in STREAMED])
async def test_streamed_record(
    llm_server: LoopbackServer, record: dict[str, Any], framing: str
) -> None:
    source = record["source"]
    text: str = record["response"]
    if framing == "one-body":
        llm_server.enqueue(Reply.raw(text, content_type="text/event-stream"))
    else:
        llm_server.enqueue(Reply.sse(text))
    async with provider_for(llm_server) as provider:
        stream = await provider.complete([Message("user", "replay")], stream=True)
        assert not isinstance(stream, CompletionResult), source
        deltas: list[StreamDelta] = [delta async for delta in stream]
    assert "".join(d.content or "" for d in deltas) == record["expected"]["text"], source
    calls = [call for d in deltas for call in d.tool_calls or []]
    assert calls == expected_calls(record), source
    finals = [d for d in deltas if d.finish_reason is not None]
    assert finals == [deltas[-1]], f"{source}: exactly one final delta, and it is the last"
    assert deltas[-1].finish_reason == ("tool_calls" if calls else "stop"), source
    assert deltas[-1].usage == (expected_usage(record) or STREAMED_USAGE[source]), source
