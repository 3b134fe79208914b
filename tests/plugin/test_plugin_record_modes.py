"""Record modes, their precedence, misses and missing cassettes (pytester, in-process)."""

from __future__ import annotations

import pytest
import yaml

from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import INI

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

PROMPT_TEST = '''
import os

import pytest

import agent_code


@pytest.mark.llm_cassette{marker}
async def test_prompt():
    for prompt in os.environ["PROMPTS"].split(","):
        assert await agent_code.ask(agent_code.openai(), prompt) == f"echo: {{prompt}}"
'''


def _prompts(path: pytest.Pytester) -> list[str]:
    data = yaml.safe_load((path.path / "cassettes" / "test_modes" / "test_prompt.yaml").read_text())
    return [i["request"]["messages"][0]["content"] for i in data["interactions"]]


def test_record_modes(project: pytest.Pytester, echo_server: LoopbackServer,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(test_modes=PROMPT_TEST.format(marker=""))
    monkeypatch.setenv("PROMPTS", "a")

    # none (the default) with no cassette: fails, names the file and the command; no request.
    missing = project.runpytest()
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines([
        "*CassetteNotFoundError*cassettes/test_modes/test_prompt.yaml does not exist*",
        "*- llm cassette -*",
        "The cassette cassettes/test_modes/test_prompt.yaml does not exist*Record it with:",
        "  pytest test_modes.py::test_prompt --llm-record-mode=once",
    ])
    assert echo_server.requests == []

    # once: records when the file is missing, replays when it exists.
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 1
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 1
    assert _prompts(project) == ["a"]

    # new_episodes: replays what matches, records and appends the rest.
    monkeypatch.setenv("PROMPTS", "a,b")
    project.runpytest("--llm-record-mode=new_episodes").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2
    assert _prompts(project) == ["a", "b"]

    # none: a changed prompt fails with a diff that names the cassette; nothing is sent.
    monkeypatch.setenv("PROMPTS", "a,c")
    changed = project.runpytest()
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines([
        "*CassetteMismatchError*",
        "*cassette: *cassettes/test_modes/test_prompt.yaml*",
        "*-*\"content\": \"b\"*",
        "*+*\"content\": \"c\"*",
    ])
    changed.stdout.fnmatch_lines([
        "*- llm cassette -*",
        "  pytest test_modes.py::test_prompt --llm-record-mode=new_episodes",
    ])
    assert len(echo_server.requests) == 2
    assert _prompts(project) == ["a", "b"]

    # all: every call live; a re-recorded request replaces its old interaction.
    monkeypatch.setenv("PROMPTS", "a")
    project.runpytest("--llm-record-mode=all").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 3
    assert _prompts(project) == ["a", "b"]

    # rewrite: the file becomes exactly this run.
    project.runpytest("--llm-record-mode=rewrite").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 4
    assert _prompts(project) == ["a"]

    # the summary reports interactions the test no longer makes.
    monkeypatch.setenv("PROMPTS", "a,b")
    project.runpytest("--llm-record-mode=rewrite").assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPTS", "b")
    unused = project.runpytest("-v")
    unused.assert_outcomes(passed=1)
    unused.stdout.fnmatch_lines([
        "1 test with a cassette: 0 recorded (0 interactions), 1 replayed (1 interaction), "
        "0 files written",
        "1 interaction left unused in 1 cassette*",
        "  cassettes/test_modes/test_prompt.yaml: 1 unused (test_modes.py::test_prompt)",
        "per test:",
        "  test_modes.py::test_prompt: cassettes/test_modes/test_prompt.yaml [none] "
        "recorded 0, replayed 1, unused 1",
    ])


def test_precedence_cli_over_marker_over_ini(project: pytest.Pytester,
                                             echo_server: LoopbackServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTS", "a")
    # ini alone: rewrite records every run.
    project.makeini(INI.format(mode="auto") + "llm_record_mode = rewrite\n")
    project.makepyfile(test_modes=PROMPT_TEST.format(marker=""))
    project.runpytest().assert_outcomes(passed=1)
    project.runpytest().assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2

    # the marker beats the ini: once replays the existing file.
    project.makepyfile(test_modes=PROMPT_TEST.format(marker='(record_mode="once")'))
    project.runpytest().assert_outcomes(passed=1)
    assert len(echo_server.requests) == 2

    # the command line beats the marker: all goes live.
    project.runpytest("--llm-record-mode=all").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 3

    # and none on the command line beats a recording marker.
    project.makepyfile(test_modes=PROMPT_TEST.format(marker='(record_mode="all")'))
    project.runpytest("--llm-record-mode=none").assert_outcomes(passed=1)
    assert len(echo_server.requests) == 3


def test_rewrite_keeps_the_old_file_when_the_test_fails(project: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTS", "a")
    project.makepyfile(test_modes=PROMPT_TEST.format(marker=""))
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    project.makepyfile(test_modes=PROMPT_TEST.format(marker="") + "    assert False\n")
    monkeypatch.setenv("PROMPTS", "z")
    project.runpytest("--llm-record-mode=rewrite").assert_outcomes(failed=1)
    assert _prompts(project) == ["a"]


def test_a_failing_test_saves_its_recording_but_never_truncates(
        project: pytest.Pytester, echo_server: LoopbackServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    failing = PROMPT_TEST.format(marker="") + "    assert False\n"
    project.makepyfile(test_modes=failing)
    monkeypatch.setenv("PROMPTS", "a,b,c")
    project.runpytest("--llm-record-mode=once").assert_outcomes(failed=1)
    assert _prompts(project) == ["a", "b", "c"]  # recorded before the failure: kept
    monkeypatch.setenv("PROMPTS", "b,d")
    project.runpytest("--llm-record-mode=all").assert_outcomes(failed=1)
    assert _prompts(project) == ["a", "b", "c", "d"]  # b replaced in place, d added
    monkeypatch.setenv("PROMPTS", "e")
    project.runpytest("--llm-record-mode=new_episodes").assert_outcomes(failed=1)
    assert _prompts(project) == ["a", "b", "c", "d", "e"]
    assert len(echo_server.requests) == 6

    # a passing test that no longer calls the model: rewrite empties its cassette.
    project.makepyfile(test_modes="import pytest\n\n\n@pytest.mark.llm_cassette\n"
                                  "def test_prompt():\n    pass\n")
    project.runpytest("--llm-record-mode=rewrite").assert_outcomes(passed=1)
    assert _prompts(project) == []
    project.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "fragment"),
    [('(recordmode="once")', "unknown keyword argument(s) recordmode"),
     ('(record_mode="sometimes")', "accepted values: 'none', 'once', 'new_episodes'"),
     ('(allowed_hosts="localhost")', "takes a list of host names or IP addresses"),
     ('(match_ignore=["messages[*"])', "match_ignore"),
     ('("a", "b")', "at most one positional argument")],
)
def test_bad_marker_arguments_are_usage_errors(project: pytest.Pytester, marker: str,
                                               fragment: str) -> None:
    project.makepyfile(test_modes=PROMPT_TEST.format(marker=marker))
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_modes.py::test_prompt*{fragment}*"])


def test_bad_ini_and_command_line_values(project: pytest.Pytester) -> None:
    project.makepyfile(test_modes=PROMPT_TEST.format(marker=""))
    bad_cli = project.runpytest("--llm-record-mode=sometimes")
    assert bad_cli.ret == pytest.ExitCode.USAGE_ERROR
    bad_cli.stderr.fnmatch_lines(["*--llm-record-mode: invalid choice: 'sometimes'*"])
    project.makeini(INI.format(mode="auto") + "llm_replay = http\n")
    bad_ini = project.runpytest()
    assert bad_ini.ret == pytest.ExitCode.USAGE_ERROR
    bad_ini.stderr.fnmatch_lines(["*llm_replay: got 'http'; accepted values: 'domain', 'wire'*"])


SHARED_TESTS = '''
import pytest

import agent_code

pytestmark = pytest.mark.llm_cassette("shared")


async def test_first():
    assert await agent_code.ask(agent_code.openai(), "first") == "echo: first"


async def test_second():
    assert await agent_code.ask(agent_code.openai(), "second") == "echo: second"


def test_without_calls():
    pass
'''


def test_tests_sharing_a_cassette_record_it_together(project: pytest.Pytester,
                                                     echo_server: LoopbackServer) -> None:
    project.makepyfile(test_shared=SHARED_TESTS)
    shared = project.path / "cassettes" / "shared.yaml"

    def prompts() -> list[str]:
        data = yaml.safe_load(shared.read_text())
        return [i["request"]["messages"][0]["content"] for i in data["interactions"]]

    # once: the second test records what the first one's file lacks (it does not replay
    # a file an earlier test of the same run just created, and fail).
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=3)
    assert prompts() == ["first", "second"] and len(echo_server.requests) == 2
    project.runpytest().assert_outcomes(passed=3)
    # rewrite: the file becomes this run's recording of all of them, not the last test's
    # (nor emptied by the test that makes no call).
    project.runpytest("--llm-record-mode=rewrite").assert_outcomes(passed=3)
    assert prompts() == ["first", "second"] and len(echo_server.requests) == 4
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=3)  # exists: replays
    assert len(echo_server.requests) == 4
    project.runpytest("-k", "second", "--llm-record-mode=rewrite").assert_outcomes(passed=1)
    assert prompts() == ["second"]  # a rewrite run really starts the file again
