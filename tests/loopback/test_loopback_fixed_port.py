"""``LoopbackServer(port=...)``: a fixed port gives a stable URL (recording scripts)."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from pytest_ecs_agent.loopback import LoopbackServer, Reply, wire


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_on_a_free_port() -> LoopbackServer:
    """A server on a port found free first (retried if another process takes it meanwhile)."""
    for _ in range(5):
        port = _free_port()
        try:
            return LoopbackServer(port=port).start()
        except OSError:
            continue
    raise AssertionError("no free port on 127.0.0.1 after 5 attempts")


def test_a_fixed_port_is_bound_and_serves() -> None:
    server = _start_on_a_free_port()
    with server:
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}"
        assert server.openai_base_url == f"http://127.0.0.1:{port}/v1"
        server.enqueue(Reply.json(wire.openai_chat_completion("fixed")))
        response = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                              headers={"Authorization": "Bearer sk-test-port"},
                              json={"model": "gpt-4o-mini",
                                    "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == "fixed"
        assert [r.path for r in server.requests] == ["/v1/chat/completions"]


def test_the_same_port_is_reusable_right_after_close() -> None:
    first = _start_on_a_free_port()
    port = first.port
    with first:  # one connection, so the closed port has a socket in TIME_WAIT
        first.enqueue(Reply.json({"ok": True}))
        assert httpx.get(f"{first.url}/anything").json() == {"ok": True}
    with LoopbackServer(port=port) as second:
        assert second.port == port
        second.enqueue(Reply.json({"again": True}))
        assert httpx.get(f"{second.url}/anything").json() == {"again": True}


def test_a_port_in_use_is_a_clear_error_and_leaks_no_thread() -> None:
    threads = set(threading.enumerate())
    with _start_on_a_free_port() as holder:
        taken = LoopbackServer(port=holder.port)
        with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{holder.port}.*"
                                          "pick a free port, or port=0"):
            taken.start()
        with pytest.raises(RuntimeError, match="not started"):
            _ = taken.url
        taken.close()
    assert set(threading.enumerate()) <= threads


@pytest.mark.parametrize(("port", "error", "message"), [
    (-1, ValueError, "port must be 0 \\(ephemeral\\) or 1-65535, got -1"),
    (65536, ValueError, "got 65536"),
    ("8080", TypeError, "port must be an int .*got str '8080'"),
    (True, TypeError, "got bool True"),
])
def test_bad_ports_are_rejected_when_constructed(port: object, error: type[Exception],
                                                 message: str) -> None:
    with pytest.raises(error, match=message):
        LoopbackServer(port=port)  # type: ignore[arg-type]
