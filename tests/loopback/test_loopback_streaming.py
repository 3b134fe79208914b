"""Event streams: frame-by-frame flushing, delays, drops mid-stream, the error event."""

from __future__ import annotations

import json

import httpx
import pytest

from ecs_agent._sse import SSEDecoder
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.loopback.loopback_helpers import OPENAI_HEADERS, chat_body, sse_data

CHAT = "/v1/chat/completions"


async def test_first_frame_arrives_before_a_delayed_second_frame(
    llm_server: LoopbackServer, aclient: httpx.AsyncClient
) -> None:
    frames = wire.openai_chat_stream(["Hel", "lo"])
    llm_server.enqueue(Reply.sse(frames, delay=0.4))
    async with aclient.stream("POST", CHAT, json=chat_body(stream=True),
                              headers=OPENAI_HEADERS) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.aiter_raw()
        first = await anext(chunks)
        # the server waits 0.4 s after frame 1: a buffering server would send more here
        assert first.decode() == frames[0]
        rest = b"".join([chunk async for chunk in chunks])
    assert first + rest == "".join(frames).encode()


def test_sync_client_reads_frames_one_at_a_time(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    frames = wire.anthropic_stream(["a", "b"])
    llm_server.enqueue(Reply.sse(frames, delay=0.2))
    with client.stream("POST", "/anything") as response:
        raw = list(response.iter_raw())
    assert [chunk.decode() for chunk in raw] == frames


def test_a_stream_given_as_text_is_sent_frame_by_frame(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    text = "event: ping\ndata: {}\n\nevent: done\ndata: {\"ok\": true}\n\n"
    llm_server.enqueue(Reply.sse(text, delay=0.05))
    with client.stream("GET", "/s") as response:
        raw = [chunk.decode() for chunk in response.iter_raw()]
    assert raw == ["event: ping\ndata: {}\n\n", "event: done\ndata: {\"ok\": true}\n\n"]


def test_frames_decode_with_an_sse_decoder(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.sse(wire.anthropic_stream(["Hi"])))
    decoder = SSEDecoder()
    events = []
    with client.stream("POST", "/x") as response:
        for chunk in response.iter_bytes():
            events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    assert [e.event for e in events] == [
        "message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_stop", "message_delta", "message_stop",
    ]
    assert json.loads(events[3].data)["delta"] == {"type": "text_delta", "text": "Hi"}


async def test_drop_after_cuts_an_async_stream_mid_body(
    llm_server: LoopbackServer, aclient: httpx.AsyncClient
) -> None:
    frames = wire.openai_chat_stream(["a", "b", "c"])
    llm_server.enqueue(Reply.sse(frames, drop_after=2))
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        async with aclient.stream("POST", CHAT, json=chat_body(stream=True),
                                  headers=OPENAI_HEADERS) as response:
            async for chunk in response.aiter_raw():
                received.append(chunk)
    assert b"".join(received).decode() == "".join(frames[:2])


def test_drop_after_cuts_a_sync_stream_mid_body(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["a"]), drop_after=1))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(CHAT, json=chat_body(stream=True), headers=OPENAI_HEADERS)


def test_drop_after_zero_sends_headers_only(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.sse(["data: 1"], drop_after=0))
    with client.stream("GET", "/s") as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_drop_after_every_frame_omits_the_terminating_chunk(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    frames = ["data: 1\n\n", "data: 2\n\n"]
    llm_server.enqueue(Reply.sse(frames, drop_after=2))
    got: list[bytes] = []
    with client.stream("GET", "/s") as response, pytest.raises(httpx.RemoteProtocolError):
        for chunk in response.iter_raw():
            got.append(chunk)
    assert b"".join(got) == b"data: 1\n\ndata: 2\n\n"


def test_connection_is_reused_after_a_complete_stream(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.sse(["data: 1"]), Reply.json({"second": True}))
    first = client.get("/s")
    second = client.get("/t")
    assert sse_data(first.text) == ["1"]
    assert second.json() == {"second": True}
    # both requests on one keep-alive connection: the server ended the chunked body properly
    assert first.extensions["network_stream"] is second.extensions["network_stream"]


def test_first_byte_delay_on_a_stream_trips_a_read_timeout(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.sse(["data: late"], first_byte_delay=5.0))
    with httpx.Client(timeout=httpx.Timeout(10.0, read=0.2)) as slow, pytest.raises(
        httpx.ReadTimeout
    ):
        slow.get(llm_server.url + "/s")


def test_inter_frame_delay_trips_a_read_timeout_after_the_first_frame(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.sse(["data: 1", "data: 2"], delay=5.0))
    got: list[bytes] = []
    with httpx.Client(timeout=httpx.Timeout(10.0, read=0.3)) as slow, slow.stream(
        "GET", llm_server.url + "/s"
    ) as response, pytest.raises(httpx.ReadTimeout):
        for chunk in response.iter_raw():
            got.append(chunk)
    assert got == [b"data: 1\n\n"]


def test_anthropic_error_event_mid_stream(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    frames = [*wire.anthropic_stream(["partial"])[:3], wire.anthropic_error_event()]
    llm_server.enqueue(Reply.sse(frames))
    text = client.post("/v1/anything").text
    assert text.endswith(
        'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        '"message":"Overloaded"}}\n\n'
    )


def test_stream_status_and_headers_are_configurable(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.sse(["data: 1"], status=202, headers={"x-stream": "1"}))
    response = client.get("/s")
    assert (response.status_code, response.headers["x-stream"]) == (202, "1")
