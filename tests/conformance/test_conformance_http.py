"""The chat and embedding suites against the HTTP providers, over real sockets to the
loopback server in echo mode (valid, deterministic answers), bare and inside RetryProvider.

The server starts once per class (``make_provider`` runs per example); each example's
provider is closed afterwards, and a stream closed early must leave no connection in use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from ecs_agent.providers.claude_provider import ClaudeProvider
from ecs_agent.providers.embedding_provider import OpenAIEmbeddingProvider
from ecs_agent.providers.litellm_provider import LiteLLMProvider
from ecs_agent.providers.openai_provider import OpenAIProvider
from ecs_agent.providers.retry_provider import RetryProvider
from ecs_agent.types import RetryConfig
from pytest_ecs_agent.conformance import (
    Capabilities,
    ChatProviderConformance,
    EmbeddingProviderConformance,
)
from pytest_ecs_agent.loopback import LoopbackServer

ECHO = Capabilities(streaming=True, tools=True, response_format=True, deterministic=True)
NO_WAIT = RetryConfig(max_attempts=2, min_wait=0.0, max_wait=0.0)


class _OnLoopback:
    """Starts one echo server per class (the suite closes each example's provider, the
    one inside a RetryProvider included)."""

    server: ClassVar[LoopbackServer]
    max_examples: ClassVar[int | None] = 6

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _echo_server(cls) -> Iterator[None]:
        with LoopbackServer(echo=True, echo_tools=True) as server:
            cls.server = server
            yield


class TestOpenAIProvider(_OnLoopback, ChatProviderConformance):
    capabilities = ECHO

    def make_provider(self) -> Any:
        return OpenAIProvider(api_key="sk-test-conformance", base_url=self.server.openai_base_url)


# The retry wrappers pass every call through: a few examples show that they keep the
# protocol (the bare providers are where the properties get their examples).
class TestRetryOpenAIProvider(TestOpenAIProvider):
    max_examples = 3

    def make_provider(self) -> Any:
        return RetryProvider(super().make_provider(), NO_WAIT)


class TestClaudeProvider(_OnLoopback, ChatProviderConformance):
    capabilities = ECHO

    def make_provider(self) -> Any:
        return ClaudeProvider(api_key="sk-ant-test-conformance",
                              base_url=self.server.anthropic_base_url)


class TestRetryClaudeProvider(TestClaudeProvider):
    max_examples = 3

    def make_provider(self) -> Any:
        return RetryProvider(super().make_provider(), NO_WAIT)


# Two warnings raised inside litellm's own stream handling (pydantic on its ReadOnly
# TypedDicts; its walk over pydantic model attributes): with warnings as errors litellm
# turns them into connection errors. Not ours; the same filters as tests/providers.
LITELLM_WARNINGS = [
    pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(
        "ignore:Accessing the 'model_.*' attribute on the instance is deprecated"
        ":DeprecationWarning"),
]


@LITELLM_WARNINGS[0]
@LITELLM_WARNINGS[1]
class TestLiteLLMProvider(_OnLoopback, ChatProviderConformance):
    capabilities = ECHO
    max_examples = 4  # litellm spends ~10 ms of CPU per call

    def make_provider(self) -> Any:
        return LiteLLMProvider("openai/gpt-4o-mini", api_key="sk-test-conformance",
                               base_url=self.server.openai_base_url)


class TestRetryLiteLLMProvider(TestLiteLLMProvider):
    max_examples = 2

    def make_provider(self) -> Any:
        return RetryProvider(super().make_provider(), NO_WAIT)


class TestOpenAIEmbeddingProvider(_OnLoopback, EmbeddingProviderConformance):
    # The OpenAI API (and the loopback server, like it) rejects "" as an input.
    capabilities = Capabilities(deterministic=True, empty_texts=False)

    def make_provider(self) -> Any:
        return OpenAIEmbeddingProvider(api_key="sk-test-conformance",
                                       base_url=self.server.openai_base_url)
