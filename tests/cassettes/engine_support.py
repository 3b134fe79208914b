"""Helpers of the cassette engine tests (record with one session, replay with another)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ecs_agent.types import CompletionResult, Message, StreamDelta
from pytest_ecs_agent.session import CassetteSession

__all__ = ["KEY", "FakeSleep", "ask", "collect", "in_session", "outcome_dict"]

KEY = "sk-test-engine-0123456789abcdef"

T = TypeVar("T")


def ask(text: str) -> list[Message]:
    return [Message("user", text)]


async def collect(outcome: CompletionResult | AsyncIterator[StreamDelta]) -> list[StreamDelta]:
    assert not isinstance(outcome, CompletionResult), "expected a stream"
    return [delta async for delta in outcome]


async def in_session(path: Path, body: Callable[[], Awaitable[T]], *, failed: bool = False,
                     **options: Any) -> tuple[T, CassetteSession]:
    """Run ``body`` with a session active, then finish it."""
    session = CassetteSession(path, **options)
    with session.activate():
        value = await body()
    session.finish(failed=failed)
    return value, session


def outcome_dict(outcome: CompletionResult | list[StreamDelta]) -> Any:
    if isinstance(outcome, CompletionResult):
        return outcome.to_dict()
    return [delta.to_dict() for delta in outcome]


class FakeSleep:
    """Records the waits asked for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
