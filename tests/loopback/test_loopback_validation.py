"""Request validation: the client bugs the real APIs reject, rejected the same way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply
from tests.loopback.loopback_helpers import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    anthropic_body,
    chat_body,
)

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
EMBED = "/v1/embeddings"

ASSISTANT_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}],
}
TOOL_ANSWER = {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}


def _openai_error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


def _anthropic_error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    message: str = body["error"]["message"]
    return message


# ---------------------------------------------------------------- OpenAI chat


@pytest.mark.parametrize("auth", [None, "sk-test", "Bearer", "Basic abc"])
def test_openai_requires_bearer_authorization(client: httpx.Client, auth: str | None) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    error = _openai_error(client.post(CHAT, json=chat_body(), headers=headers), 401)
    assert error["message"].startswith("You didn't provide an API key.")
    assert error["type"] == "invalid_request_error"


def test_tool_call_arguments_must_be_a_string(client: httpx.Client) -> None:
    call = {**ASSISTANT_CALL, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}
    body = chat_body(messages=[{"role": "user", "content": "weather?"}, call, TOOL_ANSWER])
    error = _openai_error(client.post(CHAT, json=body, headers=OPENAI_HEADERS))
    assert error["message"] == (
        "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, "
        "but got an object instead."
    )
    assert (error["param"], error["code"]) == (
        "messages[1].tool_calls[0].function.arguments", "invalid_type")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "gpt-4o-mini"}, "Missing required parameter: 'messages'."),
        ({"model": "gpt-4o-mini", "messages": []}, "Invalid 'messages': empty array."),
        ({"messages": [{"role": "user", "content": "x"}]}, "you must provide a model parameter"),
        (chat_body(stream_options={"include_usage": True}),
         "The 'stream_options' parameter is only allowed when 'stream' is enabled."),
        (chat_body(messages=[{"role": "bot", "content": "x"}]), "Invalid value: 'bot'."),
        (chat_body(messages=[{"role": "user"}]),
         "Missing required parameter: 'messages[0].content'."),
        (chat_body(messages=[{"role": "user", "content": None}]),
         "Invalid type for 'messages[0].content'"),
        (chat_body(messages=[{"role": "user", "content": "x"}, TOOL_ANSWER]),
         "messages with role 'tool' must be a response to a preceeding message with "
         "'tool_calls'"),
        (chat_body(messages=[{"role": "user", "content": "x"}, ASSISTANT_CALL,
                             {"role": "user", "content": "and?"}]),
         "The following tool_call_ids did not have response messages: call_1"),
        (chat_body(messages=[{"role": "user", "content": "x"}, ASSISTANT_CALL,
                             {**TOOL_ANSWER, "tool_call_id": "call_9"}]),
         "'tool_call_id' of 'call_9' not found in 'tool_calls' of previous message."),
        (chat_body(tools=[{"type": "function", "function": {"name": "get weather"}}]),
         "Invalid 'tools[0].function.name': string does not match pattern."),
        (chat_body(tools=[{"type": "function", "function": {}}]),
         "Missing required parameter: 'tools[0].function.name'."),
        (chat_body(response_format={"type": "json_object"}),
         "'messages' must contain the word 'json' in some form"),
        (chat_body(response_format={"type": "xml"}), "Invalid value: 'xml'."),
        (chat_body(response_format={"type": "json_schema", "json_schema": {
            "name": "City", "strict": True,
            "schema": {"type": "object", "properties": {"name": {"type": "string"}},
                       "required": ["name"]}}}),
         "Invalid schema for response_format 'City': In context=(), 'additionalProperties' "
         "is required to be supplied and to be false."),
        (chat_body(response_format={"type": "json_schema", "json_schema": {
            "name": "City", "strict": True,
            "schema": {"type": "object", "additionalProperties": False, "required": ["name"],
                       "properties": {"name": {"type": "string"}, "geo": {
                           "type": "object", "additionalProperties": False,
                           "properties": {"lat": {"type": "number"}}}}}}}),
         "In context=(), 'required' is required to be supplied and to be an array including "
         "every key in properties. Missing 'geo'."),
        (chat_body(tools=[{"type": "function", "function": {
            "name": "f", "strict": True,
            "parameters": {"type": "object", "additionalProperties": False,
                           "required": ["a"], "properties": {"a": {
                               "type": "object", "properties": {}, "required": []}}}}}]),
         "Invalid schema for function 'f': In context=('properties', 'a'), "
         "'additionalProperties' is required"),
    ],
)
def test_openai_chat_bodies_rejected_like_the_real_api(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    error = _openai_error(client.post(CHAT, json=body, headers=OPENAI_HEADERS))
    assert message in error["message"]


def test_unparseable_json_is_rejected(client: httpx.Client) -> None:
    error = _openai_error(client.post(CHAT, content=b"{nope", headers=OPENAI_HEADERS))
    assert error["message"].startswith("We could not parse the JSON body of your request.")


def test_a_full_tool_conversation_is_accepted(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"ok": True}))
    body = chat_body(
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris? json"}]},
            ASSISTANT_CALL,
            TOOL_ANSWER,
            {"role": "assistant", "content": "18C."},
            {"role": "user", "content": "Thanks"},
        ],
        tools=[WEATHER_TOOL],
        stream=True,
        stream_options={"include_usage": True},
        response_format={"type": "json_object"},
    )
    response = client.post(CHAT, json=body, headers=OPENAI_HEADERS)
    assert response.json() == {"ok": True}


# ---------------------------------------------------------------- embeddings


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "text-embedding-3-small"}, "Missing required parameter: 'input'."),
        ({"model": "text-embedding-3-small", "input": ""}, "'$.input' is invalid."),
        ({"model": "text-embedding-3-small", "input": []}, "'$.input' is invalid."),
        ({"model": "text-embedding-3-small", "input": [1, "a"]}, "'$.input' is invalid."),
        ({"model": "text-embedding-3-small", "input": "a", "encoding_format": "int8"},
         "Invalid value: 'int8'. Supported values are: 'float' and 'base64'."),
        ({"model": "text-embedding-3-small", "input": "a", "dimensions": 0},
         "Invalid value for 'dimensions' = 0."),
        ({"model": "text-embedding-ada-002", "input": "a", "dimensions": 8},
         "This model does not support specifying dimensions."),
        ({"input": "a"}, "you must provide a model parameter"),
    ],
)
def test_embedding_bodies_rejected_like_the_real_api(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    error = _openai_error(client.post(EMBED, json=body, headers=OPENAI_HEADERS))
    assert message in error["message"]


def test_embeddings_require_authorization(client: httpx.Client) -> None:
    _openai_error(client.post(EMBED, json={"model": "m", "input": "a"}), 401)


@pytest.mark.parametrize("value", ["text", ["a", "b"], [1, 2, 3], [[1, 2], [3]]])
def test_every_embedding_input_form_is_accepted(
    llm_server: LoopbackServer, client: httpx.Client, value: Any
) -> None:
    llm_server.enqueue(Reply.json({"ok": True}))
    body = {"model": "text-embedding-3-small", "input": value}
    assert client.post(EMBED, json=body, headers=OPENAI_HEADERS).json() == {"ok": True}


# ---------------------------------------------------------------- Anthropic


def test_anthropic_requires_an_api_key(client: httpx.Client) -> None:
    headers = {"anthropic-version": "2023-06-01"}
    message = _anthropic_error(client.post(MESSAGES, json=anthropic_body(), headers=headers),
                               401)
    assert message == "x-api-key header is required"
    assert client.post(MESSAGES, json=anthropic_body(), headers=headers).json()["error"][
        "type"] == "authentication_error"


def test_anthropic_requires_a_version_header(client: httpx.Client) -> None:
    headers = {"x-api-key": "sk-ant-test"}
    message = _anthropic_error(client.post(MESSAGES, json=anthropic_body(), headers=headers))
    assert message == "anthropic-version: header is required"


def test_anthropic_rejects_unknown_top_level_keys_with_its_exact_body(
    client: httpx.Client,
) -> None:
    body = anthropic_body(response_format={"type": "json_object"})
    response = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS)
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error",
                  "message": "response_format: Extra inputs are not permitted"},
    }


TOOL_USE = {"role": "assistant", "content": [
    {"type": "text", "text": "Checking."},
    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]}
TOOL_RESULT = {"role": "user", "content": [
    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}]}
CLAUDE_TOOL = {"name": "get_weather", "description": "Weather",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "claude-3-5-haiku-20241022", "messages": [{"role": "user", "content": "x"}]},
         "max_tokens: Field required"),
        (anthropic_body(max_tokens=0), "max_tokens: Input should be greater than or equal to 1"),
        (anthropic_body(max_tokens="9"), "max_tokens: Input should be a valid integer"),
        ({"max_tokens": 5, "messages": []}, "model: Field required"),
        ({"model": "c", "max_tokens": 5}, "messages: Field required"),
        (anthropic_body(messages=[{"role": "system", "content": "Be brief."},
                                  {"role": "user", "content": "x"}]),
         'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
         "parameter"),
        (anthropic_body(messages=[{"role": "user", "content": "x"}, TOOL_RESULT]),
         "messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
         "toolu_1. Each `tool_result` block must have a corresponding `tool_use` block in "
         "the previous message."),
        (anthropic_body(messages=[{"role": "user", "content": "x"}, TOOL_USE,
                                  {"role": "user", "content": "go on"}]),
         "messages.2: `tool_use` ids were found without `tool_result` blocks immediately "
         "after: toolu_1."),
        (anthropic_body(messages=[{"role": "user", "content": "x"}, {
            "role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f",
                                              "input": '{"a": 1}'}]}]),
         "messages.1.content.0.tool_use.input: Input should be a valid dictionary"),
        (anthropic_body(messages=[{"role": "user", "content": ""}]),
         "messages.0: all messages must have non-empty content"),
        (anthropic_body(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
         "messages: text content blocks must be non-empty"),
        (anthropic_body(system={"text": "x"}), "system: Input should be a valid list"),
        (anthropic_body(tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
        (anthropic_body(tools=[CLAUDE_TOOL], tool_choice={"type": "tool", "name": "nope"}),
         "Tool 'nope' not found in provided tools"),
        (anthropic_body(tool_choice={"type": "sometimes"}),
         "tool_choice: Input tag does not match"),
    ],
)
def test_anthropic_bodies_rejected_like_the_real_api(
    client: httpx.Client, body: dict[str, Any], message: str
) -> None:
    got = _anthropic_error(client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS))
    assert message in got


def test_anthropic_accepts_a_full_tool_conversation_and_bearer_auth(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"ok": 1}), Reply.json({"ok": 2}))
    body = anthropic_body(
        system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": "Weather?"}, TOOL_USE, TOOL_RESULT,
                  {"role": "assistant", "content": ""}],
        tools=[CLAUDE_TOOL, {"type": "web_search_20250305", "name": "web_search"}],
        tool_choice={"type": "tool", "name": "get_weather"},
        stream=True, temperature=0.2, metadata={"user_id": "u"},
    )
    assert client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).json() == {"ok": 1}
    oauth = {"Authorization": "Bearer oauth-token", "anthropic-version": "2023-06-01"}
    assert client.post(MESSAGES, json=anthropic_body(), headers=oauth).json() == {"ok": 2}


# ---------------------------------------------------------------- interplay with scripting


def test_an_invalid_request_does_not_consume_the_scripted_reply(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"scripted": True}), path=CHAT)
    rejected = client.post(CHAT, json={"model": "gpt-4o-mini"}, headers=OPENAI_HEADERS)
    assert rejected.status_code == 400
    assert llm_server.pending == 1
    accepted = client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS)
    assert accepted.json() == {"scripted": True}


def test_validation_can_be_switched_off() -> None:
    assert LoopbackServer().validate is True
    with LoopbackServer(validate=False) as server:
        server.enqueue(Reply.json({"served": True}))
        response = httpx.post(server.openai_base_url + "/chat/completions",
                              json={"model": "gpt-4o-mini"}, timeout=10)
        assert response.json() == {"served": True}


def test_validate_attribute_toggles_on_a_running_server(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.validate = False
    llm_server.enqueue(Reply.json({"served": True}))
    response = client.post(MESSAGES, json={"unknown": 1})
    assert response.json() == {"served": True}


def test_other_paths_and_methods_are_not_validated(
    llm_server: LoopbackServer, client: httpx.Client
) -> None:
    llm_server.enqueue(Reply.json({"a": 1}), Reply.json({"b": 2}))
    assert client.post("/v1/responses", json={"whatever": True}).json() == {"a": 1}
    assert client.get(CHAT).json() == {"b": 2}
