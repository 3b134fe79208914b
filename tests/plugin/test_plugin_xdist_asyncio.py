"""pytest-asyncio strict mode (function and module loops) and pytest-xdist, in subprocesses."""

from __future__ import annotations

import pytest

from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import INI

STRICT_TESTS = '''
import pytest
import pytest_asyncio

import agent_code


@pytest.fixture
def sync_provider():
    return agent_code.openai()


@pytest_asyncio.fixture
async def greeting():
    """An async fixture that calls the model while it is set up."""
    return await agent_code.ask(agent_code.claude(), "fixture call")


@pytest.mark.asyncio
@pytest.mark.llm_cassette
async def test_function_loop(sync_provider, greeting):
    assert greeting == "echo: fixture call"
    assert await agent_code.ask(sync_provider, "strict") == "echo: strict"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.llm_cassette
async def test_module_loop_first():
    assert await agent_code.ask(agent_code.openai(), "first") == "echo: first"


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.llm_cassette
async def test_module_loop_second():
    assert await agent_code.ask(agent_code.claude(), "second", stream=True) == "echo: second"
'''

XDIST_TESTS = '''
import pytest

import agent_code


@pytest.mark.llm_cassette
@pytest.mark.parametrize("city", ["paris", "tokyo", "lima", "oslo"])
async def test_city(city):
    assert await agent_code.ask(agent_code.openai(), city) == f"echo: {city}"
'''

BAD_MARKER = '''
import pytest


@pytest.mark.llm_cassette(recordmode="once")
def test_bad():
    pass
'''


def test_asyncio_strict_mode(project: pytest.Pytester, echo_server: LoopbackServer) -> None:
    project.makeini(INI.format(mode="strict"))
    project.makepyfile(test_strict=STRICT_TESTS)
    project.runpytest_subprocess("--llm-record-mode=once").assert_outcomes(passed=3)
    assert len(echo_server.requests) == 4
    replayed = project.runpytest_subprocess()
    replayed.assert_outcomes(passed=3)
    assert len(echo_server.requests) == 4
    replayed.stdout.fnmatch_lines(["3 tests with a cassette: 0 recorded (0 interactions), "
                                   "3 replayed (4 interactions), 0 files written"])


def test_xdist_records_and_replays_with_one_summary(project: pytest.Pytester,
                                                     echo_server: LoopbackServer) -> None:
    project.makepyfile(test_cities=XDIST_TESTS, test_bad=BAD_MARKER)
    recorded = project.runpytest_subprocess("-p", "xdist", "-n", "2", "--llm-record-mode=once")
    recorded.assert_outcomes(passed=4, errors=1)
    assert len(echo_server.requests) == 4
    recorded.stdout.fnmatch_lines(["4 tests with a cassette: 4 recorded (4 interactions), "
                                   "0 replayed (0 interactions), 4 files written"])
    # a bad marker on a worker is an error of that test (raising at collection would
    # crash the worker)
    recorded.stdout.fnmatch_lines(["*UsageError: test_bad.py::test_bad: llm_cassette got "
                                   "unknown keyword argument(s) recordmode*"])
    replayed = project.runpytest_subprocess("-p", "xdist", "-n", "2", "-v", "test_cities.py")
    replayed.assert_outcomes(passed=4)
    assert len(echo_server.requests) == 4
    replayed.stdout.fnmatch_lines([
        "4 tests with a cassette: 0 recorded (0 interactions), 4 replayed (4 interactions), "
        "0 files written",
        "per test:",
        "  test_cities.py::test_city[lima]: cassettes/test_cities/test_city[lima].yaml [none] "
        "recorded 0, replayed 1, unused 0",
    ])
