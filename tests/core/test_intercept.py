"""The context-local interception point: dispatch, scoping, tasks, threads."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from ecs_agent.intercept import (
    ChatCall,
    ChatOutcome,
    EmbedCall,
    LiveChat,
    LiveEmbed,
    SendHTTP,
    current_interceptor,
    dispatch_chat,
    dispatch_embed,
    use_interceptor,
)
from ecs_agent.types import CompletionResult, Message

LIVE = CompletionResult(message=Message(role="assistant", content="live"))
CANNED = CompletionResult(message=Message(role="assistant", content="canned"))
CALL = ChatCall(provider="openai", model="m", messages=[Message(role="user", content="q")],
                tools=None, stream=False, response_format=None, secrets=("sk-test-1234",))
EMBED = EmbedCall(provider="openai-embedding", model="e", texts=["a"])


class Recorder:
    """An interceptor that records what it saw and optionally serves canned answers."""

    def __init__(self, *, go_live: bool) -> None:
        self.go_live = go_live
        self.chats: list[ChatCall] = []
        self.embeds: list[EmbedCall] = []

    async def chat(self, call: ChatCall, live: LiveChat) -> ChatOutcome:
        self.chats.append(call)
        return await live() if self.go_live else CANNED

    async def embed(self, call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
        self.embeds.append(call)
        return await live() if self.go_live else [[9.0]]

    async def http(self, provider: str, request: httpx.Request, send: SendHTTP) -> httpx.Response:
        return await send(request)


async def live_chat() -> ChatOutcome:
    return LIVE


async def live_embed() -> list[list[float]]:
    return [[1.0]]


async def test_without_interceptor_calls_go_live() -> None:
    assert current_interceptor() is None
    assert await dispatch_chat(CALL, live_chat) is LIVE
    assert await dispatch_embed(EMBED, live_embed) == [[1.0]]


async def test_interceptor_sees_calls_and_decides() -> None:
    replaying = Recorder(go_live=False)
    with use_interceptor(replaying):
        assert current_interceptor() is replaying
        assert await dispatch_chat(CALL, live_chat) is CANNED
        assert await dispatch_embed(EMBED, live_embed) == [[9.0]]
    assert replaying.chats == [CALL]
    assert replaying.embeds == [EMBED]
    recording = Recorder(go_live=True)
    with use_interceptor(recording):
        assert await dispatch_chat(CALL, live_chat) is LIVE
    assert current_interceptor() is None


async def test_scopes_nest_and_reset_on_error() -> None:
    outer, inner = Recorder(go_live=True), Recorder(go_live=True)
    with use_interceptor(outer):
        with pytest.raises(RuntimeError), use_interceptor(inner):
            assert current_interceptor() is inner
            raise RuntimeError("boom")
        assert current_interceptor() is outer
        with use_interceptor(None):
            assert await dispatch_chat(CALL, live_chat) is LIVE
        assert current_interceptor() is outer
    assert outer.chats == []
    assert current_interceptor() is None


async def test_follows_tasks_but_not_threads() -> None:
    recorder = Recorder(go_live=False)
    seen_in_thread: list[object] = []
    with use_interceptor(recorder):
        results = await asyncio.gather(*(asyncio.create_task(dispatch_chat(CALL, live_chat))
                                         for _ in range(3)))
        thread = threading.Thread(target=lambda: seen_in_thread.append(current_interceptor()))
        thread.start()
        thread.join()
    assert results == [CANNED] * 3
    assert len(recorder.chats) == 3
    assert seen_in_thread == [None]
