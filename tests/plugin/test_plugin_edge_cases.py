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


def test_the_guard_blocks_gethostbyname_and_udp_sendto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name lookups other than getaddrinfo, and UDP datagrams, are network traffic too.

    The real functions are replaced by recorders first, so nothing leaves the machine
    even when the guard lets a call through.
    """
    import socket

    from pytest_ecs_agent.network import NetworkBlockedError, NetworkGuard

    reached: list[str] = []
    monkeypatch.setattr(socket, "gethostbyname", lambda host: reached.append(host) or "10.0.0.1")
    monkeypatch.setattr(socket, "gethostbyname_ex",
                        lambda host: reached.append(host) or (host, [], ["10.0.0.1"]))
    monkeypatch.setattr(socket.socket, "sendto",
                        lambda self, *args: reached.append(str(args[-1])) or 1, raising=False)
    with NetworkGuard(["localhost"]).installed() as guard:
        with pytest.raises(NetworkBlockedError, match=r"example\.invalid:0"):
            socket.gethostbyname("example.invalid")
        with pytest.raises(NetworkBlockedError, match=r"example\.invalid:0"):
            socket.gethostbyname_ex("example.invalid")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(NetworkBlockedError, match=r"10\.255\.255\.1:53"):
                udp.sendto(b"x", ("10.255.255.1", 53))
            with pytest.raises(NetworkBlockedError, match=r"10\.255\.255\.1:53"):
                udp.sendto(b"x", 0, ("10.255.255.1", 53))
            assert udp.sendto(b"x", ("127.0.0.1", 9)) == 1  # allowed hosts still work
        assert socket.gethostbyname("localhost") == "10.0.0.1"
        assert len(guard.blocked) == 2
    assert reached == ["('127.0.0.1', 9)", "localhost"]


def test_summary_records_keep_used_positions_compact() -> None:
    """The positions travel in every report (xdist, JUnit XML): ranges, not 10,000 ints."""
    from pytest_ecs_agent.summary import CassetteRecord

    record = CassetteRecord("t.py::t", "c.yaml", "none", 0, 10_001, 0, False,
                            loaded=10_002, used=(*range(10_000), 10_001))
    data = record.to_dict()
    assert data["used"] == "0-9999,10001"
    assert CassetteRecord.from_dict(data) == record
    older = {k: v for k, v in data.items() if k not in ("loaded", "used")}
    assert CassetteRecord.from_dict(older).used == ()


def test_a_shared_cassette_under_xdist(project: pytest.Pytester,
                                       echo_server: LoopbackServer) -> None:
    project.makepyfile(test_shared=dedent(SHARED))
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=3)
    replayed = project.runpytest_subprocess("-p", "xdist", "-n", "2")
    replayed.assert_outcomes(passed=3)
    assert "left unused" not in replayed.stdout.str()


SWALLOWING = '''
import os

import pytest

import agent_code


@pytest.mark.llm_cassette
async def test_falls_back():
    try:  # agent code often turns any provider error into a fallback answer
        answer = await agent_code.ask(agent_code.openai(), os.environ.get("PROMPT", "hello"))
    except Exception:
        answer = "fallback"
    assert answer
'''


def test_a_cassette_miss_swallowed_by_the_code_still_fails_the_test(
        project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Like a blocked connection: otherwise CI is green with no (or a stale) cassette."""
    project.makepyfile(test_swallow=dedent(SWALLOWING))
    missing = project.runpytest()
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines([
        "*cassettes/test_swallow/test_falls_back.yaml does not exist*",
        "*pytest test_swallow.py::test_falls_back --llm-record-mode=once*",
    ])
    project.runpytest("--llm-record-mode=once").assert_outcomes(passed=1)
    project.runpytest().assert_outcomes(passed=1)
    monkeypatch.setenv("PROMPT", "changed")
    changed = project.runpytest()
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines([
        "*No recorded chat interaction for provider 'openai' matches this request*",
        "*--llm-record-mode=new_episodes*",
    ])
