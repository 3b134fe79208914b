"""The chat provider protocol every provider (built-in, fake or a user's own) satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol, runtime_checkable

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["LLMProvider"]


@runtime_checkable
class LLMProvider(Protocol):
    """A chat model.

    ``complete`` returns a :class:`CompletionResult` when ``stream`` is false and an
    ``AsyncIterator[StreamDelta]`` when it is true (await the call, then iterate).
    """

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]: ...
