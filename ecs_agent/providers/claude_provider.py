"""ClaudeProvider: Anthropic's Messages API (``POST {base_url}/v1/messages``) over httpx.

Wire <-> domain translation lives in :mod:`ecs_agent.providers._anthropic_wire` (request,
response, finish reasons, usage) and :mod:`ecs_agent.providers._anthropic_stream`
(streamed events); this class only does I/O.

Finish reasons (streams; see ``_anthropic_wire`` for the table): ``end_turn`` and
``stop_sequence`` -> ``stop``, ``tool_use`` -> ``tool_calls``, ``max_tokens`` ->
``length``, ``refusal`` -> ``content_filter``, anything else passed through.

Structured output: ``response_format`` is never sent as a key (the API rejects unknown
keys). ``json_schema`` and ``json_object`` formats become a forced tool whose input is
the answer; the content returned is that input as compact JSON (``separators=(",", ":")``,
keys in the model's order, non-ASCII kept), it is not reported as a tool call, and the
finish reason is ``stop``. Streamed, that JSON is yielded as one content delta when the
tool block completes, so a stream reassembles into exactly the non-streamed content.

Errors:

* a non-2xx answer: ``httpx.HTTPStatusError`` (logged; the message holds Anthropic's own
  error type and message, never the key), as :class:`ecs_agent.RetryProvider` expects;
* no answer at all: the ``httpx.RequestError`` (logged, key scrubbed);
* an ``event: error`` before ``message_start`` (Anthropic answered 200, then failed before
  any output, typically ``overloaded_error``): ``httpx.HTTPStatusError`` with the status
  that error type has as an HTTP answer (``overloaded_error`` 529, ``api_error`` 500,
  ``rate_limit_error`` 429, ...), so a retry policy treats it like the same failure
  answered as a status code. Nothing has reached the caller yet, so retrying is safe.
  (:class:`ecs_agent.RetryProvider` never retries streams, and its default
  ``retry_status_codes`` leave out 529: add 529 to retry an overloaded API);
* a connection broken before ``message_start``: the ``httpx.RequestError``;
* once output has started, an ``event: error``, a dropped connection or a stream ending
  without ``message_stop``: :class:`ecs_agent.errors.StreamError` (``body`` holds the
  error event). Not retried: the caller has already consumed part of the answer.
"""

from __future__ import annotations

import collections
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ecs_agent._http import raise_request_error, scrub, scrub_exception
from ecs_agent._sse import ServerSentEvent, SSEDecoder
from ecs_agent.errors import ProviderResponseError, StreamError
from ecs_agent.intercept import ChatCall, ChatOutcome, dispatch_chat
from ecs_agent.providers._anthropic_stream import ClaudeStreamState, stream_error_from_event
from ecs_agent.providers._anthropic_wire import (
    ANTHROPIC_VERSION,
    build_request_body,
    result_from_wire,
    structured_output_tool,
)
from ecs_agent.providers._http_provider import (
    AsyncCloseable,
    HTTPProvider,
    check_api_key,
    read_body,
)
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["ClaudeProvider"]

PROVIDER = "claude"
DEFAULT_MAX_TOKENS = 4096
logger = logging.getLogger("ecs_agent.providers.claude")

