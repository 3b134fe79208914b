"""OpenAI chat-completion streams: bytes of ``text/event-stream`` in, deltas out (pure, no I/O).

:class:`OpenAIStreamParser` turns the bytes of a streamed answer (cut anywhere, even
inside a UTF-8 character) into :class:`~ecs_agent.types.StreamDelta` values: text as it
arrives, each tool call once and complete in the final delta, and exactly one final
delta carrying ``finish_reason`` and usage, emitted at ``data: [DONE]`` (or at the end of
a stream that saw a ``finish_reason`` but no ``[DONE]``). The usage chunk
(``choices: []``) is read, never indexed. LiteLLM's chunks are fed to the same parser
(see :mod:`ecs_agent.providers._litellm_wire`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ecs_agent._sse import ServerSentEvent, SSEDecoder
from ecs_agent.errors import StreamError
from ecs_agent.providers._openai_wire import (
    PROVIDER,
    excerpt,
    parse_tool_arguments,
    parse_usage,
)
from ecs_agent.types import StreamDelta, ToolCall, Usage

__all__ = ["OpenAIStreamParser", "parse_stream"]


@dataclass(slots=True)
class _PartialToolCall:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIStreamParser:
    """Bytes of a streamed chat completion in, :class:`StreamDelta` values out.

    Feed every received chunk to :meth:`feed` (chunks may be cut anywhere, even inside
    a UTF-8 character), then call :meth:`close` when the byte stream ends. Text is
    returned as soon as its frame is complete; tool calls, ``finish_reason`` and usage
    are returned once, in a single final delta, when ``data: [DONE]`` arrives.

    Raises :class:`StreamError` for an ``error`` object in a frame, a frame that is not
    JSON, or (from :meth:`close`) a stream that ended with neither ``[DONE]`` nor a
    ``finish_reason``; :class:`ProviderResponseError` for unparseable tool arguments.
    """

    __slots__ = ("_decoder", "_done", "_finish_reason", "_frames", "_tools", "_usage")

    def __init__(self) -> None:
        self._decoder = SSEDecoder()
        self._done = False
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._tools: dict[int, _PartialToolCall] = {}
        self._frames = 0

    @property
    def done(self) -> bool:
        """True once the final delta has been produced (later bytes are ignored)."""
        return self._done

    def feed(self, chunk: bytes) -> list[StreamDelta]:
        """Decode ``chunk``; return the deltas it completed (possibly none)."""
        if self._done:
            return []
        out: list[StreamDelta] = []
        for event in self._decoder.feed(chunk):
            self._event(event, out)
            if self._done:
                break
        return out

    def close(self) -> list[StreamDelta]:
        """The byte stream ended: return what is left, or raise if it was cut short."""
        out: list[StreamDelta] = []
        if not self._done:
            for event in self._decoder.flush():
                self._event(event, out)
                if self._done:
                    break
        if not self._done:
            if self._finish_reason is None:
                raise StreamError(
                    f"the stream ended after {self._frames} frame(s) without a "
                    "finish_reason or 'data: [DONE]': the connection was cut short",
                    provider=PROVIDER,
                )
            out.append(self._final())
        return out

    # -- internals

    def _event(self, event: ServerSentEvent, out: list[StreamDelta]) -> None:
        data = event.data
        if event.event == "error":
            raise StreamError(f"the stream sent an error event: {excerpt(data)}",
                              provider=PROVIDER, body=data)
        if data.strip() == "[DONE]":
            out.append(self._final())
            return
        if not data.strip():
            return
        self._frames += 1
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise StreamError(
                f"stream frame {self._frames} is not JSON: {excerpt(data)}",
                provider=PROVIDER, body=data,
            ) from exc
        if not isinstance(chunk, dict):
            raise StreamError(f"stream frame {self._frames} is not an object: {excerpt(data)}",
                              provider=PROVIDER, body=data)
        error = chunk.get("error")
        if error is not None:
            message = error.get("message") if isinstance(error, dict) else error
            raise StreamError(f"the stream carried an error: {excerpt(message)}",
                              provider=PROVIDER, body=chunk)
        usage = chunk.get("usage")
        if usage is not None:
            self._usage = parse_usage(usage)
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            return
        for choice in choices:  # the usage chunk has choices: [] (nothing to index)
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                self._choice(choice, out)

    def _choice(self, choice: dict[str, Any], out: list[StreamDelta]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            text = delta.get("content")
            if not isinstance(text, str) or not text:
                refusal = delta.get("refusal")
                text = refusal if isinstance(refusal, str) else None
            if text:
                out.append(StreamDelta(content=text))
            fragments = delta.get("tool_calls")
            if isinstance(fragments, list):
                for fragment in fragments:
                    self._tool_fragment(fragment)
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            self._finish_reason = finish

    def _tool_fragment(self, fragment: Any) -> None:
        if not isinstance(fragment, dict):
            raise StreamError(f"a tool_calls fragment is not an object: {excerpt(fragment)}",
                              provider=PROVIDER, body=fragment)
        index = fragment.get("index", 0)
        if not isinstance(index, int):
            raise StreamError(f"a tool_calls fragment has no integer index: "
                              f"{excerpt(fragment)}", provider=PROVIDER, body=fragment)
        partial = self._tools.setdefault(index, _PartialToolCall())
        call_id = fragment.get("id")
        if isinstance(call_id, str) and call_id and partial.id is None:
            partial.id = call_id
        function = fragment.get("function")
        if isinstance(function, dict):
            name = function.get("name")
            if isinstance(name, str):
                partial.name += name
            arguments = function.get("arguments")
            if isinstance(arguments, str):
                partial.arguments.append(arguments)

    def _final(self) -> StreamDelta:
        self._done = True
        calls: list[ToolCall] = []
        for index in sorted(self._tools):
            partial = self._tools[index]
            if partial.id is None or not partial.name:
                raise StreamError(
                    f"streamed tool call at index {index} never received its "
                    f"{'id' if partial.id is None else 'function name'}",
                    provider=PROVIDER,
                )
            arguments = parse_tool_arguments(
                "".join(partial.arguments), call_id=partial.id, name=partial.name
            )
            calls.append(ToolCall(id=partial.id, name=partial.name, arguments=arguments))
        finish = self._finish_reason
        if finish is None:
            finish = "tool_calls" if calls else "stop"
        return StreamDelta(tool_calls=calls or None, finish_reason=finish, usage=self._usage)


def parse_stream(chunks: Iterable[bytes]) -> list[StreamDelta]:
    """Every delta of a complete streamed answer given as byte chunks."""
    parser = OpenAIStreamParser()
    out: list[StreamDelta] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    out.extend(parser.close())
    return out
