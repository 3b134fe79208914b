"""Stored forms of HTTP bodies and SSE events, and the exact way back to bytes.

Used by recording (bytes -> stored record) and wire replay (record -> bytes).

Bodies: JSON bodies are stored parsed (``{"json": value}``), other UTF-8 text as
``{"body": str}``, anything else as ``{"body_base64": str}``. A JSON body replays as
compact JSON: the bytes may differ in whitespace from the original, the parsed value
never does.

SSE events: ``{"event": name, "id": ..., "retry": ..., "data": ...}`` (``event``, ``id``
and ``retry`` only when the stream set them). ``data`` is stored parsed when it is a JSON
object or array *and* the parsed value re-serialises to exactly the same text in one of
the known styles: compact (``{"a":1}``, OpenAI and Anthropic), compact with ASCII escapes,
or spaced (``{"a": 1}``, Python's default); the style is kept in ``"style"`` (omitted for
compact). Spaces or tabs before the closing bracket (real Anthropic frames are padded
like ``{"type":"message_stop"      }``) are kept in ``"padding"``, and those after the
JSON in ``"trailing"``. Any other data
(``[DONE]``, plain text, JSON that does not round-trip, a JSON string or number) is stored
as the string itself. So :func:`sse_data` gives back exactly the ``data`` string an SSE
parser read, and :func:`sse_frame` bytes that any SSE parser reads identically (comments
and the original line endings are not kept: parsers ignore them).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ecs_agent._sse import ServerSentEvent

__all__ = [
    "JSON_STYLES",
    "body_bytes",
    "body_record",
    "sse_data",
    "sse_frame",
    "sse_record",
    "sse_records",
]

# style name -> (item separator, key separator, ensure_ascii)
JSON_STYLES: dict[str, tuple[str, str, bool]] = {
    "compact": (",", ":", False),
    "compact-ascii": (",", ":", True),
    "spaced": (", ", ": ", False),
    "spaced-ascii": (", ", ": ", True),
}


def _dumps(value: Any, style: str) -> str:
    item, key, ascii_only = JSON_STYLES[style]
    return json.dumps(value, separators=(item, key), ensure_ascii=ascii_only)


def sse_record(event: ServerSentEvent) -> dict[str, Any]:
    """The stored form of one decoded SSE event."""
    out: dict[str, Any] = {}
    if event.event is not None:
        out["event"] = event.event
    if event.id is not None:
        out["id"] = event.id
    if event.retry is not None:
        out["retry"] = event.retry
    out.update(_data_fields(event.data))
    return out


def sse_records(events: list[ServerSentEvent]) -> list[dict[str, Any]]:
    """:func:`sse_record` of each event."""
    return [sse_record(event) for event in events]


def _data_fields(data: str) -> dict[str, Any]:
    if not data.startswith(("{", "[")):
        return {"data": data}
    body = data.rstrip(" \t")
    trailing = data[len(body):]
    inner = body[:-1].rstrip(" \t")
    padding = body[len(inner):-1]
    candidate = inner + body[-1:]
    try:
        parsed = json.loads(candidate)
    except ValueError:
        return {"data": data}
    if not isinstance(parsed, dict | list):
        return {"data": data}
    for style in JSON_STYLES:
        if _dumps(parsed, style) == candidate:
            out: dict[str, Any] = {"data": parsed}
            if style != "compact":
                out["style"] = style
            if padding:
                out["padding"] = padding
            if trailing:
                out["trailing"] = trailing
            return out
    return {"data": data}


def sse_data(record: dict[str, Any]) -> str:
    """The exact ``data`` string of a stored event."""
    data = record.get("data", "")
    if isinstance(data, str):
        return data
    style = record.get("style", "compact")
    if style not in JSON_STYLES:
        raise ValueError(f"unknown SSE data style {style!r} (expected one of {list(JSON_STYLES)})")
    text = _dumps(data, style)
    padding = record.get("padding", "")
    if isinstance(padding, str) and padding:
        text = text[:-1] + padding + text[-1:]
    trailing = record.get("trailing", "")
    return text + (trailing if isinstance(trailing, str) else "")


def sse_frame(record: dict[str, Any]) -> bytes:
    """One SSE frame (ending with the blank line) for a stored event."""
    lines: list[str] = []
    if "event" in record:
        lines.append(f"event: {record['event']}")
    if "id" in record:
        lines.append(f"id: {record['id']}")
    if "retry" in record:
        lines.append(f"retry: {record['retry']}")
    lines.extend(f"data: {line}" for line in sse_data(record).split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def body_record(content: bytes, content_type: str | None = None) -> dict[str, Any]:
    """``{"json": value}``, ``{"body": text}`` or ``{"body_base64": text}`` for ``content``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(content).decode("ascii")}
    stripped = text.strip()
    looks_json = "json" in (content_type or "").lower() or stripped.startswith(("{", "["))
    if looks_json and stripped:
        try:
            return {"json": json.loads(stripped)}
        except ValueError:
            pass
    return {"body": text}


def body_bytes(record: dict[str, Any]) -> bytes:
    """The bytes to serve for a stored body (compact JSON for ``json``)."""
    if "json" in record:
        return json.dumps(record["json"], separators=(",", ":"), ensure_ascii=False).encode()
    if "body_base64" in record:
        return base64.b64decode(record["body_base64"])
    body = record.get("body", "")
    return body.encode("utf-8") if isinstance(body, str) else b""
