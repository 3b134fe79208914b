"""Edge cases found by adversarial QA of the plugin (pytester, in-process)."""

from __future__ import annotations

import pytest

from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import dedent

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

SHARED = '''
import pytest

import agent_code


@pytest.mark.llm_cassette("shared")
async def test_a():
    assert await agent_code.ask(agent_code.openai(), "a") == "echo: a"


@pytest.mark.llm_cassette("shared")
async def test_b():
    assert await agent_code.ask(agent_code.openai(), "b") == "echo: b"


@pytest.mark.llm_cassette("shared")
async def test_c():
    assert await agent_code.ask(agent_code.openai(), "a") == "echo: a"
'''


def test_a_shared_cassette_is_not_reported_unused_by_each_test(
        project: pytest.Pytester, echo_server: LoopbackServer) -> None:
    """Each test uses its own part of a shared cassette: none of it is unused."""
    project.makepyfile(test_shared=dedent(SHARED))
    recorded = project.runpytest("--llm-record-mode=once")
    recorded.assert_outcomes(passed=3)
    assert len(echo_server.requests) == 2
    assert "left unused" not in recorded.stdout.str()
    replayed = project.runpytest()
    replayed.assert_outcomes(passed=3)
    assert "left unused" not in replayed.stdout.str()
    # Only test_a runs: test_b's interaction is unused, reported once for the file.
    partial = project.runpytest("-k", "test_a")
    partial.assert_outcomes(passed=1)
    partial.stdout.fnmatch_lines([
        "1 interaction left unused in 1 cassette*",
        "  cassettes/shared.yaml: 1 unused (test_shared.py::test_a)",
    ])
