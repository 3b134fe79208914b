"""Validation of OpenAI Chat Completions and Embeddings request bodies.

Each check returns a :class:`ValidationFailure` worded like OpenAI's own 400 answers
(``param`` and ``code`` included), or ``None``. See :mod:`.validation` for the entry point.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_ecs_agent._jsonschema import json_type, subschemas
from pytest_ecs_agent.loopback.validation import ValidationFailure

__all__ = ["strict_schema_problem", "validate_chat", "validate_embeddings"]

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _fail(message: str, param: str | None = None, code: str | None = None) -> ValidationFailure:
    return ValidationFailure(400, "openai", message, param=param, code=code)


def _missing(param: str) -> ValidationFailure:
    return _fail(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")


def _wrong_type(param: str, expected: str, value: Any) -> ValidationFailure:
    return _fail(
        f"Invalid type for '{param}': expected {expected}, but got {_article(value)} instead.",
        param,
        "invalid_type",
    )


def _article(value: Any) -> str:
    kind = json_type(value)
    if kind == "null":
        return "null"
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def validate_chat(data: dict[str, Any]) -> ValidationFailure | None:
    """Validate a ``POST /v1/chat/completions`` body."""
    if not isinstance(data.get("model"), str) or not data["model"]:
        return _fail("you must provide a model parameter", "model")
    if "messages" not in data:
        return _missing("messages")
    messages = data["messages"]
    if not isinstance(messages, list):
        return _wrong_type("messages", "an array of objects", messages)
    if not messages:
        return _fail(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    problem = _messages(messages)
    if problem is not None:
        return problem
    if "stream_options" in data and data["stream_options"] is not None and not data.get("stream"):
        return _fail(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    return _tools(data.get("tools")) or _response_format(data.get("response_format"), messages)


def _messages(messages: list[Any]) -> ValidationFailure | None:
    pending: dict[str, int] = {}  # tool_call_id -> index of the assistant message
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            return _wrong_type(where, "an object", msg)
        role = msg.get("role")
        if role is None:
            return _missing(f"{where}.role")
        if role not in _ROLES:
            return _fail(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                f"{where}.role",
                "invalid_value",
            )
        if role != "tool" and pending:
            ids = ", ".join(pending)
            return _fail(
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {ids}",
                f"messages.[{min(pending.values())}].role",
            )
        problem = _content(msg, role, where)
        if problem is not None:
            return problem
        if role == "assistant" and msg.get("tool_calls") is not None:
            calls = msg["tool_calls"]
            problem = _tool_calls(calls, where)
            if problem is not None:
                return problem
            pending = {call["id"]: i for call in calls}
        elif role == "tool":
            call_id = msg.get("tool_call_id")
            if not isinstance(call_id, str):
                return _missing(f"{where}.tool_call_id")
            answered = i > 0 and _is_tool_turn(messages, i)
            if not answered:
                return _fail(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            if call_id not in pending:
                return _fail(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    "'tool_calls' of previous message.",
                    f"messages.[{i}].tool_call_id",
                )
            del pending[call_id]
    return None


def _is_tool_turn(messages: list[Any], i: int) -> bool:
    j = i - 1
    while j >= 0 and isinstance(messages[j], dict) and messages[j].get("role") == "tool":
        j -= 1
    prev = messages[j] if j >= 0 else None
    return isinstance(prev, dict) and prev.get("role") == "assistant" and bool(
        prev.get("tool_calls")
    )


def _content(msg: dict[str, Any], role: str, where: str) -> ValidationFailure | None:
    content = msg.get("content")
    optional = role == "assistant" and (
        msg.get("tool_calls") or msg.get("function_call") or msg.get("refusal")
    )
    if content is None:
        if optional:
            return None
        if "content" not in msg:
            return _missing(f"{where}.content")
        return _wrong_type(f"{where}.content", "one of a string or array of objects", content)
    if isinstance(content, str):
        return None
    if not isinstance(content, list):
        return _wrong_type(f"{where}.content", "one of a string or array of objects", content)
    for k, part in enumerate(content):
        if not isinstance(part, dict):
            return _wrong_type(f"{where}.content[{k}]", "an object", part)
        if "type" not in part:
            return _missing(f"{where}.content[{k}].type")
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            return _wrong_type(f"{where}.content[{k}].text", "a string", part.get("text"))
    return None


def _tool_calls(calls: Any, where: str) -> ValidationFailure | None:
    if not isinstance(calls, list):
        return _wrong_type(f"{where}.tool_calls", "an array of objects", calls)
    if not calls:
        return _fail(
            f"Invalid '{where}.tool_calls': empty array. Expected an array with minimum "
            "length 1, but got an empty array instead.",
            f"{where}.tool_calls",
            "empty_array",
        )
    for k, call in enumerate(calls):
        at = f"{where}.tool_calls[{k}]"
        if not isinstance(call, dict):
            return _wrong_type(at, "an object", call)
        for key in ("id", "type", "function"):
            if key not in call:
                return _missing(f"{at}.{key}")
        if not isinstance(call["id"], str):
            return _wrong_type(f"{at}.id", "a string", call["id"])
        function = call["function"]
        if not isinstance(function, dict):
            return _wrong_type(f"{at}.function", "an object", function)
        for key in ("name", "arguments"):
            if key not in function:
                return _missing(f"{at}.function.{key}")
            if not isinstance(function[key], str):
                return _wrong_type(f"{at}.function.{key}", "a string", function[key])
    return None


def _tools(tools: Any) -> ValidationFailure | None:
    if tools is None:
        return None
    if not isinstance(tools, list):
        return _wrong_type("tools", "an array of objects", tools)
    for k, tool in enumerate(tools):
        at = f"tools[{k}]"
        if not isinstance(tool, dict):
            return _wrong_type(at, "an object", tool)
        if tool.get("type", "function") != "function":
            continue
        function = tool.get("function")
        if function is None:
            return _missing(f"{at}.function")
        if not isinstance(function, dict):
            return _wrong_type(f"{at}.function", "an object", function)
        name = function.get("name")
        if name is None:
            return _missing(f"{at}.function.name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            return _fail(
                f"Invalid '{at}.function.name': string does not match pattern. Expected a "
                "string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                f"{at}.function.name",
                "invalid_value",
            )
        params = function.get("parameters")
        if params is not None and not isinstance(params, dict):
            return _wrong_type(f"{at}.function.parameters", "an object", params)
        if function.get("strict") and isinstance(params, dict):
            problem = strict_schema_problem(params)
            if problem:
                return _fail(f"Invalid schema for function '{name}': {problem}",
                             f"{at}.function.parameters", "invalid_function_parameters")
    return None


def _response_format(fmt: Any, messages: list[Any]) -> ValidationFailure | None:
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        return _wrong_type("response_format", "an object", fmt)
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        return _fail(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and "
            "'json_schema'.",
            "response_format.type",
            "invalid_value",
        )
    if kind == "json_object" and "json" not in _all_text(messages).lower():
        return _fail(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            "messages",
        )
    if kind != "json_schema":
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        return _missing("response_format.json_schema")
    if not isinstance(spec.get("name"), str):
        return _missing("response_format.json_schema.name")
    schema = spec.get("schema")
    if schema is not None and not isinstance(schema, dict):
        return _wrong_type("response_format.json_schema.schema", "an object", schema)
    if spec.get("strict") and isinstance(schema, dict):
        problem = strict_schema_problem(schema)
        if problem:
            return _fail(f"Invalid schema for response_format '{spec['name']}': {problem}",
                         "response_format", "invalid_json_schema")
    return None


def _all_text(messages: list[Any]) -> str:
    parts: list[str] = []
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p["text"] for p in content
                         if isinstance(p, dict) and isinstance(p.get("text"), str))
    return "\n".join(parts)


def strict_schema_problem(schema: dict[str, Any], context: tuple[str, ...] = ()) -> str | None:
    """What breaks OpenAI's strict structured-output rules, worded like OpenAI, or ``None``.

    Every object needs ``additionalProperties: false`` and every property in ``required``,
    at every level (properties, items, anyOf, $defs).
    """
    ctx = f"In context=({', '.join(repr(c) for c in context)}{',' if len(context) == 1 else ''})"
    props = schema.get("properties")
    if schema.get("type") == "object" or isinstance(props, dict):
        if schema.get("additionalProperties") is not False:
            return (f"{ctx}, 'additionalProperties' is required to be supplied and to be "
                    "false.")
        required = schema.get("required")
        keys = list(props or {})
        missing = [k for k in keys if not isinstance(required, list) or k not in required]
        if missing:
            return (f"{ctx}, 'required' is required to be supplied and to be an array "
                    f"including every key in properties. Missing '{missing[0]}'.")
    for path, sub in subschemas(schema, context):
        if isinstance(sub, dict):
            problem = strict_schema_problem(sub, path)
            if problem:
                return problem
    return None


def validate_embeddings(data: dict[str, Any]) -> ValidationFailure | None:
    """Validate a ``POST /v1/embeddings`` body."""
    if not isinstance(data.get("model"), str) or not data["model"]:
        return _fail("you must provide a model parameter", "model")
    if "input" not in data:
        return _missing("input")
    value = data["input"]
    if not _valid_input(value):
        return _fail(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
            "input",
        )
    fmt = data.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        return _fail(f"Invalid value: '{fmt}'. Supported values are: 'float' and 'base64'.",
                     "encoding_format", "invalid_value")
    dims = data.get("dimensions")
    if dims is not None:
        if isinstance(dims, bool) or not isinstance(dims, int):
            return _wrong_type("dimensions", "an integer", dims)
        if dims < 1:
            return _fail(f"Invalid value for 'dimensions' = {dims}. Must be greater than or "
                         "equal to 1.", "dimensions", "invalid_value")
        if data["model"] == "text-embedding-ada-002":
            return _fail("This model does not support specifying dimensions.", "dimensions")
    return None


def _valid_input(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(v, str) and v for v in value):
        return True
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return True
    return all(
        isinstance(v, list) and v and all(isinstance(t, int) and not isinstance(t, bool)
                                          for t in v)
        for v in value
    )
