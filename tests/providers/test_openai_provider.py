"""OpenAIProvider over real sockets against the loopback server (non-streamed calls)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from ecs_agent.errors import ProviderResponseError
from ecs_agent.intercept import ChatCall, use_interceptor
from ecs_agent.providers import LLMProvider
from ecs_agent.providers.openai_provider import OpenAIProvider, pydantic_to_response_format
from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from tests.providers.spy import SpyInterceptor

KEY = "sk-test-0123456789abcdef-SECRET"
WEATHER = ToolSchema(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"]},
)


def provider_for(server: LoopbackServer, **kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider(api_key=KEY, base_url=server.openai_base_url, **kwargs)


async def test_text_completion_request_shape_and_result(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Paris.", usage=(11, 2))))
    async with provider_for(llm_server, model="gpt-4o-mini") as provider:
        result = await provider.complete([Message("system", "Be brief."),
                                          Message("user", "Capital of France?")])
    assert result == CompletionResult(Message("assistant", "Paris."), Usage(11, 2, 13))
    request = llm_server.last_request
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Capital of France?"}],
    }


async def test_tools_and_tool_history_go_out_in_openai_format(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("It is 21C in Paris.")))
    history = [
        Message("user", "Weather in Paris?"),
        Message("assistant", "", tool_calls=[ToolCall("call_1", "get_weather", {"city": "Paris"})]),
        Message("tool", '{"celsius": 21}', tool_call_id="call_1"),
    ]
    async with provider_for(llm_server) as provider:
        result = await provider.complete(history, tools=[WEATHER])
    assert result.message.content == "It is 21C in Paris."
    sent = llm_server.last_request.json
    assistant = sent["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]
    assert sent["messages"][2] == {"role": "tool", "content": '{"celsius": 21}',
                                   "tool_call_id": "call_1"}
    assert sent["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city",
        "parameters": WEATHER.parameters}}]


async def test_parallel_tool_calls_come_back_parsed(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion(tool_calls=[
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_weather", {"city": "Oslo"}),
    ])))
    async with provider_for(llm_server) as provider:
        result = await provider.complete([Message("user", "Paris and Oslo?")], tools=[WEATHER])
    assert result.message.content == ""
    assert result.message.tool_calls == [ToolCall("call_a", "get_weather", {"city": "Paris"}),
                                         ToolCall("call_b", "get_weather", {"city": "Oslo"})]


async def test_refusal_is_the_content(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion(None, refusal="I can't do that.")))
    async with provider_for(llm_server) as provider:
        result = await provider.complete([Message("user", "Something bad")])
    assert result.message.content == "I can't do that."


async def test_response_format_is_forwarded_and_accepted_by_strict_validation(
    llm_server: LoopbackServer,
) -> None:
    class City(BaseModel):
        name: str
        population: int | None = None

    class Answer(BaseModel):
        cities: list[City]

    rf = pydantic_to_response_format(Answer)
    llm_server.enqueue(Reply.json(wire.openai_chat_completion('{"cities": []}')))
    async with provider_for(llm_server) as provider:
        result = await provider.complete([Message("user", "Cities?")], response_format=rf)
    assert Answer.model_validate_json(result.message.content) == Answer(cities=[])
    assert llm_server.last_request.json["response_format"] == rf


async def test_unparseable_tool_arguments_raise_naming_the_call(
    llm_server: LoopbackServer,
) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion(
        tool_calls=[("call_broken", "get_weather", '{"city": "Par')])))
    async with provider_for(llm_server) as provider:
        with pytest.raises(ProviderResponseError, match=r"'call_broken' \(get_weather\)"):
            await provider.complete([Message("user", "hi")], tools=[WEATHER])


async def test_empty_choices_and_non_json_bodies_raise(llm_server: LoopbackServer) -> None:
    body = wire.openai_chat_completion("x")
    body["choices"] = []
    llm_server.enqueue(Reply.json(body), Reply.raw(b"<html>gateway</html>"))
    async with provider_for(llm_server) as provider:
        with pytest.raises(ProviderResponseError, match="no choices"):
            await provider.complete([Message("user", "hi")])
        with pytest.raises(ProviderResponseError, match="is not JSON: '<html>gateway"):
            await provider.complete([Message("user", "hi")])


async def test_401_raises_with_the_vendor_message_and_never_the_key(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    # a hostile server echoing the whole key back: it must still not leak
    llm_server.enqueue(Reply.error(401, f"Incorrect API key provided: {KEY}."))
    caplog.set_level(logging.DEBUG)
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await provider.complete([Message("user", "hi")])
    assert info.value.response.status_code == 401
    assert "Incorrect API key provided" in str(info.value)
    assert KEY not in str(info.value)
    assert "Incorrect API key provided" in caplog.text
    assert KEY not in caplog.text
    assert all(KEY not in str(r.args) for r in caplog.records)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_other_statuses_are_http_status_errors(
    llm_server: LoopbackServer, status: int
) -> None:
    llm_server.enqueue(Reply.error(status, "slow down please", retry_after=2))
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.HTTPStatusError, match="slow down please") as info:
            await provider.complete([Message("user", "hi")])
    assert info.value.response.status_code == status
    assert info.value.response.headers["retry-after"] == "2"


async def test_dropped_connection_is_a_logged_request_error(
    llm_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    llm_server.enqueue(Reply.drop())
    caplog.set_level(logging.ERROR)
    async with provider_for(llm_server) as provider:
        with pytest.raises(httpx.RequestError):
            await provider.complete([Message("user", "hi")])
    assert "openai: request failed" in caplog.text
    assert KEY not in caplog.text


async def test_read_timeout_is_a_request_error(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("late"), first_byte_delay=30))
    async with provider_for(llm_server, read_timeout=0.2) as provider:
        with pytest.raises(httpx.ReadTimeout):
            await provider.complete([Message("user", "hi")])


async def test_complete_goes_through_the_interceptor(llm_server: LoopbackServer) -> None:
    spy = SpyInterceptor()
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("hi")))
    messages = [Message("user", "hello")]
    async with provider_for(llm_server, model="gpt-4.1-mini") as provider:
        with use_interceptor(spy):
            result = await provider.complete(messages, tools=[WEATHER])
    assert isinstance(result, CompletionResult)
    assert spy.calls == [ChatCall(provider="openai", model="gpt-4.1-mini", messages=messages,
                             tools=[WEATHER], stream=False, response_format=None,
                             secrets=(KEY,))]
    assert spy.paths == ["openai /v1/chat/completions"]


async def test_injected_client_is_used_and_left_open(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("ok")))
    async with httpx.AsyncClient(headers={"x-team": "blue"}) as client:
        async with OpenAIProvider(KEY, base_url=llm_server.openai_base_url + "/",
                                  client=client) as provider:
            await provider.complete([Message("user", "hi")])
        assert not client.is_closed
    request = llm_server.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["x-team"] == "blue"
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_constructor_validation_and_protocol() -> None:
    with pytest.raises(ValueError, match="api_key must be a non-empty string"):
        OpenAIProvider("")
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match="either client= or transport="):
            OpenAIProvider(KEY, client=client, transport=httpx.AsyncHTTPTransport())
    async with OpenAIProvider(KEY) as provider:
        assert isinstance(provider, LLMProvider)
        assert KEY not in repr(provider)
