"""Anthropic Messages API <-> domain types: pure functions, no I/O.

Request (:func:`build_request_body`):

* ``system`` messages (wherever they appear) are joined with a blank line into the
  top-level ``system`` string; Anthropic has no system role inside ``messages``.
* an assistant message becomes one ``assistant`` turn: a ``text`` block first when its
  content is non-empty, then one ``tool_use`` block per tool call (``input`` = arguments).
* a ``tool`` message becomes a ``tool_result`` block (``tool_use_id`` = ``tool_call_id``)
  in a ``user`` turn. Consecutive turns of the same wire role are merged into one turn
  (consecutive tool results, and a user message right after them, become ONE user turn),
  and inside a user turn every ``tool_result`` block comes before any text, as the API
  requires. Empty text is never sent (the API rejects empty text blocks); a turn left
  with nothing in it is dropped. A turn that is a single text block is sent as a string.
* tools are sent as ``{"name", "description", "input_schema"}``.

``response_format`` is never forwarded (the API rejects unknown top-level keys); see
:func:`structured_output_tool` for how JSON output is obtained instead.

Response: text blocks are joined into ``Message.content``; ``tool_use`` blocks become
:class:`ToolCall`; other block types (``thinking``, server tools) are skipped.
``stop_reason`` maps to the shared finish-reason vocabulary:

==================  ================
``end_turn``        ``stop``
``stop_sequence``   ``stop``
``tool_use``        ``tool_calls`` (``stop`` when only the structured-output tool answered)
``max_tokens``      ``length``
``refusal``         ``content_filter``
anything else       passed through as is (for example ``pause_turn``)
==================  ================

Usage: ``prompt_tokens = input_tokens + cache_creation_input_tokens +
cache_read_input_tokens`` (a missing or null figure counts as 0),
``completion_tokens = output_tokens``, ``total_tokens`` their sum.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema, Usage

__all__ = [
    "ANTHROPIC_VERSION",
    "JSON_OBJECT_TOOL",
    "JSON_SCHEMA_TOOL",
    "StructuredOutput",
    "build_request_body",
    "dump_structured",
    "finish_reason_from_wire",
    "messages_to_wire",
    "result_from_wire",
    "structured_output_tool",
    "tools_to_wire",
    "usage_from_wire",
]

ANTHROPIC_VERSION = "2023-06-01"
JSON_SCHEMA_TOOL = "json_response"
JSON_OBJECT_TOOL = "json_object"

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ACCEPTED_FORMATS = "'json_schema', 'json_object' or 'text'"


@dataclass(frozen=True, slots=True)
class StructuredOutput:
    """The forced tool that carries a structured answer (see :func:`structured_output_tool`)."""

    name: str
    description: str
    input_schema: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "input_schema": self.input_schema}


def structured_output_tool(response_format: dict[str, Any] | None) -> StructuredOutput | None:
    """Translate an OpenAI-style ``response_format`` into Anthropic's way: a forced tool.

    * ``{"type": "json_schema", "json_schema": {"name", "schema", "description"?}}``: a
      tool named ``name`` (default ``json_response``) whose ``input_schema`` is ``schema``
      (its root must be ``"type": "object"``, as Anthropic requires of tool inputs).
    * ``{"type": "json_object"}``: a tool named ``json_object`` with a permissive object
      schema; the model puts its whole answer, as a JSON object, in the tool input.
    * ``{"type": "text"}`` or ``None``: plain text, no tool.

    The answer's tool input becomes the message content (see :func:`dump_structured`);
    it is never reported as a tool call. Anything else raises :class:`ValueError`.
    """
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        raise ValueError(
            f"response_format must be a dict with 'type' {_ACCEPTED_FORMATS}, "
            f"got {type(response_format).__name__}"
        )
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return StructuredOutput(
            name=JSON_OBJECT_TOOL,
            description="Give your complete answer as a JSON object: the input of this tool "
            "is the answer.",
            input_schema={"type": "object", "additionalProperties": True},
        )
    if kind != "json_schema":
        raise ValueError(
            f"response_format type {kind!r} is not supported by ClaudeProvider; "
            f"use {_ACCEPTED_FORMATS}"
        )
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise ValueError(
            "response_format {'type': 'json_schema'} needs 'json_schema': "
            "{'name': ..., 'schema': {...}} with the JSON Schema under 'schema'"
        )
    schema: dict[str, Any] = spec["schema"]
    if schema.get("type") != "object":
        raise ValueError(
            "response_format json_schema.schema must have \"type\": \"object\" at its root "
            f"(Anthropic tool inputs are objects), got type {schema.get('type')!r}"
        )
    name = spec.get("name") or JSON_SCHEMA_TOOL
    if not isinstance(name, str) or not _TOOL_NAME.match(name):
        raise ValueError(
            f"response_format json_schema.name {name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$"
        )
    description = spec.get("description")
    if not isinstance(description, str) or not description:
        description = f"Give your complete answer as the input of this tool ({name})."
    return StructuredOutput(name=name, description=description, input_schema=schema)


def dump_structured(arguments: dict[str, Any]) -> str:
    """The message content of a structured answer: compact JSON, keys in model order."""
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


def tools_to_wire(tools: list[ToolSchema]) -> list[dict[str, Any]]:
    """Domain tool schemas -> Anthropic ``tools``."""
    wire: list[dict[str, Any]] = []
    for tool in tools:
        item: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
        if tool.description:
            item["description"] = tool.description
        wire.append(item)
    return wire


def messages_to_wire(messages: list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """Domain messages -> (top-level ``system`` or ``None``, Anthropic ``messages``)."""
    system_parts: list[str] = []
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for position, message in enumerate(messages):
        role = message.role
        blocks: list[dict[str, Any]] = []
        if role == "system":
            if message.content:
                system_parts.append(message.content)
            continue
        if role == "user":
            wire_role = "user"
            if message.content:
                blocks.append({"type": "text", "text": message.content})
        elif role == "assistant":
            wire_role = "assistant"
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            for call in message.tool_calls or []:
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name,
                               "input": call.arguments})
        elif role == "tool":
            wire_role = "user"
            if not message.tool_call_id:
                raise ValueError(
                    f"messages[{position}]: a 'tool' message needs tool_call_id (the id of "
                    "the tool call it answers)"
                )
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
            if message.content:
                result["content"] = message.content
            blocks.append(result)
        else:
            raise ValueError(
                f"messages[{position}]: unknown role {role!r}; expected 'system', 'user', "
                "'assistant' or 'tool'"
            )
        if not blocks:
            continue
        if turns and turns[-1][0] == wire_role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((wire_role, blocks))
    wire_messages = [_turn_to_wire(role, blocks) for role, blocks in turns]
    if not wire_messages:
        raise ValueError(
            "Claude needs at least one non-empty user or assistant message "
            "(system messages go to the top-level 'system' field)"
        )
    return ("\n\n".join(system_parts) if system_parts else None), wire_messages


def _turn_to_wire(role: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    if role == "user":
        # The API requires tool_result blocks first in a user turn, text after them.
        results = [b for b in blocks if b["type"] == "tool_result"]
        blocks = results + [b for b in blocks if b["type"] != "tool_result"]
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return {"role": role, "content": blocks[0]["text"]}
    return {"role": role, "content": blocks}


def build_request_body(
    *,
    model: str,
    messages: list[Message],
    tools: list[ToolSchema] | None,
    max_tokens: int,
    stream: bool,
    structured: StructuredOutput | None,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages``.

    With a structured output and no tools of the caller's, the format tool is forced
    (``tool_choice: {"type": "tool", "name": ...}``). With tools of the caller's as well,
    ``tool_choice`` is ``{"type": "any"}``: the model must call a tool, either one of the
    caller's (reported as tool calls, as OpenAI would) or the format tool (the answer).
    """
    system, wire_messages = messages_to_wire(messages)
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": wire_messages}
    if system is not None:
        body["system"] = system
    wire_tools = tools_to_wire(tools) if tools else []
    if structured is not None:
        if any(t["name"] == structured.name for t in wire_tools):
            raise ValueError(
                f"a tool is named {structured.name!r}, the name the response_format needs for "
                "its structured-output tool; rename the tool or set json_schema.name"
            )
        body["tool_choice"] = (
            {"type": "any"} if wire_tools else {"type": "tool", "name": structured.name}
        )
        wire_tools.append(structured.to_wire())
    if wire_tools:
        body["tools"] = wire_tools
    if stream:
        body["stream"] = True
    return body


