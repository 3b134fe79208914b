"""CassetteSession with custom (wrapped) providers: record modes, writing, stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ecs_agent.providers import EmbeddingProvider, FakeEmbeddingProvider, FakeProvider, LLMProvider
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema, Usage
from pytest_ecs_agent.cassette import load_cassette
from pytest_ecs_agent.errors import CassetteMismatchError, CassetteNotFoundError
from pytest_ecs_agent.session import CassetteSession, MatchOptions, RedactionOptions


def answer(text: str) -> CompletionResult:
    return CompletionResult(Message("assistant", text), Usage(3, 2, 5))


def ask(text: str) -> list[Message]:
    return [Message("user", text)]


class Counting:
    """A custom chat provider (not a FakeProvider) that answers with a counter."""

    def __init__(self) -> None:
        self.calls = 0
        self.model = "counter-1"

    async def complete(self, messages: list[Message], tools: list[ToolSchema] | None = None,
                       stream: bool = False, response_format: dict[str, Any] | None = None,
                       ) -> CompletionResult | AsyncIterator[StreamDelta]:
        self.calls += 1
        return answer(f"{messages[-1].content} #{self.calls}")


async def record(path: Path, mode: str, *prompts: str, failed: bool = False,
                 provider: Any = None) -> tuple[CassetteSession, list[str]]:
    session = CassetteSession(path, record_mode=mode)
    live = provider if provider is not None else Counting()
    wrapped = session.wrap(live, name="mine")
    out = []
    for prompt in prompts:
        result = await wrapped.complete(ask(prompt))
        out.append(result.message.content)
    session.finish(failed=failed)
    return session, out


def contents(path: Path) -> list[str]:
    return [i.response["result"]["message"]["content"] for i in load_cassette(path).interactions]


async def test_once_records_then_replays_without_calling_the_provider(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    session, got = await record(path, "once", "a", "b")
    assert got == ["a #1", "b #2"]
    assert session.stats.recorded == 2 and session.stats.written
    assert contents(path) == ["a #1", "b #2"]
    loaded = load_cassette(path).interactions[0]
    assert (loaded.kind, loaded.provider) == ("chat", "mine")
    assert loaded.request["model"] == "counter-1"

    provider = Counting()
    replay, got = await record(path, "once", "b", "a", provider=provider)
    assert got == ["b #2", "a #1"]  # matched by request, not by order
    assert provider.calls == 0
    stats = replay.stats
    assert (stats.recorded, stats.replayed, stats.unused, stats.written) == (0, 2, 0, False)


async def test_none_mode_without_file_names_the_file_and_the_command(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    session = CassetteSession(path)
    wrapped = session.wrap(Counting(), name="mine")
    with pytest.raises(CassetteNotFoundError) as info:
        await wrapped.complete(ask("x"))
    assert str(path) in str(info.value)
    assert "--llm-record-mode=once" in str(info.value)
    assert not session.is_recording and not session.allows_network
    session.finish()
    assert not path.exists()


async def test_once_with_existing_file_refuses_new_requests(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a")
    session = CassetteSession(path, record_mode="once")
    assert not session.is_recording
    with pytest.raises(CassetteMismatchError):
        await session.wrap(Counting(), name="mine").complete(ask("new"))


async def test_new_episodes_replays_hits_and_appends_misses(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a")
    provider = Counting()
    session, got = await record(path, "new_episodes", "a", "b", provider=provider)
    assert got == ["a #1", "b #1"]
    assert provider.calls == 1
    assert (session.stats.recorded, session.stats.replayed) == (1, 1)
    assert contents(path) == ["a #1", "b #1"]


async def test_all_replaces_rerecorded_requests_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a", "b", "a")
    provider = Counting()
    provider.calls = 10
    await record(path, "all", "a", "c", provider=provider)
    # "a" (twice before) is replaced in place by the one new recording; "b" stays; "c" appended
    assert contents(path) == ["a #11", "b #2", "c #12"]


async def test_rewrite_writes_exactly_this_run_and_only_when_passed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a", "b")
    before = path.read_bytes()
    session, _ = await record(path, "rewrite", "z", failed=True)
    assert not session.stats.written and path.read_bytes() == before
    await record(path, "rewrite", "z")
    assert contents(path) == ["z #1"]


async def test_failed_test_still_saves_in_recording_modes(tmp_path: Path) -> None:
    for mode in ("once", "new_episodes", "all"):
        path = tmp_path / f"{mode}.yaml"
        session, _ = await record(path, mode, "a", failed=True)
        assert session.stats.written, mode
        assert contents(path) == ["a #1"]


async def test_a_failed_test_never_truncates_an_existing_cassette(tmp_path: Path) -> None:
    # The test fails after its first call: what it did not get to re-record is kept.
    for mode in ("new_episodes", "all"):
        path = tmp_path / f"{mode}.yaml"
        await record(path, "once", "a", "b", "c")
        session, _ = await record(path, mode, "b", "z", failed=True)
        assert session.stats.written, mode
        expected = {"new_episodes": ["a #1", "b #2", "c #3", "z #1"],  # b replayed
                    "all": ["a #1", "b #1", "c #3", "z #2"]}[mode]
        assert contents(path) == expected, mode


async def test_rewrite_of_a_passing_test_without_calls_empties_the_cassette(
        tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a")
    failed, _ = await record(path, "rewrite", failed=True)
    assert not failed.stats.written and contents(path) == ["a #1"]
    passed, _ = await record(path, "rewrite")
    assert passed.stats.written and contents(path) == []
    replay, _ = await record(path, "none")
    assert replay.stats.unused == 0


async def test_a_secret_in_the_prompt_matches_its_redacted_recording(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cassette holds the placeholder; the live request holds the secret.
    token = "tok-in-prompt-5e4d3c2b1a09"
    monkeypatch.setenv("MY_TOKEN", token)
    path = tmp_path / "c.yaml"
    redact = RedactionOptions(env_vars=("MY_TOKEN",))

    async def run(mode: str) -> CassetteSession:
        session = CassetteSession(path, record_mode=mode, redact=redact)
        wrapped = session.wrap(Counting(), name="mine")
        await wrapped.complete(ask(f"use {token}"))
        session.finish()
        return session

    await run("once")
    assert token not in path.read_text()
    replay = await run("none")
    assert replay.stats.replayed == 1
    await run("all")
    assert len(load_cassette(path).interactions) == 1  # replaced, not appended


async def test_a_continued_cassette_is_extended_not_replaced(tmp_path: Path) -> None:
    # Sessions of one run sharing a file (the plugin sets continues=True for the later ones).
    path = tmp_path / "c.yaml"
    await record(path, "rewrite", "a", "b")
    later = CassetteSession(path, record_mode="rewrite", continues=True)
    await later.wrap(Counting(), name="mine").complete(ask("b"))
    later.finish()
    assert contents(path) == ["a #1", "b #1"]  # b re-recorded in place, a kept
    idle = CassetteSession(path, record_mode="rewrite", continues=True)
    assert not idle.finish().written and contents(path) == ["a #1", "b #1"]
    once = CassetteSession(path, record_mode="once", continues=True)
    assert once.is_recording
    wrapped = once.wrap(Counting(), name="mine")
    assert [(await wrapped.complete(ask(p))).message.content for p in ("a", "c")] == [
        "a #1", "c #1"]  # a replayed, c recorded
    once.finish()
    assert contents(path) == ["a #1", "b #1", "c #1"]


async def test_nothing_recorded_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    session = CassetteSession(path, record_mode="rewrite")
    assert session.finish().written is False
    assert not path.exists()
    await record(path, "once", "a")
    mtime = path.stat().st_mtime_ns
    replay, _ = await record(path, "new_episodes", "a")
    assert not replay.stats.written and path.stat().st_mtime_ns == mtime


async def test_a_changed_prompt_is_a_mismatch_with_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "What is the capital of France?", "Tell me a joke")
    session = CassetteSession(path)
    wrapped = session.wrap(Counting(), name="mine")
    with pytest.raises(CassetteMismatchError) as info:
        await wrapped.complete(ask("What is the capital of Spain?"))
    text = str(info.value)
    assert info.value.path == path
    assert str(path) in text and "'none'" in text and "'mine'" in text
    assert '-      "content": "What is the capital of France?",' in text
    assert '+      "content": "What is the capital of Spain?",' in text
    assert "--llm-record-mode=new_episodes" in text and "rewrite" in text


async def test_exhausted_request_says_so_and_repeats_can_be_allowed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a")
    session = CassetteSession(path)
    wrapped = session.wrap(Counting(), name="mine")
    await wrapped.complete(ask("a"))
    with pytest.raises(CassetteMismatchError, match=r"already been served.*call number 2"):
        await wrapped.complete(ask("a"))
    repeating = CassetteSession(path, match=MatchOptions(allow_playback_repeats=True))
    wrapped = repeating.wrap(Counting(), name="mine")
    got = [(await wrapped.complete(ask("a"))).message.content for _ in range(3)]
    assert got == ["a #1"] * 3


async def test_ignore_options_apply_to_replay(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "Today is 2024-01-01. Hi")
    session = CassetteSession(path, match=MatchOptions(ignore_patterns=(r"\d{4}-\d{2}-\d{2}",)))
    result = await session.wrap(Counting(), name="mine").complete(ask("Today is 2026-11-25. Hi"))
    assert result.message.content == "Today is 2024-01-01. Hi #1"


async def test_wrap_keeps_the_protocol_of_the_provider(tmp_path: Path) -> None:
    session = CassetteSession(tmp_path / "c.yaml", record_mode="once")
    chat_only = session.wrap(FakeProvider([answer("x")]))
    embed_only = session.wrap(FakeEmbeddingProvider(dimension=4))
    assert chat_only.name == "FakeProvider"
    assert isinstance(chat_only, LLMProvider) and not isinstance(chat_only, EmbeddingProvider)
    assert isinstance(embed_only, EmbeddingProvider) and not isinstance(embed_only, LLMProvider)
    with pytest.raises(TypeError, match="neither"):
        session.wrap(object())
    with pytest.raises(ValueError, match="non-empty"):
        session.wrap(FakeProvider(), name="")


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="record_mode must be one of"):
        CassetteSession(tmp_path / "c.yaml", record_mode="sometimes")
    with pytest.raises(ValueError, match="replay must be one of"):
        CassetteSession(tmp_path / "c.yaml", replay="bytes")
    with pytest.raises(TypeError, match="MatchOptions"):
        CassetteSession(tmp_path / "c.yaml", match={"ignore": ["x"]})  # type: ignore[arg-type]


async def test_embeddings_record_and_replay_losslessly(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    live = FakeEmbeddingProvider(dimension=8)
    session = CassetteSession(path, record_mode="once")
    vectors = await session.wrap(live, name="emb").embed(["alpha", "beta"])
    session.finish()
    assert live.call_count == 1
    replay = CassetteSession(path)
    again = FakeEmbeddingProvider(dimension=8)
    got = await replay.wrap(again, name="emb").embed(["alpha", "beta"])
    assert got == vectors and again.call_count == 0
    got[0][0] = 99.0
    assert (await CassetteSession(path).wrap(again, name="emb").embed(["alpha", "beta"])
            ) == vectors


async def test_interactions_lists_loaded_then_recorded(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    await record(path, "once", "a")
    session = CassetteSession(path, record_mode="new_episodes")
    wrapped = session.wrap(Counting(), name="mine")
    await wrapped.complete(ask("b"))
    assert [i.request["messages"][0]["content"] for i in session.interactions] == ["a", "b"]
