"""Reference providers for the conformance runs: FakeProvider subclasses that answer any
call deterministically from the call itself (like the loopback server's echo mode)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ecs_agent.providers.fake_provider import FakeCall, FakeProvider, stream_result
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage
from pytest_ecs_agent._jsonschema import schema_instance

__all__ = ["EchoFakeProvider", "minimal_instance"]


def minimal_instance(schema: Any) -> Any:
    """A small deterministic value valid against ``schema`` (the toolkit's generator)."""
    return schema_instance(schema, text="x")


def _words(text: str) -> int:
    return len(text.split())


class EchoFakeProvider(FakeProvider):
    """Answers ``echo: <last user text>``; with tools and a digest that says so, calls
    tools with minimal valid arguments; with a json_schema response format, answers
    minimal valid JSON. Same call, same answer."""

    def __init__(self, *, use_tools: bool = True) -> None:
        super().__init__()
        self.use_tools = use_tools

    async def respond(self, call: FakeCall) -> CompletionResult | AsyncIterator[StreamDelta]:
        result = self.answer(call)
        return stream_result(result) if call.stream else result

    def answer(self, call: FakeCall) -> CompletionResult:
        messages: list[Message] = call.messages
        digest = hashlib.sha256(
            json.dumps([m.to_dict() for m in messages], sort_keys=True).encode()
        ).digest()
        last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
        prompt = sum(_words(m.content) for m in messages)
        fmt = call.response_format
        if fmt is not None and fmt.get("type") == "json_schema":
            text = json.dumps(minimal_instance(fmt["json_schema"]["schema"]))
            return CompletionResult(Message("assistant", text),
                                    Usage(prompt, 1, prompt + 1))
        if self.use_tools and call.tools and digest[0] % 2 == 0:
            calls = [
                ToolCall(id=f"call_{digest.hex()[:12]}_{i}", name=tool.name,
                         arguments=minimal_instance(tool.parameters))
                for i, tool in enumerate(call.tools[: 1 + digest[1] % len(call.tools)])
            ]
            return CompletionResult(Message("assistant", "", tool_calls=calls),
                                    Usage(prompt, len(calls), prompt + len(calls)))
        text = f"echo: {last_user}"
        completion = _words(text)
        return CompletionResult(Message("assistant", text),
                                Usage(prompt, completion, prompt + completion))

