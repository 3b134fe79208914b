"""The one place HTTP providers build clients and send requests.

Every built-in HTTP provider:

* builds its ``httpx.AsyncClient`` with :func:`build_client`, which accepts an injected
  client or transport (tests, fault injection and wire replay plug in there);
* sends every request with :func:`send`, which consults the context-local interceptor
  (:mod:`ecs_agent.intercept`) so a toolkit can record or serve the exchange;
* turns a non-2xx answer into ``httpx.HTTPStatusError`` with :func:`raise_for_status`,
  which logs it, puts the vendor's own error message in the exception text and scrubs
  the API key from everything it logs or raises.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import httpx

from ecs_agent.intercept import current_interceptor

__all__ = [
    "Timeouts",
    "build_client",
    "raise_for_status",
    "raise_request_error",
    "scrub",
    "scrub_exception",
    "send",
    "vendor_error_message",
]

logger = logging.getLogger("ecs_agent.http")

REDACTED = "<redacted>"

E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-phase timeouts in seconds, as the seed's constructors take them."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 10.0
    pool: float = 10.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write,
                             pool=self.pool)


def build_client(
    *,
    base_url: str,
    headers: dict[str, str],
    timeouts: Timeouts,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """Return the client a provider uses.

    An injected ``client`` is used as it is (its own base URL and headers are left
    alone; the provider sends absolute URLs and its own headers on each request).
    Otherwise a new client is built, on ``transport`` when one is given.
    """
    if client is not None and transport is not None:
        raise ValueError("pass either client= or transport=, not both")
    if client is not None:
        return client
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=timeouts.to_httpx(),
        transport=transport,
        follow_redirects=False,
    )


async def send(provider: str, client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request`` with a streamed response, through the interceptor if one is set.

    The caller owns the response and must read or close it (``aread``/``aclose``).
    """

    async def _network(req: httpx.Request) -> httpx.Response:
        return await client.send(req, stream=True)

    interceptor = current_interceptor()
    if interceptor is None:
        return await _network(request)
    return await interceptor.http(provider, request, _network)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each non-empty secret in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def _scrub_data(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {key: _scrub_data(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_data(item, secrets) for item in value]
    return value


def scrub_exception(exc: E, secrets: Iterable[str]) -> E:
    """Scrub ``secrets`` from ``exc`` and the exceptions it was raised from, in place.

    Rewrites the string arguments (what ``str(exc)`` and tracebacks show) and the
    ``message`` / ``body`` attributes that ecs_agent's, openai's and litellm's exceptions
    carry, following ``__cause__``, ``__context__`` and litellm's ``original_exception``.
    Used where a third party's exception text, or a vendor's answer quoted in ours,
    may echo the API key. Returns ``exc``.
    """
    keys = tuple(secret for secret in secrets if secret and len(secret) >= 4)
    seen: set[int] = set()
    todo: list[BaseException] = [exc] if keys else []
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(_scrub_data(arg, keys) for arg in current.args)
        for name in ("message", "body"):
            value = getattr(current, name, None)
            if isinstance(value, (str, dict, list)):
                with contextlib.suppress(AttributeError, TypeError):  # a read-only property
                    setattr(current, name, _scrub_data(value, keys))
        # litellm keeps the exception it wrapped in ``original_exception``
        for linked in (current.__cause__, current.__context__,
                       getattr(current, "original_exception", None)):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return exc


def vendor_error_message(body: bytes) -> str:
    """The human message inside an OpenAI / Anthropic error body, or the body text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            kind = error.get("type") or error.get("code")
            return f"{kind}: {error['message']}" if isinstance(kind, str) else error["message"]
        if isinstance(error, str):
            return error
        if isinstance(data.get("message"), str):
            return str(data["message"])
    return text[:500]


async def raise_for_status(
    provider: str, response: httpx.Response, secrets: Iterable[str] = ()
) -> None:
    """Raise ``httpx.HTTPStatusError`` (logged, vendor message included) for non-2xx.

    The body is read first, so ``exc.response.text`` holds the vendor's error JSON.
    """
    if response.is_success:
        return
    body = await response.aread()
    await response.aclose()
    request = response.request
    message = scrub(
        f"{provider}: HTTP {response.status_code} from {request.method} {request.url}: "
        f"{vendor_error_message(body)}",
        secrets,
    )
    logger.error("%s", message)
    raise httpx.HTTPStatusError(message, request=request, response=response)


def raise_request_error(
    provider: str, exc: httpx.RequestError, secrets: Iterable[str] = ()
) -> NoReturn:
    """Log a transport failure (with the key scrubbed) and re-raise it as is."""
    logger.error("%s", scrub(f"{provider}: request failed: {type(exc).__name__}: {exc}", secrets))
    raise exc
