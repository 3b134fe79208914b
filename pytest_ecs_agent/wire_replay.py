"""HTTP exchanges: recorded by teeing the response stream, replayed as ``httpx.Response``.

Recording (:func:`record_exchange`) sends the request for real and hands the provider a
response whose byte stream passes every chunk on the moment it arrives while keeping a
copy; Server-Sent Events are decoded event by event as they pass (with the time each
arrived), a connection cut midway is noted as ``dropped_after`` (events, or bytes for a
plain body) and the failure goes on to the provider unchanged.

Replay (:func:`replay_response`) builds an ``httpx.Response`` from a recorded exchange:
a JSON body re-encoded compactly, SSE re-encoded one event per chunk (so the provider's
decoder sees the recorded event boundaries), and ``dropped_after`` reproduced as an
``httpx.RemoteProtocolError`` raised from the byte stream after that many events, just
as httpx reports a peer that closed the connection mid-body. No socket is opened.
:class:`WireCursor` serves one interaction's exchanges in order.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NoReturn

import httpx

from ecs_agent._sse import SSEDecoder
from ecs_agent.intercept import SendHTTP
from pytest_ecs_agent.cassette import HttpExchange, Interaction
from pytest_ecs_agent.errors import CassetteMismatchError
from pytest_ecs_agent.http_records import body_bytes, body_record, sse_frame, sse_record
from pytest_ecs_agent.outcomes import error_from_dict

__all__ = [
    "DROPPED_MESSAGE",
    "ExchangeRecord",
    "WireCursor",
    "record_exchange",
    "replay_response",
    "request_record",
    "timing_gaps",
]

DROPPED_MESSAGE = (
    "peer closed connection without sending complete message body (incomplete chunked read)")
"""The text httpx gives the error of a connection cut mid-body (reused on replay)."""

_HOP_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding",
                          "connection", "keep-alive"})


def _is_sse(headers: httpx.Headers) -> bool:
    content_type = str(headers.get("content-type", ""))
    return content_type.split(";")[0].strip().lower() == "text/event-stream"


def request_record(request: httpx.Request) -> dict[str, Any]:
    """The recorded form of a request: method, URL, headers and its JSON (or text) body."""
    out: dict[str, Any] = {
        "method": request.method,
        "url": str(request.url),
        "headers": {k.lower(): v for k, v in request.headers.items()},
    }
    try:
        content = request.content
    except httpx.RequestNotRead:
        return out
    if content:
        out.update(body_record(content, request.headers.get("content-type")))
    return out


class ExchangeRecord:
    """One exchange being recorded; ``response`` fills in as the body streams through."""

    __slots__ = ("done", "request", "response")

    def __init__(self, request: dict[str, Any]) -> None:
        self.request = request
        self.response: dict[str, Any] | None = None
        self.done = False

    def to_dict(self) -> dict[str, Any] | None:
        if self.response is None:
            return None
        return {"request": self.request, "response": self.response}


class _TeeStream(httpx.AsyncByteStream):
    """Passes the live body through chunk by chunk while recording it."""

    def __init__(self, response: httpx.Response, record: ExchangeRecord, started: float,
                 timing: bool) -> None:
        self._response = response
        self._record = record
        self._started = started
        self._timing = timing
        self._sse = _is_sse(response.headers)
        self._decoder = SSEDecoder() if self._sse else None
        self._events: list[dict[str, Any]] = []
        self._times: list[float] = []
        self._chunks: list[bytes] = []

    def _feed(self, chunk: bytes) -> None:
        if self._decoder is None:
            self._chunks.append(chunk)
            return
        events = self._decoder.feed(chunk)
        if events:
            now = round(time.perf_counter() - self._started, 4)
            for event in events:
                self._events.append(sse_record(event))
                self._times.append(now)

    def _finish(self, dropped: bool) -> None:
        record = self._record
        if record.done:
            return
        record.done = True
        assert record.response is not None
        if self._decoder is not None:
            if not dropped:
                for event in self._decoder.flush():
                    self._events.append(sse_record(event))
                    self._times.append(round(time.perf_counter() - self._started, 4))
            record.response["sse"] = self._events
            if dropped:
                record.response["dropped_after"] = len(self._events)
            if self._timing:
                record.response["timing"] = self._times
        else:
            content = b"".join(self._chunks)
            if dropped:  # a cut body is kept as text (or base64), never parsed
                try:
                    record.response["body"] = content.decode("utf-8")
                except UnicodeDecodeError:
                    record.response["body_base64"] = base64.b64encode(content).decode("ascii")
                record.response["dropped_after"] = len(content)
            else:
                record.response.update(
                    body_record(content, self._response.headers.get("content-type")))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                self._feed(chunk)
                yield chunk
        except httpx.TransportError:
            self._finish(dropped=True)
            raise
        self._finish(dropped=False)

    async def aclose(self) -> None:
        self._finish(dropped=False)
        await self._response.aclose()


async def record_exchange(request: httpx.Request, send: SendHTTP, record: ExchangeRecord,
                          *, timing: bool = False) -> httpx.Response:
    """Send ``request`` for real; return a response that records its body as it is read."""
    started = time.perf_counter()
    live = await send(request)
    record.response = {
        "status": live.status_code,
        "headers": {k.lower(): v for k, v in live.headers.items()},
    }
    headers = [(k, v) for k, v in live.headers.multi_items()
               if k.lower() not in ("content-encoding", "content-length")]
    return httpx.Response(
        live.status_code,
        headers=headers,
        stream=_TeeStream(live, record, started, timing),
        request=request,
        extensions=dict(live.extensions),
    )


class _ReplayStream(httpx.AsyncByteStream):
    """Serves recorded chunks; raises like a dropped connection after ``dropped_after``."""

    def __init__(self, chunks: list[bytes], request: httpx.Request, dropped: bool,
                 gaps: list[float] | None, sleep: Callable[[float], Any]) -> None:
        self._chunks = chunks
        self._request = request
        self._dropped = dropped
        self._gaps = gaps
        self._sleep = sleep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            if self._gaps is not None and index < len(self._gaps) and self._gaps[index] > 0:
                await self._sleep(self._gaps[index])
            yield chunk
        if self._dropped:
            raise httpx.RemoteProtocolError(DROPPED_MESSAGE, request=self._request)

    async def aclose(self) -> None:
        return None


def timing_gaps(timing: Any) -> list[float] | None:
    """The waits between recorded arrival times (seconds since the call started), or
    ``None`` when nothing was timed."""
    if not isinstance(timing, list):
        return None
    gaps: list[float] = []
    previous = 0.0
    for value in timing:
        moment = float(value)
        gaps.append(max(0.0, moment - previous))
        previous = moment
    return gaps


def replay_response(exchange: dict[str, Any], request: httpx.Request, *,
                    replay_timing: bool = False,
                    sleep: Callable[[float], Any] = asyncio.sleep) -> httpx.Response:
    """An ``httpx.Response`` to ``request`` made of the recorded ``exchange["response"]``."""
    recorded = exchange["response"]
    headers = [(str(k), str(v)) for k, v in (recorded.get("headers") or {}).items()
               if str(k).lower() not in _HOP_HEADERS]
    dropped_after = recorded.get("dropped_after")
    chunks: list[bytes]
    if "sse" in recorded:
        events = recorded["sse"]
        chunks = [sse_frame(event) for event in events]
        if dropped_after is not None:
            chunks = chunks[:int(dropped_after)]
    else:
        raw = body_bytes(recorded)
        if dropped_after is not None:
            raw = raw[:int(dropped_after)]
        chunks = [raw] if raw else []
    gaps = timing_gaps(recorded.get("timing")) if replay_timing else None
    stream = _ReplayStream(chunks, request, dropped_after is not None, gaps, sleep)
    return httpx.Response(int(recorded["status"]), headers=headers, stream=stream,
                          request=request)


class WireCursor:
    """The recorded exchanges of one interaction, served in order to the real provider.

    A request beyond the recorded ones replays a recorded connection failure (a
    ``request_error`` outcome) or is a :class:`CassetteMismatchError` (the provider's wire
    behaviour changed).
    """

    __slots__ = ("_scrub", "_sleep", "exchanges", "interaction", "path", "replay_timing",
                 "served")

    def __init__(self, interaction: Interaction, *, path: Path | None,
                 scrub: Callable[[str], str], replay_timing: bool = False,
                 sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        self.interaction = interaction
        self.exchanges: deque[HttpExchange] = deque(interaction.http or ())
        self.served = 0
        self.path = path
        self.replay_timing = replay_timing
        self._scrub = scrub
        self._sleep = sleep

    def respond(self, provider: str, request: httpx.Request) -> httpx.Response:
        """The next recorded response, as the answer to ``request``."""
        if not self.exchanges:
            self._exhausted(provider, request)
        exchange = self.exchanges.popleft()
        self.served += 1
        return replay_response(exchange.to_dict(), request, replay_timing=self.replay_timing,
                               sleep=self._sleep)

    def _exhausted(self, provider: str, request: httpx.Request) -> NoReturn:
        error = self.interaction.response.get("error")
        if error is not None and error.get("type") == "request_error":
            exc = error_from_dict(error, provider=self.interaction.provider)
            if isinstance(exc, httpx.RequestError):
                exc.request = request
            raise exc
        raise CassetteMismatchError(self._scrub(
            f"{provider}: the provider sent HTTP request number {self.served + 1} "
            f"({request.method} {request.url}) for one {self.interaction.kind} call, but "
            f"cassette {self.path} recorded {self.served} for it; the provider's wire "
            "behaviour changed. Re-record with --llm-record-mode=rewrite, or replay with "
            "replay='domain'."), path=self.path)
