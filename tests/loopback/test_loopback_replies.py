"""Scripted replies: JSON, raw, vendor errors, headers, FIFO queues, drop, the request log."""

from __future__ import annotations

import json

import httpx
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, ReceivedRequest, Reply, wire
from tests.loopback.loopback_helpers import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    anthropic_body,
    chat_body,
)

CHAT = "/v1/chat/completions"


def test_json_reply_is_served_with_status_headers_and_content_length(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"hello": "world"}, status=201, headers={"x-custom": "yes"}))
    response = client.post("/anything", content=b"")
    assert response.status_code == 201
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-custom"] == "yes"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["x-request-id"].startswith("req_")


def test_raw_reply_sends_bytes_verbatim(llm_server: LoopbackServer, client: httpx.Client) -> None:
    llm_server.enqueue(Reply.raw('{"truncated": ', status=200), Reply.raw(b"\x00\xff", 502,
                                                                          "text/plain"))
    first = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert first.content == b'{"truncated": '
    second = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert (second.status_code, second.content) == (502, b"\x00\xff")
    assert second.headers["content-type"] == "text/plain"


def test_custom_content_type_header_replaces_the_default(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({}, headers={"Content-Type": "application/problem+json"}))
    response = client.get("/x")
    assert response.headers.get_list("content-type") == ["application/problem+json"]


def test_openai_error_reply_has_openai_shape_and_retry_after(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached for gpt-4o-mini", retry_after=2))
    response = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "error": {
            "message": "Rate limit reached for gpt-4o-mini",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


def test_anthropic_error_reply_has_anthropic_shape_and_retry_after_ms(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.error(529, "Overloaded", vendor="anthropic", retry_after_ms=250,
                                   retry_after=0.5))
    response = client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert response.status_code == 529
    assert response.headers["retry-after-ms"] == "250"
    assert response.headers["retry-after"] == "0.5"
    assert response.json() == {
        "type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
    }


@pytest.mark.parametrize(
    ("status", "vendor", "kind"),
    [(401, "openai", "invalid_request_error"), (500, "openai", "server_error"),
     (400, "anthropic", "invalid_request_error"), (401, "claude", "authentication_error"),
     (429, "anthropic", "rate_limit_error"), (500, "anthropic", "api_error")],
)
def test_error_type_follows_the_vendor_for_each_status(
    llm_server: LoopbackServer, client: httpx.Client, status: int, vendor: str, kind: str
) -> None:
    llm_server.enqueue(Reply.error(status, "boom", vendor=vendor))
    response = client.post("/other", json={})
    assert response.status_code == status
    assert response.json()["error"]["type"] == kind
    assert response.json()["error"]["message"] == "boom"


def test_error_type_and_code_can_be_overridden(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.error(429, "quota", type="insufficient_quota",
                                   code="insufficient_quota"))
    error = client.post("/x", json={}).json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")


def test_per_path_queue_is_checked_before_the_general_queue(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"n": "general-1"}), Reply.json({"n": "general-2"}))
    llm_server.enqueue(Reply.json({"n": "chat-1"}), path=CHAT)
    llm_server.enqueue(Reply.json({"n": "chat-2"}), path=CHAT)
    llm_server.enqueue(Reply.json({"n": "embed-1"}), path="/v1/embeddings")
    assert llm_server.pending == 5
    got = [client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS).json()["n"]
           for _ in range(3)]
    assert got == ["chat-1", "chat-2", "general-1"]
    other = client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert other.json() == {"n": "general-2"}
    embed = client.post("/v1/embeddings", json={"model": "m", "input": "x"},
                        headers=OPENAI_HEADERS)
    assert embed.json() == {"n": "embed-1"}
    assert llm_server.pending == 0


def test_per_path_queue_ignores_the_query_string(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"ok": True}), path="/v1/models")
    response = client.get("/v1/models?limit=2")
    assert response.json() == {"ok": True}
    assert llm_server.last_request.query == "limit=2"
    assert llm_server.last_request.path == "/v1/models"


def test_nothing_scripted_answers_500_naming_method_and_path(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    response = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    assert "no reply was scripted for POST /v1/chat/completions" in message
    assert response.headers["x-should-retry"] == "false"
    claude = client.post("/v1/messages", json=anthropic_body(), headers=ANTHROPIC_HEADERS)
    assert claude.status_code == 500
    assert claude.json()["type"] == "error"
    assert "no reply was scripted for POST /v1/messages" in claude.json()["error"]["message"]


def test_drop_closes_the_connection_without_an_answer(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.drop(), Reply.json({"after": "drop"}))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS).json() == {
        "after": "drop"
    }


