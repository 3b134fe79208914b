"""Builders of realistic OpenAI and Anthropic wire bodies and SSE frames.

The shapes are copied from real recorded traffic (``tests/data/real_traffic``): compact
JSON in stream frames, ``usage: null`` on every OpenAI chunk when usage is requested, the
usage chunk with ``choices: []``, tool-call arguments split across chunks with only the
first fragment carrying ``id`` and ``name``, Anthropic's ``ping`` after the first block
start, ``input_json_delta`` fragments starting with an empty one, and so on.

Every ``*_stream`` builder returns a list of frames (``"data: {...}\\n\\n"``), ready for
``Reply.sse``. Tool calls are given as ``(id, name, arguments)`` tuples where
``arguments`` is a dict (serialised compactly, as the APIs do) or a str sent verbatim.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ToolCallSpec",
    "anthropic_error",
    "anthropic_error_event",
    "anthropic_error_type",
    "anthropic_message",
    "anthropic_stream",
    "decode_embedding",
    "encode_embedding",
    "openai_chat_completion",
    "openai_chat_stream",
    "openai_embeddings",
    "openai_error",
    "openai_error_for_status",
    "sse_frame",
]

ToolCallSpec = tuple[str, str, dict[str, Any] | str]

OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"
EMBEDDING_MODEL = "text-embedding-3-small"
CREATED = 1_700_000_000


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _arguments(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else _compact(args)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def sse_frame(data: Any, event: str | None = None) -> str:
    """One SSE frame: optional ``event:`` line, ``data:`` line (JSON or str), blank line."""
    payload = data if isinstance(data, str) else _compact(data)
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {payload}\n\n"


# --------------------------------------------------------------------------- OpenAI


def _openai_usage(usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def openai_chat_completion(
    content: str | None = None,
    *,
    tool_calls: Sequence[ToolCallSpec] | None = None,
    finish_reason: str | None = None,
    usage: tuple[int, int] | None = (10, 5),
    model: str = OPENAI_MODEL,
    id: str = "chatcmpl-loopback",
    created: int = CREATED,
    refusal: str | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` body. ``finish_reason`` defaults to ``tool_calls``/``stop``."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": _arguments(a)}}
            for cid, name, a in tool_calls
        ]
    message["refusal"] = refusal
    message["annotations"] = []
    body: dict[str, Any] = {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
    }
    if usage is not None:
        body["usage"] = _openai_usage(usage)
    body["service_tier"] = "default"
    body["system_fingerprint"] = "fp_loopback"
    return body


def openai_chat_stream(
    content_pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[ToolCallSpec] | None = None,
    finish_reason: str | None = None,
    usage: tuple[int, int] = (10, 5),
    include_usage: bool = True,
    model: str = OPENAI_MODEL,
    id: str = "chatcmpl-loopback",
    created: int = CREATED,
    arguments_chunk_size: int = 8,
) -> list[str]:
    """The frames of a streamed chat completion, ending with ``data: [DONE]``.

    Role delta first (carrying the first tool-call header when there is no text), one
    chunk per content piece, each tool call as a header chunk (``index``, ``id``,
    ``name``, empty ``arguments``) then argument fragments of ``arguments_chunk_size``
    characters (``index`` only), the ``finish_reason`` chunk, then with
    ``include_usage`` the usage chunk with ``choices: []`` (and ``usage: null`` on every
    other chunk, as OpenAI sends with ``stream_options.include_usage``).
    """
    if arguments_chunk_size < 1:
        raise ValueError("openai_chat_stream: arguments_chunk_size must be >= 1")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        data: dict[str, Any] = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_loopback",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            ],
        }
        if include_usage:
            data["usage"] = None
        return sse_frame(data)

    calls = list(tool_calls or ())
    fragments: list[list[dict[str, Any]]] = []
    for index, (cid, name, args) in enumerate(calls):
        head = {
            "index": index,
            "id": cid,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        rest = [
            {"index": index, "function": {"arguments": piece}}
            for piece in _pieces(_arguments(args), arguments_chunk_size)
            if piece
        ]
        fragments.append([head, *rest])

    frames: list[str] = []
    if content_pieces or not calls:
        frames.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        frames.extend(chunk({"content": piece}) for piece in content_pieces)
    else:
        head = fragments[0][0]
        frames.append(
            chunk({"role": "assistant", "content": None, "tool_calls": [head], "refusal": None})
        )
        fragments[0] = fragments[0][1:]
    for frags in fragments:
        frames.extend(chunk({"tool_calls": [frag]}) for frag in frags)
    frames.append(chunk({}, finish_reason or ("tool_calls" if calls else "stop")))
    if include_usage:
        frames.append(
            sse_frame(
                {
                    "id": id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "service_tier": "default",
                    "system_fingerprint": "fp_loopback",
                    "choices": [],
                    "usage": _openai_usage(usage),
                }
            )
        )
    frames.append("data: [DONE]\n\n")
    return frames


def encode_embedding(vector: Sequence[float]) -> str:
    """A vector as the API's base64 of little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_embedding(data: str) -> list[float]:
    """The inverse of :func:`encode_embedding`."""
    raw = base64.b64decode(data)
    if len(raw) % 4:
        raise ValueError(f"decode_embedding: {len(raw)} bytes is not a whole number of float32")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def openai_embeddings(
    vectors: Sequence[Sequence[float]],
    base64: bool = True,
    *,
    model: str = EMBEDDING_MODEL,
    prompt_tokens: int | None = None,
) -> dict[str, Any]:
    """An embeddings list body; vectors base64 float32 (as with ``encoding_format=base64``)."""
    tokens = len(vectors) if prompt_tokens is None else prompt_tokens
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": i,
                "embedding": encode_embedding(v) if base64 else [float(x) for x in v],
            }
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def openai_error(
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """OpenAI's error body: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


_OPENAI_STATUS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def openai_error_for_status(
    status: int, message: str, *, type: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The error body OpenAI sends with ``status`` (``server_error`` for 5xx)."""
    default_type, default_code = _OPENAI_STATUS.get(
        status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    return openai_error(message, type=type or default_type, code=code or default_code)


# --------------------------------------------------------------------------- Anthropic

_ANTHROPIC_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error_type(status: int) -> str:
    """The ``error.type`` Anthropic sends with ``status``."""
    if status in _ANTHROPIC_STATUS:
        return _ANTHROPIC_STATUS[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def anthropic_error(message: str, *, type: str = "invalid_request_error") -> dict[str, Any]:
    """Anthropic's error body: ``{"type": "error", "error": {"type", "message"}}``."""
    return {"type": "error", "error": {"type": type, "message": message}}


def anthropic_error_event(type: str = "overloaded_error", message: str = "Overloaded") -> str:
    """An ``event: error`` frame, as Anthropic sends when a stream fails midway."""
    return sse_frame(anthropic_error(message, type=type), event="error")


def _anthropic_usage(
    input_tokens: int, output_tokens: int, cache_creation: int, cache_read: int
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation,
                           "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def anthropic_message(
    text: str | None = None,
    *,
    tool_calls: Sequence[ToolCallSpec] | None = None,
    stop_reason: str | None = None,
    usage: tuple[int, int] = (10, 5),
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    model: str = ANTHROPIC_MODEL,
    id: str = "msg_loopback",
) -> dict[str, Any]:
    """A Messages API body: a text block (when ``text``) then one ``tool_use`` per call.

    ``stop_reason`` defaults to ``tool_use`` with tool calls, else ``end_turn``. A str
    tool input is parsed as JSON (the non-streaming API always sends an object).
    """
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    for cid, name, args in tool_calls or ():
        tool_input = json.loads(args) if isinstance(args, str) else args
        content.append({"type": "tool_use", "id": cid, "name": name, "input": tool_input})
    return {
        "model": model,
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": stop_reason or ("tool_use" if tool_calls else "end_turn"),
        "stop_sequence": None,
        "usage": _anthropic_usage(
            usage[0], usage[1], cache_creation_input_tokens, cache_read_input_tokens
        ),
    }


def anthropic_stream(
    text_pieces: Sequence[str] = (),
    *,
    tool_calls: Sequence[ToolCallSpec] | None = None,
    stop_reason: str | None = None,
    usage: tuple[int, int] = (10, 5),
    cache_creation_input_tokens: int = 0,
    cache_read_input_tokens: int = 0,
    model: str = ANTHROPIC_MODEL,
    id: str = "msg_loopback",
    json_chunk_size: int = 8,
    ping: bool = True,
) -> list[str]:
    """The frames of a streamed Messages API answer, in the order Anthropic sends them.

    ``message_start`` (input usage, ``output_tokens: 1``), a text block when
    ``text_pieces`` (``content_block_start``, ``ping``, ``text_delta`` per piece,
    ``content_block_stop``), each tool call as a ``tool_use`` block (``input: {}``, an
    empty ``input_json_delta`` then fragments of ``json_chunk_size`` characters), then
    ``message_delta`` (stop reason, usage) and ``message_stop``.
    """
    if json_chunk_size < 1:
        raise ValueError("anthropic_stream: json_chunk_size must be >= 1")
    input_tokens, output_tokens = usage
    start_usage = _anthropic_usage(
        input_tokens, 1, cache_creation_input_tokens, cache_read_input_tokens
    )
    frames = [
        sse_frame(
            {
                "type": "message_start",
                "message": {
                    "model": model,
                    "id": id,
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
            "message_start",
        )
    ]
    index = 0
    pinged = not ping

    def block_start(block: dict[str, Any]) -> None:
        nonlocal pinged
        frames.append(sse_frame(
            {"type": "content_block_start", "index": index, "content_block": block},
            "content_block_start",
        ))
        if not pinged:
            frames.append(sse_frame({"type": "ping"}, "ping"))
            pinged = True

    def block_delta(delta: dict[str, Any]) -> None:
        frames.append(sse_frame(
            {"type": "content_block_delta", "index": index, "delta": delta},
            "content_block_delta",
        ))

    if text_pieces:
        block_start({"type": "text", "text": ""})
        for piece in text_pieces:
            block_delta({"type": "text_delta", "text": piece})
        frames.append(sse_frame({"type": "content_block_stop", "index": index},
                                "content_block_stop"))
        index += 1
    for cid, name, args in tool_calls or ():
        block_start({"type": "tool_use", "id": cid, "name": name, "input": {}})
        block_delta({"type": "input_json_delta", "partial_json": ""})
        for piece in _pieces(_arguments(args), json_chunk_size):
            if piece:
                block_delta({"type": "input_json_delta", "partial_json": piece})
        frames.append(sse_frame({"type": "content_block_stop", "index": index},
                                "content_block_stop"))
        index += 1
    frames.append(sse_frame(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason or ("tool_use" if tool_calls else "end_turn"),
                "stop_sequence": None,
            },
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_creation_input_tokens,
                "cache_read_input_tokens": cache_read_input_tokens,
                "output_tokens": output_tokens,
            },
        },
        "message_delta",
    ))
    frames.append(sse_frame({"type": "message_stop"}, "message_stop"))
    return frames
