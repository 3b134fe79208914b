"""Validation of Anthropic Messages API request bodies (``POST /v1/messages``).

Worded like Anthropic's own 400 answers (``"<field path>: <problem>"``), e.g. an unknown
top-level key gives ``"response_format: Extra inputs are not permitted"``.
"""

from __future__ import annotations

from typing import Any

from pytest_ecs_agent.loopback.validation import ValidationFailure, json_type

__all__ = ["KNOWN_KEYS", "validate_messages"]

KNOWN_KEYS = frozenset({
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
    "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier",
    "container", "mcp_servers", "context_management", "output_format", "output_config",
    "inference_geo",
})

_SYSTEM_ROLE = (
    'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
    'parameter, not "system" as an input message role.'
)


def _fail(message: str) -> ValidationFailure:
    return ValidationFailure(400, "anthropic", message)


def validate_messages(data: dict[str, Any]) -> ValidationFailure | None:
    """Validate a Messages API body."""
    for key in data:
        if key not in KNOWN_KEYS:
            return _fail(f"{key}: Extra inputs are not permitted")
    for key in ("model", "messages", "max_tokens"):
        if key not in data:
            return _fail(f"{key}: Field required")
    if not isinstance(data["model"], str) or not data["model"]:
        return _fail("model: Input should be a valid string")
    tokens = data["max_tokens"]
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        return _fail("max_tokens: Input should be a valid integer")
    if tokens < 1:
        return _fail("max_tokens: Input should be greater than or equal to 1")
    system = data.get("system")
    if system is not None and not isinstance(system, str):
        if not isinstance(system, list):
            return _fail("system: Input should be a valid list")
        for k, block in enumerate(system):
            if not isinstance(block, dict) or block.get("type") != "text":
                return _fail(f"system.{k}: Input should be a valid text block")
            if not isinstance(block.get("text"), str):
                return _fail(f"system.{k}.text: Field required")
    messages = data["messages"]
    if not isinstance(messages, list):
        return _fail("messages: Input should be a valid list")
    return _messages(messages) or _tools(data.get("tools"), data.get("tool_choice"))


def _blocks(content: Any) -> list[Any]:
    return content if isinstance(content, list) else []


def _messages(messages: list[Any]) -> ValidationFailure | None:
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            return _fail(f"messages.{i}: Input should be a valid dictionary")
        role = msg.get("role")
        if role == "system":
            return _SYSTEM
        if role not in ("user", "assistant"):
            return _fail(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        if "content" not in msg:
            return _fail(f"messages.{i}.content: Field required")
        problem = _content(msg["content"], i, last=(i == len(messages) - 1 and
                                                   role == "assistant"))
        if problem is not None:
            return problem
    for i, msg in enumerate(messages):
        uses = [b.get("id") for b in _blocks(msg["content"])
                if isinstance(b, dict) and b.get("type") == "tool_use"]
        results = [(k, b.get("tool_use_id")) for k, b in enumerate(_blocks(msg["content"]))
                   if isinstance(b, dict) and b.get("type") == "tool_result"]
        if results:
            prev = messages[i - 1] if i > 0 else None
            allowed = {b.get("id") for b in _blocks(prev["content"] if prev else None)
                       if isinstance(b, dict) and b.get("type") == "tool_use"}
            for k, use_id in results:
                if use_id not in allowed:
                    return _fail(
                        f"messages.{i}.content.{k}: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {use_id}. Each `tool_result` block must have "
                        "a corresponding `tool_use` block in the previous message."
                    )
        if uses and i + 1 < len(messages):
            answered = {b.get("tool_use_id") for b in _blocks(messages[i + 1]["content"])
                        if isinstance(b, dict) and b.get("type") == "tool_result"}
            missing = [u for u in uses if u not in answered]
            if missing:
                return _fail(
                    f"messages.{i + 1}: `tool_use` ids were found without `tool_result` "
                    f"blocks immediately after: {', '.join(map(str, missing))}. Each "
                    "`tool_use` block must have a corresponding `tool_result` block in the "
                    "next message."
                )
    return None


def _content(content: Any, i: int, *, last: bool) -> ValidationFailure | None:
    empty = _fail(f"messages.{i}: all messages must have non-empty content except for the "
                  "optional final assistant message")
    if isinstance(content, str):
        return empty if not content and not last else None
    if not isinstance(content, list):
        return _fail(f"messages.{i}.content: Input should be a valid list, got "
                     f"{json_type(content)}")
    if not content and not last:
        return empty
    for k, block in enumerate(content):
        at = f"messages.{i}.content.{k}"
        if not isinstance(block, dict):
            return _fail(f"{at}: Input should be a valid dictionary or object")
        kind = block.get("type")
        if kind is None:
            return _fail(f"{at}.type: Field required")
        if kind == "text":
            if not isinstance(block.get("text"), str):
                return _fail(f"{at}.text.text: Field required")
            if not block["text"]:
                return _fail("messages: text content blocks must be non-empty")
        elif kind == "tool_use":
            for key in ("id", "name", "input"):
                if key not in block:
                    return _fail(f"{at}.tool_use.{key}: Field required")
            if not isinstance(block["input"], dict):
                return _fail(f"{at}.tool_use.input: Input should be a valid dictionary")
        elif kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
            return _fail(f"{at}.tool_result.tool_use_id: Field required")
    return None


def _tools(tools: Any, choice: Any) -> ValidationFailure | None:
    names: set[str] = set()
    if tools is not None:
        if not isinstance(tools, list):
            return _fail("tools: Input should be a valid list")
        for k, tool in enumerate(tools):
            if not isinstance(tool, dict):
                return _fail(f"tools.{k}: Input should be a valid dictionary")
            if tool.get("type", "custom") != "custom":
                if isinstance(tool.get("name"), str):
                    names.add(tool["name"])
                continue  # a server tool (web search, code execution, ...)
            for key in ("name", "input_schema"):
                if key not in tool:
                    return _fail(f"tools.{k}.custom.{key}: Field required")
            if not isinstance(tool["input_schema"], dict):
                return _fail(f"tools.{k}.custom.input_schema: Input should be a valid "
                             "dictionary")
            names.add(str(tool["name"]))
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        return _fail("tool_choice: Input tag does not match any of the expected tags: 'auto', "
                     "'any', 'tool', 'none'")
    if choice["type"] == "tool":
        if not isinstance(choice.get("name"), str):
            return _fail("tool_choice.tool.name: Field required")
        if choice["name"] not in names:
            return _fail(f"Tool '{choice['name']}' not found in provided tools")
    return None


_SYSTEM = _fail(_SYSTEM_ROLE)
