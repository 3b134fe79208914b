"""LiteLLMProvider against the team's chat conformance suite (loopback echo, openai/ model)."""

from __future__ import annotations

import pytest

from ecs_agent.providers.litellm_provider import LiteLLMProvider
from pytest_ecs_agent.conformance import Capabilities, ChatProviderConformance
from pytest_ecs_agent.loopback import LoopbackServer

# The same two litellm-internal warnings as in test_litellm_provider.py.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Items? .* using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings(
        "ignore:Accessing the 'model_.*' attribute on the instance is deprecated"
        ":DeprecationWarning"),
]


class TestLiteLLMConformance(ChatProviderConformance):
    capabilities = Capabilities(streaming=True, tools=True, response_format=True,
                                deterministic=True)

    @pytest.fixture(autouse=True)
    def _echo_server(self, llm_server: LoopbackServer) -> None:
        llm_server.echo = True
        llm_server.echo_tools = True
        self.server = llm_server

    def make_provider(self) -> LiteLLMProvider:
        return LiteLLMProvider(model="openai/gpt-4o-mini", api_key="sk-test-conf",
                               base_url=self.server.openai_base_url)
