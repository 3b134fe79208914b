"""Scripted replies of the loopback server and the record of what it received.

A :class:`Reply` says what the server answers to one request: a JSON or raw body, a
``text/event-stream`` flushed frame by frame, a vendor error, or no answer at all (the
connection is closed). Faults are part of the reply: a slow first byte
(``first_byte_delay``), a slow stream (``delay`` between frames), a stream cut after N
frames (``drop_after``) and ``retry-after`` / ``retry-after-ms`` headers on errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_ecs_agent.loopback import wire

__all__ = ["ReceivedRequest", "Reply", "split_sse"]

ReplyKind = Literal["body", "sse", "drop"]

_BLANK_LINE = re.compile(r"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the server received it.

    ``headers`` has lower-case keys; ``body`` is the raw bytes; ``json`` is the parsed
    body, or ``None`` when the body is empty or not JSON; ``query`` is the raw query string.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    query: str = ""


def split_sse(text: str) -> list[str]:
    """Split an event-stream text at blank lines into frames, each ending in a blank line."""
    frames = [part.strip("\r\n") for part in _BLANK_LINE.split(text)]
    return [frame + "\n\n" for frame in frames if frame.strip()]


def _check_delay(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"Reply: {name} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _check_status(status: int) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"Reply: status must be an HTTP status code (100-599), got {status!r}")
    return status


def _headers(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    if not isinstance(headers, Mapping):
        raise ValueError(f"Reply: headers must be a mapping of str to str, got {headers!r}")
    out = []
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(
                f"Reply: header {key!r} must map a str to a str, got {type(value).__name__}"
            )
        out.append((key, value))
    return tuple(out)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, slots=True)
class Reply:
    """What the server answers to one request. Build it with the class methods."""

    kind: ReplyKind
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str = "application/json"
    frames: tuple[str, ...] = field(default_factory=tuple)
    delay: float = 0.0
    first_byte_delay: float = 0.0
    drop_after: int | None = None

    @classmethod
    def json(
        cls,
        body: Any,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        first_byte_delay: float = 0.0,
    ) -> Reply:
        """A JSON body (serialised now, so a non-JSON value fails here, not in the server)."""
        try:
            data = json.dumps(body).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Reply.json: body is not JSON-serialisable: {exc}") from exc
        return cls(
            kind="body",
            status=_check_status(status),
            headers=_headers(headers),
            body=data,
            first_byte_delay=_check_delay("first_byte_delay", first_byte_delay),
        )

    @classmethod
    def raw(
        cls,
        body: bytes | str,
        status: int = 200,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        *,
        first_byte_delay: float = 0.0,
    ) -> Reply:
        """A body sent exactly as given (use it for malformed JSON or odd content types)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise ValueError(f"Reply.raw: body must be bytes or str, got {type(body).__name__}")
        return cls(
            kind="body",
            status=_check_status(status),
            headers=_headers(headers),
            body=body,
            content_type=content_type,
            first_byte_delay=_check_delay("first_byte_delay", first_byte_delay),
        )

    @classmethod
    def sse(
        cls,
        frames: Sequence[str] | str,
        *,
        delay: float = 0.0,
        first_byte_delay: float = 0.0,
        drop_after: int | None = None,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Reply:
        """A ``text/event-stream``; each frame is flushed on its own (chunked encoding).

        ``frames`` is a list of frames (``"data: {...}"``, a trailing blank line is added
        when missing) or one text, split at blank lines. ``delay`` is waited before every
        frame after the first, ``first_byte_delay`` before anything is sent.
        ``drop_after=N`` closes the connection abruptly after N frames (0: right after
        the headers), so the client sees an incomplete chunked body.
        """
        if isinstance(frames, str):
            parts = split_sse(frames)
        else:
            if isinstance(frames, bytes) or not all(isinstance(f, str) for f in frames):
                raise ValueError("Reply.sse: frames must be a str or a list of str")
            parts = [f.rstrip("\r\n") + "\n\n" for f in frames]
        if drop_after is not None and (
            isinstance(drop_after, bool) or not isinstance(drop_after, int) or drop_after < 0
        ):
            raise ValueError(f"Reply.sse: drop_after must be an int >= 0, got {drop_after!r}")
        return cls(
            kind="sse",
            status=_check_status(status),
            headers=_headers(headers),
            content_type="text/event-stream; charset=utf-8",
            frames=tuple(parts),
            delay=_check_delay("delay", delay),
            first_byte_delay=_check_delay("first_byte_delay", first_byte_delay),
            drop_after=drop_after,
        )

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        *,
        vendor: str = "openai",
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        headers: Mapping[str, str] | None = None,
        type: str | None = None,
        code: str | None = None,
        first_byte_delay: float = 0.0,
    ) -> Reply:
        """A vendor error body (``vendor``: ``"openai"`` or ``"anthropic"``/``"claude"``).

        The error ``type`` (and OpenAI ``code``) default to what the vendor sends for that
        status. ``retry_after`` sets the ``retry-after`` header (seconds) and
        ``retry_after_ms`` the ``retry-after-ms`` header (milliseconds).
        """
        status = _check_status(status)
        if vendor == "openai":
            body = wire.openai_error_for_status(status, message, type=type, code=code)
        elif vendor in ("anthropic", "claude"):
            body = wire.anthropic_error(message, type=type or wire.anthropic_error_type(status))
        else:
            raise ValueError(f"Reply.error: vendor must be 'openai' or 'anthropic', got {vendor!r}")
        extra = list(_headers(headers))
        if retry_after is not None:
            extra.append(("retry-after", _seconds(_check_delay("retry_after", retry_after))))
        if retry_after_ms is not None:
            extra.append(
                ("retry-after-ms", _seconds(_check_delay("retry_after_ms", retry_after_ms)))
            )
        return cls(
            kind="body",
            status=status,
            headers=tuple(extra),
            body=json.dumps(body).encode("utf-8"),
            first_byte_delay=_check_delay("first_byte_delay", first_byte_delay),
        )

    @classmethod
    def drop(cls, *, first_byte_delay: float = 0.0) -> Reply:
        """Close the connection without sending any answer."""
        return cls(kind="drop", first_byte_delay=_check_delay("first_byte_delay", first_byte_delay))
