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


def _project(pytester: pytest.Pytester, **files: str) -> None:
    pytester.makepyfile(my_provider=USER_PROVIDER, test_suite=SUITE, **files)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def _check_outcomes(result: pytest.RunResult, passed: int) -> None:
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == passed, result.stdout.str()[-3000:]
    assert "failed" not in outcomes and "errors" not in outcomes, result.stdout.str()[-3000:]
    assert "xfailed" not in outcomes


def test_users_provider_in_strict_asyncio_mode(pytester: pytest.Pytester) -> None:
    _project(pytester, test_neighbour=ASYNCIO_STRICT_NEIGHBOUR)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=strict",
                                           "-v", "-rs")
    # complete, documented errors, inputs, stream rules, reassembly, early close,
    # concurrency (deterministic) + the user's own async test
    _check_outcomes(result, passed=8)
    result.stdout.fnmatch_lines([
        "*::test_tool_calls_name_offered_tools_with_valid_arguments SKIPPED*",
        "*::test_response_format_content_validates SKIPPED*",
        "SKIPPED * TestMyProvider does not declare capability tools (set capabilities = "
        "Capabilities(tools=True) to check it)",
        "SKIPPED * TestMyProvider does not declare capability response_format*",
    ])


def test_users_provider_without_pytest_asyncio_installed(pytester: pytest.Pytester) -> None:
    _project(pytester, test_absent=NO_ASYNCIO)
    # `python -c` puts the project first on sys.path: this package shadows the installed
    # one, so every `import pytest_asyncio` (ours, pytest's, the user's) fails as if absent.
    pytester.mkpydir("pytest_asyncio").joinpath("__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pytest_asyncio'\", name='pytest_asyncio')\n")
    code = ("import pytest\n"
            "raise SystemExit(pytest.main(['-p', 'no:asyncio', '-p', 'no:cacheprovider']))\n")
    result = pytester.run(sys.executable, "-c", code)
    _check_outcomes(result, passed=8)


PROFILE_CONFTEST = '''
from hypothesis import settings
settings.register_profile("mine", max_examples=4, deadline=None)
'''

COUNTING_SUITE = '''
from pytest_ecs_agent.conformance import ChatProviderConformance
import my_provider


class TestCount(ChatProviderConformance):
    def make_provider(self):
        return my_provider.MyProvider()

    def test_complete_returns_assistant_result(self):
        my_provider.CALLS.clear()
        super().test_complete_returns_assistant_result()
        print("CALLS", len(my_provider.CALLS))
'''


@pytest.mark.parametrize(("profile", "calls"), [("mine", 4), ("ecs-agent-live", 5)])
def test_a_profile_named_on_the_command_line_is_honoured(
        pytester: pytest.Pytester, profile: str, calls: int) -> None:
    """The user's own profile and ours (registered before Hypothesis loads it)."""
    pytester.makepyfile(my_provider=USER_PROVIDER, test_count=COUNTING_SUITE)
    pytester.makeconftest(PROFILE_CONFTEST)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-s", f"--hypothesis-profile={profile}",
        "-k", "test_complete_returns_assistant_result")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([f"*CALLS {calls}"])


IMPORTS = '''
import sys

def test_nothing_of_ours_registers_strategies(llm_server):
    assert llm_server.url.startswith("http://127.0.0.1:")
    ours = sorted(m for m in sys.modules
                  if m.startswith(("pytest_ecs_agent.strategies", "pytest_ecs_agent.conformance")))
    assert ours == []
'''


def test_the_plugin_never_imports_strategies_or_suites(pytester: pytest.Pytester) -> None:
    """Importing the strategies registers type strategies: only a user's import may do it."""
    pytester.makepyfile(test_imports=IMPORTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "--hypothesis-profile=default")
    result.assert_outcomes(passed=1)
    help_run = pytester.run(sys.executable, "-X", "importtime", "-m", "pytest", "--help",
                            "-p", "no:cacheprovider")
    assert help_run.ret == 0
    imported = help_run.stderr.str()
    assert "--llm-record-mode" in help_run.stdout.str()  # our plugin was loaded
    assert "pytest_ecs_agent.strategies" not in imported
    assert "pytest_ecs_agent.conformance" not in imported
    assert " hypothesis.strategies" not in imported
