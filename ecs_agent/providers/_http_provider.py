"""What every built-in HTTP provider does the same way, in one place.

* :class:`AsyncCloseable`: ``async with provider:`` closes it with :meth:`aclose` (also
  used by LiteLLM's provider, whose ``aclose`` has nothing to close, and by the streams);
* :class:`HTTPProvider`: the client (built through :func:`ecs_agent._http.build_client`,
  or injected and then left to its owner), :meth:`HTTPProvider._post_json` (build the
  request with the key in its headers, send it through :func:`ecs_agent._http.send`,
  log and re-raise ``httpx.RequestError``, turn a non-2xx answer into
  ``httpx.HTTPStatusError``) and :meth:`HTTPProvider.aclose`;
* :func:`read_body` / :func:`read_json`: read a whole (non-streamed) answer, closing it,
  with transport failures and non-JSON bodies reported as typed errors, key scrubbed;
* :func:`reported`: a block whose :class:`~ecs_agent.errors.ProviderResponseError` is
  logged and re-raised with the key scrubbed from its message and body;
* :func:`check_api_key`: the constructor check every keyed provider makes.

Wire formats stay in the ``_*_wire`` modules; vendor-specific I/O stays in each
provider's module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import httpx

from ecs_agent._http import (
    Timeouts,
    build_client,
    raise_for_status,
    raise_request_error,
    scrub,
    scrub_exception,
    send,
)
from ecs_agent.errors import ProviderResponseError

__all__ = [
    "AsyncCloseable",
    "HTTPProvider",
    "check_api_key",
    "read_body",
    "read_json",
    "reported",
]

logger = logging.getLogger("ecs_agent.http")


def check_api_key(api_key: object) -> str:
    """``api_key`` if it is a non-empty string; otherwise a ValueError saying what to pass."""
    if not isinstance(api_key, str) or not api_key:
        raise ValueError(
            "api_key must be a non-empty string (for a server that checks no key, pass any "
            "placeholder such as 'sk-local')"
        )
    return api_key


async def read_body(provider: str, response: httpx.Response, secrets: tuple[str, ...]) -> bytes:
    """Read a whole response body and close the response.

    A connection that fails while the body is read raises its ``httpx.RequestError``
    (logged, key scrubbed), as a failure before the answer would.
    """
    try:
        return await response.aread()
    except httpx.RequestError as exc:
        raise_request_error(provider, exc, secrets)
    finally:
        await response.aclose()


async def read_json(provider: str, response: httpx.Response, secrets: tuple[str, ...]) -> Any:
    """Read a whole JSON response body (closing the response); errors are typed."""
    body = await read_body(provider, response, secrets)
    try:
        return json.loads(body)
    except ValueError as exc:
        excerpt = scrub(body[:300].decode("utf-8", errors="replace"), secrets)
        raise ProviderResponseError(
            f"HTTP {response.status_code} from {response.request.url} is not JSON: {excerpt!r}",
            provider=provider,
        ) from exc


@contextmanager
def reported(secrets: tuple[str, ...]) -> Iterator[None]:
    """Log a :class:`ProviderResponseError` raised in the block and re-raise it, scrubbed.

    Such errors quote what the server sent (which may echo the key): the key is removed
    from the message and ``body`` before anything is logged or reaches the caller.
    """
    try:
        yield
    except ProviderResponseError as exc:
        scrub_exception(exc, secrets)
        logger.error("%s", exc)
        raise


class AsyncCloseable:
    """``async with x:`` returns ``x`` and awaits ``x.aclose()`` on the way out."""

    async def aclose(self) -> None:
        """Release what this object holds (nothing, here)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class HTTPProvider(AsyncCloseable):
    """The HTTP plumbing of a provider named :attr:`provider_name` (``openai``, ...).

    Subclasses set ``_api_key`` and ``model`` and call :meth:`_init_http` from their
    constructor; every request goes through :meth:`_post_json`. The key is scrubbed
    from every log line and exception (:attr:`_secrets`) and never shown by ``repr``.
    """

    provider_name: str = ""
    model: str
    base_url: str
    timeouts: Timeouts
    _api_key: str
    _client: httpx.AsyncClient
    _owns_client: bool

    def _init_http(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        write_timeout: float,
        pool_timeout: float,
        client: httpx.AsyncClient | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        """Set ``base_url`` (no trailing slash), ``timeouts`` and the client: injected, or
        built here (then closed by :meth:`aclose`)."""
        self.base_url = base_url.rstrip("/")
        self.timeouts = Timeouts(connect=connect_timeout, read=read_timeout,
                                 write=write_timeout, pool=pool_timeout)
        self._owns_client = client is None
        self._client = build_client(base_url=self.base_url, headers={}, timeouts=self.timeouts,
                                    client=client, transport=transport)

    @property
    def _secrets(self) -> tuple[str, ...]:
        """Values scrubbed from every log line and exception message (the API key)."""
        return (self._api_key,)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    async def _post_json(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        """POST ``body`` to ``base_url + path``; a 2xx response, still to be read.

        The response is streamed: the caller reads it (:func:`read_json`) or iterates it
        and closes it. Failures are logged and raised as ``httpx.RequestError`` /
        ``httpx.HTTPStatusError`` (the vendor's message included, the key scrubbed).
        """
        request = self._client.build_request(
            "POST", f"{self.base_url}{path}", json=body, headers=headers
        )
        secrets = self._secrets
        try:
            response = await send(self.provider_name, self._client, request)
        except httpx.RequestError as exc:
            raise_request_error(self.provider_name, exc, secrets)
        await raise_for_status(self.provider_name, response, secrets)
        return response

    async def aclose(self) -> None:
        """Close the HTTP client if this provider built it (an injected one is yours)."""
        if self._owns_client:
            await self._client.aclose()
