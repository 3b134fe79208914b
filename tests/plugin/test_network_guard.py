"""The socket-level network guard, on real sockets (no pytest plugin involved)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pytest_ecs_agent.network import NetworkBlockedError, NetworkGuard, active_guard, normalize_host


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP socket listening on 127.0.0.1; yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _connect(port: int, host: str = "127.0.0.1") -> None:
    with socket.create_connection((host, port), timeout=5):
        pass


def test_blocked_connection_names_host_port_and_hint(listener: int) -> None:
    guard = NetworkGuard([], describe="test t.py::test_x", hint="Record with: pytest ...")
    with guard.installed(), socket.socket() as sock, pytest.raises(NetworkBlockedError) as info:
        sock.connect(("127.0.0.1", listener))
    message = str(info.value)
    assert f"127.0.0.1:{listener}" in message
    assert "test t.py::test_x" in message
    assert "Record with: pytest ..." in message
    assert info.value.host == "127.0.0.1"
    assert info.value.port == listener
    assert guard.blocked == [f"127.0.0.1:{listener}"]


def test_connect_ex_and_create_connection_are_guarded(listener: int) -> None:
    with NetworkGuard([]).installed():
        with socket.socket() as sock, pytest.raises(NetworkBlockedError):
            sock.connect_ex(("127.0.0.1", listener))
        with pytest.raises(NetworkBlockedError, match=re.escape("example.invalid:443")):
            socket.create_connection(("example.invalid", 443))


def test_name_lookup_of_a_blocked_host_fails_without_dns() -> None:
    blocked = pytest.raises(NetworkBlockedError, match=re.escape("api.openai.com:443"))
    with NetworkGuard([]).installed(), blocked:
        socket.getaddrinfo("api.openai.com", 443)


@pytest.mark.parametrize("allowed", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_allowed_host_by_ip_or_name_connects(listener: int, allowed: str) -> None:
    with NetworkGuard([allowed]).installed() as guard:
        _connect(listener, "127.0.0.1")
        _connect(listener, "localhost")
    assert guard.blocked == []


def test_allowed_name_allows_the_addresses_it_resolves_to(listener: int) -> None:
    # "localhost" is resolved through the real getaddrinfo; its addresses become allowed.
    guard = NetworkGuard(["localhost"])
    with guard.installed():
        infos = socket.getaddrinfo("localhost", listener, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.connect(address)
    assert guard.blocked == []


def test_unix_sockets_are_never_blocked(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        with NetworkGuard([]).installed(), socket.socket(socket.AF_UNIX) as client:
            client.connect(path)
    finally:
        server.close()


def test_httpx_and_asyncio_are_blocked_at_the_socket() -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as client:
            with pytest.raises(NetworkBlockedError, match=re.escape("api.anthropic.com:443")):
                await client.get("https://api.anthropic.com/v1/messages")
        with pytest.raises(NetworkBlockedError, match=re.escape("api.openai.com:443")):
            await asyncio.open_connection("api.openai.com", 443)

    with NetworkGuard([]).installed():
        asyncio.run(main())


def test_guard_is_restored_and_nests(listener: int) -> None:
    original_connect = socket.socket.connect
    original_getaddrinfo = socket.getaddrinfo
    outer = NetworkGuard(["127.0.0.1"])
    inner = NetworkGuard([])
    with outer.installed():
        with inner.installed():
            assert active_guard() is inner
            with pytest.raises(NetworkBlockedError):
                _connect(listener)
        assert active_guard() is outer
        _connect(listener)
    assert active_guard() is None
    assert socket.socket.connect is original_connect
    assert "connect" not in socket.socket.__dict__
    assert socket.getaddrinfo is original_getaddrinfo
    _connect(listener)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("LocalHost.", "localhost"), ("[::1]", "::1"), ("::ffff:127.0.0.1", "127.0.0.1"),
     (b"Example.COM", "example.com"), ("0:0::1", "::1")],
)
def test_normalize_host(raw: str | bytes, expected: str) -> None:
    assert normalize_host(raw) == expected
