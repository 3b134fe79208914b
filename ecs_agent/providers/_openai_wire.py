"""OpenAI wire format <-> domain types: pure functions, no I/O.

Chat (``POST /chat/completions``):

* :func:`chat_request_body` turns messages, tools, ``stream`` and ``response_format``
  into the JSON body (past tool-call arguments serialised as JSON strings, ``tool``
  messages with ``tool_call_id``, tools as ``{"type": "function", "function": ...}``);
* :func:`parse_chat_completion` reads a non-streamed answer into a
  :class:`~ecs_agent.types.CompletionResult`;
* streamed answers are read by :class:`~ecs_agent.providers._openai_stream.OpenAIStreamParser`
  (its own module; it uses :func:`parse_usage` and :func:`parse_tool_arguments` from here).

Embeddings (``POST /embeddings``): :func:`embedding_request_body` and
:func:`parse_embeddings` (base64 little-endian float32 or plain float arrays).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import numpy as np

from ecs_agent.errors import ProviderResponseError
from ecs_agent.types import CompletionResult, Message, ToolCall, ToolSchema, Usage

__all__ = [
    "EMBEDDING_PROVIDER",
    "PROVIDER",
    "chat_request_body",
    "embedding_request_body",
    "excerpt",
    "message_to_wire",
    "parse_chat_completion",
    "parse_embeddings",
    "parse_tool_arguments",
    "parse_usage",
    "tool_to_wire",
]

PROVIDER = "openai"
EMBEDDING_PROVIDER = "openai-embedding"


# --------------------------------------------------------------------------- requests


def message_to_wire(message: Message) -> dict[str, Any]:
    """One domain message as an OpenAI chat message."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in message.tool_calls
        ]
        if message.content == "":
            out["content"] = None  # what the API itself sends for a tool-call-only turn
    if message.role == "tool":
        if not message.tool_call_id:
            raise ValueError(
                "a message with role 'tool' needs tool_call_id (the id of the assistant "
                f"tool call it answers); got {message.tool_call_id!r}"
            )
        out["tool_call_id"] = message.tool_call_id
    elif message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def tool_to_wire(tool: ToolSchema) -> dict[str, Any]:
    """One tool as an OpenAI function tool."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def chat_request_body(
    *,
    model: str,
    messages: list[Message],
    tools: list[ToolSchema] | None = None,
    stream: bool = False,
    response_format: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions``.

    An empty ``tools`` list is left out (the API rejects ``"tools": []``);
    ``response_format`` is forwarded as given.
    """
    _check_call(messages, tools, response_format)
    body: dict[str, Any] = {"model": model, "messages": [message_to_wire(m) for m in messages]}
    if tools:
        body["tools"] = [tool_to_wire(t) for t in tools]
    if response_format is not None:
        body["response_format"] = response_format
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _check_call(
    messages: Any, tools: Any, response_format: Any
) -> None:
    """Clear errors for the mistakes users of the OpenAI SDK make with our types."""
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"messages must be a non-empty list of Message, got {messages!r:.100}")
    for i, message in enumerate(messages):
        if not isinstance(message, Message):
            raise TypeError(
                f"messages[{i}] is a {type(message).__name__}, not an ecs_agent Message: "
                "use Message(role, content) (e.g. Message('user', 'Hi'))"
            )
    for i, tool in enumerate(tools or ()):
        if not isinstance(tool, ToolSchema):
            raise TypeError(
                f"tools[{i}] is a {type(tool).__name__}, not a ToolSchema: use "
                "ToolSchema(name, description, parameters)"
            )
    if response_format is not None and not isinstance(response_format, dict):
        hint = (
            "; for a pydantic model pass pydantic_to_response_format(Model)"
            if isinstance(response_format, type) else ""
        )
        raise TypeError(
            f"response_format must be a dict such as {{'type': 'json_object'}}, got "
            f"{response_format!r:.100}{hint}"
        )


def embedding_request_body(
    *, model: str, texts: list[str], dimensions: int | None = None
) -> dict[str, Any]:
    """The JSON body of ``POST /embeddings`` (always ``encoding_format: base64``)."""
    body: dict[str, Any] = {"model": model, "input": texts, "encoding_format": "base64"}
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


# --------------------------------------------------------------------------- responses


