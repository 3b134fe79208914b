"""A user's suite under ``@pytest.mark.llm_cassette``: recorded once, replayed exactly.

Two separate processes, as in real life: the first records against the "live" provider,
the second replays with the provider refusing live calls and a different set of local
modules loaded (Hypothesis draws constants from local modules; the suite keeps
derandomized generation independent of them).
"""

from __future__ import annotations

import pytest

USER_SUITE = '''
import os

import pytest

from ecs_agent.providers.fake_provider import stream_result
from ecs_agent.types import CompletionResult, Message, Usage
from pytest_ecs_agent.conformance import (
    Capabilities, ChatProviderConformance, EmbeddingProviderConformance)


class LiveOnly:
    """Stands in for a live API: refuses to answer when REPLAY_ONLY is set."""

    model = "my-model"

    async def complete(self, messages, tools=None, stream=False, response_format=None):
        if os.environ.get("REPLAY_ONLY"):
            raise RuntimeError("a live call during replay")
        text = "echo: " + messages[-1].content
        result = CompletionResult(Message("assistant", text), Usage(2, 2, 4))
        return stream_result(result) if stream else result

    async def embed(self, texts):
        if os.environ.get("REPLAY_ONLY"):
            raise RuntimeError("a live call during replay")
        return [[float(len(t)), 1.0, float(sum(map(ord, t)) % 7)] for t in texts]


@pytest.mark.llm_cassette
class TestMyChat(ChatProviderConformance):
    capabilities = Capabilities(streaming=True, deterministic=True)
    max_examples = 6

    def make_provider(self):
        return LiveOnly()


@pytest.mark.llm_cassette
class TestMyEmbeddings(EmbeddingProviderConformance):
    capabilities = Capabilities(deterministic=True)
    max_examples = 6

    def make_provider(self):
        return LiveOnly()
'''

# Loaded only in the replay run: a local module full of string and number constants.
CONSTANTS = "\n".join(f'NAME_{i} = "constant-{i}-\\u00e9"\nNUM_{i} = {1000 + i}'
                      for i in range(200))


ARGS = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")


def test_recorded_suite_replays_exactly_in_another_process(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(test_mine=USER_SUITE)
    recorded = pytester.runpytest_subprocess(*ARGS, "--llm-record-mode=once")
    recorded.assert_outcomes(passed=11, skipped=2)
    cassettes = sorted(p.name for p in pytester.path.rglob("*.yaml"))
    assert len(cassettes) == 11, cassettes

    pytester.makepyfile(local_constants=CONSTANTS)
    pytester.makeconftest("import local_constants  # noqa: F401\n")
    monkeypatch.setenv("REPLAY_ONLY", "1")
    replayed = pytester.runpytest_subprocess(*ARGS)
    replayed.assert_outcomes(passed=11, skipped=2)
    assert sorted(p.name for p in pytester.path.rglob("*.yaml")) == cassettes
