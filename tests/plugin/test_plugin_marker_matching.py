"""Marker options that reach the cassette engine: matching and redaction (pytester)."""

from __future__ import annotations

import pytest

from pytest_ecs_agent.loopback import LoopbackServer

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

MATCHING_TESTS = '''
import os

import pytest

import agent_code


@pytest.mark.llm_cassette(match_ignore_patterns=[r"\\d{{4}}-\\d{{2}}-\\d{{2}}"])
async def test_dated_prompt():
    prompt = f"Today is {{os.environ['TODAY']}}. Any news?"
    assert (await agent_code.ask(agent_code.openai(), prompt)).startswith("echo: Today is")


@pytest.mark.llm_cassette(allow_playback_repeats={repeats})
async def test_repeated_call():
    for _ in range(int(os.environ["CALLS"])):
        assert await agent_code.ask(agent_code.openai(), "again") == "echo: again"


@pytest.mark.llm_cassette(redact_env=["MY_SERVICE_TOKEN"])
async def test_secret_in_prompt():
    token = os.environ["MY_SERVICE_TOKEN"]
    assert await agent_code.ask(agent_code.openai(), f"token {{token}}") == f"echo: token {{token}}"
'''


def test_marker_matching_and_redaction(project: pytest.Pytester, echo_server: LoopbackServer,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    token = "tok-live-9f8e7d6c5b4a3210"
    monkeypatch.setenv("MY_SERVICE_TOKEN", token)
    monkeypatch.setenv("TODAY", "2024-01-31")
    monkeypatch.setenv("CALLS", "1")
    project.makepyfile(test_matching=MATCHING_TESTS.format(repeats="True"))
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=3)
    assert len(echo_server.requests) == 3
    cassette = project.path / "cassettes" / "test_matching" / "test_secret_in_prompt.yaml"
    assert token not in cassette.read_text()

    # another date and a repeated call replay; nothing reaches the server.
    monkeypatch.setenv("TODAY", "2025-06-15")
    monkeypatch.setenv("CALLS", "3")
    project.runpytest("-k", "dated or repeated").assert_outcomes(passed=2)
    assert len(echo_server.requests) == 3

    # without allow_playback_repeats the second identical call is a miss.
    project.makepyfile(test_matching=MATCHING_TESTS.format(repeats="False"))
    strict = project.runpytest("-k", "repeated")
    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["*every recording has already been served*"])
    assert len(echo_server.requests) == 3
