"""Streams: delta sequences that reassemble into a result, and SSE byte chunkings."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent.strategies._chat import completion_results, tool_calls, usages
from pytest_ecs_agent.strategies._text import texts
from pytest_ecs_agent.strategies._validation import check_type

__all__ = [
    "FINISH_REASONS",
    "StreamRuleError",
    "reassemble",
    "sse_chunkings",
    "stream_delta_sequences",
    "stream_deltas",
]

FINISH_REASONS = ("stop", "tool_calls", "length", "content_filter")


class StreamRuleError(ValueError):
    """A delta sequence breaks a stream rule; ``rule`` names it (``chat.stream.*``)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"rule {rule}: {message}")
        self.rule = rule


def stream_deltas() -> st.SearchStrategy[StreamDelta]:
    """One delta on its own: a text piece, complete tool call(s), or a final delta
    carrying ``finish_reason`` (and maybe usage and a last piece of text)."""
    return st.one_of(
        st.builds(StreamDelta, content=texts(min_size=1, max_size=20)),
        st.builds(StreamDelta, tool_calls=st.lists(tool_calls(), min_size=1, max_size=2,
                                                   unique_by=lambda c: c.id)),
        st.builds(StreamDelta, content=st.none() | texts(min_size=1, max_size=20),
                  finish_reason=st.sampled_from(FINISH_REASONS),
                  usage=st.none() | usages()),
    )


def _finish_reason_for(result: CompletionResult) -> str:
    return "tool_calls" if result.message.tool_calls else "stop"


def stream_delta_sequences(
    result: CompletionResult | st.SearchStrategy[CompletionResult] | None = None,
    *,
    finish_reason: str | None = None,
) -> st.SearchStrategy[list[StreamDelta]]:
    """Delta sequences that :func:`reassemble` into ``result`` (drawn when ``None``).

    Text is split at arbitrary points into non-empty pieces; each tool call appears
    exactly once, complete, in order, in any delta up to and including the final one;
    exactly one delta (the last) carries ``finish_reason`` (``tool_calls`` when the
    result has tool calls, else ``stop``, unless given) and the usage.
    """
    if finish_reason is not None:
        check_type(str, finish_reason, "finish_reason")
        if not finish_reason:
            raise InvalidArgument("finish_reason must not be empty")
    if result is None:
        results: st.SearchStrategy[CompletionResult] = completion_results()
    elif isinstance(result, CompletionResult):
        if result.message.role != "assistant":
            raise InvalidArgument(f"result.message.role must be 'assistant', "
                                  f"got {result.message.role!r}")
        results = st.just(result)
    else:
        check_type(st.SearchStrategy, result, "result")
        results = result
    return results.flatmap(lambda r: _sequences(r, finish_reason or _finish_reason_for(r)))


@st.composite
def _sequences(draw: st.DrawFn, result: CompletionResult, finish_reason: str
               ) -> list[StreamDelta]:
    content = result.message.content
    cuts = draw(st.sets(st.integers(1, max(1, len(content) - 1)), max_size=len(content)))
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(content)), len(content)]
    pieces = [content[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    final_text = pieces.pop() if pieces and draw(st.booleans()) else None  # type: ignore[arg-type]
    deltas: list[StreamDelta] = [StreamDelta(content=p) for p in pieces]
    # Tool calls go in order: each into an existing delta, a delta of its own, or the final.
    final_calls: list[ToolCall] = []
    position = 0
    for call in result.message.tool_calls or []:
        where = draw(st.sampled_from(["own", "attach", "final"]))
        if final_calls or where == "final":
            final_calls.append(call)
            continue
        position = draw(st.integers(position, len(deltas)))
        if where == "attach" and position < len(deltas):
            target = deltas[position]
            target.tool_calls = [*(target.tool_calls or []), call]
        else:
            deltas.insert(position, StreamDelta(tool_calls=[call]))
        position += 1
    deltas.append(StreamDelta(content=final_text, tool_calls=final_calls or None,
                              finish_reason=finish_reason, usage=result.usage))
    return deltas


def reassemble(deltas: Iterable[StreamDelta]) -> CompletionResult:
    """The :class:`CompletionResult` a stream of deltas amounts to.

    Checks the stream rules on the way and raises :class:`StreamRuleError` (a
    ``ValueError`` whose ``rule`` attribute names the broken rule) when one breaks:
    every item is a ``StreamDelta``; exactly one delta carries ``finish_reason`` and it
    is the last; usage is reported at most once; tool-call ids are unique.
    """
    content: list[str] = []
    calls: list[ToolCall] = []
    usage: Usage | None = None
    finished_at: int | None = None
    count = 0
    for index, delta in enumerate(deltas):
        count = index + 1
        if not isinstance(delta, StreamDelta):
            raise StreamRuleError("chat.stream.delta_type",
                                  f"item {index} is {type(delta).__name__}, not StreamDelta")
        if finished_at is not None:
            raise StreamRuleError(
                "chat.stream.finish_reason_last",
                f"delta {index} came after delta {finished_at}, which carried "
                "finish_reason: the delta with finish_reason must be the last")
        if delta.content:
            content.append(delta.content)
        for call in delta.tool_calls or []:
            if any(c.id == call.id for c in calls):
                raise StreamRuleError("chat.stream.tool_call_once",
                                      f"tool call id {call.id!r} was yielded more than once")
            calls.append(call)
        if delta.usage is not None:
            if usage is not None:
                raise StreamRuleError("chat.stream.usage_once",
                                      f"usage was reported twice (again in delta {index})")
            usage = delta.usage
        if delta.finish_reason is not None:
            finished_at = index
    if finished_at is None:
        raise StreamRuleError("chat.stream.finish_reason_last",
                              f"none of the {count} deltas carried finish_reason")
    message = Message("assistant", "".join(content), tool_calls=calls or None)
    return CompletionResult(message, usage)


def sse_chunkings(events_bytes: bytes, *, max_chunks: int | None = None
                  ) -> st.SearchStrategy[list[bytes]]:
    """Ways the network may cut ``events_bytes``: non-empty chunks that concatenate to
    it, cut anywhere (inside a line, between CR and LF, inside a UTF-8 character)."""
    check_type(bytes, events_bytes, "events_bytes")
    if max_chunks is not None:
        check_type(int, max_chunks, "max_chunks")
        if max_chunks < 1:
            raise InvalidArgument(f"max_chunks={max_chunks} must be >= 1")
    data = bytes(events_bytes)
    if not data:
        return st.just([])
    limit = len(data) - 1 if max_chunks is None else min(max_chunks - 1, len(data) - 1)

    def cut(points: Any) -> list[bytes]:
        bounds = [0, *sorted(points), len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]

    if limit == 0:
        return st.just([data])
    return st.sets(st.integers(1, len(data) - 1), max_size=limit).map(cut)
