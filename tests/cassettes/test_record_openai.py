"""OpenAIProvider recorded over the loopback server, replayed on the domain and wire paths."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from ecs_agent.providers import OpenAIProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.cassette import load_cassette, save_cassette, validate_cassette
from pytest_ecs_agent.errors import CassetteMismatchError
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.session import CassetteSession
from tests.cassettes.engine_support import KEY, ask, collect, in_session, outcome_dict

WEATHER = ToolSchema("get_weather", "Weather of a city",
                     {"type": "object", "properties": {"city": {"type": "string"}},
                      "required": ["city"]})


def openai(server: LoopbackServer) -> OpenAIProvider:
    return OpenAIProvider(api_key=KEY, base_url=server.openai_base_url, model="gpt-4o-mini")


async def complete(server: LoopbackServer, messages: list[Message], **kwargs: Any,
                   ) -> CompletionResult | list[StreamDelta]:
    """One call on a fresh provider (closed afterwards); a stream is collected."""
    async with openai(server) as provider:
        outcome = await provider.complete(messages, **kwargs)
        if isinstance(outcome, CompletionResult):
            return outcome
        return await collect(outcome)


async def test_plain_call_records_domain_and_http_then_replays_offline(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Paris.", usage=(11, 2))))
    live, session = await in_session(
        path, lambda: complete(llm_server, ask("Capital of France?")), record_mode="once")
    assert isinstance(live, CompletionResult)
    assert live.message.content == "Paris." and live.usage == Usage(11, 2, 13)
    assert session.stats.recorded == 1 and session.stats.written

    text = path.read_text()
    assert KEY not in text
    data = yaml.safe_load(text)
    interaction = data["interactions"][0]
    assert interaction["request"]["messages"] == [{"role": "user", "content": "Capital of France?"}]
    assert interaction["response"]["result"]["message"]["content"] == "Paris."
    exchange = interaction["http"][0]
    assert exchange["request"]["method"] == "POST"
    assert exchange["request"]["url"].endswith("/v1/chat/completions")
    assert exchange["request"]["headers"]["authorization"] == "<REDACTED>"
    assert exchange["request"]["json"]["model"] == "gpt-4o-mini"
    assert exchange["response"]["status"] == 200
    assert exchange["response"]["json"]["choices"][0]["message"]["content"] == "Paris."

    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        again, stats = await in_session(
            path, lambda: complete(llm_server, ask("Capital of France?")), replay=replay)
        assert outcome_dict(again) == outcome_dict(live), replay
        assert len(llm_server.requests) == before, f"{replay} replay reached the server"
        assert stats.stats.replayed == 1


async def test_wire_replay_runs_the_parser_on_recorded_bytes(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Paris.")))
    await in_session(path, lambda: complete(llm_server, ask("Q")), record_mode="once")
    cassette = load_cassette(path)
    http = cassette.interactions[0].http
    assert http is not None
    http[0].response["json"]["choices"][0]["message"]["content"] = "Paris, from the wire."
    save_cassette(cassette)

    domain, _ = await in_session(path, lambda: complete(llm_server, ask("Q")))
    wired, _ = await in_session(path, lambda: complete(llm_server, ask("Q")),
                                replay="wire")
    assert isinstance(domain, CompletionResult) and isinstance(wired, CompletionResult)
    assert domain.message.content == "Paris."
    assert wired.message.content == "Paris, from the wire."


async def test_stream_with_tool_call_fragments_keeps_delta_boundaries(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    frames = wire.openai_chat_stream(
        ["It is ", "sunny"], tool_calls=[("call_1", "get_weather", {"city": "Paris"}),
                                         ("call_2", "get_weather", {"city": "Rome"})],
        arguments_chunk_size=4)
    llm_server.enqueue(Reply.sse(frames))

    async def run() -> list[StreamDelta]:
        got = await complete(llm_server, ask("Weather?"), tools=[WEATHER], stream=True)
        assert isinstance(got, list)
        return got

    live, _ = await in_session(path, run, record_mode="once")
    assert [d.content for d in live[:2]] == ["It is ", "sunny"]
    calls = [tc for d in live for tc in d.tool_calls or ()]
    assert calls == [ToolCall("call_1", "get_weather", {"city": "Paris"}),
                     ToolCall("call_2", "get_weather", {"city": "Rome"})]
    validate_cassette(load_cassette(path))
    interaction = load_cassette(path).interactions[0]
    assert interaction.response["deltas"] == [d.to_dict() for d in live]
    assert interaction.http is not None
    assert len(interaction.http[0].response["sse"]) == len(frames)
    assert interaction.http[0].response["sse"][-1] == {"data": "[DONE]"}

    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        again, _ = await in_session(path, run, replay=replay)
        assert outcome_dict(again) == outcome_dict(live), replay
        assert len(llm_server.requests) == before


async def test_recording_passes_each_delta_through_as_it_arrives(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    # The second frame is held back 30 s: the test only passes if the first delta
    # reaches the caller without waiting for it (the stream is closed right after).
    frames = wire.openai_chat_stream(["first", "second"])[1:]  # no role-only frame
    llm_server.enqueue(Reply.sse(frames, delay=30.0))
    session = CassetteSession(path, record_mode="once")
    with session.activate():
        provider = openai(llm_server)
        stream = await provider.complete(ask("slow"), stream=True)
        assert not isinstance(stream, CompletionResult)
        first = await asyncio.wait_for(stream.__anext__(), timeout=20.0)
        assert first.content == "first"
        await stream.aclose()  # type: ignore[attr-defined]
        await provider.aclose()
    session.finish()
    deltas = load_cassette(path).interactions[0].response["deltas"]
    assert [d.get("content") for d in deltas] == ["first"]


async def test_dropped_stream_records_deltas_and_error_and_replays_both(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    frames = wire.openai_chat_stream(["a", "b", "c", "d"])
    llm_server.enqueue(Reply.sse(frames, drop_after=3))

    async def run() -> tuple[list[StreamDelta], BaseException | None]:
        got: list[StreamDelta] = []
        async with openai(llm_server) as provider:
            stream = await provider.complete(ask("cut"), stream=True)
            assert not isinstance(stream, CompletionResult)
            try:
                async for delta in stream:
                    got.append(delta)
            except httpx.HTTPError as exc:
                return got, exc
        return got, None

    (live, live_error), _ = await in_session(path, run, record_mode="once")
    assert isinstance(live_error, httpx.RemoteProtocolError)
    assert [d.content for d in live] == ["a", "b"]
    validate_cassette(load_cassette(path))
    interaction = load_cassette(path).interactions[0]
    assert interaction.response["error"]["exception"] == "httpx.RemoteProtocolError"
    assert interaction.http is not None and interaction.http[0].response["dropped_after"] == 3

    for replay in ("domain", "wire"):
        (again, error), _ = await in_session(path, run, replay=replay)
        assert outcome_dict(again) == outcome_dict(live), replay
        assert type(error) is httpx.RemoteProtocolError, replay


async def test_connection_dropped_before_an_answer_replays_as_the_same_error(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.drop())

    async def run() -> BaseException:
        with pytest.raises(httpx.HTTPError) as info:
            await complete(llm_server, ask("x"))
        return info.value

    live, _ = await in_session(path, run, record_mode="once")
    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        again, _ = await in_session(path, run, replay=replay)
        assert type(again) is type(live), replay
        assert str(again) == str(live)
        assert len(llm_server.requests) == before


async def test_concurrent_calls_each_get_their_own_response(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.echo = True
    prompts = [f"question number {n}" for n in range(6)]

    async def run() -> list[object]:
        async with openai(llm_server) as provider:

            async def one(n: int, prompt: str) -> object:
                outcome = await provider.complete(ask(prompt), stream=bool(n % 2))
                if isinstance(outcome, CompletionResult):
                    return outcome_dict(outcome)
                return outcome_dict(await collect(outcome))

            return list(await asyncio.gather(*(one(n, p) for n, p in enumerate(prompts))))

    live, _ = await in_session(path, run, record_mode="once")
    texts = ["".join(d.get("content", "") for d in o) if isinstance(o, list)
             else o["message"]["content"] for o in live]  # type: ignore[index]
    assert texts == [f"echo: {p}" for p in prompts]
    cassette = load_cassette(path)
    for interaction in cassette.interactions:  # every exchange belongs to its own call
        assert interaction.http is not None and len(interaction.http) == 1
        prompt = interaction.request["messages"][0]["content"]
        assert interaction.http[0].request["json"]["messages"][0]["content"] == prompt
    for replay in ("domain", "wire"):
        before = len(llm_server.requests)
        again, _ = await in_session(path, run, replay=replay)
        assert again == live, replay
        assert len(llm_server.requests) == before


async def test_results_are_fresh_copies(tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion(
        "x", tool_calls=[("c1", "get_weather", {"city": "Paris"})])))
    await in_session(path, lambda: complete(llm_server, ask("Q"), tools=[WEATHER]),
                     record_mode="once")

    async def twice() -> tuple[CompletionResult, CompletionResult]:
        first = await complete(llm_server, ask("Q"), tools=[WEATHER])
        assert isinstance(first, CompletionResult) and first.message.tool_calls
        first.message.content = "mutated"
        first.message.tool_calls[0].arguments["city"] = "Mutated"
        second = await complete(llm_server, ask("Q"), tools=[WEATHER])
        assert isinstance(second, CompletionResult)
        return first, second

    from pytest_ecs_agent.matching import MatchOptions

    (_, second), _ = await in_session(path, twice,
                                      match=MatchOptions(allow_playback_repeats=True))
    assert second.message.content == "x"
    assert second.message.tool_calls == [ToolCall("c1", "get_weather", {"city": "Paris"})]


async def test_changed_prompt_fails_with_a_diff_and_no_secret(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("ok")))
    await in_session(path, lambda: complete(llm_server, ask("Summarise the report")),
                     record_mode="once")
    with pytest.raises(CassetteMismatchError) as info:
        await in_session(path, lambda: complete(llm_server,
            ask(f"Summarise the report; my key is {KEY}")))
    text = str(info.value)
    assert KEY not in text
    assert "<REDACTED>" in text
    assert "provider 'openai'" in text and str(path) in text
    assert '-      "content": "Summarise the report",' in text
    assert '+      "content": "Summarise the report; my key is <REDACTED>",' in text
    assert len(llm_server.requests) == 1
