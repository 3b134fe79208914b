"""LiteLLMProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["LiteLLMProvider"]


class LiteLLMProvider:
    """Stub."""
