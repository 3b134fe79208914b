"""FakeProvider: scripted responses, streaming shape, recorded arguments, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ecs_agent.providers.fake_provider import FakeCall, FakeProvider, stream_result
from ecs_agent.providers.protocol import LLMProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage

USER = [Message(role="user", content="hi")]
USAGE = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)


def answer(text: str, usage: Usage | None = None) -> CompletionResult:
    return CompletionResult(message=Message(role="assistant", content=text), usage=usage)


async def collect(outcome: CompletionResult | AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    assert not isinstance(outcome, CompletionResult)
    return [delta async for delta in outcome]


async def test_responses_are_served_in_order() -> None:
    first, second = answer("one"), answer("two")
    fake = FakeProvider([first, second])
    assert await fake.complete(USER) is first
    assert await fake.complete(USER) is second
    assert fake.call_count == 2


@pytest.mark.parametrize(("configured", "message"), [
    ([], r"FakeProvider was configured with 0 response\(s\); call number 1 asked for another"),
    ([answer("a")],
     r"FakeProvider was configured with 1 response\(s\); call number 2 asked for another"),
])
async def test_running_out_is_an_index_error_saying_how_many(
    configured: list[CompletionResult], message: str
) -> None:
    fake = FakeProvider(configured)
    for _ in configured:
        await fake.complete(USER)
    with pytest.raises(IndexError, match=message):
        await fake.complete(USER)


async def test_index_error_names_the_subclass() -> None:
    class MyFake(FakeProvider):
        pass

    with pytest.raises(IndexError, match=r"^MyFake was configured with 0 response"):
        await MyFake().complete(USER)


async def test_exception_responses_are_raised_and_count_as_calls() -> None:
    error = ConnectionError("down")
    ok = answer("ok")
    fake = FakeProvider([error, ok])
    with pytest.raises(ConnectionError) as info:
        await fake.complete(USER)
    assert info.value is error
    assert await fake.complete(USER) is ok
    assert fake.call_count == 2


async def test_stream_is_one_delta_per_character_then_the_final_delta() -> None:
    fake = FakeProvider([answer("Hé!", USAGE)])
    deltas = await collect(await fake.complete(USER, stream=True))
    assert deltas == [
        StreamDelta(content="H"), StreamDelta(content="é"), StreamDelta(content="!"),
        StreamDelta(finish_reason="stop", usage=USAGE),
    ]


async def test_stream_of_empty_content_is_just_the_final_delta() -> None:
    fake = FakeProvider([answer("")])
    assert await collect(await fake.complete(USER, stream=True)) == [
        StreamDelta(finish_reason="stop")]


async def test_tool_calls_stream_as_one_complete_delta_with_finish_reason() -> None:
    calls = [ToolCall(id="c1", name="weather", arguments={"city": "Paris"}),
             ToolCall(id="c2", name="time", arguments={})]
    result = CompletionResult(
        message=Message(role="assistant", content="ok", tool_calls=calls), usage=USAGE)
    deltas = await collect(await FakeProvider([result]).complete(USER, stream=True))
    assert deltas == [
        StreamDelta(content="o"), StreamDelta(content="k"),
        StreamDelta(tool_calls=calls, finish_reason="tool_calls", usage=USAGE),
    ]
    assert [d.finish_reason for d in deltas].count(None) == len(deltas) - 1


async def test_stream_reassembles_into_the_result() -> None:
    result = answer("The capital of France is Paris.", USAGE)
    deltas = await collect(await FakeProvider([result]).complete(USER, stream=True))
    assert "".join(d.content or "" for d in deltas) == result.message.content
    assert deltas[-1].usage == result.usage


async def test_stream_result_function_matches_the_provider() -> None:
    result = answer("ab")
    assert [d async for d in stream_result(result)] == [
        StreamDelta(content="a"), StreamDelta(content="b"), StreamDelta(finish_reason="stop")]


async def test_arguments_are_recorded() -> None:
    tools = [ToolSchema(name="f", description="d", parameters={"type": "object"})]
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    fake = FakeProvider([answer("a"), answer("b")])
    assert (fake.last_messages, fake.last_tools, fake.last_response_format) == (None, None, None)
    await fake.complete(USER, tools=tools, response_format=fmt)
    assert fake.last_messages == USER
    assert fake.last_tools == tools
    assert fake.last_response_format == fmt
    second = [Message(role="user", content="again")]
    await fake.complete(second, stream=True)
    assert fake.last_messages == second
    assert fake.last_tools is None
    assert fake.last_response_format is None
    assert fake.calls == [
        FakeCall(messages=USER, tools=tools, stream=False, response_format=fmt),
        FakeCall(messages=second, tools=None, stream=True, response_format=None),
    ]


async def test_subclass_overrides_respond() -> None:
    class Echo(FakeProvider):
        async def respond(self, call: FakeCall) -> CompletionResult:
            return answer(call.messages[-1].content.upper())

    echo = Echo()
    result = await echo.complete(USER)
    assert isinstance(result, CompletionResult)
    assert result.message.content == "HI"
    assert echo.call_count == 1


def test_is_an_llm_provider() -> None:
    assert isinstance(FakeProvider(), LLMProvider)


async def test_async_with_and_aclose_are_accepted() -> None:
    async with FakeProvider([CompletionResult(Message("assistant", "hi"))]) as provider:
        result = await provider.complete([Message("user", "x")])
        assert isinstance(result, CompletionResult) and result.message.content == "hi"
    await provider.aclose()  # idempotent, nothing to release
    assert provider.call_count == 1
