"""The public names: pinned, importable the way the issue documents them, conforming."""

from __future__ import annotations

import importlib

import pytest

import ecs_agent
import ecs_agent.intercept
import ecs_agent.providers
import ecs_agent.providers.openai_provider
import ecs_agent.types

PINNED = {
    ecs_agent: [
        "CompletionResult", "Message", "RetryConfig", "RetryProvider", "StreamDelta",
        "ToolCall", "ToolSchema", "Usage",
    ],
    ecs_agent.providers: [
        "ClaudeProvider", "EmbeddingProvider", "FakeEmbeddingProvider", "FakeProvider",
        "InMemoryVectorStore", "LLMProvider", "LiteLLMProvider", "OpenAIEmbeddingProvider",
        "OpenAIProvider", "RetryProvider", "VectorStore", "pydantic_to_response_format",
    ],
    ecs_agent.providers.openai_provider: [
        "OpenAIProvider", "OpenAIStream", "pydantic_to_response_format",
    ],
    ecs_agent.types: [
        "CompletionResult", "Message", "RetryConfig", "StreamDelta", "ToolCall", "ToolSchema",
        "Usage",
    ],
    ecs_agent.intercept: [
        "ChatCall", "ChatOutcome", "EmbedCall", "Interceptor", "LiveChat", "LiveEmbed",
        "SendHTTP", "current_interceptor", "dispatch_chat", "dispatch_embed", "use_interceptor",
    ],
}


@pytest.mark.parametrize("module", list(PINNED), ids=lambda m: m.__name__)
def test_all_is_pinned(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert sorted(names) == sorted(PINNED[module])  # type: ignore[index]
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None


def test_imports_shown_in_the_issue() -> None:
    from ecs_agent import RetryConfig, RetryProvider
    from ecs_agent.providers import ClaudeProvider, FakeProvider, LiteLLMProvider, OpenAIProvider
    from ecs_agent.providers.embedding_protocol import EmbeddingProvider
    from ecs_agent.providers.embedding_provider import OpenAIEmbeddingProvider
    from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider
    from ecs_agent.providers.openai_provider import pydantic_to_response_format
    from ecs_agent.providers.protocol import LLMProvider
    from ecs_agent.providers.vector_store import InMemoryVectorStore, VectorStore
    from ecs_agent.types import (
        CompletionResult,
        Message,
        StreamDelta,
        ToolCall,
        ToolSchema,
        Usage,
    )
    from ecs_agent.types import RetryConfig as TypesRetryConfig

    assert RetryConfig is TypesRetryConfig
    assert RetryProvider is ecs_agent.providers.RetryProvider
    for obj in (ClaudeProvider, FakeProvider, LiteLLMProvider, OpenAIProvider, EmbeddingProvider,
                OpenAIEmbeddingProvider, FakeEmbeddingProvider, LLMProvider, InMemoryVectorStore,
                VectorStore, CompletionResult, Message, StreamDelta, ToolCall, ToolSchema, Usage):
        assert isinstance(obj, type)
    assert callable(pydantic_to_response_format)
    assert ecs_agent.providers.pydantic_to_response_format is pydantic_to_response_format


@pytest.mark.parametrize("path", [
    "ecs_agent.providers.protocol", "ecs_agent.providers.openai_provider",
    "ecs_agent.providers.embedding_protocol", "ecs_agent.providers.embedding_provider",
    "ecs_agent.providers.fake_embedding_provider", "ecs_agent.providers.vector_store",
    "ecs_agent.providers.retry_provider", "ecs_agent.providers.fake_provider",
])
def test_documented_module_paths_have_all_and_docstring(path: str) -> None:
    module = importlib.import_module(path)
    assert module.__doc__
    for name in module.__all__:
        assert hasattr(module, name), f"{path}.__all__ names {name!r}, which is missing"


def test_protocol_conformance_of_the_fakes_and_retry_provider() -> None:
    from ecs_agent.providers import (
        EmbeddingProvider,
        FakeEmbeddingProvider,
        FakeProvider,
        InMemoryVectorStore,
        LLMProvider,
        RetryProvider,
        VectorStore,
    )

    assert isinstance(FakeProvider(), LLMProvider)
    assert isinstance(RetryProvider(provider=FakeProvider()), LLMProvider)
    assert isinstance(FakeEmbeddingProvider(), EmbeddingProvider)
    assert isinstance(InMemoryVectorStore(3), VectorStore)
    assert not isinstance(FakeEmbeddingProvider(), LLMProvider)
    assert not isinstance(FakeProvider(), EmbeddingProvider)
