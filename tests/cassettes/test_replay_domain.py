"""CassetteProvider / CassetteEmbeddingProvider standalone, streams, errors, timing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ecs_agent.errors import StreamError
from ecs_agent.providers import FakeEmbeddingProvider, FakeProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage
from pytest_ecs_agent.cassette import Cassette, Interaction, load_cassette
from pytest_ecs_agent.errors import CassetteFormatError, CassetteMismatchError
from pytest_ecs_agent.matching import MatchOptions
from pytest_ecs_agent.outcomes import ReplayedError, error_from_dict, error_to_dict
from pytest_ecs_agent.replay import CassetteEmbeddingProvider, CassetteProvider
from pytest_ecs_agent.session import CassetteSession
from tests.cassettes.engine_support import FakeSleep, ask, collect

RESULT = CompletionResult(
    Message("assistant", "Sunny.", tool_calls=[ToolCall("c1", "weather", {"city": "Paris"})]),
    Usage(5, 3, 8))


class Scripted:
    """A custom provider: streams two deltas, then fails when asked to."""

    model = "scripted-1"

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail

    async def complete(self, messages: list[Message], tools: list[ToolSchema] | None = None,
                       stream: bool = False, response_format: dict[str, Any] | None = None,
                       ) -> CompletionResult | AsyncIterator[StreamDelta]:
        if not stream:
            return RESULT

        async def deltas() -> AsyncIterator[StreamDelta]:
            yield StreamDelta(content="Sun")
            yield StreamDelta(content="ny.")
            if self.fail is not None:
                raise self.fail
            yield StreamDelta(finish_reason="stop", usage=Usage(5, 2, 7))

        return deltas()


async def recorded(path: Path, provider: Any, *calls: dict[str, Any], timing: bool = False,
                   ) -> list[Any]:
    session = CassetteSession(path, record_mode="once", timing=timing)
    wrapped = session.wrap(provider, name="scripted")
    out: list[Any] = []
    for kwargs in calls:
        try:
            outcome = await wrapped.complete(ask("weather?"), **kwargs)
            out.append(outcome if isinstance(outcome, CompletionResult)
                       else await collect(outcome))
        except Exception as exc:
            out.append(exc)
    session.finish()
    return out


async def test_from_file_infers_provider_and_model(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {}, {"stream": True})
    provider = CassetteProvider.from_file(path)
    assert (provider.provider_name, provider.model) == ("scripted", "scripted-1")
    assert await provider.complete(ask("weather?")) == RESULT
    stream = await provider.complete(ask("weather?"), stream=True)
    assert [d.content for d in await collect(stream)] == ["Sun", "ny.", None]
    assert provider.call_count == 2  # FakeProvider bookkeeping still works
    assert provider.last_messages == ask("weather?")
    with pytest.raises(CassetteMismatchError, match="No recorded chat interaction"):
        await provider.complete(ask("something else"))


def _with_options(interaction: Interaction, options: dict[str, Any] | None) -> Interaction:
    request = dict(interaction.request)
    if options:
        request["options"] = options
    return Interaction(interaction.kind, interaction.provider, request, interaction.response)


async def test_recorded_provider_options_are_inferred_or_given() -> None:
    # Requests recorded with ClaudeProvider(max_tokens=512) / dimensions=3 carry options.
    chat = Interaction("chat", "claude", {
        "model": "claude-x", "messages": [m.to_dict() for m in ask("hi")], "tools": None,
        "stream": False, "response_format": None}, {"result": RESULT.to_dict()})
    embed = Interaction("embed", "openai-embedding", {"model": "e", "input": ["hi"]},
                        {"vectors": [[0.5, 0.25, 1.0]]})
    recorded = [_with_options(chat, {"max_tokens": 512}),
                _with_options(embed, {"dimensions": 3})]
    provider = CassetteProvider(recorded)
    assert provider.options == {"max_tokens": 512}
    assert await provider.complete(ask("hi")) == RESULT
    embedder = CassetteEmbeddingProvider(recorded)
    assert embedder.options == {"dimensions": 3}
    assert await embedder.embed(["hi"]) == [[0.5, 0.25, 1.0]]
    # several values: nothing is guessed, the caller says which
    mixed = [*recorded, _with_options(chat, None)]
    assert CassetteProvider(mixed).options == {}
    chosen = CassetteProvider(mixed, options={"max_tokens": 512})
    assert await chosen.complete(ask("hi")) == RESULT
    with pytest.raises(CassetteMismatchError, match="max_tokens"):
        await CassetteProvider(recorded, options={"max_tokens": 64}).complete(ask("hi"))


async def test_several_providers_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    session = CassetteSession(path, record_mode="once")
    await session.wrap(FakeProvider([RESULT]), name="a").complete(ask("x"))
    await session.wrap(FakeProvider([RESULT]), name="b").complete(ask("x"))
    session.finish()
    with pytest.raises(ValueError, match=r"several providers.*pass provider="):
        CassetteProvider.from_file(path)
    chosen = CassetteProvider.from_file(path, provider="b")
    assert await chosen.complete(ask("x")) == RESULT


async def test_replayed_results_and_deltas_are_new_objects(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {}, {"stream": True})
    provider = CassetteProvider.from_file(path, match=MatchOptions(allow_playback_repeats=True))
    first = await provider.complete(ask("weather?"))
    assert isinstance(first, CompletionResult) and first.message.tool_calls
    first.message.tool_calls[0].arguments["city"] = "Rome"
    first.message.content = "changed"
    assert await provider.complete(ask("weather?")) == RESULT
    deltas = await collect(await provider.complete(ask("weather?"), stream=True))
    deltas[0].content = "changed"
    again = await collect(await provider.complete(ask("weather?"), stream=True))
    assert again[0].content == "Sun"


async def test_stream_failing_midway_replays_deltas_then_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    error = StreamError("stream ended before message_stop", provider="scripted",
                        body={"type": "error"})
    await recorded(path, Scripted(fail=error), {"stream": True})
    stored = load_cassette(path).interactions[0].response
    assert [d["content"] for d in stored["deltas"]] == ["Sun", "ny."]
    assert stored["error"]["type"] == "stream_error"
    assert stored["error"]["exception"] == "ecs_agent.errors.StreamError"

    provider = CassetteProvider.from_file(path)
    stream = await provider.complete(ask("weather?"), stream=True)
    assert not isinstance(stream, CompletionResult)
    got = []
    with pytest.raises(StreamError) as info:
        async for delta in stream:
            got.append(delta.content)
    assert got == ["Sun", "ny."]
    assert str(info.value) == str(error)
    assert (info.value.provider, info.value.body) == ("scripted", {"type": "error"})


async def test_error_at_call_time_is_raised_by_complete(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    request = httpx.Request("POST", "https://api.example.test/v1/chat")
    live = httpx.ReadTimeout("timed out", request=request)
    await recorded(path, FakeProvider([live]), {})
    provider = CassetteProvider.from_file(path)
    with pytest.raises(httpx.ReadTimeout, match="timed out") as info:
        await provider.complete(ask("weather?"))
    assert str(info.value.request.url) == "https://api.example.test/v1/chat"


async def test_replay_timing_sleeps_the_recorded_gaps(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {"stream": True}, timing=True)
    cassette = load_cassette(path)
    cassette.interactions[0].response["timing"] = [0.5, 0.75, 2.0]
    sleep = FakeSleep()
    timed = CassetteProvider(cassette, match=MatchOptions(replay_timing=True), sleep=sleep)
    await collect(await timed.complete(ask("weather?"), stream=True))
    assert sleep.waits == [0.5, 0.25, 1.25]
    untimed_sleep = FakeSleep()
    untimed = CassetteProvider(cassette, sleep=untimed_sleep)
    await collect(await untimed.complete(ask("weather?"), stream=True))
    assert untimed_sleep.waits == []


async def test_recording_with_timing_stores_one_time_per_delta(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {"stream": True}, timing=True)
    response = load_cassette(path).interactions[0].response
    timing = response["timing"]
    assert len(timing) == len(response["deltas"]) == 3
    assert timing == sorted(timing) and all(t >= 0 for t in timing)


async def test_stream_can_be_closed_early_and_used_as_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {"stream": True})
    provider = CassetteProvider.from_file(path)
    stream = await provider.complete(ask("weather?"), stream=True)
    async with stream as opened:  # type: ignore[union-attr]
        first = await opened.__anext__()
    assert first.content == "Sun"
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()  # type: ignore[union-attr]


async def test_embedding_provider_replays_vectors(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    session = CassetteSession(path, record_mode="once")
    live = await session.wrap(FakeEmbeddingProvider(dimension=6), name="emb").embed(["a", "b"])
    session.finish()
    provider = CassetteEmbeddingProvider.from_file(path)
    assert provider.dimension == 6 and provider.model == ""
    assert await provider.embed(["a", "b"]) == live
    assert provider.calls == [["a", "b"]]
    with pytest.raises(CassetteMismatchError, match="embed interaction"):
        await provider.embed(["c"])
    with pytest.raises(TypeError, match="list of str"):
        await provider.embed("a")  # type: ignore[arg-type]


def test_unknown_exception_types_replay_as_replayed_error() -> None:
    error = error_from_dict({"type": "exception", "exception": "gone.module.VanishedError",
                             "message": "it broke"}, provider="x")
    assert isinstance(error, ReplayedError)
    assert str(error) == "gone.module.VanishedError: it broke"
    assert error.exception_type == "gone.module.VanishedError"


class NeedsTwoArgs(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")


def test_exceptions_round_trip_with_type_and_message() -> None:
    for exc in (ValueError("bad value"), KeyError("k"), NeedsTwoArgs(3, "three"),
                httpx.ConnectError("refused")):
        again = error_from_dict(error_to_dict(exc), provider="p")
        assert type(again) is type(exc)
        assert str(again) == str(exc)


def test_secrets_are_scrubbed_from_recorded_errors() -> None:
    data = error_to_dict(RuntimeError("bad key sk-test-secret-123456"),
                         ("sk-test-secret-123456",))
    assert "sk-test-secret-123456" not in str(data)


async def test_in_memory_interactions_can_be_replayed() -> None:
    interaction = Interaction(
        kind="chat", provider="mine",
        request={"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": None,
                 "stream": False, "response_format": None},
        response={"result": RESULT.to_dict()})
    provider = CassetteProvider([interaction])
    assert await provider.complete([Message("user", "hi")]) == RESULT
    assert provider.path is None
    empty = CassetteProvider(Cassette(path=Path("none.yaml")))
    with pytest.raises(CassetteMismatchError, match="has no chat interaction"):
        await empty.complete([Message("user", "hi")])


async def test_a_hand_broken_outcome_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await recorded(path, Scripted(), {}, {"stream": True})
    text = path.read_text()
    path.write_text(text.replace("role: assistant", "role: assistant\n        mood: happy", 1)
                    .replace("content: ny.", "content: ny.\n      colour: red", 1))
    session = CassetteSession(path)
    wrapped = session.wrap(Scripted(), name="scripted")
    with pytest.raises(CassetteFormatError) as info:
        await wrapped.complete(ask("weather?"))
    assert str(path) in str(info.value)
    assert "interactions[0].response.result" in str(info.value)
    assert "mood" in str(info.value)
    stream = await wrapped.complete(ask("weather?"), stream=True)
    with pytest.raises(CassetteFormatError, match=r"interactions\[1\]\.response\.deltas\[1\]"):
        await collect(stream)
