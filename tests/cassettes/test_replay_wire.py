"""Wire replay details: SSE timing, exact event bytes, non-JSON bodies, record/replay units."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_agent._sse import SSEDecoder
from ecs_agent.providers import ClaudeProvider, OpenAIProvider
from ecs_agent.types import CompletionResult
from pytest_ecs_agent.cassette import load_cassette
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.wire_replay import (
    DROPPED_MESSAGE,
    ExchangeRecord,
    record_exchange,
    replay_response,
    request_record,
)
from tests.cassettes.engine_support import KEY, FakeSleep, ask, collect, in_session


async def stream_call(server: LoopbackServer) -> list[Any]:
    async with OpenAIProvider(api_key=KEY, base_url=server.openai_base_url) as provider:
        return await collect(await provider.complete(ask("slowly"), stream=True))


async def test_timing_is_recorded_per_event_and_replayed_on_request(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    frames = wire.openai_chat_stream(["a", "b", "c"])
    llm_server.enqueue(Reply.sse(frames, delay=0.05))
    live, _ = await in_session(path, lambda: stream_call(llm_server), record_mode="once",
                               timing=True)
    interaction = load_cassette(path).interactions[0]
    assert interaction.http is not None
    http_timing = interaction.http[0].response["timing"]
    assert len(http_timing) == len(frames)
    assert http_timing == sorted(http_timing)
    assert http_timing[-1] - http_timing[0] >= 0.05 * (len(frames) - 1) * 0.5
    domain_timing = interaction.response["timing"]
    assert len(domain_timing) == len(live)

    for replay in ("domain", "wire"):
        sleep = FakeSleep()
        again, _ = await in_session(path, lambda: stream_call(llm_server), replay=replay,
                                    replay_timing=True, sleep=sleep)
        assert [d.to_dict() for d in again] == [d.to_dict() for d in live]
        recorded = domain_timing if replay == "domain" else http_timing
        expected = [b - a for a, b in zip([0.0, *recorded], recorded, strict=False)]
        assert sleep.waits == pytest.approx([g for g in expected if g > 0]), replay
        quiet = FakeSleep()
        await in_session(path, lambda: stream_call(llm_server), replay=replay, sleep=quiet)
        assert quiet.waits == []


async def test_padded_anthropic_frames_replay_to_the_same_events(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    frames = wire.anthropic_stream(["Hi", " there"])
    frames[-1] = 'event: message_stop\ndata: {"type":"message_stop"      }\n\n'
    llm_server.enqueue(Reply.sse(frames))

    async def call() -> list[Any]:
        async with ClaudeProvider(api_key=KEY, base_url=llm_server.anthropic_base_url,
                                  max_tokens=64) as provider:
            return await collect(await provider.complete(ask("hi"), stream=True))

    live, _ = await in_session(path, call, record_mode="once")
    interaction = load_cassette(path).interactions[0]
    assert interaction.http is not None
    exchange = interaction.http[0].to_dict()
    served = replay_response(exchange, httpx.Request("POST", "http://x/v1/messages"))
    decoder = SSEDecoder()
    events = decoder.feed(await served.aread()) + decoder.flush()
    original = SSEDecoder()
    expected = original.feed("".join(frames).encode()) + original.flush()
    assert events == expected
    again, _ = await in_session(path, call, replay="wire")
    assert [d.to_dict() for d in again] == [d.to_dict() for d in live]


async def test_plain_text_error_from_a_proxy_replays_its_body(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.raw("<html>502 Bad Gateway</html>", status=502,
                                 content_type="text/html"))

    async def call() -> httpx.HTTPStatusError:
        async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as p:
            with pytest.raises(httpx.HTTPStatusError) as info:
                await p.complete(ask("x"))
            return info.value

    live, _ = await in_session(path, call, record_mode="once")
    interaction = load_cassette(path).interactions[0]
    assert interaction.http is not None
    assert interaction.http[0].response["body"] == "<html>502 Bad Gateway</html>"
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, call, replay=replay)
        assert again.response.status_code == 502
        assert again.response.text == "<html>502 Bad Gateway</html>"
        assert str(again) == str(live)


async def test_record_exchange_tees_bytes_and_notes_a_drop() -> None:
    chunks = [b'data: {"a":1}\n\n', b"data: [DO", b"NE]\n\n"]

    class Cut(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            for chunk in chunks[:2]:
                yield chunk
            raise httpx.RemoteProtocolError("peer closed connection")

    request = httpx.Request("POST", "http://x/v1/chat/completions", json={"q": 1},
                            headers={"Authorization": "Bearer sk-xyz"})

    async def send(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Cut(),
                              request=req)

    record = ExchangeRecord(request_record(request))
    assert record.request["json"] == {"q": 1}
    assert record.request["headers"]["authorization"] == "Bearer sk-xyz"  # redacted on write
    response = await record_exchange(request, send, record)
    got: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async for chunk in response.aiter_bytes():
            got.append(chunk)
    assert got == chunks[:2]  # passed through unchanged
    assert record.response == {"status": 200, "headers": {"content-type": "text/event-stream"},
                               "sse": [{"data": {"a": 1}}], "dropped_after": 1}

    replayed = replay_response(record.to_dict() or {}, request)
    served: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed") as info:
        async for chunk in replayed.aiter_bytes():
            served.append(chunk)
    assert served == [b'data: {"a":1}\n\n']
    assert str(info.value) == DROPPED_MESSAGE


async def test_binary_and_json_bodies_replay_exactly() -> None:
    request = httpx.Request("GET", "http://x/")
    binary = {"response": {"status": 200, "headers": {"content-type": "application/octet-stream"},
                           "body_base64": "AAEC/w=="}}
    assert await replay_response(binary, request).aread() == b"\x00\x01\x02\xff"
    as_json = {"response": {"status": 201, "headers": {"content-type": "application/json",
                                                       "content-length": "999"},
                            "json": {"b": [1, 2], "a": "é"}}}
    response = replay_response(as_json, request)
    body = await response.aread()
    assert body == '{"b":[1,2],"a":"é"}'.encode()
    assert response.status_code == 201 and "content-length" not in response.headers
    assert response.json() == {"b": [1, 2], "a": "é"}


async def test_wire_replay_of_a_completion_matches_domain(tmp_path: Path,
                                                          llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("ok", usage=(4, 1))))

    async def call() -> CompletionResult:
        async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as p:
            result = await p.complete(ask("x"))
            assert isinstance(result, CompletionResult)
            return result

    live, _ = await in_session(path, call, record_mode="once")
    wired, session = await in_session(path, call, replay="wire")
    assert wired == live
    assert session.stats.replayed == 1 and session.stats.unused == 0
