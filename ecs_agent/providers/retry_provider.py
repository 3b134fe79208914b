"""RetryProvider (stub: being written)."""

from __future__ import annotations

__all__ = ["RetryProvider"]


class RetryProvider:
    """Stub."""
