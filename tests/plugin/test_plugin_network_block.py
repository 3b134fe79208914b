"""The network guard as users meet it: marked tests, allowed hosts, --llm-block-network."""

from __future__ import annotations

import pytest

from pytest_ecs_agent.loopback import LoopbackServer

from .conftest import INI

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")

GUARD_TESTS = '''
import os
import socket

import pytest

PORT = int(os.environ["LOOPBACK_URL"].rsplit(":", 1)[1])


def connect(host="127.0.0.1"):
    with socket.create_connection((host, PORT), timeout=5):
        pass


@pytest.mark.llm_cassette
def test_blocked():
    connect()


@pytest.mark.llm_cassette
def test_swallowed():
    try:
        connect()
    except Exception:
        pass


@pytest.mark.llm_cassette
def test_external_host():
    socket.getaddrinfo("api.openai.com", 443)


@pytest.mark.llm_cassette(allowed_hosts=["127.0.0.1"])
def test_allowed_ip():
    connect()


@pytest.mark.llm_cassette(allowed_hosts=["localhost"])
def test_allowed_name():
    connect("localhost")


@pytest.mark.llm_cassette(record_mode="rewrite")
def test_recording_is_open():
    connect()


@pytest.mark.llm_cassette
def test_unix_sockets_pass(tmp_path):
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen(1)
        client.connect(path)


def test_unmarked():
    connect()


def test_unmarked_with_the_loopback_server(llm_server):
    with socket.create_connection(("127.0.0.1", llm_server.port), timeout=5):
        pass


@pytest.mark.llm_cassette
def test_marked_with_the_loopback_server(llm_server):
    with socket.create_connection(("127.0.0.1", llm_server.port), timeout=5):
        pass
'''


def test_guard_in_marked_tests(project: pytest.Pytester, echo_server: LoopbackServer) -> None:
    project.makepyfile(test_guard=GUARD_TESTS)
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(failed=3, passed=7)
    port = echo_server.port
    result.stdout.fnmatch_lines([
        f"E *NetworkBlockedError: pytest_ecs_agent blocked a connection to 127.0.0.1:{port}: "
        "test test_guard.py::test_blocked has no cassette (cassettes/test_guard/test_blocked.yaml)"
        " and record mode 'none' only replays (allowed hosts: none). Record it: pytest "
        "test_guard.py::test_blocked --llm-record-mode=once. *",
    ])
    result.stdout.fnmatch_lines([
        f"pytest_ecs_agent blocked connection(s) to 127.0.0.1:{port}: test "
        "test_guard.py::test_swallowed has no cassette*",
    ])
    result.stdout.fnmatch_lines([
        "E *NetworkBlockedError: pytest_ecs_agent blocked a connection to api.openai.com:443: "
        "test test_guard.py::test_external_host*",
    ])
    assert echo_server.requests == []


def test_block_network_everywhere(project: pytest.Pytester, echo_server: LoopbackServer) -> None:
    project.makepyfile(test_guard=GUARD_TESTS)
    blocked = project.runpytest("--llm-block-network", "-k", "unmarked")
    blocked.assert_outcomes(failed=1, passed=1)  # the loopback server is always allowed
    blocked.stdout.fnmatch_lines([
        f"*blocked a connection to 127.0.0.1:{echo_server.port}: test "
        "test_guard.py::test_unmarked runs with --llm-block-network*"])
    project.runpytest("--llm-block-network", "--llm-allowed-hosts=db.internal,127.0.0.1",
                      "-k", "unmarked").assert_outcomes(passed=2)
    project.makeini(INI.format(mode="auto") + "llm_block_network = true\n"
                    "llm_allowed_hosts = localhost\n")
    project.runpytest("-k", "test_unmarked or test_blocked").assert_outcomes(passed=3)


def test_closest_marker_wins(project: pytest.Pytester) -> None:
    project.makepyfile(test_closest='''
        import os
        import socket

        import pytest

        pytestmark = pytest.mark.llm_cassette(allowed_hosts=["127.0.0.1"])
        PORT = int(os.environ["LOOPBACK_URL"].rsplit(":", 1)[1])

        def test_module_marker():
            socket.create_connection(("127.0.0.1", PORT), timeout=5).close()

        @pytest.mark.llm_cassette("own")
        def test_own_marker_replaces_the_module_one(llm_cassette):
            assert llm_cassette.path.name == "own.yaml"
            socket.create_connection(("127.0.0.1", PORT), timeout=5).close()
    ''')
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_closest.py::test_own_marker_replaces_the_module*"])
