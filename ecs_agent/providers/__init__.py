"""Providers: chat (OpenAI, Claude, LiteLLM, fake, retrying), embeddings, vector store.

Also :func:`pydantic_to_response_format` (a pydantic model as a strict ``json_schema``
``response_format``), importable from here and from ``ecs_agent.providers.openai_provider``.
"""

from __future__ import annotations

from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.providers.embedding_protocol import EmbeddingProvider
from ecs_agent.providers.embedding_provider import OpenAIEmbeddingProvider
from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider
from ecs_agent.providers.fake_provider import FakeProvider
from ecs_agent.providers.litellm_provider import LiteLLMProvider
from ecs_agent.providers.openai_provider import OpenAIProvider, pydantic_to_response_format
from ecs_agent.providers.protocol import LLMProvider
from ecs_agent.providers.retry_provider import RetryProvider
from ecs_agent.providers.vector_store import InMemoryVectorStore, VectorStore

__all__ = [
    "ClaudeProvider",
    "EmbeddingProvider",
    "FakeEmbeddingProvider",
    "FakeProvider",
    "InMemoryVectorStore",
    "LLMProvider",
    "LiteLLMProvider",
    "OpenAIEmbeddingProvider",
    "OpenAIProvider",
    "RetryProvider",
    "VectorStore",
    "pydantic_to_response_format",
]
