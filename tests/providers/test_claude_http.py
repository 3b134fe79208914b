"""ClaudeProvider over real sockets (non-streamed): request shapes, results, errors."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import httpx
import pytest

from ecs_agent import RetryConfig, RetryProvider
from ecs_agent.errors import ProviderResponseError
from ecs_agent.intercept import ChatCall, use_interceptor
from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.providers.spy import SpyInterceptor

KEY = "sk-ant-test-0123456789abcdef"
WEATHER = ToolSchema(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
PERSON_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": True},
}


def claude(server: LoopbackServer, **kwargs: Any) -> ClaudeProvider:
    return ClaudeProvider(api_key=KEY, base_url=server.anthropic_base_url, model="claude-test",
                          **kwargs)


async def plain(provider: ClaudeProvider, messages: list[Message], **kwargs: Any
                ) -> CompletionResult:
    result = await provider.complete(messages, **kwargs)
    assert isinstance(result, CompletionResult)
    return result


async def test_text_answer_and_request_headers(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message(
        "Paris.", usage=(11, 3), cache_creation_input_tokens=5, cache_read_input_tokens=100)))
    async with claude(llm_server, max_tokens=256) as provider:
        result = await plain(provider, [Message("user", "Capital of France?")])
    assert result.message == Message("assistant", "Paris.")
    assert result.usage == Usage(prompt_tokens=116, completion_tokens=3, total_tokens=119)
    [request] = llm_server.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json == {"model": "claude-test", "max_tokens": 256,
                            "messages": [{"role": "user", "content": "Capital of France?"}]}


async def test_system_tools_and_merged_tool_results_on_the_wire(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message("Rome is warmer.")))
    messages = [
        Message("system", "You are terse."),
        Message("system", "Use Celsius."),
        Message("user", "Weather in Paris and Rome?"),
        Message("assistant", "Checking both.", tool_calls=[
            ToolCall("toolu_a", "get_weather", {"city": "Paris"}),
            ToolCall("toolu_b", "get_weather", {"city": "Rome"}),
        ]),
        Message("tool", "18", tool_call_id="toolu_a"),
        Message("tool", "24", tool_call_id="toolu_b"),
        Message("user", "Which is warmer?"),
    ]
    async with claude(llm_server) as provider:
        result = await plain(provider, messages, tools=[WEATHER])
    assert result.message.content == "Rome is warmer."
    body = llm_server.requests[0].json
    assert body["system"] == "You are terse.\n\nUse Celsius."
    assert all(m["role"] != "system" for m in body["messages"])
    assert body["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                              "input_schema": WEATHER.parameters}]
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking both."},
            {"type": "tool_use", "id": "toolu_a", "name": "get_weather",
             "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather",
             "input": {"city": "Rome"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "18"},
            {"type": "tool_result", "tool_use_id": "toolu_b", "content": "24"},
            {"type": "text", "text": "Which is warmer?"},
        ]},
    ]


async def test_tool_use_answer_becomes_tool_calls(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message(
        "Let me check.", tool_calls=[("toolu_1", "get_weather", {"city": "Oslo"}),
                                     ("toolu_2", "get_weather", {})])))
    async with claude(llm_server) as provider:
        result = await plain(provider, [Message("user", "Weather?")], tools=[WEATHER])
    assert result.message.content == "Let me check."
    assert result.message.tool_calls == [ToolCall("toolu_1", "get_weather", {"city": "Oslo"}),
                                         ToolCall("toolu_2", "get_weather", {})]


async def test_json_schema_format_is_a_forced_tool_and_comes_back_as_content(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message(
        tool_calls=[("toolu_1", "person", {"name": "Ada", "age": 36})])))
    async with claude(llm_server) as provider:
        result = await plain(provider, [Message("user", "Who wrote the first program?")],
                             response_format=PERSON_FORMAT)
    assert json.loads(result.message.content) == {"name": "Ada", "age": 36}
    assert result.message.content == '{"name":"Ada","age":36}'
    assert result.message.tool_calls is None
    body = llm_server.requests[0].json
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "person"}
    assert body["tools"][0]["input_schema"] == PERSON_SCHEMA


async def test_json_object_format_forces_the_json_object_tool(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.anthropic_message(
        tool_calls=[("toolu_1", "json_object", {"answer": 42})])))
    async with claude(llm_server) as provider:
        result = await plain(provider, [Message("user", "Answer in JSON")],
                             response_format={"type": "json_object"})
    assert result.message.content == '{"answer":42}'
    body = llm_server.requests[0].json
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "tool", "name": "json_object"}


async def test_unsupported_response_format_fails_before_sending(
    llm_server: LoopbackServer,
) -> None:
    async with claude(llm_server) as provider:
        with pytest.raises(ValueError, match="'json_schema', 'json_object' or 'text'"):
            await provider.complete([Message("user", "x")], response_format={"type": "yaml"})
    assert llm_server.requests == []


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [(401, "invalid x-api-key", "authentication_error"),
     (429, "Number of request tokens has exceeded your per-minute rate limit",
      "rate_limit_error"),
     (529, "Overloaded", "overloaded_error")],
)
async def test_http_errors_carry_vendor_message_and_never_the_key(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture,
    status: int, message: str, kind: str,
) -> None:
    llm_server.enqueue(Reply.error(status, message, vendor="anthropic", retry_after=7))
    caplog.set_level(logging.DEBUG)
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "x")])
    assert info.value.response.status_code == status
    assert info.value.response.headers["retry-after"] == "7"
    assert message in str(info.value)
    assert kind in str(info.value)
    assert KEY not in str(info.value)
    assert message in caplog.text
    assert KEY not in caplog.text


async def test_key_echoed_by_the_server_is_scrubbed(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture,
) -> None:
    llm_server.enqueue(Reply.error(401, f"invalid x-api-key: {KEY}", vendor="anthropic"))
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "x")])
    assert "invalid x-api-key" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in caplog.text


async def test_connection_refused_is_a_request_error_without_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = ClaudeProvider(api_key=KEY, base_url=f"http://127.0.0.1:{port}")
    async with provider:
        with pytest.raises(httpx.ConnectError):
            await provider.complete([Message("user", "x")])
    assert "request failed: ConnectError" in caplog.text
    assert KEY not in caplog.text


async def test_connection_dropped_without_answer(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.drop())
    async with claude(llm_server) as provider:
        with pytest.raises(httpx.RequestError):
            await provider.complete([Message("user", "x")])


async def test_unreadable_200_body_is_a_provider_response_error(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.raw("<html>gateway</html>", content_type="text/html"))
    async with claude(llm_server) as provider:
        with pytest.raises(ProviderResponseError, match="unreadable /v1/messages answer"):
            await provider.complete([Message("user", "x")])


async def test_retry_provider_retries_an_overloaded_claude(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.error(529, "Overloaded", vendor="anthropic"),
                       Reply.json(wire.anthropic_message("Fine now.")))
    config = RetryConfig(max_attempts=2, min_wait=0.0, max_wait=0.0,
                         retry_status_codes=(429, 529))
    async with claude(llm_server) as inner:
        result = await RetryProvider(inner, retry_config=config).complete(
            [Message("user", "x")])
    assert isinstance(result, CompletionResult)
    assert result.message.content == "Fine now."
    assert len(llm_server.requests) == 2


async def test_complete_goes_through_the_interceptor(llm_server: LoopbackServer) -> None:
    spy = SpyInterceptor()
    llm_server.enqueue(Reply.json(wire.anthropic_message("hi")))
    messages = [Message("user", "hello")]
    async with claude(llm_server) as provider:
        with use_interceptor(spy):
            result = await plain(provider, messages, response_format={"type": "text"})
    assert result.message.content == "hi"
    assert spy.paths == ["claude /v1/messages"]
    assert spy.calls == [ChatCall(provider="claude", model="claude-test", messages=messages,
                             tools=None, stream=False, response_format={"type": "text"},
                             secrets=(KEY,))]


async def test_aclose_closes_own_client_but_not_an_injected_one(
    llm_server: LoopbackServer,
) -> None:
    provider = claude(llm_server)
    await provider.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await provider.complete([Message("user", "x")])
    async with httpx.AsyncClient() as client:
        llm_server.enqueue(Reply.json(wire.anthropic_message("still open")))
        async with claude(llm_server, client=client) as injected:
            pass
        assert not client.is_closed
        result = await plain(injected, [Message("user", "x")])
    assert result.message.content == "still open"
    assert llm_server.requests[-1].headers["x-api-key"] == KEY


def test_constructor_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_tokens must be >= 1"):
        ClaudeProvider(api_key=KEY, max_tokens=0)
    with pytest.raises(TypeError, match="api_key must be a str"):
        ClaudeProvider(api_key=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="api_key must be a non-empty string"):
        ClaudeProvider(api_key="")
    with pytest.raises(ValueError, match="either client= or transport="):
        ClaudeProvider(api_key=KEY, client=httpx.AsyncClient(),
                       transport=httpx.AsyncHTTPTransport())


def test_repr_hides_the_key() -> None:
    assert KEY not in repr(ClaudeProvider(api_key=KEY))


async def test_a_replaced_api_key_is_sent_and_scrubbed(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.error(401, "invalid x-api-key sk-test-replaced-0123",
                                   vendor="anthropic"))
    async with ClaudeProvider(api_key=KEY, base_url=llm_server.anthropic_base_url) as provider:
        provider.api_key = "sk-test-replaced-0123"
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "hi")])
    assert llm_server.last_request.headers["x-api-key"] == "sk-test-replaced-0123"
    assert "sk-test-replaced-0123" not in str(info.value)
