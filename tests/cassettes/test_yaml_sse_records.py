"""SSE events and HTTP bodies: stored readably, replayed as bytes a parser reads the same.

Runs over the real OpenAI / Anthropic traffic in tests/data/real_traffic.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_agent._sse import ServerSentEvent, SSEDecoder
from pytest_ecs_agent.cassette import (
    Cassette,
    HttpExchange,
    Interaction,
    dump_cassette,
    loads_cassette,
)
from pytest_ecs_agent.http_records import (
    body_bytes,
    body_record,
    sse_data,
    sse_frame,
    sse_record,
    sse_records,
)

TRAFFIC = Path(__file__).parent.parent / "data" / "real_traffic" / "crewai-responses.jsonl"


def real_responses() -> list[dict[str, Any]]:
    with TRAFFIC.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def decode(raw: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return decoder.feed(raw) + decoder.flush()


def stream_cassette(records: list[dict[str, Any]]) -> Cassette:
    return Cassette(path=Path("sse.yaml"), interactions=[Interaction(
        kind="chat", provider="claude",
        request={"model": "m", "messages": [], "tools": None, "stream": True,
                 "response_format": None},
        response={"deltas": [{"finish_reason": "stop"}]},
        http=[HttpExchange(
            request={"method": "POST", "url": "https://api.anthropic.com/v1/messages"},
            response={"status": 200, "headers": {"content-type": "text/event-stream"},
                      "sse": records},
        )],
    )])


STREAMS = [r for r in real_responses() if isinstance(r["response"], str)]


@pytest.mark.parametrize("recorded", STREAMS, ids=[r["source"][-60:] for r in STREAMS])
def test_real_streams_survive_the_cassette_exactly(recorded: dict[str, Any]) -> None:
    raw = recorded["response"].encode("utf-8")
    events = decode(raw)
    cassette = stream_cassette(sse_records(events))
    loaded = loads_cassette(dump_cassette(cassette))
    assert loaded.interactions[0].http is not None
    replayed = b"".join(sse_frame(r) for r in loaded.interactions[0].http[0].response["sse"])
    assert decode(replayed) == events


def test_real_streams_are_stored_parsed() -> None:
    records = [r for s in STREAMS for r in sse_records(decode(s["response"].encode()))]
    raw_strings = [r["data"] for r in records if isinstance(r["data"], str)]
    assert set(raw_strings) == {"[DONE]"}
    assert any("padding" in r for r in records)  # Anthropic pads its frames


def test_anthropic_padding_and_styles_are_kept() -> None:
    for data in ['{"type":"message_stop"      }', '{"type": "ping"}', '{"a":"é"}',
                 '{"a":"\\u00e9"}', '[1,2]  ', '{"a":1}\t', '{"a": 1, "b":2}', '{"a":1e5}',
                 '{"a":1,"a":2}', '{', '"just a json string"', "42", "", "line1\nline2"]:
        record = sse_record(ServerSentEvent(data=data))
        assert sse_data(record) == data
        assert decode(sse_frame(record)) == [ServerSentEvent(data=data)]


def test_event_names_ids_and_retry_are_kept() -> None:
    event = ServerSentEvent(data='{"x":1}', event="content_block_delta", id="7", retry=1500)
    record = sse_record(event)
    assert record == {"event": "content_block_delta", "id": "7", "retry": 1500,
                      "data": {"x": 1}}
    assert decode(sse_frame(record)) == [event]


def test_stored_events_read_well_in_yaml() -> None:
    text = dump_cassette(stream_cassette([
        sse_record(ServerSentEvent(data='{"type":"ping"}', event="ping")),
        sse_record(ServerSentEvent(data="[DONE]")),
    ]))
    assert "sse:\n      - event: ping\n        data:\n          type: ping\n" in text
    assert "      - data: '[DONE]'\n" in text


@pytest.mark.parametrize(("content", "content_type", "expected"), [
    (b'{"a": [1, 2]}', "application/json", {"json": {"a": [1, 2]}}),
    (b'{"a": 1}', None, {"json": {"a": 1}}),
    (b"not json {", "application/json", {"body": "not json {"}),
    (b"plain text", "text/plain", {"body": "plain text"}),
    (b"", "application/json", {"body": ""}),
    (b"\xff\x00binary", "application/octet-stream", {"body_base64": "/wBiaW5hcnk="}),
])
def test_body_records(content: bytes, content_type: str | None, expected: dict[str, Any]) -> None:
    record = body_record(content, content_type)
    assert record == expected
    replayed = body_bytes(record)
    if "json" in record:
        assert json.loads(replayed) == json.loads(content)
    else:
        assert replayed == content


def test_real_embedding_bodies_keep_base64_text() -> None:
    embeds = [r for r in real_responses() if r["api"] == "openai_embed"]
    body = json.dumps(embeds[0]["response"]).encode()
    record = body_record(body, "application/json")
    loaded = loads_cassette(dump_cassette(Cassette(path=Path("e.yaml"), interactions=[
        Interaction("embed", "openai-embedding", {"model": "m", "input": ["x"]},
                    {"vectors": [[0.0]]},
                    [HttpExchange({"method": "POST", "url": "u"},
                                  {"status": 200, **record})])])))
    assert loaded.interactions[0].http is not None
    assert loaded.interactions[0].http[0].response["json"] == embeds[0]["response"]
