"""LiteLLM call arguments and error mapping, on plain values (no network, no litellm)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ecs_agent.providers._litellm_wire import (
    acompletion_kwargs,
    chunk_to_sse,
    http_error_from_litellm,
)
from ecs_agent.types import Message, ToolCall, ToolSchema

KEY = "sk-test-litellm-0123456789"
TOOL = ToolSchema(name="lookup", description="Look it up",
                  parameters={"type": "object", "properties": {"q": {"type": "string"}}})


def test_kwargs_are_openai_shaped() -> None:
    kwargs = acompletion_kwargs(
        model="openai/gpt-4o-mini",
        messages=[Message("user", "find x"),
                  Message("assistant", "", tool_calls=[ToolCall("call_1", "lookup", {"q": "x"})]),
                  Message("tool", "found", tool_call_id="call_1")],
        tools=[TOOL], stream=False, response_format={"type": "json_object"},
        api_key=KEY, base_url="http://127.0.0.1:1/v1", extra={"temperature": 0.2},
    )
    assert kwargs["model"] == "openai/gpt-4o-mini"
    assert kwargs["messages"][1]["tool_calls"][0]["function"] == {
        "name": "lookup", "arguments": json.dumps({"q": "x"})}
    assert kwargs["messages"][2] == {"role": "tool", "content": "found",
                                     "tool_call_id": "call_1"}
    assert kwargs["tools"] == [{"type": "function", "function": {
        "name": "lookup", "description": "Look it up", "parameters": TOOL.parameters}}]
    assert kwargs["response_format"] == {"type": "json_object"}
    assert kwargs["api_key"] == KEY
    assert kwargs["api_base"] == "http://127.0.0.1:1/v1"
    assert kwargs["temperature"] == 0.2
    assert "stream" not in kwargs and "stream_options" not in kwargs


def test_streaming_kwargs_ask_for_usage_and_omit_unset_values() -> None:
    kwargs = acompletion_kwargs(model="m", messages=[Message("user", "x")], tools=None,
                                stream=True, response_format=None, api_key=None,
                                base_url=None, extra={})
    assert kwargs == {"model": "m", "messages": [{"role": "user", "content": "x"}],
                      "stream": True, "stream_options": {"include_usage": True}}


def test_chunk_is_framed_as_an_sse_event() -> None:
    assert chunk_to_sse({"choices": []}) == b'data: {"choices": []}\n\n'


class FakeStatusError(Exception):
    """Shaped like litellm's exceptions: ``status_code``, ``message``, ``response``."""

    def __init__(self, message: str, status_code: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.response = httpx.Response(status_code, headers=headers,
                                       request=httpx.Request("POST", "http://h/v1/chat"))


class FakeTimeout(Exception):
    pass


class FakeConnectionError(Exception):
    pass


def test_status_error_becomes_http_status_error_with_headers_and_no_key() -> None:
    exc = FakeStatusError(f"Rate limit reached for key {KEY}", 429,
                          {"retry-after": "2", "retry-after-ms": "1500"})
    mapped = http_error_from_litellm(exc, model="openai/m", base_url=None, secrets=(KEY,))
    assert isinstance(mapped, httpx.HTTPStatusError)
    assert mapped.response.status_code == 429
    assert mapped.response.headers["retry-after"] == "2"
    assert mapped.response.headers["retry-after-ms"] == "1500"
    assert "Rate limit reached" in str(mapped)
    assert KEY not in str(mapped)
    assert KEY not in mapped.response.text
    assert mapped.response.json()["error"]["type"] == "FakeStatusError"
    assert str(mapped.request.url) == "http://h/v1/chat"


@pytest.mark.parametrize(
    ("exc", "expected"),
    [(FakeTimeout("took too long"), httpx.ReadTimeout),
     (FakeConnectionError("refused"), httpx.ConnectError)],
)
def test_timeouts_and_connection_errors_become_request_errors(
    exc: Exception, expected: type[httpx.RequestError]
) -> None:
    mapped = http_error_from_litellm(exc, model="m", base_url="http://127.0.0.1:9/v1",
                                     secrets=(), timeout_types=(FakeTimeout,),
                                     connection_types=(FakeConnectionError,))
    assert type(mapped) is expected
    assert isinstance(mapped, httpx.RequestError)
    assert str(mapped.request.url) == "http://127.0.0.1:9/v1"


def test_transport_error_in_the_cause_chain_keeps_its_class() -> None:
    def raise_wrapped() -> None:
        try:
            raise httpx.ReadError("server disconnected")
        except httpx.ReadError as inner:
            raise FakeStatusError("Connection error.", 500, {}) from inner

    with pytest.raises(FakeStatusError) as info:
        raise_wrapped()
    mapped = http_error_from_litellm(info.value, model="m", base_url=None, secrets=())
    assert type(mapped) is httpx.ReadError
    assert "Connection error." in str(mapped)


def test_unknown_errors_are_left_alone() -> None:
    assert http_error_from_litellm(ValueError("bad"), model="m", base_url=None,
                                   secrets=()) is None


def test_bad_status_values_are_not_trusted() -> None:
    exc: Any = ValueError("odd")
    exc.status_code = 200
    assert http_error_from_litellm(exc, model="m", base_url=None, secrets=()) is None
