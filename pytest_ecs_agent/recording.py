"""Recording one provider call: its domain request, its outcome and its HTTP exchanges.

A :class:`PendingInteraction` is created when a call starts (so interactions keep the
order in which calls were made, which is the order identical requests replay in) and
filled as the outcome arrives:

* a result is stored as ``{"result": CompletionResult.to_dict()}`` the moment it is
  returned (a copy: the caller may mutate its object afterwards);
* a stream is passed through delta by delta (:func:`record_stream` yields each delta as
  soon as the provider does, nothing is buffered) and stored as ``{"deltas": [...]}``,
  with ``timing`` (seconds since the call started, one per delta) when asked;
* a raised error is stored as ``{"error": {...}}`` (:func:`~pytest_ecs_agent.outcomes.
  error_to_dict`); a stream that fails midway keeps the deltas it produced *and* the
  error, which replay raises at the same point;
* the HTTP exchanges the built-in providers make during the call are appended in order
  (:mod:`pytest_ecs_agent.wire_replay` records each).

:func:`merge_recorded` combines what a session recorded with the cassette on disk,
following the record mode.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ecs_agent.intercept import ChatCall, EmbedCall
from ecs_agent.types import CompletionResult, StreamDelta
from pytest_ecs_agent.cassette import Cassette, HttpExchange, Interaction
from pytest_ecs_agent.matching import MatchOptions, request_key
from pytest_ecs_agent.outcomes import DeltaStream, copy_json, error_to_dict
from pytest_ecs_agent.wire_replay import ExchangeRecord

__all__ = [
    "PendingInteraction",
    "bracketed",
    "chat_request",
    "embed_request",
    "merge_recorded",
    "record_stream",
]


def chat_request(call: ChatCall) -> dict[str, Any]:
    """The canonical domain request of a chat call (what matching and the cassette use)."""
    request = {
        "model": call.model,
        "messages": [message.to_dict() for message in call.messages],
        "tools": None if call.tools is None else [tool.to_dict() for tool in call.tools],
        "stream": bool(call.stream),
        "response_format": copy_json(call.response_format),  # the caller may mutate theirs
    }
    if call.options:  # provider settings that change the answer, only when set
        request["options"] = copy_json(call.options)
    return request


def embed_request(call: EmbedCall) -> dict[str, Any]:
    """The canonical domain request of an embed call."""
    request: dict[str, Any] = {"model": call.model, "input": list(call.texts)}
    if call.options:  # e.g. {"dimensions": 256}, only when set
        request["options"] = copy_json(call.options)
    return request


class PendingInteraction:
    """One call being recorded. ``state``: ``running`` -> ``streaming`` -> ``done``.

    ``abandoned`` calls (cancelled before an outcome) are never written.
    """

    __slots__ = ("exchanges", "kind", "provider", "request", "response", "secrets", "started",
                 "state", "timing")

    def __init__(self, kind: str, provider: str, request: dict[str, Any],
                 secrets: tuple[str, ...], *, timing: bool) -> None:
        self.kind = kind
        self.provider = provider
        self.request = request
        self.secrets = secrets
        self.response: dict[str, Any] = {}
        self.exchanges: list[ExchangeRecord] = []
        self.state = "running"
        self.timing = timing
        self.started = time.perf_counter()

    @property
    def recorded(self) -> bool:
        """True once there is an outcome (complete, or a stream that has started)."""
        return self.state in ("streaming", "done")

    def set_result(self, result: CompletionResult) -> None:
        self.response = {"result": result.to_dict()}
        self.state = "done"

    def set_vectors(self, vectors: list[list[float]]) -> None:
        self.response = {"vectors": [[float(x) for x in vector] for vector in vectors]}
        self.state = "done"

    def set_error(self, exc: BaseException) -> None:
        self.response["error"] = error_to_dict(exc, self.secrets)
        self.state = "done"

    def start_stream(self) -> None:
        self.response = {"deltas": []}
        if self.timing:
            self.response["timing"] = []
        self.state = "streaming"

    def add_delta(self, delta: StreamDelta) -> None:
        self.response["deltas"].append(delta.to_dict())
        if self.timing:
            self.response["timing"].append(round(time.perf_counter() - self.started, 4))

    def end_stream(self) -> None:
        """The stream ended (exhausted, or the caller stopped early: keep what it saw)."""
        if self.state == "streaming":
            self.state = "done"

    def abandon(self) -> None:
        if self.state == "running":
            self.state = "abandoned"

    def new_exchange(self, record: ExchangeRecord) -> None:
        self.exchanges.append(record)

    def to_interaction(self) -> Interaction:
        exchanges = [HttpExchange(request=e.request, response=e.response)
                     for e in self.exchanges if e.response is not None]
        return Interaction(kind=self.kind, provider=self.provider, request=self.request,
                           response=self.response, http=exchanges or None)


def record_stream(stream: AsyncIterator[StreamDelta], pending: PendingInteraction,
                  enter: Callable[[], Any], leave: Callable[[Any], None]) -> DeltaStream:
    """Yield each delta of ``stream`` as it arrives while recording it.

    ``enter``/``leave`` bracket every step of the provider's iterator (they make the
    HTTP exchanges a lazy stream opens belong to this call).
    """
    pending.start_stream()
    return DeltaStream(bracketed(stream, enter, leave, on_delta=pending.add_delta,
                                 on_error=pending.set_error, on_end=pending.end_stream))


async def bracketed(stream: AsyncIterator[StreamDelta], enter: Callable[[], Any],
                    leave: Callable[[Any], None], *,
                    on_delta: Callable[[StreamDelta], None] | None = None,
                    on_error: Callable[[Exception], None] | None = None,
                    on_end: Callable[[], None] | None = None,
                    ) -> AsyncGenerator[StreamDelta, None]:
    """Iterate ``stream`` with ``enter()`` ... ``leave(token)`` around each step.

    ``on_delta`` sees each delta before the caller does, ``on_error`` an error the
    stream raised; ``on_end`` runs however iteration ends (exhausted, failed, or the
    caller stopped early). The stream is closed at the end.
    """
    try:
        while True:
            token = enter()
            try:
                delta = await stream.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                if on_error is not None:
                    on_error(exc)
                raise
            finally:
                leave(token)
            if on_delta is not None:
                on_delta(delta)
            yield delta
    finally:
        if on_end is not None:
            on_end()
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def merge_recorded(current: Cassette | None, new: list[Interaction], *, path: Path,
                   record_mode: str, match: MatchOptions | None = None) -> Cassette:
    """The cassette to write: what is on disk now (``current``) plus ``new``.

    ``rewrite``: exactly ``new``. ``all``: every old interaction whose request was
    recorded again is replaced, in place of its first occurrence, by the new recording(s)
    of that request (never duplicated). Otherwise ``new`` is appended.
    """
    old = list(current.interactions) if current is not None else []
    meta = dict(current.meta) if current is not None else {}
    if record_mode == "rewrite":
        return Cassette(path=path, interactions=new, meta=meta)
    if record_mode != "all":
        return Cassette(path=path, interactions=old + new, meta=meta)

    def key(interaction: Interaction) -> bytes:
        return request_key(interaction.kind, interaction.provider, interaction.request, match)

    replaced: dict[bytes, list[Interaction]] = {}
    for interaction in new:
        replaced.setdefault(key(interaction), []).append(interaction)
    merged: list[Interaction] = []
    placed: set[bytes] = set()
    for interaction in old:
        k = key(interaction)
        if k not in replaced:
            merged.append(interaction)
        elif k not in placed:
            merged.extend(replaced[k])
            placed.add(k)
    merged.extend(i for i in new if key(i) not in placed)
    return Cassette(path=path, interactions=merged, meta=meta)
