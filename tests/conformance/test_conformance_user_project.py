"""The README's three-line subclass, in a user's project, with the user's own provider.

Each run is a separate pytest process (``runpytest_subprocess``): Hypothesis' pytest
plugin loads ``--hypothesis-profile`` into process-wide settings, and the import checks
need a clean ``sys.modules``.
"""

from __future__ import annotations

import sys

import pytest

USER_PROVIDER = '''
import json
from ecs_agent.types import CompletionResult, Message, StreamDelta, Usage

CALLS = []


class MyProvider:
    """A user's provider: not a FakeProvider, no ecs_agent base class."""

    async def complete(self, messages, tools=None, stream=False, response_format=None):
        CALLS.append(len(messages))
        text = "you said: " + messages[-1].content
        usage = Usage(prompt_tokens=len(messages), completion_tokens=1,
                      total_tokens=len(messages) + 1)
        if not stream:
            return CompletionResult(Message("assistant", text), usage)

        async def deltas():
            yield StreamDelta(content=text)
            yield StreamDelta(finish_reason="stop", usage=usage)
        return deltas()
'''

SUITE = '''
from pytest_ecs_agent.conformance import Capabilities, ChatProviderConformance
from my_provider import MyProvider


class TestMyProvider(ChatProviderConformance):
    capabilities = Capabilities(streaming=True, deterministic=True)
    max_examples = 3

    def make_provider(self):
        return MyProvider()
'''

ASYNCIO_STRICT_NEIGHBOUR = '''
import asyncio
import pytest

@pytest.mark.asyncio
async def test_users_own_async_test_still_runs():
    await asyncio.sleep(0)
'''

NO_ASYNCIO = '''
import pytest

def test_pytest_asyncio_is_really_absent():
    with pytest.raises(ImportError):
        import pytest_asyncio  # noqa: F401
'''

PROFILE_CONFTEST = '''
from hypothesis import settings
settings.register_profile("mine", max_examples=4, deadline=None)
'''

COUNTING_SUITE = '''
from pytest_ecs_agent.conformance import ChatProviderConformance
import my_provider


class TestCount(ChatProviderConformance):
    """No max_examples, no settings_profile: the profile loaded on the command line rules."""

    def make_provider(self):
        return my_provider.MyProvider()

    def test_complete_returns_assistant_result(self):
        my_provider.CALLS.clear()
        super().test_complete_returns_assistant_result()
        print("CALLS", len(my_provider.CALLS))
'''


def _project(pytester: pytest.Pytester, **files: str) -> None:
    pytester.makepyfile(my_provider=USER_PROVIDER, test_suite=SUITE, test_count=COUNTING_SUITE,
                        **files)
    pytester.makeconftest(PROFILE_CONFTEST)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def _check(result: pytest.RunResult, calls: int) -> None:
    """TestMyProvider: 7 passed, 2 skipped (tools, response_format); TestCount: 3 passed,
    6 skipped (nothing declared); plus the project's own test."""
    outcomes = result.parseoutcomes()
    out = result.stdout.str()[-4000:]
    assert outcomes.get("passed") == 11, out
    assert outcomes.get("skipped") == 8, out
    assert "failed" not in outcomes and "errors" not in outcomes, out
    assert "xfailed" not in outcomes, out
    # the profile named on the command line decides how many examples run
    result.stdout.fnmatch_lines([f"*CALLS {calls}*"])
    result.stdout.fnmatch_lines([
        "SKIPPED * TestMyProvider does not declare capability tools (set capabilities = "
        "Capabilities(tools=True) to check it)",
        "SKIPPED * TestMyProvider does not declare capability response_format*",
    ])


def test_strict_asyncio_mode_and_the_users_own_profile(pytester: pytest.Pytester) -> None:
    _project(pytester, test_neighbour=ASYNCIO_STRICT_NEIGHBOUR)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict",
                                           "-rs", "-s", "--hypothesis-profile=mine")
    _check(result, calls=4)


def test_without_pytest_asyncio_installed_and_the_live_profile(pytester: pytest.Pytester) -> None:
    """``--hypothesis-profile=ecs-agent-live``: registered before Hypothesis loads it."""
    _project(pytester, test_absent=NO_ASYNCIO)
    # `python -c` puts the project first on sys.path: this package shadows the installed
    # one, so every `import pytest_asyncio` (ours, pytest's, the user's) fails as if absent.
    pytester.mkpydir("pytest_asyncio").joinpath("__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pytest_asyncio'\", name='pytest_asyncio')\n")
    code = ("import pytest\n"
            "raise SystemExit(pytest.main(['-p', 'no:asyncio', '-p', 'no:cacheprovider', '-rs',"
            " '-s', '--hypothesis-profile=ecs-agent-live']))\n")
    result = pytester.run(sys.executable, "-c", code)
    _check(result, calls=5)


def test_pytest_help_never_imports_strategies_or_suites(pytester: pytest.Pytester) -> None:
    """Importing the strategies registers type strategies: only a user's import may do it."""
    help_run = pytester.run(sys.executable, "-X", "importtime", "-m", "pytest", "--help",
                            "-p", "no:cacheprovider")
    assert help_run.ret == 0
    assert "--llm-record-mode" in help_run.stdout.str()  # our plugin was loaded
    imported = help_run.stderr.str()
    assert "pytest_ecs_agent.strategies" not in imported
    assert "pytest_ecs_agent.conformance" not in imported
    assert " hypothesis.strategies" not in imported
