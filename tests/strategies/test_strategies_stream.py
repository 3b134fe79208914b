"""Stream strategies: delta sequences reassemble exactly; SSE chunkings decode the same."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ecs_agent._sse import ServerSentEvent, SSEDecoder
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent import strategies as ecs_st

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NO_SHRINK = settings(max_examples=500, phases=[Phase.generate], database=None)


@FAST
@given(st.data())
def test_stream_delta_sequences_reassemble_into_their_result(data: st.DataObject) -> None:
    result = data.draw(ecs_st.completion_results())
    deltas = data.draw(ecs_st.stream_delta_sequences(result=result))
    assert all(isinstance(d, StreamDelta) for d in deltas)
    finals = [i for i, d in enumerate(deltas) if d.finish_reason is not None]
    assert finals == [len(deltas) - 1]
    assert deltas[-1].finish_reason == ("tool_calls" if result.message.tool_calls else "stop")
    assert [i for i, d in enumerate(deltas) if d.usage is not None] == (
        [len(deltas) - 1] if result.usage is not None else [])
    assert all(d.content != "" for d in deltas)  # no empty pieces
    # Computed independently of reassemble(): concatenation and order of tool calls.
    assert "".join(d.content or "" for d in deltas) == result.message.content
    calls = [c for d in deltas for c in d.tool_calls or []]
    assert calls == (result.message.tool_calls or [])
    assert ecs_st.reassemble(deltas) == result


def test_stream_delta_sequences_split_text_and_spread_tool_calls() -> None:
    result = CompletionResult(
        Message("assistant", "hello world", tool_calls=[
            ToolCall("call_a", "f", {"x": 1}), ToolCall("call_b", "g", {})]),
        Usage(3, 4, 7))
    many = find(ecs_st.stream_delta_sequences(result=result),
                lambda ds: sum(d.content is not None for d in ds) >= 3
                and sum(bool(d.tool_calls) for d in ds) == 2, settings=NO_SHRINK)
    assert ecs_st.reassemble(many) == result


@FAST
@given(ecs_st.stream_delta_sequences(finish_reason="length"))
def test_stream_delta_sequences_finish_reason_option(deltas: list[StreamDelta]) -> None:
    assert deltas[-1].finish_reason == "length"


@FAST
@given(ecs_st.stream_deltas())
def test_stream_deltas_are_valid_on_their_own(delta: StreamDelta) -> None:
    assert delta.content is None or delta.content
    assert delta.tool_calls is None or all(isinstance(c.arguments, dict) for c in delta.tool_calls)
    assert any((delta.content, delta.tool_calls, delta.finish_reason))


def _final(**kw: object) -> StreamDelta:
    return StreamDelta(finish_reason="stop", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("deltas", "rule"), [
    ([_final(), StreamDelta(content="late")], "chat.stream.finish_reason_last"),
    ([StreamDelta(content="x")], "chat.stream.finish_reason_last"),
    ([], "chat.stream.finish_reason_last"),
    ([StreamDelta(usage=Usage(1, 1, 2)), _final(usage=Usage(1, 1, 2))], "chat.stream.usage_once"),
    ([StreamDelta(tool_calls=[ToolCall("c", "f", {})]),
      StreamDelta(tool_calls=[ToolCall("c", "f", {})], finish_reason="tool_calls")],
     "chat.stream.tool_call_once"),
    (["not a delta", _final()], "chat.stream.delta_type"),
])
def test_reassemble_names_the_broken_rule(deltas: list[StreamDelta], rule: str) -> None:
    with pytest.raises(ecs_st.StreamRuleError) as info:
        ecs_st.reassemble(deltas)
    assert info.value.rule == rule
    assert str(info.value).startswith(f"rule {rule}: ")


def test_reassemble_joins_text_and_collects_calls() -> None:
    call = ToolCall("call_1", "lookup", {"q": "é"})
    deltas = [StreamDelta(content="Pa"), StreamDelta(content="ris", tool_calls=[call]),
              StreamDelta(finish_reason="tool_calls", usage=Usage(5, 2, 7))]
    assert ecs_st.reassemble(deltas) == CompletionResult(
        Message("assistant", "Paris", tool_calls=[call]), Usage(5, 2, 7))


EVENTS = (
    'event: message_start\r\ndata: {"text": "h\u00e9llo \u2603 \U0001f600"}\r\n\r\n'
    ": keep-alive comment\n\n"
    "data: line one\ndata: line two\n\n"
    "id: 7\rdata: \u00fcber\r\r"
    "data: [DONE]\n\n"
).encode()


def _decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    return events + decoder.flush()


EXPECTED = [
    ServerSentEvent(data='{"text": "h\u00e9llo \u2603 \U0001f600"}', event="message_start"),
    ServerSentEvent(data="line one\nline two"),
    ServerSentEvent(data="\u00fcber", id="7"),
    ServerSentEvent(data="[DONE]", id="7"),
]


@FAST
@given(ecs_st.sse_chunkings(EVENTS))
def test_sse_chunkings_decode_like_the_whole_stream(chunks: list[bytes]) -> None:
    assert b"".join(chunks) == EVENTS
    assert all(chunks)
    assert _decode(chunks) == EXPECTED


def test_sse_chunkings_cut_inside_utf8_characters_and_crlf() -> None:
    def cuts_a_character(chunks: list[bytes]) -> bool:
        try:
            for chunk in chunks:
                chunk.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    assert cuts_a_character(find(ecs_st.sse_chunkings(EVENTS), cuts_a_character,
                                 settings=NO_SHRINK))
    split_crlf = find(ecs_st.sse_chunkings(EVENTS),
                      lambda cs: any(c.endswith(b"\r") and n.startswith(b"\n")
                                     for c, n in itertools.pairwise(cs)),
                      settings=NO_SHRINK)
    assert _decode(split_crlf) == EXPECTED


@FAST
@given(ecs_st.sse_chunkings(b"data: x\n\n", max_chunks=2))
def test_sse_chunkings_max_chunks(chunks: list[bytes]) -> None:
    assert 1 <= len(chunks) <= 2


@pytest.mark.parametrize("build", [
    lambda: ecs_st.sse_chunkings("data: x\n\n"),  # type: ignore[arg-type]
    lambda: ecs_st.sse_chunkings(b"x", max_chunks=0),
    lambda: ecs_st.stream_delta_sequences(finish_reason=""),
    lambda: ecs_st.stream_delta_sequences(result="nope"),  # type: ignore[arg-type]
    lambda: ecs_st.stream_delta_sequences(result=CompletionResult(Message("user", "hi"))),
])
def test_bad_arguments_raise_invalid_argument_eagerly(build: object) -> None:
    with pytest.raises(InvalidArgument):
        build()  # type: ignore[operator]
