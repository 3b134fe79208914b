"""A scripted chat provider for tests, built to be extended (cassette replay subclasses it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from ecs_agent.providers._http_provider import AsyncCloseable
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolSchema

__all__ = ["FakeCall", "FakeProvider", "stream_result"]


@dataclass(frozen=True, slots=True)
class FakeCall:
    """The arguments of one ``complete`` call, as a fake provider received them."""

    messages: list[Message]
    tools: list[ToolSchema] | None
    stream: bool
    response_format: dict[str, Any] | None


class FakeProvider(AsyncCloseable):
    """Serves ``responses`` in order, one per ``complete`` call.

    * A response that is an exception instance is raised instead of returned (to test
      retry and error handling).
    * ``stream=True`` yields one :class:`StreamDelta` per character of the content, then
      (if the result has tool calls) one delta holding all of them, complete; the last
      delta carries ``finish_reason`` (``"tool_calls"`` or ``"stop"``) and the usage.
    * Running out raises :class:`IndexError` saying how many responses were configured.
    * ``calls`` keeps every call; ``last_messages``, ``last_tools`` and
      ``last_response_format`` the latest one's arguments.

    * ``aclose()`` / ``async with`` are accepted (nothing to close), like the HTTP
      providers, so it can stand in for them anywhere.

    Subclasses change where outcomes come from by overriding :meth:`respond`.
    """

    def __init__(self, responses: Sequence[CompletionResult | BaseException] = ()) -> None:
        self.responses: list[CompletionResult | BaseException] = list(responses)
        self.calls: list[FakeCall] = []
        self.call_count = 0
        self.last_messages: list[Message] | None = None
        self.last_tools: list[ToolSchema] | None = None
        self.last_response_format: dict[str, Any] | None = None

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSchema] | None = None,
        stream: bool = False,
        response_format: dict[str, Any] | None = None,
    ) -> CompletionResult | AsyncIterator[StreamDelta]:
        call = FakeCall(messages=messages, tools=tools, stream=stream,
                        response_format=response_format)
        self.calls.append(call)
        self.call_count += 1
        self.last_messages = messages
        self.last_tools = tools
        self.last_response_format = response_format
        return await self.respond(call)

    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        """Produce the outcome of ``call`` (the ``call_count``-th call)."""
        index = self.call_count - 1
        if index >= len(self.responses):
            raise IndexError(
                f"{type(self).__name__} was configured with {len(self.responses)} "
                f"response(s); call number {self.call_count} asked for another. "
                "Add more responses to FakeProvider(responses=[...])."
            )
        response = self.responses[index]
        if isinstance(response, BaseException):
            raise response
        if call.stream:
            return stream_result(response)
        return response


async def stream_result(result: CompletionResult) -> AsyncIterator[StreamDelta]:
    """Stream ``result`` the way :class:`FakeProvider` does (see its docstring)."""
    for char in result.message.content or "":
        yield StreamDelta(content=char)
    if result.message.tool_calls:
        yield StreamDelta(tool_calls=list(result.message.tool_calls),
                          finish_reason="tool_calls", usage=result.usage)
    else:
        yield StreamDelta(finish_reason="stop", usage=result.usage)
