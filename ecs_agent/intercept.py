"""One generic, context-local interception point for the built-in providers.

ecs_agent never imports a test toolkit. A toolkit (``pytest_ecs_agent`` records and
replays cassettes through it) installs an :class:`Interceptor` for the duration of a
test with :func:`use_interceptor`; every built-in provider consults it at two levels:

* the domain call: ``complete`` / ``embed`` go through :func:`dispatch_chat` /
  :func:`dispatch_embed`, which hand the interceptor a description of the call and a
  ``live`` callable that performs it for real;
* the wire: every HTTP request the built-in providers send goes through
  :func:`ecs_agent._http.send`, which hands it to :meth:`Interceptor.http` together
  with a ``send`` callable that puts it on the network.

With no interceptor installed (production) each dispatch costs one ``ContextVar.get``.
The interceptor lives in a :class:`contextvars.ContextVar`, so it follows asyncio tasks
created inside the test and never leaks into other threads or tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

import httpx

from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = [
    "ChatCall",
    "ChatOutcome",
    "EmbedCall",
    "Interceptor",
    "LiveChat",
    "LiveEmbed",
    "SendHTTP",
    "current_interceptor",
    "dispatch_chat",
    "dispatch_embed",
    "use_interceptor",
]

ChatOutcome: TypeAlias = CompletionResult | AsyncIterator[StreamDelta]
LiveChat: TypeAlias = Callable[[], Awaitable[ChatOutcome]]
LiveEmbed: TypeAlias = Callable[[], Awaitable[list[list[float]]]]
SendHTTP: TypeAlias = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass(frozen=True, slots=True)
class ChatCall:
    """A ``complete`` call as the provider received it.

    ``provider`` names the wire format (``openai``, ``claude``, ``litellm`` or a custom
    name); ``secrets`` are values (the API key) that must never be written anywhere.
    ``options`` holds the provider's own settings that change the answer and are not at
    their default (``ClaudeProvider(max_tokens=...)``): JSON values, empty for most
    calls. A toolkit should treat two calls that differ in ``options`` as different
    requests; ``pytest_ecs_agent`` adds them to the canonical request only when
    non-empty, so cassettes recorded before the field existed still match.
    """

    provider: str
    model: str
    messages: list[Message]
    tools: list[ToolSchema] | None
    stream: bool
    response_format: dict[str, Any] | None
    secrets: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EmbedCall:
    """An ``embed`` call as the provider received it.

    ``options`` as for :class:`ChatCall`: settings that change the vectors and are not at
    their default (``OpenAIEmbeddingProvider(dimensions=256)`` gives
    ``{"dimensions": 256}``).
    """

    provider: str
    model: str
    texts: list[str]
    secrets: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


class Interceptor(Protocol):
    """What a toolkit implements to see, record or replace provider traffic."""

    async def chat(self, call: ChatCall, live: LiveChat) -> ChatOutcome:
        """Return the outcome of ``call``: call ``live()`` to perform it for real."""
        ...

    async def embed(self, call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
        """Return the vectors for ``call``: call ``live()`` to perform it for real."""
        ...

    async def http(self, provider: str, request: httpx.Request, send: SendHTTP) -> httpx.Response:
        """Return the response to ``request``: ``send(request)`` puts it on the network.

        The response returned is read by the provider as a stream (it may be SSE).
        """
        ...


_current: ContextVar[Interceptor | None] = ContextVar("ecs_agent_interceptor", default=None)


def current_interceptor() -> Interceptor | None:
    """The interceptor installed in this context, or ``None``."""
    return _current.get()


@contextmanager
def use_interceptor(interceptor: Interceptor | None) -> Iterator[None]:
    """Install ``interceptor`` for the code run inside the ``with`` block."""
    token = _current.set(interceptor)
    try:
        yield
    finally:
        _current.reset(token)


async def dispatch_chat(call: ChatCall, live: LiveChat) -> ChatOutcome:
    """Run a chat call through the current interceptor, or live when there is none."""
    interceptor = _current.get()
    if interceptor is None:
        return await live()
    return await interceptor.chat(call, live)


async def dispatch_embed(call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
    """Run an embed call through the current interceptor, or live when there is none."""
    interceptor = _current.get()
    if interceptor is None:
        return await live()
    return await interceptor.embed(call, live)
