"""Lifecycle: start/close, context manager, idempotent close, threads joined, the fixture."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import httpx
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply


def _connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "loopback-connection"]


def test_start_binds_an_ephemeral_port_on_localhost() -> None:
    server = LoopbackServer().start()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0
        assert server.openai_base_url == server.url + "/v1"
        assert server.anthropic_base_url == server.url
        assert server.start() is server  # starting twice is harmless
    finally:
        server.close()


def test_two_servers_get_different_ports() -> None:
    with LoopbackServer() as first, LoopbackServer() as second:
        assert first.port != second.port


def test_close_is_idempotent_and_stops_serving() -> None:
    server = LoopbackServer().start()
    url = server.url
    server.close()
    server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)


def test_address_before_start_and_restart_after_close_are_clear_errors() -> None:
    server = LoopbackServer()
    with pytest.raises(RuntimeError, match="not started; call start"):
        _ = server.url
    server.close()  # closing a never-started server is fine
    with pytest.raises(RuntimeError, match="cannot start a closed server"):
        server.start()


def test_close_aborts_idle_keep_alive_connections_and_joins_threads() -> None:
    before = set(_connection_threads())
    with LoopbackServer() as server, httpx.Client(timeout=5) as client:
        server.enqueue(Reply.json({}))
        client.get(server.url + "/x")  # the connection stays open (keep-alive)
        assert set(_connection_threads()) - before
        server.close()
        assert not set(_connection_threads()) - before
        serve_threads = [t for t in threading.enumerate()
                         if t.name == f"loopback-server-{server.port}"]
        assert serve_threads == []


def test_close_interrupts_a_stream_parked_in_a_long_delay() -> None:
    before = set(_connection_threads())
    server = LoopbackServer().start()
    server.enqueue(Reply.sse(["data: 1", "data: 2"], delay=3600))
    with httpx.Client(timeout=30) as client, client.stream("GET", server.url + "/s") as resp:
        chunks = resp.iter_raw()
        assert next(chunks) == b"data: 1\n\n"
        server.close()  # must not wait an hour
        with pytest.raises(httpx.RemoteProtocolError):
            list(chunks)
    assert not set(_connection_threads()) - before


def test_close_drops_a_client_that_never_sends_its_request() -> None:
    server = LoopbackServer().start()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")  # unfinished
        server.close()
        try:
            data = sock.recv(1024)
        except ConnectionResetError:
            data = b""
        assert data == b""  # the server closed the connection (FIN or RST)
    finally:
        sock.close()


def test_a_server_left_open_does_not_block_interpreter_exit() -> None:
    script = (
        "import threading, httpx\n"
        "from pytest_ecs_agent.loopback import LoopbackServer, Reply\n"
        "server = LoopbackServer().start()\n"
        "server.enqueue(Reply.sse(['data: 1', 'data: 2'], delay=3600))\n"
        "def read():\n"
        "    with httpx.stream('GET', server.url + '/s', timeout=None) as r:\n"
        "        for _ in r.iter_raw():\n"
        "            started.set()\n"
        "started = threading.Event()\n"
        "threading.Thread(target=read, daemon=True).start()\n"
        "assert started.wait(30)\n"
        "print('exiting with the server open')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "exiting with the server open\n"


def test_llm_server_fixture_yields_a_started_server(llm_server: LoopbackServer) -> None:
    llm_server.enqueue(Reply.json({"up": True}))
    assert httpx.get(llm_server.url + "/health", timeout=5).json() == {"up": True}


def test_llm_server_fixture_closes_after_each_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import httpx
        import pytest

        URLS = []

        def test_first(llm_server):
            assert llm_server.echo is False and llm_server.validate is True
            URLS.append(llm_server.url)

        def test_second(llm_server):
            with pytest.raises(httpx.ConnectError):
                httpx.get(URLS[0], timeout=5)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
