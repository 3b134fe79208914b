"""The embedding provider protocol."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["EmbeddingProvider"]


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns texts into vectors: one vector per text, in input order."""

    async def embed(self, texts: list[str]) -> list[list[float]]: ...
