"""OpenAIProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["OpenAIProvider", "pydantic_to_response_format"]


class OpenAIProvider:
    """Stub."""


def pydantic_to_response_format(model: object) -> dict[str, object]:
    """Stub."""
    raise NotImplementedError
