"""A pass-through interceptor that remembers what the providers dispatched."""

from __future__ import annotations

import httpx

from ecs_agent.intercept import (
    ChatCall,
    ChatOutcome,
    EmbedCall,
    LiveChat,
    LiveEmbed,
    SendHTTP,
)

__all__ = ["SpyInterceptor"]


class SpyInterceptor:
    """Lets every call and request through; keeps the calls and ``"<provider> <path>"``."""

    def __init__(self) -> None:
        self.calls: list[ChatCall | EmbedCall] = []
        self.paths: list[str] = []

    async def chat(self, call: ChatCall, live: LiveChat) -> ChatOutcome:
        self.calls.append(call)
        return await live()

    async def embed(self, call: EmbedCall, live: LiveEmbed) -> list[list[float]]:
        self.calls.append(call)
        return await live()

    async def http(self, provider: str, request: httpx.Request, send: SendHTTP) -> httpx.Response:
        self.paths.append(f"{provider} {request.url.path}")
        return await send(request)
