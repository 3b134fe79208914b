"""pytest toolkit for ecs_agent: cassettes, loopback LLM server, strategies, conformance."""

from __future__ import annotations

__all__: list[str] = []
