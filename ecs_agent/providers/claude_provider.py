"""ClaudeProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["ClaudeProvider"]


class ClaudeProvider:
    """Stub."""
