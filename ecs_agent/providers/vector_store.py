"""VectorStore protocol and InMemoryVectorStore (stub: being written)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["InMemoryVectorStore", "VectorStore"]


@runtime_checkable
class VectorStore(Protocol):
    """Stores vectors by id and finds the nearest ones."""

    async def add(self, id: str, vector: list[float], metadata: dict[str, Any] | None = None) -> None: ...
    async def search(self, query_vector: list[float], top_k: int = 5) -> list[tuple[str, float]]: ...
    async def delete(self, id: str) -> None: ...


class InMemoryVectorStore:
    """Stub."""