def finish_reason_from_wire(stop_reason: str | None) -> str:
    """Anthropic ``stop_reason`` -> the shared vocabulary (``None`` counts as ``stop``)."""
    if stop_reason is None:
        return "stop"
    return _STOP_REASONS.get(stop_reason, stop_reason)


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_from_wire(usage: dict[str, Any]) -> Usage:
    """Anthropic ``usage`` -> :class:`Usage` with OpenAI's meaning of ``prompt_tokens``."""
    prompt = (
        _count(usage, "input_tokens")
        + _count(usage, "cache_creation_input_tokens")
        + _count(usage, "cache_read_input_tokens")
    )
    completion = _count(usage, "output_tokens")
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 total_tokens=prompt + completion)


def result_from_wire(
    body: Any, structured_name: str | None = None
) -> tuple[CompletionResult, str]:
    """A ``/v1/messages`` JSON body -> (result, finish reason).

    ``structured_name`` is the forced format tool's name: its input becomes the content.
    Raises :class:`ValueError` (naming the field) when the body is not a message.
    """
    if not isinstance(body, dict) or not isinstance(body.get("content"), list):
        raise ValueError(f"expected a message object with a 'content' list, got {body!r:.300}")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for position, block in enumerate(body["content"]):
        if not isinstance(block, dict):
            raise ValueError(f"content[{position}] is not an object: {block!r:.200}")
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = block.get("input")
            if not isinstance(arguments, dict):
                raise ValueError(f"content[{position}].input is not an object: {arguments!r:.200}")
            if structured_name is not None and block.get("name") == structured_name:
                texts.append(dump_structured(arguments))
                continue
            calls.append(ToolCall(id=str(block.get("id", "")), name=str(block.get("name", "")),
                                  arguments=arguments))
    stop_reason = body.get("stop_reason")
    finish = finish_reason_from_wire(stop_reason if isinstance(stop_reason, str) else None)
    if finish == "tool_calls" and not calls:
        finish = "stop"
    usage = body.get("usage")
    message = Message(role="assistant", content="".join(texts), tool_calls=calls or None)
    return (
        CompletionResult(message=message,
                         usage=usage_from_wire(usage) if isinstance(usage, dict) else None),
        finish,
    )
