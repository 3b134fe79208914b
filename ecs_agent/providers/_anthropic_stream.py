"""Anthropic streamed events -> :class:`StreamDelta`: a pure state machine, no I/O.

Feed each server-sent event to :meth:`ClaudeStreamState.feed` (it returns the deltas
that event completes) and call :meth:`ClaudeStreamState.finish` when the bytes end.

==========================  ===============================================================
``message_start``           usage so far (input and cache figures)
``content_block_start``     a ``text`` block (its initial text, if any, is yielded) or a
                            ``tool_use`` block (id and name remembered)
``content_block_delta``     ``text_delta``: yielded at once as content;
                            ``input_json_delta``: fragments kept per block index
``content_block_stop``      a tool block is complete: its JSON is parsed (empty -> ``{}``)
                            and the call yielded once; the structured-output tool's input
                            is yielded as content instead (compact JSON, exactly what the
                            non-streamed call returns; when cut short by ``max_tokens``, the
                            partial JSON text as it came, like OpenAI)
``message_delta``           ``stop_reason`` and usage figures (they update the start ones)
``message_stop``            the one final delta: ``finish_reason`` and usage, always last
``ping``, unknown events    ignored (forward compatibility)
``error``                   :class:`StreamError` with the error type and message
==========================  ===============================================================

A stream whose bytes end before ``message_stop`` raises :class:`StreamError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecs_agent.errors import StreamError
from ecs_agent.providers._anthropic_wire import (
    dump_structured,
    finish_reason_from_wire,
    usage_from_wire,
)
from ecs_agent.types import StreamDelta, ToolCall

__all__ = ["PROVIDER", "ClaudeStreamState", "stream_error_from_event"]

PROVIDER = "claude"


@dataclass(slots=True)
class _ToolBlock:
    id: str
    name: str
    initial: dict[str, Any]
    parts: list[str] = field(default_factory=list)


def stream_error_from_event(data: Any) -> StreamError:
    """The :class:`StreamError` for an ``error`` event's payload."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        kind = str(error.get("type") or "error")
        text = str(error.get("message") or "")
    else:
        kind, text = "error", str(data)[:500]
    return StreamError(f"stream error event {kind}: {text}", provider=PROVIDER, body=data)


class ClaudeStreamState:
    """Accumulates one streamed message; ``structured_name`` is the format tool, if any."""

    __slots__ = ("_blocks", "_calls", "_stop_reason", "_structured_name", "_usage",
                 "started", "stopped")

    def __init__(self, structured_name: str | None = None) -> None:
        self._structured_name = structured_name
        self._blocks: dict[int, _ToolBlock] = {}
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._calls = 0
        self.started = False
        self.stopped = False

    def feed(self, event: str | None, data: str) -> list[StreamDelta]:
        """Handle one event (``event`` is the SSE event name) and return its deltas."""
        if self.stopped:
            return []
        try:
            payload: Any = json.loads(data)
        except ValueError:
            if event in (None, "ping") or event not in _KNOWN:
                return []  # not ours to judge: unknown events are ignored
            raise StreamError(f"event {event!r} carries invalid JSON: {data[:300]!r}",
                              provider=PROVIDER, body=data) from None
        if not isinstance(payload, dict):
            return []
        kind = payload.get("type", event)
        if kind == "error" or event == "error":
            raise stream_error_from_event(payload)
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        return handler(self, payload) if handler is not None else []

    def finish(self) -> None:
        """The bytes ended: raise :class:`StreamError` unless ``message_stop`` was seen."""
        if not self.stopped:
            raise StreamError(
                "stream ended before message_stop (the connection was closed early); "
                "the answer is incomplete",
                provider=PROVIDER,
            )

    def _message_start(self, payload: dict[str, Any]) -> list[StreamDelta]:
        self.started = True
        message = payload.get("message")
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            self._merge_usage(message["usage"])
        return []

    def _block_start(self, payload: dict[str, Any]) -> list[StreamDelta]:
        block = payload.get("content_block")
        index = payload.get("index")
        if not isinstance(block, dict) or not isinstance(index, int):
            return []
        if block.get("type") == "tool_use":
            initial = block.get("input")
            self._blocks[index] = _ToolBlock(
                id=str(block.get("id", "")), name=str(block.get("name", "")),
                initial=initial if isinstance(initial, dict) else {},
            )
        elif block.get("type") == "text" and block.get("text"):
            return [StreamDelta(content=str(block["text"]))]
        return []

    def _block_delta(self, payload: dict[str, Any]) -> list[StreamDelta]:
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return [StreamDelta(content=text)] if isinstance(text, str) and text else []
        if kind == "input_json_delta":
            block = self._blocks.get(payload.get("index"))  # type: ignore[arg-type]
            fragment = delta.get("partial_json")
            if block is not None and isinstance(fragment, str):
                block.parts.append(fragment)
        return []

    def _block_stop(self, payload: dict[str, Any]) -> list[StreamDelta]:
        block = self._blocks.pop(payload.get("index"), None)  # type: ignore[arg-type]
        return [] if block is None else [self._complete(block)]

    def _complete(self, block: _ToolBlock) -> StreamDelta:
        text = "".join(block.parts)
        structured = self._structured_name is not None and block.name == self._structured_name
        if structured and text.strip():
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            # A structured answer cut short (max_tokens) is passed on as the partial JSON
            # text, as OpenAI does; the final delta then says "length".
            return StreamDelta(content=dump_structured(answer) if isinstance(answer, dict)
                               else text)
        if text.strip():
            try:
                arguments = json.loads(text)
            except ValueError:
                arguments = None
            if not isinstance(arguments, dict):
                raise StreamError(
                    f"tool_use block {block.name!r} ({block.id}) streamed input that is not "
                    f"a JSON object: {text[:300]!r}",
                    provider=PROVIDER, body=text,
                )
        else:
            arguments = block.initial
        if structured:
            return StreamDelta(content=dump_structured(arguments))
        self._calls += 1
        return StreamDelta(tool_calls=[ToolCall(id=block.id, name=block.name,
                                                arguments=arguments)])

    def _message_delta(self, payload: dict[str, Any]) -> list[StreamDelta]:
        delta = payload.get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
            self._stop_reason = delta["stop_reason"]
        if isinstance(payload.get("usage"), dict):
            self._merge_usage(payload["usage"])
        return []

    def _message_stop(self, payload: dict[str, Any]) -> list[StreamDelta]:
        deltas = [self._complete(block) for _, block in sorted(self._blocks.items())]
        self._blocks.clear()
        self.stopped = True
        finish = finish_reason_from_wire(self._stop_reason)
        if finish == "tool_calls" and not self._calls:
            finish = "stop"  # only the structured-output tool answered
        usage = usage_from_wire(self._usage) if self._usage else None
        deltas.append(StreamDelta(finish_reason=finish, usage=usage))
        return deltas

    def _merge_usage(self, usage: dict[str, Any]) -> None:
        # message_delta usage figures are cumulative: a present figure replaces the old one.
        self._usage.update({k: v for k, v in usage.items() if v is not None})


_HANDLERS = {
    "message_start": ClaudeStreamState._message_start,
    "content_block_start": ClaudeStreamState._block_start,
    "content_block_delta": ClaudeStreamState._block_delta,
    "content_block_stop": ClaudeStreamState._block_stop,
    "message_delta": ClaudeStreamState._message_delta,
    "message_stop": ClaudeStreamState._message_stop,
}
_KNOWN = frozenset(_HANDLERS) | {"error"}
