"""LiteLLM <-> domain types: pure functions, no I/O.

LiteLLM speaks the OpenAI chat format in both directions, so the request is built with
the OpenAI provider's own functions (:mod:`ecs_agent.providers._openai_wire`) and the
answers (``ModelResponse`` / ``ModelResponseStream`` objects, as dicts) are read by the
same parser as OpenAI's: streamed chunks are re-framed as ``data: {json}`` events and fed
to :class:`~ecs_agent.providers._openai_stream.OpenAIStreamParser`, which accumulates
tool-call fragments, handles the usage chunk and emits the one final delta.

Errors: LiteLLM raises its own exception types (``litellm.RateLimitError`` and friends,
subclasses of ``openai``'s). :func:`http_error_from_litellm` maps them onto the httpx
exceptions every other provider raises, so :class:`ecs_agent.RetryProvider` treats all
providers alike:

* ``litellm.Timeout`` -> ``httpx.ReadTimeout``; ``litellm.APIConnectionError`` ->
  ``httpx.ConnectError`` (both ``httpx.RequestError``: no answer was received);
* anything carrying an HTTP ``status_code`` (``RateLimitError`` 429,
  ``AuthenticationError`` 401, ``ServiceUnavailableError`` 503, ...) ->
  ``httpx.HTTPStatusError`` with a synthetic request/response carrying that status, the
  vendor's error message (``{"error": {"message", "type"}}`` JSON body) and the
  ``retry-after`` / ``retry-after-ms`` headers of the original answer when known;
* anything else is left alone (returns ``None``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ecs_agent._http import scrub
from ecs_agent.providers._openai_wire import message_to_wire, tool_to_wire
from ecs_agent.types import Message, ToolSchema

__all__ = [
    "PROVIDER",
    "RESERVED_KWARGS",
    "acompletion_kwargs",
    "chunk_to_sse",
    "http_error_from_litellm",
]

PROVIDER = "litellm"
RESERVED_KWARGS = frozenset({
    "model", "messages", "tools", "stream", "stream_options", "response_format",
    "api_key", "api_base", "base_url",
})
_RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-ratelimit-reset-requests")


def acompletion_kwargs(
    *,
    model: str,
    messages: list[Message],
    tools: list[ToolSchema] | None,
    stream: bool,
    response_format: dict[str, Any] | None,
    api_key: str | None,
    base_url: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The keyword arguments of ``litellm.acompletion`` for one call.

    Messages and tools are in the OpenAI format (past tool-call arguments as JSON
    strings); ``extra`` (the provider's ``**kwargs``) is passed through.
    """
    kwargs: dict[str, Any] = dict(extra)
    kwargs["model"] = model
    kwargs["messages"] = [message_to_wire(m) for m in messages]
    if tools:
        kwargs["tools"] = [tool_to_wire(t) for t in tools]
    if response_format is not None:
        kwargs["response_format"] = response_format
    if api_key is not None:
        kwargs["api_key"] = api_key
    if base_url is not None:
        kwargs["api_base"] = base_url
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


def chunk_to_sse(chunk: dict[str, Any]) -> bytes:
    """One streamed chunk (as a dict) framed as the SSE event OpenAI would have sent."""
    return b"data: " + json.dumps(chunk, default=str).encode() + b"\n\n"


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    return None


def _url_of(exc: BaseException, base_url: str | None, model: str) -> str:
    # An answer's URL is the real one; LiteLLM fills a request it never sent with a
    # placeholder URL, so the configured base URL comes before it.
    url = getattr(getattr(exc, "response", None), "url", None)
    if url is not None and str(url).startswith(base_url or ("http://", "https://")):
        return str(url)
    if base_url:
        return base_url
    url = getattr(getattr(exc, "request", None), "url", None)
    if url is not None and str(url).startswith(("http://", "https://")):
        return str(url)
    return f"https://litellm.invalid/{model}"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (``__cause__`` / ``__context__``)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 16 and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _retry_headers(exc: BaseException) -> dict[str, str]:
    headers: dict[str, str] = {}
    for source in (getattr(exc, "litellm_response_headers", None),
                   getattr(getattr(exc, "response", None), "headers", None)):
        if source is None:
            continue
        for name in _RETRY_HEADERS:
            try:
                value = source.get(name)
            except (AttributeError, TypeError):
                value = None
            if isinstance(value, str) and name not in headers:
                headers[name] = value
    return headers


def http_error_from_litellm(
    exc: BaseException,
    *,
    model: str,
    base_url: str | None,
    secrets: tuple[str, ...],
    timeout_types: tuple[type[BaseException], ...] = (),
    connection_types: tuple[type[BaseException], ...] = (),
) -> httpx.HTTPError | None:
    """The httpx exception standing for LiteLLM's ``exc``, or ``None`` to leave it alone.

    The causes of ``exc`` are searched first: LiteLLM reports a dropped connection as
    ``InternalServerError`` raised from the transport's error. An ``httpx.RequestError``
    found there keeps its class; ``timeout_types`` (``litellm.Timeout``, ...) become
    ``httpx.ReadTimeout`` and ``connection_types`` (``openai.APIConnectionError``, ...)
    ``httpx.ConnectError``. Passing the types in keeps litellm out of this module's
    imports. Every message is scrubbed of ``secrets``.
    """
    text = scrub(str(getattr(exc, "message", None) or exc), secrets)
    url = _url_of(exc, base_url, model)
    request = httpx.Request("POST", url)
    causes = _chain(exc)
    for cause in causes:
        if isinstance(cause, httpx.RequestError):
            return type(cause)(scrub(f"{PROVIDER}: {model}: request to {url} failed: {text}",
                                     secrets), request=request)
    for cause in causes:
        if isinstance(cause, timeout_types):
            return httpx.ReadTimeout(scrub(f"{PROVIDER}: {model}: timed out: {text}", secrets),
                                     request=request)
        if isinstance(cause, connection_types):
            return httpx.ConnectError(
                scrub(f"{PROVIDER}: {model}: connection to {url} failed: {text}", secrets),
                request=request,
            )
    status = _status_of(exc)
    if status is None:
        return None
    kind = type(exc).__name__
    response = httpx.Response(
        status,
        headers=_retry_headers(exc),
        json={"error": {"message": text, "type": kind}},
        request=request,
    )
    message = scrub(f"{PROVIDER}: HTTP {status} from {model} ({url}): {text}", secrets)
    return httpx.HTTPStatusError(message, request=request, response=response)
