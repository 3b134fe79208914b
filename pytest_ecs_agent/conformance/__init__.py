"""Conformance suites: check that a provider or vector store keeps the protocol.

::

    from pytest_ecs_agent.conformance import Capabilities, ChatProviderConformance

    class TestMyProvider(ChatProviderConformance):
        capabilities = Capabilities(streaming=True, tools=True, response_format=True)

        def make_provider(self):
            return MyProvider(...)

Every property is a test method; a broken rule fails with ``rule <name>: ...`` and the
minimal input Hypothesis found; a capability not declared is skipped with the reason.
"""

from __future__ import annotations

from pytest_ecs_agent.conformance._base import ConformanceFailure, ConformanceSuite
from pytest_ecs_agent.conformance.capabilities import Capabilities
from pytest_ecs_agent.conformance.chat import ChatProviderConformance
from pytest_ecs_agent.conformance.embeddings import EmbeddingProviderConformance
from pytest_ecs_agent.conformance.profiles import FAST, LIVE, register_profiles, resolve_settings
from pytest_ecs_agent.conformance.vector_store import VectorStoreConformance

__all__ = [
    "FAST",
    "LIVE",
    "Capabilities",
    "ChatProviderConformance",
    "ConformanceFailure",
    "ConformanceSuite",
    "EmbeddingProviderConformance",
    "VectorStoreConformance",
    "register_profiles",
    "resolve_settings",
]
