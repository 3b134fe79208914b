"""OpenAIEmbeddingProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["OpenAIEmbeddingProvider"]


class OpenAIEmbeddingProvider:
    """Stub."""
