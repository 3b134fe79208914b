"""The vendor-neutral SSE decoder (``ecs_agent._sse``): WHATWG event-stream rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from ecs_agent._sse import ServerSentEvent, SSEDecoder, aiter_sse


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_data_event_and_named_event() -> None:
    assert decode(b"data: hello\n\nevent: ping\ndata: {}\n\n") == [
        ServerSentEvent(data="hello"),
        ServerSentEvent(data="{}", event="ping"),
    ]


def test_multiple_data_lines_join_with_newline() -> None:
    assert decode(b"data: a\ndata: b\n\n") == [ServerSentEvent(data="a\nb")]


def test_only_one_leading_space_is_dropped_and_no_space_is_fine() -> None:
    assert decode(b"data:x\n\ndata:  y\n\n") == [ServerSentEvent(data="x"),
                                                 ServerSentEvent(data=" y")]


def test_comments_are_ignored_and_empty_blocks_dispatch_nothing() -> None:
    assert decode(b": keep-alive\n\n\n\ndata: z\n\n") == [ServerSentEvent(data="z")]


def test_crlf_and_cr_line_endings() -> None:
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [
        ServerSentEvent(data="a"), ServerSentEvent(data="b"), ServerSentEvent(data="c")]


def test_crlf_split_between_chunks_is_one_line_ending() -> None:
    # "\r" at the end of one chunk and "\n" at the start of the next: one line break,
    # so the following "\r\n" is the blank line that dispatches exactly one event.
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r\n") == [ServerSentEvent(data="a\nb")]


def test_utf8_character_split_between_chunks() -> None:
    raw = "data: café 🙂\n\n".encode()
    cut = raw.index("🙂".encode()) + 2
    assert decode(raw[:cut], raw[cut:]) == [ServerSentEvent(data="café 🙂")]


def test_a_leading_byte_order_mark_is_dropped_even_when_split() -> None:
    # without this the first field name would be "\ufeffdata" and the event lost
    assert decode(b"\xef", b"\xbb\xbfdata: a\n\n") == [ServerSentEvent(data="a")]
    # only at the very start: later it is ordinary data
    assert decode(b"data: \xef\xbb\xbfb\n\n") == [ServerSentEvent(data="\ufeffb")]


def test_id_and_retry_fields() -> None:
    assert decode(b"id: 7\nretry: 1500\ndata: x\n\n") == [
        ServerSentEvent(data="x", id="7", retry=1500)]
    assert decode(b"retry: soon\ndata: x\n\n") == [ServerSentEvent(data="x")]
    # non-ASCII digits are not a retry value (int() would choke on them)
    assert decode("retry: ²\ndata: x\n\n".encode()) == [ServerSentEvent(data="x")]


def test_flush_dispatches_an_unterminated_last_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: [DONE]") == []
    assert decoder.flush() == [ServerSentEvent(data="[DONE]")]


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n") == []
    assert decoder.feed(b"\n") == [ServerSentEvent(data="one")]


async def test_aiter_sse_over_an_async_byte_stream() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for piece in (b"data: a\n", b"\ndata: b", b"\n\n"):
            yield piece

    assert [e async for e in aiter_sse(chunks())] == [ServerSentEvent(data="a"),
                                                     ServerSentEvent(data="b")]


STREAM = (
    "data: {\"a\": \"é\"}\r\n\r\n: comment\n\nevent: x\ndata: 1\ndata: 2\n\n"
    "data: 🙂 emoji\r\rdata: tail\n\n"
).encode()


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert decode(*pieces) == decode(STREAM) == [
        ServerSentEvent(data='{"a": "é"}'),
        ServerSentEvent(data="1\n2", event="x"),
        ServerSentEvent(data="🙂 emoji"),
        ServerSentEvent(data="tail"),
    ]
