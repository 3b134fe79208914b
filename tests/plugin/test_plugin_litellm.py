"""LiteLLM recorded at the domain level and replayed offline (pytester, in-process)."""

from __future__ import annotations

import pytest

from ecs_agent.providers.litellm_provider import import_litellm
from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import INI

# Imported at collection, never inside a pytester test: litellm imports the
# importlib_metadata backport, which adds its finder to sys.meta_path and disables the
# stdlib's; pytester would then remove that finder when the test ends and every later
# in-process pytest run would find no plugins at all.
import_litellm()

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")


def test_litellm_record_then_replay(project: pytest.Pytester,
                                    echo_server: LoopbackServer) -> None:
    # litellm's internals warn (pydantic ReadOnly TypedDicts, deprecated pydantic access)
    # on first use; they are not what this test is about.
    project.makeini(INI.format(mode="auto") + "    ignore::UserWarning\n"
                    "    ignore::DeprecationWarning\n")
    project.makepyfile(test_litellm='''
        import os

        import pytest

        from ecs_agent.providers import LiteLLMProvider
        from ecs_agent.types import Message

        def make():
            return LiteLLMProvider(model="openai/gpt-4o-mini", api_key="sk-test-replay-0000",
                                   base_url=os.environ["LOOPBACK_URL"] + "/v1")

        @pytest.mark.llm_cassette
        async def test_litellm():
            provider = make()
            result = await provider.complete([Message("user", "hi")])
            assert result.message.content == "echo: hi"
            stream = await provider.complete([Message("user", "yo")], stream=True)
            assert "".join([d.content or "" async for d in stream]) == "echo: yo"
            await provider.aclose()
    ''')
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2
    replayed = project.runpytest()
    replayed.assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2
    replayed.stdout.fnmatch_lines(["1 test with a cassette: 0 recorded (0 interactions), "
                                   "1 replayed (2 interactions), 0 files written"])