async def test_drop_is_seen_by_an_async_client(
    llm_server: LoopbackServer, aclient: httpx.AsyncClient
) -> None:
    llm_server.enqueue(Reply.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        await aclient.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)


def test_first_byte_delay_on_a_json_reply_trips_a_read_timeout(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json({"late": True}, first_byte_delay=5.0))
    with httpx.Client(timeout=httpx.Timeout(10.0, read=0.2)) as slow, pytest.raises(
        httpx.ReadTimeout
    ):
        slow.post(llm_server.url + "/x", json={})


def test_requests_record_everything_received(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({}), Reply.json({}), Reply.json({}))
    client.post(CHAT, json=chat_body("hi"), headers={**OPENAI_HEADERS, "X-Trace": "abc"})
    client.post("/raw", content=b"not json", headers={"Content-Type": "text/plain"})
    client.get("/models")
    first, second, third = llm_server.requests
    assert isinstance(first, ReceivedRequest)
    assert (first.method, first.path) == ("POST", CHAT)
    assert first.headers["authorization"] == "Bearer sk-test-loopback"
    assert first.headers["x-trace"] == "abc"
    assert all(key == key.lower() for key in first.headers)
    assert first.json == chat_body("hi")
    assert json.loads(first.body) == chat_body("hi")
    assert (second.body, second.json) == (b"not json", None)
    assert (third.method, third.body, third.json) == ("GET", b"", None)


def test_invalid_requests_are_recorded_too(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    client.post(CHAT, json=chat_body())  # no Authorization: rejected with 401
    assert [r.path for r in llm_server.requests] == [CHAT]


def test_chunked_request_bodies_are_read(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({}))

    def parts() -> object:
        yield b'{"model": "m", '
        yield b'"input": "x"}'

    client.post("/v1/embeddings", content=parts(), headers=OPENAI_HEADERS)  # type: ignore[arg-type]
    assert llm_server.last_request.headers["transfer-encoding"] == "chunked"
    assert llm_server.last_request.json == {"model": "m", "input": "x"}


def test_reset_forgets_replies_and_requests(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({}))
    llm_server.enqueue(Reply.json({}), path=CHAT)
    client.get("/x")
    llm_server.reset()
    assert (llm_server.pending, llm_server.requests) == (0, [])
    with pytest.raises(LookupError, match="no request received yet"):
        _ = llm_server.last_request


def test_requests_is_a_snapshot(llm_server: LoopbackServer, client: httpx.Client) -> None:
    llm_server.enqueue(Reply.json({}), Reply.json({}))
    client.get("/a")
    snapshot = llm_server.requests
    client.get("/b")
    assert [r.path for r in snapshot] == ["/a"]
    assert [r.path for r in llm_server.requests] == ["/a", "/b"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Reply.json(object()), "not JSON-serialisable"),
        (lambda: Reply.json({}, status=99), "status must be an HTTP status code"),
        (lambda: Reply.raw(123), "body must be bytes or str"),  # type: ignore[arg-type]
        (lambda: Reply.sse(["data: 1"], delay=-1), "delay must be a number"),
        (lambda: Reply.sse(["data: 1"], drop_after=-1), "drop_after must be an int"),
        (lambda: Reply.sse([b"data: 1"]), "frames must be a str or a list of str"),  # type: ignore[list-item]
        (lambda: Reply.error(429, "x", vendor="azure"), "vendor must be 'openai' or"),
        (lambda: Reply.error(429, "x", retry_after=-2), "retry_after must be a number"),
        (lambda: Reply.json({}, headers={"x": 1}), "must map a str to a str"),  # type: ignore[dict-item]
    ],
)
def test_bad_reply_arguments_fail_eagerly_with_a_clear_message(
    build: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_enqueue_rejects_non_replies_and_bad_paths(llm_server: LoopbackServer) -> None:
    with pytest.raises(TypeError, match="expected a Reply"):
        llm_server.enqueue({"not": "a reply"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="path must start with '/'"):
        llm_server.enqueue(Reply.json({}), path="v1/chat/completions")
    assert llm_server.pending == 0


def test_sse_text_is_split_at_blank_lines() -> None:
    reply = Reply.sse("event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\n\n\ndata: [DONE]\n\n")
    assert reply.frames == ("event: a\ndata: 1\n\n", "event: b\r\ndata: 2\n\n",
                            "data: [DONE]\n\n")


def test_wire_builders_plug_into_replies(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Paris.")))
    response = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert response.json()["choices"][0]["message"]["content"] == "Paris."
