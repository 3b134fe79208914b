"""ecs_agent: an LLM provider library for agents (OpenAI, Claude, LiteLLM, embeddings)."""

from __future__ import annotations

from ecs_agent.providers.retry_provider import RetryProvider
from ecs_agent.types import (
    CompletionResult,
    Message,
    RetryConfig,
    StreamDelta,
    ToolCall,
    ToolSchema,
    Usage,
)

__all__ = [
    "CompletionResult",
    "Message",
    "RetryConfig",
    "RetryProvider",
    "StreamDelta",
    "ToolCall",
    "ToolSchema",
    "Usage",
]
