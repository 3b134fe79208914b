"""Shared constants and small helpers of the loopback server tests."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "ANTHROPIC_HEADERS",
    "OPENAI_HEADERS",
    "TIMEOUT",
    "anthropic_body",
    "chat_body",
    "sse_data",
]

OPENAI_HEADERS = {"Authorization": "Bearer sk-test-loopback"}
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test-loopback", "anthropic-version": "2023-06-01"}
TIMEOUT = httpx.Timeout(10.0)


def chat_body(text: str = "Capital of France?", **extra: Any) -> dict[str, Any]:
    """A minimal valid OpenAI chat request body."""
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def anthropic_body(text: str = "Capital of France?", **extra: Any) -> dict[str, Any]:
    """A minimal valid Anthropic Messages request body."""
    return {
        "model": "claude-3-5-haiku-20241022",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def sse_data(text: str) -> list[str]:
    """The ``data:`` payloads of an event-stream text, in order (independent tiny parser)."""
    out = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line[len("data:"):].strip() for line in frame.split("\n")
                 if line.startswith("data:")]
        if lines:
            out.append("\n".join(lines))
    return out
