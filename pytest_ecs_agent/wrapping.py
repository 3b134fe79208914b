"""Wrappers that put a custom provider's calls through a cassette session.

A user's own provider does not consult :mod:`ecs_agent.intercept`, so
:meth:`CassetteSession.wrap <pytest_ecs_agent.session.CassetteSession.wrap>` wraps it:
each ``complete`` / ``embed`` becomes a :class:`~ecs_agent.intercept.ChatCall` /
:class:`~ecs_agent.intercept.EmbedCall` handed to the session with the real call as
``live``. Recording and replay are at the domain level only. The wrapper has exactly
the methods the provider has (``complete`` -> chat, ``embed`` -> embeddings, or both),
so it satisfies the same protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

from ecs_agent.intercept import ChatCall, EmbedCall, Interceptor
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = [
    "WrappedChatEmbeddingProvider",
    "WrappedChatProvider",
    "WrappedEmbeddingProvider",
    "wrap",
]


class _Wrapped:
    def __init__(self, interceptor: Interceptor, provider: Any, name: str) -> None:
        self._interceptor = interceptor
        self.provider = provider
        self.name = name
        model = getattr(provider, "model", None)
        self.model = model if isinstance(model, str) else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider!r}, name={self.name!r})"


class WrappedChatProvider(_Wrapped):
    """A chat provider whose calls are recorded / replayed by a cassette session."""

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        call = ChatCall(provider=self.name, model=self.model, messages=list(messages),
                        tools=None if tools is None else list(tools), stream=stream,
                        response_format=response_format)

        async def live() -> CompletionResult | AsyncIterator[StreamDelta]:
            return cast(
                "CompletionResult | AsyncIterator[StreamDelta]",
                await self.provider.complete(messages, tools=tools, stream=stream,
                                             response_format=response_format))

        return await self._interceptor.chat(call, live)


class WrappedEmbeddingProvider(_Wrapped):
    """An embedding provider whose calls are recorded / replayed by a cassette session."""

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if isinstance(texts, str) or not isinstance(texts, list | tuple):
            raise TypeError(f"embed() takes a list of str, got {type(texts).__name__}")
        call = EmbedCall(provider=self.name, model=self.model, texts=list(texts))

        async def live() -> list[list[float]]:
            return cast("list[list[float]]", await self.provider.embed(texts))

        return await self._interceptor.embed(call, live)


class WrappedChatEmbeddingProvider(WrappedChatProvider, WrappedEmbeddingProvider):
    """A provider with both ``complete`` and ``embed``, wrapped."""


def wrap(interceptor: Interceptor, provider: Any, name: str | None = None) -> Any:
    """Wrap ``provider`` (anything with an async ``complete`` and/or ``embed``)."""
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"wrap(name=...) must be a non-empty string, got {name!r}")
    chat = callable(getattr(provider, "complete", None))
    embed = callable(getattr(provider, "embed", None))
    label = name or type(provider).__name__
    if chat and embed:
        return WrappedChatEmbeddingProvider(interceptor, provider, label)
    if chat:
        return WrappedChatProvider(interceptor, provider, label)
    if embed:
        return WrappedEmbeddingProvider(interceptor, provider, label)
    raise TypeError(
        f"wrap() takes a chat provider (async complete()) or an embedding provider "
        f"(async embed()); {type(provider).__name__} has neither")
