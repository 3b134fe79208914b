"""The suites can fail: each broken provider is caught by the property naming its rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.conformance_broken import EXPECTED

BROKEN = Path(__file__).with_name("conformance_broken.py").read_text(encoding="utf-8")


def _reports(pytester: pytest.Pytester, *args: str) -> dict[str, pytest.TestReport]:
    recorder = pytester.inline_run("-p", "no:cacheprovider", "-o",
                                   "asyncio_default_fixture_loop_scope=function", *args)
    reports: dict[str, pytest.TestReport] = {}
    for report in recorder.getreports("pytest_runtest_logreport"):
        if report.when == "call" or report.outcome != "passed":
            reports[report.nodeid.split("::", 1)[1]] = report
    return reports


def test_each_broken_provider_fails_on_the_rule_it_breaks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN)
    reports = _reports(pytester, *[f"test_broken.py::{test}" for test in EXPECTED])
    assert set(reports) == set(EXPECTED)
    wrong = {}
    for test, rule in EXPECTED.items():
        report = reports[test]
        text = report.longreprtext
        # The drawn input is shown ("Failing test case:" in current Hypothesis versions).
        shown = ("Falsifying example" in text or "Failing test case" in text
                 or test.endswith("empty_list"))
        if not (report.failed and f"rule {rule}: " in text and shown):
            wrong[test] = (report.outcome, rule, text[-1500:])
    assert not wrong, wrong


GOOD = '''
from pytest_ecs_agent.conformance import Capabilities, ChatProviderConformance
from tests.conformance.conformance_references import EchoFakeProvider

class TestFirst(ChatProviderConformance):
    capabilities = Capabilities(streaming=True, tools=True)
    max_examples = 5
    def make_provider(self):
        return EchoFakeProvider()

class TestSecond(TestFirst):
    pass

class TestNothingDeclared(ChatProviderConformance):
    max_examples = 5
    def make_provider(self):
        return EchoFakeProvider()
'''


@pytest.mark.parametrize("mode", [["-o", "asyncio_mode=strict"], ["-o", "asyncio_mode=auto"],
                                  ["-p", "no:asyncio"]])
def test_suite_runs_in_any_asyncio_mode_and_in_several_subclasses(
        pytester: pytest.Pytester, mode: list[str]) -> None:
    """Inherited properties in two subclasses: no differing_executors health check."""
    pytester.makepyfile(test_good=GOOD)
    reports = _reports(pytester, *mode)
    failed = {k: r.longreprtext[-800:] for k, r in reports.items() if r.failed}
    assert not failed
    passed = {k for k, r in reports.items() if r.passed}
    assert "TestSecond::test_stream_rules" in passed
    assert "TestFirst::test_stream_rules" in passed
    assert "TestNothingDeclared::test_complete_returns_assistant_result" in passed


def test_undeclared_capabilities_are_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_good=GOOD)
    reports = _reports(pytester, "-k", "TestNothingDeclared")
    skipped = {k: r for k, r in reports.items() if r.skipped}
    assert set(skipped) == {
        "TestNothingDeclared::test_tool_calls_name_offered_tools_with_valid_arguments",
        "TestNothingDeclared::test_stream_rules",
        "TestNothingDeclared::test_stream_reassembles_to_complete",
        "TestNothingDeclared::test_stream_closed_early_leaks_nothing",
        "TestNothingDeclared::test_response_format_content_validates",
        "TestNothingDeclared::test_concurrent_calls_equal_sequential",
    }
    reason = skipped["TestNothingDeclared::test_stream_rules"].longrepr
    assert "does not declare capability streaming" in str(reason)
    assert not any(getattr(r, "wasxfail", None) for r in reports.values())


SHRINKS = '''
from ecs_agent.types import CompletionResult, Message
from pytest_ecs_agent.conformance import ChatProviderConformance


class BreaksOnLongInput:
    """Answers as the user whenever any message has 3 or more characters."""

    async def complete(self, messages, tools=None, stream=False, response_format=None):
        role = "user" if any(len(m.content) >= 3 for m in messages) else "assistant"
        return CompletionResult(Message(role, "ok"))


class TestShrinks(ChatProviderConformance):
    def make_provider(self):
        return BreaksOnLongInput()
'''


def test_a_failure_shows_the_minimal_failing_input(pytester: pytest.Pytester) -> None:
    """With the default profile (shrinking on) the reported conversation is minimal."""
    pytester.makepyfile(test_shrinks=SHRINKS)
    reports = _reports(pytester, "-k", "test_complete_returns_assistant_result")
    report = reports["TestShrinks::test_complete_returns_assistant_result"]
    text = report.longreprtext
    assert report.failed
    assert "rule chat.result.assistant_message: complete(): result.message.role is 'user'" \
        in text
    shown = text[text.index("Failing test case" if "Failing test case" in text
                            else "Falsifying example"):]
    # shrunk to one message holding exactly three characters (Hypothesis may print the
    # string as a sum of parts)
    assert shown.count("Message(") == 1, shown
    assert "role='user'" in shown
    assert "'000'" in shown or ("'0'" in shown and "'00'" in shown), shown
