"""Property: however the network cuts a recorded OpenAI stream, the deltas are the same.

Runs the pure stream parser (bytes chunks in, deltas out, no sockets) on the real
recorded streams of ``tests/data/real_traffic/crewai-responses.jsonl``, cut at arbitrary
byte offsets, including inside UTF-8 characters and between ``\\n`` and ``\\n``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_agent.providers._openai_stream import parse_stream
from ecs_agent.providers._openai_wire import parse_chat_completion
from ecs_agent.types import StreamDelta
from pytest_ecs_agent.loopback import wire

DATA = Path(__file__).parent.parent / "data" / "real_traffic" / "crewai-responses.jsonl"


def _streams() -> list[dict[str, Any]]:
    records = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if r["api"] == "openai_chat" and isinstance(r["response"], str)]


STREAMS = _streams()
# Streams with multi-byte characters make sure cuts land inside a UTF-8 sequence.
MULTIBYTE = [r for r in STREAMS if len(r["response"].encode()) != len(r["response"])]


def test_the_recorded_data_has_what_this_property_needs() -> None:
    assert len(STREAMS) == 31
    assert MULTIBYTE, "no stream with non-ASCII text: the UTF-8 cut case would go untested"
    assert any(r["expected"]["tool_calls"] for r in STREAMS)


@functools.cache
def _whole(source: str) -> list[StreamDelta]:
    """The deltas of the stream fed in one piece (the reference for every cut)."""
    record = next(r for r in STREAMS if r["source"] == source)
    return parse_stream([record["response"].encode("utf-8")])


def _cut(data: bytes, points: list[int]) -> list[bytes]:
    cuts = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def _summary(deltas: list[StreamDelta]) -> tuple[str, list[Any], int | None]:
    text = "".join(d.content or "" for d in deltas)
    calls = [tc.to_dict() for d in deltas for tc in (d.tool_calls or [])]
    usage = deltas[-1].usage
    return text, calls, usage.total_tokens if usage else None


@settings(max_examples=150, deadline=None)
@given(
    record=st.sampled_from(STREAMS),
    points=st.lists(st.integers(min_value=0, max_value=10**7), max_size=40),
)
def test_any_rechunking_of_a_recorded_stream_gives_the_same_deltas(
    record: dict[str, Any], points: list[int]
) -> None:
    data = record["response"].encode("utf-8")
    whole = _whole(record["source"])
    assert parse_stream(_cut(data, points)) == whole
    expected = record["expected"]
    text, calls, total = _summary(whole)
    assert (text, calls, total) == (expected["text"], expected["tool_calls"],
                                    expected["total_tokens"]), record["source"]


@settings(max_examples=50, deadline=None)
@given(record=st.sampled_from(MULTIBYTE), data=st.data())
def test_cuts_inside_utf8_characters(record: dict[str, Any], data: st.DataObject) -> None:
    raw = record["response"].encode("utf-8")
    inside = CONTINUATION[record["source"]]
    picks = data.draw(st.lists(st.integers(0, len(inside) - 1), min_size=1, max_size=10))
    assert parse_stream(_cut(raw, [inside[i] for i in picks])) == _whole(record["source"])


# Offsets of UTF-8 continuation bytes: a cut there splits a character.
CONTINUATION = {
    r["source"]: [i for i, b in enumerate(r["response"].encode("utf-8")) if 0x80 <= b < 0xC0]
    for r in MULTIBYTE
}


def test_one_byte_at_a_time() -> None:
    record = max(STREAMS, key=lambda r: len(r["expected"]["tool_calls"]))
    raw = record["response"].encode("utf-8")
    assert parse_stream([raw[i:i + 1] for i in range(len(raw))]) == parse_stream([raw])


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_ARGS = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.one_of(st.integers(), st.text(max_size=10), st.booleans(), st.none(),
              st.lists(st.integers(), max_size=3)),
    max_size=4,
)


@settings(max_examples=75, deadline=None)
@given(
    pieces=st.lists(_TEXT.filter(bool), max_size=6),
    calls=st.lists(st.tuples(st.text("abc123", min_size=4, max_size=8),
                             st.sampled_from(["get_weather", "search", "add"]), _ARGS),
                   max_size=3, unique_by=lambda c: c[0]),
    usage=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
    chunk_size=st.integers(1, 20),
    points=st.lists(st.integers(min_value=0, max_value=10**6), max_size=20),
)
def test_a_stream_reassembles_into_the_plain_result(
    pieces: list[str], calls: list[Any], usage: tuple[int, int], chunk_size: int,
    points: list[int],
) -> None:
    frames = wire.openai_chat_stream(pieces, tool_calls=calls, usage=usage,
                                     arguments_chunk_size=chunk_size)
    raw = "".join(frames).encode("utf-8")
    deltas = parse_stream(_cut(raw, points))
    plain = parse_chat_completion(
        wire.openai_chat_completion("".join(pieces), tool_calls=calls, usage=usage))
    assert [d for d in deltas if d.finish_reason is not None] == [deltas[-1]]
    assert "".join(d.content or "" for d in deltas) == plain.message.content
    assert [tc for d in deltas for tc in d.tool_calls or []] == (plain.message.tool_calls or [])
    assert deltas[-1].usage == plain.usage
    assert deltas[-1].finish_reason == ("tool_calls" if calls else "stop")
