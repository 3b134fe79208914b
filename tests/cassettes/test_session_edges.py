"""CassetteSession edge cases: nesting, wire mismatches, merging writers, stats."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ecs_agent._http import send
from ecs_agent.providers import FakeProvider, OpenAIProvider
from ecs_agent.types import CompletionResult, Message, Usage
from pytest_ecs_agent.cassette import load_cassette, save_cassette
from pytest_ecs_agent.errors import CassetteError, CassetteMismatchError
from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire
from pytest_ecs_agent.session import CassetteSession
from tests.cassettes.engine_support import KEY, ask, in_session


def answer(text: str) -> CompletionResult:
    return CompletionResult(Message("assistant", text), Usage(1, 1, 2))


async def test_wrapping_a_built_in_provider_records_one_interaction(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Hi.")))
    session = CassetteSession(path, record_mode="once")
    async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as inner:
        with session.activate():
            result = await session.wrap(inner, name="router").complete(ask("hello"))
    session.finish()
    assert isinstance(result, CompletionResult) and result.message.content == "Hi."
    (interaction,) = load_cassette(path).interactions
    assert interaction.provider == "router"
    assert interaction.http is not None and len(interaction.http) == 1  # inner HTTP kept


async def test_http_outside_a_provider_call_is_refused_when_replaying(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    session = CassetteSession(path, record_mode="once")
    await session.wrap(FakeProvider([answer("x")]), name="f").complete(ask("x"))
    session.finish()
    replaying = CassetteSession(path)
    async with httpx.AsyncClient() as client:
        request = client.build_request("GET", "http://127.0.0.1:9/never")
        with replaying.activate(), pytest.raises(CassetteError, match="outside a complete"):
            await send("custom", client, request)


async def test_wire_replay_reports_a_provider_that_sends_more_requests(
        tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.json(wire.openai_chat_completion("Hi.")))

    async def call() -> object:
        async with OpenAIProvider(api_key=KEY, base_url=llm_server.openai_base_url) as p:
            return await p.complete(ask("hello"))

    await in_session(path, call, record_mode="once")
    cassette = load_cassette(path)
    cassette.interactions[0].http = []  # as if recorded by a provider that sent nothing
    save_cassette(cassette)
    with pytest.raises(CassetteMismatchError, match="HTTP request number 1") as info:
        await in_session(path, call, replay="wire")
    assert "replay='domain'" in str(info.value)
    domain, _ = await in_session(path, call)  # the domain outcome is still there
    assert isinstance(domain, CompletionResult) and domain.message.content == "Hi."


async def test_two_writers_merge_instead_of_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    first = CassetteSession(path, record_mode="new_episodes")
    second = CassetteSession(path, record_mode="new_episodes")
    await first.wrap(FakeProvider([answer("one")]), name="f").complete(ask("1"))
    await second.wrap(FakeProvider([answer("two")]), name="f").complete(ask("2"))
    first.finish()
    second.finish()
    contents = [i.request["messages"][0]["content"] for i in load_cassette(path).interactions]
    assert contents == ["1", "2"]


async def test_finish_is_idempotent_and_stats_count(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    session = CassetteSession(path, record_mode="once")
    await session.wrap(FakeProvider([answer("a"), answer("b")]), name="f").complete(ask("a"))
    stats = session.finish()
    assert (stats.recorded, stats.replayed, stats.unused, stats.written) == (1, 0, 0, True)
    assert stats.path == path and stats.record_mode == "once"
    assert session.finish() == stats
    replay = CassetteSession(path)
    assert replay.stats.unused == 1  # loaded, nothing served yet
    await replay.wrap(FakeProvider(), name="f").complete(ask("a"))
    assert replay.stats.unused == 0 and replay.stats.replayed == 1


async def test_cancelled_call_is_not_recorded(tmp_path: Path) -> None:
    import asyncio

    class Slow:
        model = "slow"

        async def complete(self, messages: list[Message], tools: object = None,
                           stream: bool = False, response_format: object = None,
                           ) -> CompletionResult:
            await asyncio.sleep(60)
            return answer("late")

    path = tmp_path / "c.yaml"
    session = CassetteSession(path, record_mode="once")
    task = asyncio.ensure_future(session.wrap(Slow(), name="slow").complete(ask("x")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.finish().written is False
    assert not path.exists()


async def test_recording_modes_open_the_network(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    assert CassetteSession(path, record_mode="once").allows_network
    for mode in ("new_episodes", "all", "rewrite"):
        assert CassetteSession(path, record_mode=mode).is_recording
    session = CassetteSession(path, record_mode="once")
    await session.wrap(FakeProvider([answer("x")]), name="f").complete(ask("x"))
    session.finish()
    assert not CassetteSession(path, record_mode="once").allows_network
    assert not CassetteSession(path).is_recording


async def test_replay_needs_no_server_at_all(tmp_path: Path, llm_server: LoopbackServer) -> None:
    path = tmp_path / "c.yaml"
    llm_server.enqueue(Reply.sse(wire.openai_chat_stream(["Hi", "!"])))

    async def call(base_url: str) -> list[object]:
        async with OpenAIProvider(api_key=KEY, base_url=base_url) as provider:
            stream = await provider.complete(ask("hello"), stream=True)
            assert not isinstance(stream, CompletionResult)
            return [delta.to_dict() async for delta in stream]

    live, _ = await in_session(path, lambda: call(llm_server.openai_base_url),
                               record_mode="once")
    closed = "http://127.0.0.1:9/v1"  # nothing listens there: any connection would fail
    for replay in ("domain", "wire"):
        again, _ = await in_session(path, lambda: call(closed), replay=replay)
        assert again == live, replay
