"""Reference providers for the conformance runs: FakeProvider subclasses that answer any
call deterministically from the call itself (like the loopback server's echo mode)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ecs_agent.providers.fake_provider import FakeCall, FakeProvider, stream_result
from ecs_agent.types import CompletionResult, Message, StreamDelta, ToolCall, Usage

__all__ = ["EchoFakeProvider", "minimal_instance"]


def minimal_instance(schema: Any, root: Any = None) -> Any:
    """A small deterministic value valid against ``schema`` (the strategies' subset and
    what pydantic emits: $ref, anyOf, enum, const, objects, arrays, scalars)."""
    root = schema if root is None else root
    if schema is True or schema == {}:
        return None
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return minimal_instance(node, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return minimal_instance(schema["anyOf"][0], root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(v, root) for k, v in props.items()
                if k in schema.get("required", [])}
    if kind == "array":
        return [minimal_instance(schema["items"], root)] * schema.get("minItems", 0)
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "x" * schema.get("minLength", 1)


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

