"""RetryProvider: retries transient failures of any chat provider, with backoff.

::

    from ecs_agent import RetryConfig, RetryProvider

    inner = OpenAIProvider(api_key="sk-...", model="gpt-4o-mini")
    provider = RetryProvider(provider=inner, retry_config=RetryConfig(max_attempts=4))
    provider = RetryProvider(provider=inner, config=RetryConfig(max_retries=3))  # the same

What is retried (and nothing else):

* ``httpx.HTTPStatusError`` whose status is in ``RetryConfig.retry_status_codes``
  (429, 500, 502, 503, 504 by default, the seed's list). Anthropic's ``529
  overloaded_error`` is not in it: around a :class:`~ecs_agent.providers.ClaudeProvider`
  pass ``RetryConfig(retry_status_codes=(429, 500, 502, 503, 504, 529))`` to retry it
  as the Anthropic SDK does;
* ``httpx.RequestError`` (connection refused or dropped, timeouts, ...), except
  ``httpx.UnsupportedProtocol``, which is a configuration error no retry can fix.

The wait before retry number ``n + 1`` is ``multiplier * 2**n`` seconds clamped to
``[min_wait, max_wait]``, unless the failed response says how long to wait:
``retry-after-ms`` (milliseconds) or ``retry-after`` (seconds, or an HTTP date) is then
honoured, capped at ``max_wait``. Each retry is logged at WARNING on the
``ecs_agent.retry`` logger with the attempt number, the wait and the reason (a status
code or an exception type; never the exception text, so never a key). When the last
attempt fails, its own exception is raised (not tenacity's ``RetryError``).

Streams are never retried: ``stream=True`` goes straight to the wrapped provider, since
a stream that failed halfway cannot be replayed without duplicating what the caller saw.

``await provider.aclose()`` (or ``async with RetryProvider(...)``) closes the wrapped
provider when it has an ``aclose()``.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC
from typing import Any, Literal, overload

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential

from ecs_agent.providers._http_provider import AsyncCloseable
from ecs_agent.providers.protocol import LLMProvider
from ecs_agent.types import CompletionResult, Message, RetryConfig, StreamDelta, ToolSchema

__all__ = ["RetryProvider", "retry_after_seconds"]

logger = logging.getLogger("ecs_agent.retry")

Sleep = Callable[[float], Awaitable[None]]


class RetryProvider(AsyncCloseable):
    """An :class:`~ecs_agent.providers.protocol.LLMProvider` that retries another one.

    Args:
        provider: the chat provider to wrap (anything with an async ``complete``).
        retry_config: how to retry; ``RetryConfig()`` when omitted. ``config=`` is
            accepted as an alias (the seed documents spell it both ways); passing both
            is a :class:`TypeError`.
        sleep: the coroutine function used to wait, ``asyncio.sleep`` by default (tests
            pass a recorder so nothing really waits).
    """

    def __init__(
        self,
        provider: LLMProvider,
        retry_config: RetryConfig | None = None,
        *,
        config: RetryConfig | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if retry_config is not None and config is not None:
            raise TypeError(
                "RetryProvider got both retry_config= and config=; they are the same "
                "setting, pass one of them"
            )
        chosen = retry_config if retry_config is not None else config
        if chosen is None:
            chosen = RetryConfig()
        if not isinstance(chosen, RetryConfig):
            raise TypeError(
                f"RetryProvider retry_config must be a RetryConfig, got {type(chosen).__name__}"
            )
        if not isinstance(provider, LLMProvider):
            raise TypeError(
                "RetryProvider wraps a chat provider (an object with an async complete() "
                f"method), got {type(provider).__name__}"
            )
        self.provider = provider
        self.retry_config = chosen
        self._sleep = sleep
        self._backoff = wait_exponential(
            multiplier=chosen.multiplier, min=chosen.min_wait, max=chosen.max_wait
        )

    @property
    def config(self) -> RetryConfig:
        """The same object as :attr:`retry_config`."""
        return self.retry_config

    def __repr__(self) -> str:
        return f"RetryProvider(provider={self.provider!r}, retry_config={self.retry_config!r})"

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
        """Call the wrapped provider, retrying transient failures (never a stream)."""
        if stream:
            return await self.provider.complete(
                messages, tools=tools, stream=True, response_format=response_format
            )
        retrying = AsyncRetrying(
            sleep=self._sleep if self._sleep is not None else asyncio.sleep,
            stop=stop_after_attempt(self.retry_config.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(self._is_retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return await retrying(
            self.provider.complete,
            messages,
            tools=tools,
            stream=False,
            response_format=response_format,
        )

    async def aclose(self) -> None:
        """Close the wrapped provider (awaits its ``aclose()`` when it has one)."""
        close = getattr(self.provider, "aclose", None)
        if callable(close):
            outcome = close()
            if inspect.isawaitable(outcome):
                await outcome

    def _is_retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code in self.retry_config.retry_status_codes
        return isinstance(exc, httpx.RequestError) and not isinstance(
            exc, httpx.UnsupportedProtocol
        )

    def _server_wait(self, state: RetryCallState) -> float | None:
        """The wait the failed response asked for (capped at max_wait), if any."""
        exc = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(exc, httpx.HTTPStatusError):
            return None
        asked = retry_after_seconds(exc.response.headers)
        return None if asked is None else min(asked, self.retry_config.max_wait)

    def _wait(self, state: RetryCallState) -> float:
        server_wait = self._server_wait(state)
        return server_wait if server_wait is not None else float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s: attempt %d of %d failed (%s); retrying in %.2f s%s",
            type(self.provider).__name__,
            state.attempt_number,
            self.retry_config.max_attempts,
            _reason(exc),
            wait,
            " (as the retry-after header asked)" if self._server_wait(state) is not None else "",
        )


def _reason(exc: BaseException | None) -> str:
    """What went wrong, without the exception text (which may quote a request)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """How long a response asks the client to wait, in seconds, or ``None``.

    Reads ``retry-after-ms`` (milliseconds) first, then ``retry-after`` as a number of
    seconds or an HTTP date (RFC 9110; a date in the past means 0). Missing, negative or
    unreadable values give ``None``. ``now`` (a Unix time) defaults to the current time.
    ``headers`` should be case-insensitive (``httpx.Headers``) or have lower-case keys.
    """
    millis = _non_negative_number(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative_number(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def _non_negative_number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
