"""OpenAIProvider: chat completions over HTTP (``POST {base_url}/chat/completions``).

Works with the OpenAI API and any server that speaks its chat-completions format.
Wire <-> domain translation lives in :mod:`ecs_agent.providers._openai_wire`; this
module only does I/O. HTTP failures are logged and re-raised as
``httpx.HTTPStatusError`` (message holds the vendor's error text) or
``httpx.RequestError``; the API key never appears in a log line or an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Literal, overload

import httpx

from ecs_agent._http import raise_request_error, scrub, scrub_exception
from ecs_agent.errors import ProviderResponseError, StreamError
from ecs_agent.intercept import ChatCall, dispatch_chat
from ecs_agent.providers._http_provider import (
    AsyncCloseable,
    HTTPProvider,
    check_api_key,
    read_json,
    reported,
)
from ecs_agent.providers._openai_stream import OpenAIStreamParser
from ecs_agent.providers._openai_wire import chat_request_body, parse_chat_completion
from ecs_agent.providers._schema import pydantic_to_response_format
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["OpenAIProvider", "OpenAIStream", "pydantic_to_response_format"]

logger = logging.getLogger("ecs_agent.openai")

PROVIDER = "openai"
DRAIN_SECONDS = 1.0


class OpenAIStream(AsyncCloseable):
    """The async iterator of deltas that ``complete(..., stream=True)`` returns.

    Reads the HTTP response as it arrives (nothing is buffered: each text delta reaches
    the caller as soon as its frame does). ``aclose()`` (or ``async with``) closes the
    HTTP response early; the response is also closed when the stream ends or fails.
    """

    def __init__(self, response: httpx.Response, secrets: tuple[str, ...]) -> None:
        self._response = response
        self._secrets = secrets
        self._bytes = response.aiter_bytes()
        self._parser = OpenAIStreamParser()
        self._pending: list[StreamDelta] = []
        self._ended = False
        self._closed = False

    def __aiter__(self) -> OpenAIStream:
        return self

    async def __anext__(self) -> StreamDelta:
        while not self._pending:
            if self._ended:
                await self.aclose()
                raise StopAsyncIteration
            await self._pull()
        return self._pending.pop(0)

    async def _pull(self) -> None:
        try:
            try:
                chunk = await self._bytes.__anext__()
            except StopAsyncIteration:
                self._ended = True
                self._pending.extend(self._parser.close())
                return
            self._pending.extend(self._parser.feed(chunk))
            if self._parser.done:
                self._ended = True
        except httpx.RequestError as exc:
            await self.aclose()
            raise_request_error(PROVIDER, exc, self._secrets)
        except ProviderResponseError as exc:  # StreamError, or unreadable tool arguments
            await self.aclose()
            logger.error("%s", scrub_exception(exc, self._secrets))
            raise
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Close the HTTP response (idempotent).

        After ``data: [DONE]`` the rest of the body (the end of the chunked encoding) is
        read first, for at most :data:`DRAIN_SECONDS`, so the connection goes back to the
        pool instead of being torn down; before it, the connection is simply closed.
        """
        if self._closed:
            return
        self._closed = True
        self._ended = True
        try:
            if self._parser.done:
                with contextlib.suppress(TimeoutError, httpx.HTTPError, StopAsyncIteration):
                    async with asyncio.timeout(DRAIN_SECONDS):
                        async for _ in self._bytes:
                            pass
            await self._bytes.aclose()  # type: ignore[attr-defined]
        finally:
            await self._response.aclose()


class OpenAIProvider(HTTPProvider):
    """A chat model behind the OpenAI chat-completions API.

    ``client`` (an ``httpx.AsyncClient`` you own) or ``transport`` may be injected;
    requests carry absolute URLs and their own ``Authorization`` header, so an
    injected client needs no configuration. Use ``async with`` or :meth:`aclose` to
    close the client this provider built.
    """

    provider_name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.openai.com/v1",
        model: str = "gpt-4o-mini",
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        write_timeout: float = 10.0,
        pool_timeout: float = 10.0,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = check_api_key(api_key)
        if not model:
            raise ValueError("model must be a non-empty string such as 'gpt-4o-mini'")
        self.model = model
        self._init_http(base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
                        write_timeout=write_timeout, pool_timeout=pool_timeout,
                        client=client, transport=transport)

    @overload
    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: Literal[False] = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult: ...

    @overload
    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        *,
        stream: Literal[True],
        response_format: dict[str, Any] | None = None,
    ) -> AsyncIterator[StreamDelta]: ...

    @overload
    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]: ...

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        """Ask the model; with ``stream=True`` await the call, then iterate the deltas."""
        call = ChatCall(provider=PROVIDER, model=self.model, messages=messages, tools=tools,
                        stream=stream, response_format=response_format,
                        secrets=(self._api_key,))
        return await dispatch_chat(
            call, lambda: self._complete_live(messages, tools, stream, response_format)
        )

    async def _complete_live(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None,
        stream: bool,
        response_format: dict[str, Any] | None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        body = chat_request_body(model=self.model, messages=messages, tools=tools,
                                 stream=stream, response_format=response_format)
        response = await self._post_json("/chat/completions", body, {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": "text/event-stream" if stream else "application/json",
        })
        secrets = self._secrets
        if not stream:
            data = await read_json(PROVIDER, response, secrets)
            with reported(secrets):
                return parse_chat_completion(data)
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            # A 200 JSON answer to a stream request: an error object or a server that
            # ignored ``stream``. Report what it said rather than "stream ended early".
            data = await read_json(PROVIDER, response, secrets)
            excerpt = scrub(json.dumps(data)[:300], secrets)
            raise StreamError(
                f"asked for a stream but got a JSON answer: {excerpt}",
                provider=PROVIDER, body=data,
            )
        return OpenAIStream(response, secrets)
