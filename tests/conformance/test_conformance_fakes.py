"""The suites run on ourselves: in-process reference providers and stores."""

from __future__ import annotations

from typing import Any

from ecs_agent.providers.fake_embedding_provider import FakeEmbeddingProvider
from ecs_agent.providers.retry_provider import RetryProvider
from ecs_agent.providers.vector_store import InMemoryVectorStore
from ecs_agent.types import RetryConfig
from pytest_ecs_agent.conformance import (
    Capabilities,
    ChatProviderConformance,
    EmbeddingProviderConformance,
    VectorStoreConformance,
)
from tests.conformance.conformance_references import EchoFakeProvider

FULL = Capabilities(streaming=True, tools=True, response_format=True, deterministic=True)


class TestEchoFakeProvider(ChatProviderConformance):
    capabilities = FULL

    def make_provider(self) -> Any:
        return EchoFakeProvider()


class TestRetryEchoFakeProvider(ChatProviderConformance):
    capabilities = FULL
    max_examples = 5  # the wrapper passes calls through; TestEchoFakeProvider has 20

    def make_provider(self) -> Any:
        return RetryProvider(EchoFakeProvider(), RetryConfig(max_attempts=2, min_wait=0.0,
                                                             max_wait=0.0))


class TestFakeEmbeddingProvider(EmbeddingProviderConformance):
    capabilities = Capabilities(deterministic=True)

    def make_provider(self) -> Any:
        return FakeEmbeddingProvider(dimension=16)


class TestInMemoryVectorStore(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return InMemoryVectorStore(dimension)