# The HTTP status each Anthropic error type is answered with (their errors page).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class ClaudeProvider(HTTPProvider):
    """Chat with Claude models through Anthropic's Messages API.

    ``client`` / ``transport`` inject an ``httpx.AsyncClient`` or transport (tests,
    proxies); an injected client is not closed by :meth:`aclose`, its owner closes it.
    """

    provider_name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.anthropic.com",
        model: str = "claude-3-5-haiku-latest",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        write_timeout: float = 10.0,
        pool_timeout: float = 10.0,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not isinstance(api_key, str):
            raise TypeError(f"ClaudeProvider api_key must be a str, got {type(api_key).__name__}")
        check_api_key(api_key)  # an empty key: a ValueError now, not a 401 later
        if max_tokens < 1:
            raise ValueError(f"ClaudeProvider max_tokens must be >= 1, got {max_tokens}")
        self._api_key = api_key
        self.model = model
        self.max_tokens = max_tokens
        self._init_http(base_url, connect_timeout=connect_timeout, read_timeout=read_timeout,
                        write_timeout=write_timeout, pool_timeout=pool_timeout,
                        client=client, transport=transport)

    @property
    def api_key(self) -> str:
        """The Anthropic API key sent as ``x-api-key`` (may be replaced)."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str) -> None:
        self._api_key = check_api_key(value)

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        """Send one Messages request; a result, or an async iterator of deltas when streaming.

        Raises :class:`ValueError` at once for input Claude cannot take (an unknown role,
        an unsupported ``response_format``), before anything is sent.
        """
        structured = structured_output_tool(response_format)
        body = build_request_body(
            model=self.model, messages=messages, tools=tools, max_tokens=self.max_tokens,
            stream=stream, structured=structured,
        )
        name = structured.name if structured is not None else None

        async def live() -> ChatOutcome:
            if stream:
                return await self._stream_live(body, name)
            return await self._complete_live(body, name)

        options = {} if self.max_tokens == DEFAULT_MAX_TOKENS else {"max_tokens": self.max_tokens}
        call = ChatCall(provider=PROVIDER, model=self.model, messages=messages, tools=tools,
                        stream=stream, response_format=response_format,
                        secrets=self._secrets, options=options)
        return await dispatch_chat(call, live)

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        return await self._post_json("/v1/messages", body, {
            "x-api-key": self.api_key,
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "text/event-stream" if body.get("stream") else "application/json",
        })

    async def _complete_live(self, body: dict[str, Any], name: str | None) -> CompletionResult:
        raw = await read_body(PROVIDER, await self._post(body), self._secrets)
        try:
            result, _ = result_from_wire(json.loads(raw), name)
        except ValueError as exc:
            scrub_exception(exc, self._secrets)  # it may quote the answer, which may echo the key
            message = f"unreadable /v1/messages answer: {exc}"
            logger.error("%s: %s", PROVIDER, message)
            raise ProviderResponseError(
                message, provider=PROVIDER,
                body=scrub(raw[:2000].decode("utf-8", "replace"), self._secrets),
            ) from exc
        return result

    async def _stream_live(self, body: dict[str, Any], name: str | None) -> _ClaudeDeltaStream:
        response = await self._post(body)
        stream = _ClaudeDeltaStream(response, ClaudeStreamState(name), self._secrets)
        await stream.open()
        return stream


class _ClaudeDeltaStream(AsyncCloseable):
    """The iterator ``complete(stream=True)`` returns; ``aclose()`` closes the response."""

    def __init__(
        self, response: httpx.Response, state: ClaudeStreamState, secrets: tuple[str, ...]
    ) -> None:
        self._response = response
        self._state = state
        self._secrets = secrets
        # The byte iterator is held (not wrapped in another async generator) so that
        # aclose() closes it directly and no half-run generator is left to the GC.
        self._bytes: AsyncIterator[bytes] = response.aiter_bytes()
        self._decoder = SSEDecoder()
        self._events: collections.deque[ServerSentEvent] = collections.deque()
        self._eof = False
        self._pending: collections.deque[StreamDelta] = collections.deque()
        self._closed = False

    def __aiter__(self) -> _ClaudeDeltaStream:
        return self

    async def open(self) -> None:
        """Read up to ``message_start``, so failures before any output surface here.

        An error event raises ``httpx.HTTPStatusError``, a broken connection its
        ``httpx.RequestError`` (both retryable: the caller has seen nothing yet).
        """
        try:
            while not self._state.started and not self._pending:
                event = await self._next_event()
                if event is None:
                    content_type = self._response.headers.get("content-type", "none")
                    raise StreamError(
                        "the stream ended before message_start: the answer was not an "
                        f"Anthropic event stream (content-type {content_type})",
                        provider=PROVIDER,
                    )
                payload = _error_payload(event)
                if payload is not None:
                    raise self._status_error(payload)
                self._pending.extend(self._state.feed(event.event, event.data))
        except StreamError as exc:
            await self.aclose()
            if isinstance(exc.__cause__, httpx.RequestError):
                raise_request_error(PROVIDER, exc.__cause__, self._secrets)
            logger.error("%s", scrub_exception(exc, self._secrets))
            raise
        except BaseException:
            await self.aclose()
            raise

    async def __anext__(self) -> StreamDelta:
        try:
            while not self._pending:
                if self._state.stopped or self._closed:
                    await self.aclose()
                    raise StopAsyncIteration
                event = await self._next_event()
                if event is None:
                    self._state.finish()
                    continue
                self._pending.extend(self._state.feed(event.event, event.data))
        except ProviderResponseError as exc:  # StreamError, or unreadable tool input
            logger.error("%s", scrub_exception(exc, self._secrets))
            await self.aclose()
            raise
        except BaseException:  # cancelled, or the caller's own error thrown in
            await self.aclose()
            raise
        return self._pending.popleft()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            aclose = getattr(self._bytes, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            await self._response.aclose()

    async def _next_event(self) -> ServerSentEvent | None:
        try:
            while not self._events:
                if self._eof:
                    return None
                try:
                    chunk = await self._bytes.__anext__()
                except StopAsyncIteration:
                    self._eof = True
                    self._events.extend(self._decoder.flush())
                else:
                    self._events.extend(self._decoder.feed(chunk))
            return self._events.popleft()
        except httpx.HTTPError as exc:
            raise StreamError(
                scrub(f"connection failed mid-stream ({type(exc).__name__}: {exc}); "
                      "the answer is incomplete", self._secrets),
                provider=PROVIDER,
            ) from exc

    def _status_error(self, payload: dict[str, Any]) -> httpx.HTTPStatusError:
        detail = stream_error_from_event(payload)
        error = payload.get("error")
        kind = error.get("type") if isinstance(error, dict) else None
        status = ERROR_STATUS.get(kind, 500) if isinstance(kind, str) else 500
        request = self._response.request
        synthetic = httpx.Response(status, request=request, json=payload)
        message = scrub(
            f"{PROVIDER}: HTTP {status} (error event before any output, as {kind}) from "
            f"{request.method} {request.url}: {str(detail).removeprefix(PROVIDER + ': ')}",
            self._secrets,
        )
        logger.error("%s", message)
        return httpx.HTTPStatusError(message, request=request, response=synthetic)


def _error_payload(event: ServerSentEvent) -> dict[str, Any] | None:
    """The payload of an ``error`` event, or ``None`` for any other event."""
    try:
        payload: Any = json.loads(event.data)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("type") == "error":
        return payload
    if event.event == "error":
        if isinstance(payload, dict):
            return payload
        return {"type": "error", "error": {"type": "api_error", "message": event.data[:500]}}
    return None
