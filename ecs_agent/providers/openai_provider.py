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
from types import TracebackType
from typing import Any, Literal, overload

import httpx

from ecs_agent._http import (
    Timeouts,
    build_client,
    raise_for_status,
    raise_request_error,
    scrub,
    send,
)
from ecs_agent.errors import ProviderResponseError, StreamError
from ecs_agent.intercept import ChatCall, dispatch_chat
from ecs_agent.providers._openai_wire import (
    OpenAIStreamParser,
    chat_request_body,
    parse_chat_completion,
)
from ecs_agent.providers._schema import pydantic_to_response_format
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["OpenAIProvider", "OpenAIStream", "pydantic_to_response_format"]

logger = logging.getLogger("ecs_agent.openai")

PROVIDER = "openai"
DRAIN_SECONDS = 1.0


def _check_key(api_key: object) -> str:
    if not isinstance(api_key, str) or not api_key:
        raise ValueError(
            "api_key must be a non-empty string (for a server that checks no key, pass any "
            "placeholder such as 'sk-local')"
        )
    return api_key


async def read_json(provider: str, response: httpx.Response, secrets: tuple[str, ...]) -> Any:
    """Read a whole JSON response body (closing the response); errors are typed."""
    try:
        body = await response.aread()
    except httpx.RequestError as exc:
        raise_request_error(provider, exc, secrets)
    finally:
        await response.aclose()
    try:
        return json.loads(body)
    except ValueError as exc:
        excerpt = scrub(body[:300].decode("utf-8", errors="replace"), secrets)
        raise ProviderResponseError(
            f"HTTP {response.status_code} from {response.request.url} is not JSON: {excerpt!r}",
            provider=provider,
        ) from exc


class OpenAIStream:
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
        except StreamError as exc:
            await self.aclose()
            logger.error("%s", scrub(str(exc), self._secrets))
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

    async def __aenter__(self) -> OpenAIStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class OpenAIProvider:
    """A chat model behind the OpenAI chat-completions API.

    ``client`` (an ``httpx.AsyncClient`` you own) or ``transport`` may be injected;
    requests carry absolute URLs and their own ``Authorization`` header, so an
    injected client needs no configuration. Use ``async with`` or :meth:`aclose` to
    close the client this provider built.
    """

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
        self._api_key = _check_key(api_key)
        if not model:
            raise ValueError("model must be a non-empty string such as 'gpt-4o-mini'")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout,
                                 write=write_timeout, pool=pool_timeout)
        self._owns_client = client is None
        self._client = build_client(base_url=self.base_url, headers={}, timeouts=self.timeouts,
                                    client=client, transport=transport)

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.model!r}, base_url={self.base_url!r})"

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
        request = self._client.build_request(
            "POST",
            f"{self.base_url}/chat/completions",
            json=body,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Accept": "text/event-stream" if stream else "application/json",
            },
        )
        secrets = (self._api_key,)
        try:
            response = await send(PROVIDER, self._client, request)
        except httpx.RequestError as exc:
            raise_request_error(PROVIDER, exc, secrets)
        await raise_for_status(PROVIDER, response, secrets)
        if not stream:
            return parse_chat_completion(await read_json(PROVIDER, response, secrets))
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

    async def aclose(self) -> None:
        """Close the HTTP client if this provider built it (an injected one is yours)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> OpenAIProvider:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
