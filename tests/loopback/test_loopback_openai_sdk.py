"""The official OpenAI SDK (what litellm uses) works against the loopback server."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire

MESSAGES: list[Any] = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def sdk(llm_server: LoopbackServer) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-loopback", base_url=llm_server.openai_base_url,
                         max_retries=1, timeout=10)


def test_sdk_chat_completion_in_echo_mode(llm_server: LoopbackServer, sdk: openai.OpenAI) -> None:
    llm_server.echo = True
    result = sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.choices[0].message.content == "echo: hello there"
    assert result.usage is not None and result.usage.total_tokens == 5
    assert llm_server.last_request.headers["authorization"] == "Bearer sk-test-loopback"


def test_sdk_stream_with_usage(llm_server: LoopbackServer, sdk: openai.OpenAI) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(
        ["Hel", "lo"], tool_calls=[("call_1", "lookup", {"q": "x" * 20})], usage=(7, 3))))
    stream = sdk.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    args = "".join(tc.function.arguments or "" for c in chunks if c.choices
                   for tc in c.choices[0].delta.tool_calls or [] if tc.function)
    assert text == "Hello"
    assert args == '{"q":"' + "x" * 20 + '"}'
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 10


def test_sdk_embeddings_decode_base64(llm_server: LoopbackServer, sdk: openai.OpenAI) -> None:
    llm_server.enqueue(Reply.json(wire.openai_embeddings([[0.5, -0.25, 1.0]])))
    result = sdk.embeddings.create(model="text-embedding-3-small", input="hi")
    assert result.data[0].embedding == [0.5, -0.25, 1.0]
    assert llm_server.last_request.json["encoding_format"] == "base64"


def test_sdk_retries_after_429_honouring_retry_after_ms(
    llm_server: LoopbackServer, sdk: openai.OpenAI
) -> None:
    llm_server.enqueue(Reply.error(429, "Rate limit reached", retry_after_ms=10),
                       Reply.json(wire.openai_chat_completion("second try")))
    result = sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.choices[0].message.content == "second try"
    assert len(llm_server.requests) == 2


def test_sdk_maps_vendor_errors(llm_server: LoopbackServer, sdk: openai.OpenAI) -> None:
    llm_server.enqueue(Reply.error(401, "Incorrect API key provided"))
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key provided"):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_sdk_does_not_retry_a_missing_script(
    llm_server: LoopbackServer, sdk: openai.OpenAI
) -> None:
    with pytest.raises(openai.InternalServerError, match="no reply was scripted"):
        sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(llm_server.requests) == 1  # x-should-retry: false


def test_sdk_sees_validation_errors_as_bad_requests(sdk: openai.OpenAI) -> None:
    call = {"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": {"a": 1}}}  # a dict: the classic bug
    messages: list[Any] = [{"role": "user", "content": "x"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"}]
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert info.value.param == "messages[1].tool_calls[0].function.arguments"


def test_sdk_stream_cut_midway_raises(llm_server: LoopbackServer, sdk: openai.OpenAI) -> None:
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["a", "b", "c"]), drop_after=2))
    stream = sdk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                         stream=True)
    seen: list[str] = []
    with pytest.raises(openai.APIConnectionError) as info:
        for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert seen == ["", "a"]
    # the SDK may run on httpx or its httpx2 fork: check the cause by name
    assert type(info.value.__cause__).__name__ == "RemoteProtocolError"
