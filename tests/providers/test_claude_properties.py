"""Properties of the Claude translation over generated conversations and answers."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_agent._sse import SSEDecoder
from ecs_agent.providers._anthropic_stream import ClaudeStreamState
from ecs_agent.providers._anthropic_wire import messages_to_wire, result_from_wire
from ecs_agent.types import CompletionResult, Message, StreamDelta, Usage
from pytest_ecs_agent import strategies as ecs_st
from pytest_ecs_agent.loopback import wire

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(ecs_st.conversations(tools=True, max_rounds=4))
def test_wire_conversation_follows_anthropic_rules(conversation: list[Message]) -> None:
    system, turns = messages_to_wire(conversation)
    assert system == ("\n\n".join(m.content for m in conversation if m.role == "system")
                      or None)
    roles = [turn["role"] for turn in turns]
    assert roles[0] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles)), roles
    for position, turn in enumerate(turns):
        blocks: list[dict[str, Any]] = (
            turn["content"] if isinstance(turn["content"], list)
            else [{"type": "text", "text": turn["content"]}]
        )
        assert all(b["type"] != "text" or b["text"] for b in blocks), "no empty text block"
        kinds = [b["type"] for b in blocks]
        results = kinds.count("tool_result")
        assert kinds[:results] == ["tool_result"] * results, "tool results come first"
        uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
        if uses:  # every tool_use is answered in the very next (user) turn
            answered = [b["tool_use_id"] for b in turns[position + 1]["content"]
                        if b["type"] == "tool_result"]
            assert answered == uses
    sent_texts = [b["text"] if isinstance(b, dict) else b
                  for turn in turns
                  for b in (turn["content"] if isinstance(turn["content"], list)
                            else [turn["content"]])
                  if not isinstance(b, dict) or b["type"] == "text"]
    assert sent_texts == [m.content for m in conversation
                          if m.role in ("user", "assistant") and m.content]


@st.composite
def answers(draw: st.DrawFn) -> tuple[CompletionResult, list[str], int]:
    result = draw(ecs_st.completion_results(usage=True))
    text = result.message.content
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=4))) \
        if len(text) > 1 else []
    bounds = [0, *cuts, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds) if text[a:b]]
    return result, pieces, draw(st.integers(1, 12))


@FAST
@given(answers(), st.data())
def test_a_stream_reassembles_into_the_plain_answer(
    answer: tuple[CompletionResult, list[str], int], data: st.DataObject,
) -> None:
    result, pieces, chunk = answer
    assert result.usage is not None
    usage = (result.usage.prompt_tokens, result.usage.completion_tokens)
    calls = [(c.id, c.name, c.arguments) for c in result.message.tool_calls or []]
    plain, _ = result_from_wire(wire.anthropic_message(result.message.content or None,
                                                       tool_calls=calls, usage=usage))
    frames = wire.anthropic_stream(pieces, tool_calls=calls, usage=usage, json_chunk_size=chunk)
    raw = "".join(frames).encode("utf-8")
    decoder = SSEDecoder()
    state = ClaudeStreamState()
    deltas: list[StreamDelta] = []
    for piece in data.draw(ecs_st.sse_chunkings(raw, max_chunks=8)):
        for event in decoder.feed(piece):
            deltas.extend(state.feed(event.event, event.data))
    for event in decoder.flush():
        deltas.extend(state.feed(event.event, event.data))
    state.finish()
    assert ecs_st.reassemble(deltas) == plain
    assert plain.message == result.message
    assert plain.usage == Usage(*usage, sum(usage))
    assert deltas[-1].finish_reason == ("tool_calls" if calls else "stop")