def excerpt(value: Any) -> str:
    """``value`` as text (JSON for non-strings), cut at 300 characters for messages."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "..."


def parse_usage(data: Any) -> Usage | None:
    """The ``usage`` object of a completion, or ``None`` when absent."""
    if not isinstance(data, dict):
        return None
    try:
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        total = data.get("total_tokens")
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=int(total) if total is not None else prompt + completion,
        )
    except (TypeError, ValueError) as exc:
        raise ProviderResponseError(
            f"usage has non-integer token counts: {excerpt(data)}", provider=PROVIDER, body=data
        ) from exc


def parse_tool_arguments(arguments: Any, *, call_id: str, name: str) -> dict[str, Any]:
    """Parse the JSON-string ``arguments`` of tool call ``call_id`` into a dict.

    An empty string means no arguments (``{}``). Anything that is not a JSON object
    raises :class:`ProviderResponseError` naming the tool call.
    """
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str):
        raise ProviderResponseError(
            f"tool call {call_id!r} ({name}) has arguments of type "
            f"{type(arguments).__name__}, expected a JSON string",
            provider=PROVIDER,
            body=arguments,
        )
    if not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        raise ProviderResponseError(
            f"tool call {call_id!r} ({name}) has arguments that are not valid JSON: "
            f"{exc}; arguments were {excerpt(arguments)}",
            provider=PROVIDER,
            body=arguments,
        ) from exc
    if not isinstance(parsed, dict):
        raise ProviderResponseError(
            f"tool call {call_id!r} ({name}) has arguments that are a JSON "
            f"{type(parsed).__name__}, expected an object: {excerpt(arguments)}",
            provider=PROVIDER,
            body=arguments,
        )
    return parsed


def _parse_tool_call(raw: Any, position: int) -> ToolCall:
    if not isinstance(raw, dict):
        raise ProviderResponseError(
            f"message.tool_calls[{position}] is not an object: {excerpt(raw)}",
            provider=PROVIDER,
            body=raw,
        )
    function = raw.get("function")
    call_id = raw.get("id")
    if not isinstance(function, dict) or not isinstance(call_id, str):
        raise ProviderResponseError(
            f"message.tool_calls[{position}] lacks an id or a function: {excerpt(raw)}",
            provider=PROVIDER,
            body=raw,
        )
    name = function.get("name")
    if not isinstance(name, str):
        raise ProviderResponseError(
            f"tool call {call_id!r} has no function name: {excerpt(raw)}",
            provider=PROVIDER,
            body=raw,
        )
    arguments = parse_tool_arguments(function.get("arguments", ""), call_id=call_id, name=name)
    return ToolCall(id=call_id, name=name, arguments=arguments)


def parse_chat_completion(body: Any) -> CompletionResult:
    """Read a non-streamed ``chat.completion`` object.

    ``content: null`` becomes ``""`` (or the ``refusal`` text when there is one);
    tool-call arguments are parsed from their JSON strings.
    """
    if not isinstance(body, dict):
        raise ProviderResponseError(
            f"expected a chat.completion object, got {excerpt(body)}", provider=PROVIDER,
            body=body,
        )
    if "error" in body and "choices" not in body:
        raise ProviderResponseError(
            f"the response is an error object: {excerpt(body['error'])}", provider=PROVIDER,
            body=body,
        )
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise ProviderResponseError(
            f"the response has no choices: {excerpt(body)}", provider=PROVIDER, body=body
        )
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise ProviderResponseError(
            f"choices[0] has no message object: {excerpt(choice)}", provider=PROVIDER,
            body=body,
        )
    content = message.get("content")
    if content is None:
        refusal = message.get("refusal")
        content = refusal if isinstance(refusal, str) else ""
    if not isinstance(content, str):
        raise ProviderResponseError(
            f"choices[0].message.content is not a string: {excerpt(content)}",
            provider=PROVIDER,
            body=body,
        )
    raw_calls = message.get("tool_calls")
    tool_calls: list[ToolCall] | None = None
    if raw_calls:
        if not isinstance(raw_calls, list):
            raise ProviderResponseError(
                f"choices[0].message.tool_calls is not a list: {excerpt(raw_calls)}",
                provider=PROVIDER,
                body=body,
            )
        tool_calls = [_parse_tool_call(raw, i) for i, raw in enumerate(raw_calls)]
    role = message.get("role")
    return CompletionResult(
        message=Message(
            role=role if isinstance(role, str) else "assistant",
            content=content,
            tool_calls=tool_calls,
        ),
        usage=parse_usage(body.get("usage")),
    )


# --------------------------------------------------------------------------- embeddings


def _decode_vector(raw: Any, position: int) -> list[float]:
    if isinstance(raw, str):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProviderResponseError(
                f"data[{position}].embedding is not valid base64: {exc}",
                provider=EMBEDDING_PROVIDER,
            ) from exc
        if len(data) % 4:
            raise ProviderResponseError(
                f"data[{position}].embedding decodes to {len(data)} bytes, not a whole "
                "number of float32 values",
                provider=EMBEDDING_PROVIDER,
            )
        values: list[float] = np.frombuffer(data, dtype="<f4").tolist()
        return values
    if isinstance(raw, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw
    ):
        return [float(v) for v in raw]
    raise ProviderResponseError(
        f"data[{position}].embedding is neither a base64 string nor a list of numbers: "
        f"{excerpt(raw)}",
        provider=EMBEDDING_PROVIDER,
    )


def parse_embeddings(body: Any, *, expected: int) -> list[list[float]]:
    """The vectors of an ``/embeddings`` answer, in input order (sorted by ``index``).

    Raises :class:`ProviderResponseError` when the answer does not hold exactly one
    vector for each of the ``expected`` inputs.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ProviderResponseError(
            f"expected an object with a 'data' list, got {excerpt(body)}",
            provider=EMBEDDING_PROVIDER, body=body,
        )
    by_index: dict[int, list[float]] = {}
    for position, item in enumerate(data):
        index = item.get("index", position) if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool):
            raise ProviderResponseError(
                f"data[{position}] has no integer index: {excerpt(item)}",
                provider=EMBEDDING_PROVIDER, body=body,
            )
        if index in by_index:
            raise ProviderResponseError(
                f"data holds two vectors for input {index}", provider=EMBEDDING_PROVIDER,
                body=body,
            )
        assert isinstance(item, dict)
        by_index[index] = _decode_vector(item.get("embedding"), position)
    if len(by_index) != expected or sorted(by_index) != list(range(expected)):
        raise ProviderResponseError(
            f"sent {expected} input(s) but the answer holds {len(by_index)} vector(s) "
            f"with indexes {sorted(by_index)[:20]}",
            provider=EMBEDDING_PROVIDER, body=body,
        )
    vectors = [by_index[i] for i in range(expected)]
    dims = {len(v) for v in vectors}
    if len(dims) > 1:
        raise ProviderResponseError(
            f"the vectors have different lengths {sorted(dims)}", provider=EMBEDDING_PROVIDER
        )
    return vectors
