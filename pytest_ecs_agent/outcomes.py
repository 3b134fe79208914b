"""Domain outcomes <-> cassette dicts: results, deltas, vectors and raised errors.

Pure functions shared by recording (``*_to_dict``) and replay (``*_from_dict``). Every
object built for replay is new, down to nested tool-call arguments, so a test that
mutates what it got cannot change what the next replay serves.

An error is stored as::

    {"type": "http_status" | "request_error" | "stream_error" | "exception",
     "exception": "httpx.HTTPStatusError",           # importable qualified name
     "message": "...",                               # str(exc), secrets scrubbed
     "status": 429, "headers": {...}, "body": "...",  # http_status only
     "url": "...", "method": "POST"}                  # when the request is known

and rebuilt as the same exception type: ``httpx.HTTPStatusError`` carrying an
``httpx.Response`` with the recorded status, headers and body (so
``RetryProvider`` reads ``retry-after`` and the status exactly as it did live),
``httpx.RequestError`` subclasses with their request, ``ProviderResponseError`` /
``StreamError`` with their provider and body. A type that cannot be imported any more
becomes :class:`ReplayedError`, which names it.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Any

import httpx

from ecs_agent._http import scrub
from ecs_agent.errors import ProviderResponseError, StreamError
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage

__all__ = [
    "DeltaStream",
    "ReplayedError",
    "copy_json",
    "delta_from_dict",
    "error_from_dict",
    "error_to_dict",
    "qualified_name",
    "result_from_dict",
]


class ReplayedError(Exception):
    """A recorded exception whose type cannot be rebuilt here (``exception_type`` names it)."""

    def __init__(self, message: str, *, exception_type: str) -> None:
        super().__init__(f"{exception_type}: {message}")
        self.exception_type = exception_type


class DeltaStream:
    """The stream a recorded or replayed ``complete(stream=True)`` returns.

    An async iterator of :class:`StreamDelta` that, like the built-in providers'
    streams, can be closed early with :meth:`aclose` or used as ``async with``.
    """

    __slots__ = ("_gen",)

    def __init__(self, gen: AsyncGenerator[StreamDelta, None]) -> None:
        self._gen = gen

    def __aiter__(self) -> DeltaStream:
        return self

    async def __anext__(self) -> StreamDelta:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop the stream (closing what it reads from); idempotent."""
        await self._gen.aclose()

    async def __aenter__(self) -> DeltaStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def copy_json(value: Any) -> Any:
    """Deep copy of plain JSON data."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _usage(data: Any) -> Usage | None:
    if data is None:
        return None
    return Usage(int(data["prompt_tokens"]), int(data["completion_tokens"]),
                 int(data["total_tokens"]))


def _tool_calls(data: Any) -> list[ToolCall] | None:
    if data is None:
        return None
    return [ToolCall(str(tc["id"]), str(tc["name"]), copy_json(tc["arguments"])) for tc in data]


def result_from_dict(data: dict[str, Any]) -> CompletionResult:
    """A new :class:`CompletionResult` from its ``to_dict()`` form (fast path, validated)."""
    try:
        message = data["message"]
        if set(message) - {"role", "content", "tool_calls", "tool_call_id"} or (
                set(data) - {"message", "usage"}):
            raise KeyError("unknown key")
        return CompletionResult(
            Message(str(message["role"]), str(message["content"]),
                    _tool_calls(message.get("tool_calls")), message.get("tool_call_id")),
            _usage(data.get("usage")),
        )
    except (KeyError, TypeError, AttributeError):
        return CompletionResult.from_dict(copy_json(data))  # raises a ValueError naming the field


def delta_from_dict(data: dict[str, Any]) -> StreamDelta:
    """A new :class:`StreamDelta` from its ``to_dict()`` form."""
    try:
        if set(data) - {"content", "tool_calls", "finish_reason", "usage"}:
            raise KeyError("unknown key")
        return StreamDelta(data.get("content"), _tool_calls(data.get("tool_calls")),
                           data.get("finish_reason"), _usage(data.get("usage")))
    except (KeyError, TypeError, AttributeError):
        return StreamDelta.from_dict(copy_json(data))


def qualified_name(cls: type[BaseException]) -> str:
    """``httpx.ConnectError`` rather than ``httpx._exceptions.ConnectError`` when exported."""
    module = cls.__module__
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        candidate = ".".join(parts[:end])
        try:
            mod = importlib.import_module(candidate)
        except ImportError:  # pragma: no cover - the module of a live class imports
            continue
        if getattr(mod, cls.__qualname__, None) is cls:
            return f"{candidate}.{cls.__qualname__}"
    return f"{module}.{cls.__qualname__}"


def _resolve(name: str) -> type[BaseException] | None:
    module, _, attr = name.rpartition(".")
    if not module:
        module, attr = "builtins", name
    try:
        obj: Any = importlib.import_module(module)
    except ImportError:
        return None
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return obj
    return None


def _text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def error_to_dict(exc: BaseException, secrets: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """The recorded form of an exception a provider raised (secrets scrubbed)."""
    out: dict[str, Any] = {
        "type": "exception",
        "exception": qualified_name(type(exc)),
        "message": scrub(str(exc), secrets),
    }
    request: httpx.Request | None = None
    if isinstance(exc, httpx.HTTPStatusError):
        out["type"] = "http_status"
        response = exc.response
        request = exc.request
        out["status"] = response.status_code
        out["headers"] = {k: scrub(v, secrets) for k, v in response.headers.items()}
        try:
            out["body"] = scrub(_text(response.content), secrets)
        except httpx.ResponseNotRead:
            out["body"] = ""
    elif isinstance(exc, httpx.RequestError):
        out["type"] = "request_error"
        try:
            request = exc.request
        except RuntimeError:  # raised without a request
            request = None
    elif isinstance(exc, ProviderResponseError):
        out["type"] = "stream_error" if isinstance(exc, StreamError) else "exception"
        prefix = f"{exc.provider}: "
        if out["message"].startswith(prefix):
            out["message"] = out["message"][len(prefix):]
        if isinstance(exc.body, str | dict | list | int | float | bool):
            out["body"] = copy_json(exc.body)
    if request is not None:
        out["url"] = scrub(str(request.url), secrets)
        out["method"] = request.method
    return out


def _request(data: dict[str, Any]) -> httpx.Request:
    return httpx.Request(str(data.get("method") or "POST"), str(data.get("url") or "http://replay.invalid/"))


def error_from_dict(data: dict[str, Any], *, provider: str) -> BaseException:
    """A new exception equal in type and content to the recorded one."""
    name = str(data.get("exception") or "Exception")
    message = str(data.get("message") or "")
    kind = data.get("type")
    cls = _resolve(name)
    if cls is None or not issubclass(cls, Exception):
        return ReplayedError(message, exception_type=name)
    if kind == "http_status" and issubclass(cls, httpx.HTTPStatusError):
        request = _request(data)
        body = data.get("body")
        content = body.encode("utf-8") if isinstance(body, str) else b""
        headers = {str(k): str(v) for k, v in (data.get("headers") or {}).items()
                   if str(k).lower() not in ("content-length", "content-encoding",
                                             "transfer-encoding")}
        response = httpx.Response(int(data.get("status") or 500), headers=headers,
                                  content=content, request=request)
        return cls(message, request=request, response=response)
    if issubclass(cls, httpx.RequestError):
        try:
            return cls(message, request=_request(data) if data.get("url") else None)
        except TypeError:
            pass
    if issubclass(cls, ProviderResponseError):
        exc = cls.__new__(cls)
        Exception.__init__(exc, f"{provider}: {message}")
        exc.provider = provider
        exc.body = copy_json(data.get("body"))
        return exc
    if issubclass(cls, KeyError):  # str(KeyError("k")) is "'k'": recover the key
        try:
            return cls(ast.literal_eval(message))
        except (ValueError, SyntaxError):
            pass
    try:
        return cls(message)
    except Exception:  # a constructor with other required arguments
        exc2 = cls.__new__(cls)
        BaseException.__init__(exc2, message)
        return exc2
