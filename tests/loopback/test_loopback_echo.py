"""Echo mode: valid, deterministic answers derived from the request."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped,unused-ignore]
import numpy as np
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply
from tests.loopback.loopback_helpers import (
    ANTHROPIC_HEADERS,
    OPENAI_HEADERS,
    anthropic_body,
    chat_body,
    sse_data,
)

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
EMBED = "/v1/embeddings"

PERSON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "age", "height", "tags", "role", "address", "active", "friends"],
    "properties": {
        "name": {"type": "string", "minLength": 3},
        "age": {"type": "integer", "minimum": 18, "maximum": 99},
        "height": {"type": "number", "exclusiveMinimum": 1.2},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "role": {"enum": ["admin", "user"]},
        "address": {"$ref": "#/$defs/Address"},
        "active": {"type": "boolean"},
        "friends": {"type": "array", "items": {"$ref": "#"}},
        "nickname": {"anyOf": [{"type": "string", "maxLength": 4}, {"type": "null"}]},
    },
    "$defs": {
        "Address": {
            "type": "object",
            "additionalProperties": False,
            "required": ["city", "zip"],
            "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
        }
    },
}
WEATHER = {"type": "object", "required": ["city", "unit", "days"], "properties": {
    "city": {"type": "string"}, "unit": {"enum": ["C", "F"]},
    "days": {"type": "integer", "minimum": 1}}}


@pytest.fixture
def echo(llm_server: LoopbackServer) -> LoopbackServer:
    llm_server.echo = True
    return llm_server


# ---------------------------------------------------------------- OpenAI chat


def test_chat_echoes_the_last_user_message(echo: LoopbackServer, client: httpx.Client) -> None:
    body = chat_body(messages=[{"role": "system", "content": "sys"},
                               {"role": "user", "content": "first"},
                               {"role": "assistant", "content": "ok"},
                               {"role": "user", "content": [{"type": "text", "text": "last one"}]}])
    data = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "gpt-4o-mini"
    choice = data["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "echo: last one",
                                 "refusal": None, "annotations": []}
    assert choice["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] == 5  # sys, first, ok, last, one
    assert usage["completion_tokens"] == 3
    assert usage["total_tokens"] == 8


def test_chat_echo_is_deterministic(echo: LoopbackServer, client: httpx.Client) -> None:
    first = client.post(CHAT, json=chat_body("same"), headers=OPENAI_HEADERS)
    second = client.post(CHAT, json=chat_body("same"), headers=OPENAI_HEADERS)
    other = client.post(CHAT, json=chat_body("different"), headers=OPENAI_HEADERS)
    assert first.content == second.content
    assert first.json()["id"] != other.json()["id"]


def test_streamed_and_plain_echo_give_the_same_ids(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": WEATHER}}]
    body = chat_body("Oslo", tools=tools, tool_choice="required")
    plain = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()
    streamed = client.post(CHAT, json={**body, "stream": True}, headers=OPENAI_HEADERS)
    first = json.loads(sse_data(streamed.text)[0])
    assert first["id"] == plain["id"]
    assert first["choices"][0]["delta"]["tool_calls"][0]["id"] == plain["choices"][0][
        "message"]["tool_calls"][0]["id"]


def test_chat_echo_streams_with_a_usage_chunk(echo: LoopbackServer, client: httpx.Client) -> None:
    body = chat_body("hello big world", stream=True, stream_options={"include_usage": True})
    response = client.post(CHAT, json=body, headers=OPENAI_HEADERS)
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_data(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "echo: hello big world"
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 4


def test_chat_echo_stream_without_include_usage_has_no_usage(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    response = client.post(CHAT, json=chat_body("x", stream=True), headers=OPENAI_HEADERS)
    chunks = [json.loads(p) for p in sse_data(response.text)[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)


def test_chat_echo_honours_max_tokens(echo: LoopbackServer, client: httpx.Client) -> None:
    body = chat_body("one two three four", max_completion_tokens=2)
    choice = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("echo: one", "length")


def test_chat_echo_does_not_call_tools_unless_asked(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = chat_body(tools=[{"type": "function", "function": {"name": "w", "parameters": WEATHER}}])
    message = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()["choices"][0]["message"]
    assert "tool_calls" not in message


def _tool_call(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert isinstance(call["function"]["arguments"], str)
    return call["function"]["name"], json.loads(call["function"]["arguments"])


def test_echo_tools_calls_the_first_tool_with_schema_valid_arguments(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    echo.echo_tools = True
    tools = [{"type": "function", "function": {"name": "weather", "parameters": WEATHER}},
             {"type": "function", "function": {"name": "person", "parameters": PERSON}}]
    data = client.post(CHAT, json=chat_body("Paris", tools=tools), headers=OPENAI_HEADERS).json()
    assert data["choices"][0]["message"]["content"] is None
    name, args = _tool_call(data)
    assert name == "weather"
    jsonschema.validate(args, WEATHER)
    assert args["city"] == "Paris"


def test_echo_tools_answers_text_after_a_tool_result(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    echo.echo_tools = True
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    body = chat_body(
        messages=[{"role": "user", "content": "Paris"},
                  {"role": "assistant", "content": None, "tool_calls": [call]},
                  {"role": "tool", "tool_call_id": "c1", "content": "18C"}],
        tools=[{"type": "function", "function": {"name": "weather", "parameters": WEATHER}}])
    choice = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("echo: Paris", "stop")


@pytest.mark.parametrize("choice", ["required", {"type": "function",
                                                 "function": {"name": "person"}}])
def test_forced_tool_choice_calls_a_tool_even_without_echo_tools(
    echo: LoopbackServer, client: httpx.Client, choice: Any
) -> None:
    tools = [{"type": "function", "function": {"name": "person", "parameters": PERSON}}]
    body = chat_body("Ann", tools=tools, tool_choice=choice)
    name, args = _tool_call(client.post(CHAT, json=body, headers=OPENAI_HEADERS).json())
    assert name == "person"
    jsonschema.validate(args, PERSON)


def test_streamed_tool_call_reassembles_to_valid_arguments(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    tools = [{"type": "function", "function": {"name": "person", "parameters": PERSON}}]
    body = chat_body("Ann", tools=tools, tool_choice="required", stream=True)
    chunks = [json.loads(p) for p in sse_data(
        client.post(CHAT, json=body, headers=OPENAI_HEADERS).text)[:-1]]
    fragments = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert len(fragments) > 2
    assert fragments[0]["function"]["name"] == "person" and "id" in fragments[0]
    assert all("id" not in f and "name" not in f["function"] for f in fragments[1:])
    args = json.loads("".join(f["function"]["arguments"] for f in fragments))
    jsonschema.validate(args, PERSON)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_json_schema_response_format_gets_valid_json(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = chat_body("Ann", response_format={"type": "json_schema", "json_schema": {
        "name": "Person", "schema": PERSON}})
    content = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()[
        "choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(content), PERSON)


def test_json_object_response_format_gets_a_json_object(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = chat_body("answer in json", response_format={"type": "json_object"})
    content = client.post(CHAT, json=body, headers=OPENAI_HEADERS).json()[
        "choices"][0]["message"]["content"]
    assert json.loads(content) == {"echo": "answer in json"}


def test_an_unsatisfiable_schema_answers_a_clear_500(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    schema = {"type": "object", "required": ["n"],
              "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}}}
    body = chat_body(response_format={"type": "json_schema", "json_schema": {
        "name": "N", "schema": schema}})
    response = client.post(CHAT, json=body, headers=OPENAI_HEADERS)
    assert response.status_code == 500
    assert "loopback echo" in response.json()["error"]["message"]


def test_queued_replies_win_over_echo(echo: LoopbackServer, client: httpx.Client) -> None:
    echo.enqueue(Reply.json({"scripted": True}))
    assert client.post(CHAT, json=chat_body(), headers=OPENAI_HEADERS).json() == {
        "scripted": True}
    assert client.post(CHAT, json=chat_body("x"), headers=OPENAI_HEADERS).json()[
        "object"] == "chat.completion"


def test_echo_still_validates(echo: LoopbackServer, client: httpx.Client) -> None:
    assert client.post(CHAT, json=chat_body()).status_code == 401


def test_echo_rejects_invalid_requests_even_with_validation_off(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    echo.validate = False
    echo.enqueue(Reply.json({"scripted": "served without validation"}))
    assert client.post(CHAT, json={"model": "m"}).json() == {
        "scripted": "served without validation"}
    response = client.post(CHAT, json={"model": "m"}, headers=OPENAI_HEADERS)
    assert response.status_code == 400
    assert "Missing required parameter: 'messages'." in response.json()["error"]["message"]


def test_echo_answers_404_for_an_unknown_endpoint(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    response = client.post("/v1/responses", json={})
    assert response.status_code == 404
    assert "echo mode has no answer for POST /v1/responses" in response.json()["error"][
        "message"]


def test_echo_can_be_set_in_the_constructor() -> None:
    with LoopbackServer(echo=True, echo_tools=True) as server:
        assert (server.echo, server.echo_tools) == (True, True)
        response = httpx.post(server.openai_base_url + "/chat/completions",
                              json=chat_body("hey"), headers=OPENAI_HEADERS, timeout=10)
        assert response.json()["choices"][0]["message"]["content"] == "echo: hey"


# ---------------------------------------------------------------- Anthropic


def test_anthropic_echo_text(echo: LoopbackServer, client: httpx.Client) -> None:
    body = anthropic_body("hi there", system="be nice")
    data = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).json()
    assert data["type"] == "message" and data["role"] == "assistant"
    assert data["content"] == [{"type": "text", "text": "echo: hi there"}]
    assert data["stop_reason"] == "end_turn"
    assert data["usage"]["input_tokens"] == 4
    assert data["usage"]["output_tokens"] == 3


def test_anthropic_echo_honours_max_tokens(echo: LoopbackServer, client: httpx.Client) -> None:
    data = client.post(MESSAGES, json=anthropic_body("a b c", max_tokens=1),
                       headers=ANTHROPIC_HEADERS).json()
    assert (data["content"][0]["text"], data["stop_reason"]) == ("echo:", "max_tokens")


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "person"}])
def test_anthropic_forced_tool_gives_a_tool_use_block(
    echo: LoopbackServer, client: httpx.Client, choice: dict[str, Any]
) -> None:
    tools = [{"name": "person", "input_schema": PERSON}]
    data = client.post(MESSAGES, json=anthropic_body("Ann", tools=tools, tool_choice=choice),
                       headers=ANTHROPIC_HEADERS).json()
    (block,) = data["content"]
    assert block["type"] == "tool_use" and block["name"] == "person"
    assert block["id"].startswith("toolu_")
    jsonschema.validate(block["input"], PERSON)
    assert data["stop_reason"] == "tool_use"


def test_anthropic_echo_tools_then_text_after_the_tool_result(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    echo.echo_tools = True
    tools = [{"name": "weather", "input_schema": WEATHER}]
    first = client.post(MESSAGES, json=anthropic_body("Oslo", tools=tools),
                        headers=ANTHROPIC_HEADERS).json()
    (use,) = first["content"]
    jsonschema.validate(use["input"], WEATHER)
    messages = [{"role": "user", "content": "Oslo"},
                {"role": "assistant", "content": first["content"]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"],
                                              "content": "3C"}]}]
    second = client.post(MESSAGES, json=anthropic_body(messages=messages, tools=tools),
                         headers=ANTHROPIC_HEADERS).json()
    assert second["content"] == [{"type": "text", "text": "echo: Oslo"}]


def test_anthropic_echo_stream(echo: LoopbackServer, client: httpx.Client) -> None:
    tools = [{"name": "weather", "input_schema": WEATHER}]
    body = anthropic_body("Rome", stream=True, tools=tools, tool_choice={"type": "any"})
    response = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS)
    events = [json.loads(p) for p in sse_data(response.text)]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    partial = "".join(e["delta"]["partial_json"] for e in events
                      if e["type"] == "content_block_delta")
    jsonschema.validate(json.loads(partial), WEATHER)
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_output_format_gets_valid_json(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = anthropic_body("Ann", output_format={"type": "json_schema", "schema": PERSON})
    text = client.post(MESSAGES, json=body, headers=ANTHROPIC_HEADERS).json()[
        "content"][0]["text"]
    jsonschema.validate(json.loads(text), PERSON)


# ---------------------------------------------------------------- embeddings


def _vectors(data: dict[str, Any]) -> np.ndarray[Any, Any]:
    rows = []
    for item in data["data"]:
        value = item["embedding"]
        if isinstance(value, str):
            rows.append(np.frombuffer(base64.b64decode(value), dtype="<f4"))
        else:
            rows.append(np.asarray(value, dtype="<f4"))
    return np.stack(rows)


def test_embeddings_are_deterministic_unit_vectors(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta", "alpha"]}
    data = client.post(EMBED, json=body, headers=OPENAI_HEADERS).json()
    assert all(isinstance(item["embedding"], list) for item in data["data"])
    assert [item["index"] for item in data["data"]] == [0, 1, 2]
    vectors = _vectors(data)
    assert vectors.shape == (3, 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(vectors[0], vectors[2])
    assert not np.array_equal(vectors[0], vectors[1])
    assert data["usage"]["prompt_tokens"] == 3


def test_embeddings_base64_match_the_float_answer(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = {"model": "text-embedding-3-small", "input": "alpha", "dimensions": 33}
    floats = _vectors(client.post(EMBED, json=body, headers=OPENAI_HEADERS).json())
    b64 = client.post(EMBED, json={**body, "encoding_format": "base64"},
                      headers=OPENAI_HEADERS).json()
    assert isinstance(b64["data"][0]["embedding"], str)
    assert floats.shape == (1, 33)
    assert np.array_equal(_vectors(b64), floats)


def test_embeddings_are_stable_across_processes(
    echo: LoopbackServer, client: httpx.Client
) -> None:
    body = {"model": "m", "input": [[1, 2, 3]], "encoding_format": "base64"}
    here = client.post(EMBED, json=body, headers=OPENAI_HEADERS).json()["data"][0]["embedding"]
    script = (  # a fresh process with its own server and another hash seed
        "import httpx, sys\n"
        "from pytest_ecs_agent.loopback import LoopbackServer\n"
        "with LoopbackServer(echo=True) as server:\n"
        f"    r = httpx.post(server.url + {EMBED!r}, json={body!r},"
        f" headers={OPENAI_HEADERS!r}, timeout=10)\n"
        "sys.stdout.write(r.json()['data'][0]['embedding'])\n"
    )
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=60, check=True, env={"PYTHONHASHSEED": "123"})
    assert other.stdout == here
