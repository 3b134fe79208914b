"""Echo mode: a valid, deterministic answer derived from the request itself.

Chat (OpenAI and Anthropic) answers ``"echo: <last user text>"``; a forced tool choice
(``"required"``, a named function, Anthropic ``any``/``tool``), or ``echo_tools`` with a
user message last, calls a tool with arguments generated from its JSON schema; a
``json_schema`` response format gets JSON text valid against the schema. ``stream``,
``stream_options.include_usage`` and ``max_tokens`` are honoured. Embeddings are
deterministic unit vectors (8 dimensions unless ``dimensions`` says otherwise), base64
when ``encoding_format`` is ``base64``. Tokens are counted as whitespace-separated words.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from typing import Any

from pytest_ecs_agent.loopback import wire
from pytest_ecs_agent.loopback.replies import Reply
from pytest_ecs_agent.loopback.schema import schema_instance
from pytest_ecs_agent.loopback.validation import ANTHROPIC_MESSAGES, OPENAI_CHAT, OPENAI_EMBEDDINGS

__all__ = ["DEFAULT_DIMENSIONS", "echo_reply", "echo_vector"]

DEFAULT_DIMENSIONS = 8

_WORD = re.compile(r"\S+\s*|\s+")


def echo_reply(path: str, data: Any, *, tools: bool = False) -> Reply | None:
    """The echo answer to a (valid) request on ``path``; ``None`` for an unknown path.

    Raises ``SchemaError`` when a schema cannot be satisfied.
    """
    if not isinstance(data, dict):
        return None
    if path == OPENAI_CHAT:
        return _openai_chat(data, tools)
    if path == ANTHROPIC_MESSAGES:
        return _anthropic(data, tools)
    if path == OPENAI_EMBEDDINGS:
        return _embeddings(data)
    return None


def _digest(data: dict[str, Any]) -> str:
    """A hash of the request without its transport options: a streamed and a plain call
    of the same request get the same ids, as the same answer."""
    core = {k: v for k, v in data.items() if k not in ("stream", "stream_options")}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode("utf-8")).hexdigest()


def _words(text: str) -> int:
    return len(text.split())


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "tool_result":
                parts.append(_text_of(part.get("content")))
        return " ".join(parts)
    return ""


def _last_user_text(messages: list[Any]) -> str:
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            blocks = msg.get("content")
            if isinstance(blocks, list) and all(
                isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks
            ):
                continue  # an Anthropic tool-result turn, not what the user said
            return _text_of(blocks)
    return ""


def _truncate(text: str, limit: Any) -> tuple[str, bool]:
    if not isinstance(limit, int) or isinstance(limit, bool) or _words(text) <= limit:
        return text, False
    pieces = [p for p in _WORD.findall(text)]
    kept: list[str] = []
    count = 0
    for piece in pieces:
        if piece.strip():
            if count == limit:
                break
            count += 1
        kept.append(piece)
    return "".join(kept).rstrip(), True


def _pieces(text: str) -> list[str]:
    return _WORD.findall(text) or ([text] if text else [])


# --------------------------------------------------------------------------- OpenAI


def _openai_tool(data: dict[str, Any], tools: bool) -> dict[str, Any] | None:
    offered: list[dict[str, Any]] = [
        t["function"] for t in data.get("tools") or []
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    if not offered:
        return None
    choice = data.get("tool_choice")
    if choice == "none":
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((f for f in offered if f.get("name") == name), None)
    messages = data["messages"]
    last_is_user = isinstance(messages[-1], dict) and messages[-1].get("role") == "user"
    if choice == "required" or (tools and last_is_user):
        return offered[0]
    return None


def _openai_chat(data: dict[str, Any], tools: bool) -> Reply:
    messages = data["messages"]
    user = _last_user_text(messages)
    digest = _digest(data)
    ident = f"chatcmpl-echo{digest[:20]}"
    model = data["model"]
    prompt = sum(_words(_text_of(m.get("content"))) for m in messages if isinstance(m, dict))
    tool = _openai_tool(data, tools)
    calls: list[wire.ToolCallSpec] = []
    text = ""
    finish = None
    if tool is not None:
        args = schema_instance(tool.get("parameters") or {"type": "object"}, text=user)
        calls.append((f"call_{digest[:24]}", str(tool["name"]), args))
        completion = max(1, len(json.dumps(args)) // 4)
    else:
        fmt = data.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            text = json.dumps(schema_instance(spec.get("schema") or {"type": "object"},
                                              text=user))
        elif fmt.get("type") == "json_object":
            text = json.dumps({"echo": user})
        else:
            text = f"echo: {user}"
            limit = data.get("max_completion_tokens", data.get("max_tokens"))
            text, cut = _truncate(text, limit)
            finish = "length" if cut else None
        completion = _words(text)
    usage = (prompt, completion)
    if data.get("stream"):
        options = data.get("stream_options") or {}
        frames = wire.openai_chat_stream(
            _pieces(text), tool_calls=calls or None, finish_reason=finish, usage=usage,
            include_usage=bool(options.get("include_usage")), model=model, id=ident,
        )
        return Reply.sse(frames)
    body = wire.openai_chat_completion(
        None if calls else text, tool_calls=calls or None, finish_reason=finish, usage=usage,
        model=model, id=ident,
    )
    return Reply.json(body)


# --------------------------------------------------------------------------- Anthropic


def _anthropic_tool(data: dict[str, Any], tools: bool) -> dict[str, Any] | None:
    offered = [t for t in data.get("tools") or []
               if isinstance(t, dict) and isinstance(t.get("input_schema"), dict)]
    if not offered:
        return None
    choice = data.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type")
    if kind == "none":
        return None
    if kind == "tool":
        return next((t for t in offered if t.get("name") == choice.get("name")), None)
    if kind == "any":
        return offered[0]
    last = data["messages"][-1] if data["messages"] else None
    if not tools or not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    blocks = content if isinstance(content, list) else []
    answers_tool = any(isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks)
    return None if answers_tool else offered[0]


def _anthropic_schema(data: dict[str, Any]) -> Any:
    fmt = data.get("output_format")
    if not isinstance(fmt, dict):
        fmt = (data.get("output_config") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        return fmt.get("schema") or {"type": "object"}
    return None


def _anthropic(data: dict[str, Any], tools: bool) -> Reply:
    messages = data["messages"]
    user = _last_user_text(messages)
    digest = _digest(data)
    ident = f"msg_echo{digest[:22]}"
    model = data["model"]
    system = _text_of(data.get("system"))
    prompt = _words(system) + sum(
        _words(_text_of(m.get("content"))) for m in messages if isinstance(m, dict)
    )
    tool = _anthropic_tool(data, tools)
    calls: list[wire.ToolCallSpec] = []
    text = ""
    stop = None
    if tool is not None:
        args = schema_instance(tool["input_schema"], text=user)
        calls.append((f"toolu_echo{digest[:22]}", str(tool["name"]), args))
        completion = max(1, len(json.dumps(args)) // 4)
    else:
        schema = _anthropic_schema(data)
        if schema is not None:
            text = json.dumps(schema_instance(schema, text=user))
        else:
            text, cut = _truncate(f"echo: {user}", data["max_tokens"])
            stop = "max_tokens" if cut else None
        completion = _words(text)
    usage = (prompt, completion)
    if data.get("stream"):
        frames = wire.anthropic_stream(
            _pieces(text), tool_calls=calls or None, stop_reason=stop, usage=usage,
            model=model, id=ident,
        )
        return Reply.sse(frames)
    body = wire.anthropic_message(
        text or None, tool_calls=calls or None, stop_reason=stop, usage=usage, model=model,
        id=ident,
    )
    return Reply.json(body)


# --------------------------------------------------------------------------- embeddings


def echo_vector(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A deterministic unit vector for ``text`` (float32 values, stable across processes)."""
    values: list[float] = []
    block = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        for k in range(0, len(digest), 4):
            values.append(int.from_bytes(digest[k : k + 4], "little") / 2**31 - 1.0)
        block += 1
    values = values[:dimensions]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    unit = [v / norm for v in values]
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *unit)))


def _embedding_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(v, int) for v in value):
        return [json.dumps(value)]
    return [v if isinstance(v, str) else json.dumps(v) for v in value]


def _embeddings(data: dict[str, Any]) -> Reply:
    texts = _embedding_texts(data["input"])
    dims = data.get("dimensions") or DEFAULT_DIMENSIONS
    vectors = [echo_vector(t, dims) for t in texts]
    tokens = sum(max(1, _words(t)) for t in texts)
    body = wire.openai_embeddings(
        vectors, base64=data.get("encoding_format") == "base64", model=data["model"],
        prompt_tokens=tokens,
    )
    return Reply.json(body)
