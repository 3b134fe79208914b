"""FakeEmbeddingProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["FakeEmbeddingProvider"]


class FakeEmbeddingProvider:
    """Stub."""
