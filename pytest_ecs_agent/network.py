"""A socket-level network guard for tests that replay cassettes.

The official SDKs speak HTTP through httpx, httpx2 or aiohttp, and litellm has its own
stacks, so patching one HTTP library misses real traffic. The guard patches the socket
layer instead (``socket.socket.connect`` / ``connect_ex`` / ``sendto``,
``socket.getaddrinfo`` / ``gethostbyname`` / ``gethostbyname_ex`` and
``socket.create_connection``): every TCP/UDP connection, every UDP datagram sent with an
address, and every name lookup of a host
that is not allowed fails at once with :class:`NetworkBlockedError`, which names the
host and port and says how to record the test. Unix sockets are never blocked.

Allowed hosts match by host name (case-insensitive) or by IP address; a name that is
allowed also allows the addresses it resolves to, and ``localhost`` allows the loopback
addresses. Guards nest (the innermost one decides); the last one removed restores the
original functions. Every blocked attempt is also kept in :attr:`NetworkGuard.blocked`,
so a test whose code swallowed the error can still be failed afterwards.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "NetworkBlockedError",
    "NetworkGuard",
    "active_guard",
    "install",
    "normalize_host",
    "uninstall",
]

_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_MISSING = object()


class NetworkBlockedError(RuntimeError):
    """A test tried to reach a host that the network guard does not allow."""

    def __init__(self, host: str, port: object, message: str) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


def normalize_host(host: str | bytes) -> str:
    """Lower-case a name (no trailing dot, no IPv6 brackets); canonicalise an IP address."""
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    text = text.strip().strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


class NetworkGuard:
    """Blocks connections to any host but ``allowed_hosts`` while installed.

    ``describe`` names the test (for the error); ``hint`` says what to do about it
    (for a cassette: the command that records it).
    """

    def __init__(self, allowed_hosts: Iterable[str] = (), *, describe: str = "this test",
                 hint: str = "") -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self.describe = describe
        self.hint = hint
        self.blocked: list[str] = []
        self._allowed = {normalize_host(h) for h in self.allowed_hosts}
        if "localhost" in self._allowed:
            self._allowed |= _LOOPBACK
        self._lock = threading.Lock()

    def allows(self, host: str | bytes | None) -> bool:
        """Whether a connection to (or a lookup of) ``host`` may go ahead."""
        if host is None or host == "" or host == b"":
            return True
        name = normalize_host(host)
        if name in self._allowed:
            return True
        return name == "localhost" and bool(self._allowed & _LOOPBACK)

    def learn(self, infos: Iterable[tuple[Any, ...]]) -> None:
        """Allow the addresses an allowed name resolved to."""
        with self._lock:
            for info in infos:
                sockaddr = info[4]
                if isinstance(sockaddr, tuple) and sockaddr:
                    self._allowed.add(normalize_host(str(sockaddr[0])))

    def refuse(self, host: str | bytes, port: object) -> NetworkBlockedError:
        """Record a blocked attempt and build the error for it."""
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        target = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
        with self._lock:
            if target not in self.blocked:
                self.blocked.append(target)
        allowed = ", ".join(self.allowed_hosts) or "none"
        message = (f"pytest_ecs_agent blocked a connection to {target}: {self.describe} "
                   f"(allowed hosts: {allowed}).")
        if self.hint:
            message += f" {self.hint}"
        return NetworkBlockedError(name, port, message)

    @contextmanager
    def installed(self) -> Iterator[NetworkGuard]:
        """Install the guard for the ``with`` block."""
        install(self)
        try:
            yield self
        finally:
            uninstall(self)


_stack: list[NetworkGuard] = []
_saved: dict[str, Any] = {}
_stack_lock = threading.Lock()


def active_guard() -> NetworkGuard | None:
    """The innermost installed guard, or ``None``."""
    return _stack[-1] if _stack else None


def _is_inet(sock: socket.socket, address: object) -> bool:
    return sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)


def _guarded_connect(real: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: socket.socket, address: Any) -> Any:
        guard = active_guard()
        if guard is not None and _is_inet(self, address) and not guard.allows(address[0]):
            raise guard.refuse(address[0], address[1])
        return real(self, address)

    connect.__name__ = getattr(real, "__name__", "connect")
    connect.__doc__ = getattr(real, "__doc__", None)
    return connect


def _guarded_getaddrinfo(real: Callable[..., Any]) -> Callable[..., Any]:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        guard = active_guard()
        if guard is None:
            return real(host, port, *args, **kwargs)
        if not guard.allows(host):
            raise guard.refuse(host, port)
        infos = real(host, port, *args, **kwargs)
        guard.learn(infos)
        return infos

    getaddrinfo.__doc__ = getattr(real, "__doc__", None)
    return getaddrinfo


def _guarded_sendto(real: Callable[..., Any]) -> Callable[..., Any]:
    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        guard = active_guard()
        address: Any = args[-1] if args else None
        if guard is not None and _is_inet(self, address) and not guard.allows(address[0]):
            raise guard.refuse(address[0], address[1])
        return real(self, data, *args)

    sendto.__name__ = getattr(real, "__name__", "sendto")
    sendto.__doc__ = getattr(real, "__doc__", None)
    return sendto


def _guarded_gethostbyname(real: Callable[..., Any]) -> Callable[..., Any]:
    def gethostbyname(host: Any) -> Any:
        guard = active_guard()
        if guard is not None and not guard.allows(host):
            raise guard.refuse(host, 0)
        return real(host)

    gethostbyname.__name__ = getattr(real, "__name__", "gethostbyname")
    gethostbyname.__doc__ = getattr(real, "__doc__", None)
    return gethostbyname


_LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection")


def _guarded_create_connection(real: Callable[..., Any]) -> Callable[..., Any]:
    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        guard = active_guard()
        if guard is not None and isinstance(address, tuple) and not guard.allows(address[0]):
            raise guard.refuse(address[0], address[1])
        return real(address, *args, **kwargs)

    create_connection.__doc__ = getattr(real, "__doc__", None)
    return create_connection


_METHODS = ("connect", "connect_ex", "sendto")


def _patch() -> None:
    for name in _METHODS:
        _saved[name] = socket.socket.__dict__.get(name, _MISSING)
        wrap = _guarded_sendto if name == "sendto" else _guarded_connect
        setattr(socket.socket, name, wrap(getattr(socket.socket, name)))
    for name, wrap in (("getaddrinfo", _guarded_getaddrinfo),
                       ("gethostbyname", _guarded_gethostbyname),
                       ("gethostbyname_ex", _guarded_gethostbyname),
                       ("create_connection", _guarded_create_connection)):
        _saved[name] = getattr(socket, name)
        setattr(socket, name, wrap(getattr(socket, name)))


def _unpatch() -> None:
    for name in _METHODS:
        original = _saved.pop(name, _MISSING)
        if original is _MISSING:
            if name in socket.socket.__dict__:
                delattr(socket.socket, name)
        else:
            setattr(socket.socket, name, original)
    for name in _LOOKUPS:
        setattr(socket, name, _saved.pop(name))


def install(guard: NetworkGuard) -> None:
    """Make ``guard`` the innermost active guard (patching the socket layer if needed)."""
    with _stack_lock:
        if not _stack:
            _patch()
        _stack.append(guard)


def uninstall(guard: NetworkGuard) -> None:
    """Remove ``guard``; the socket layer is restored when no guard is left."""
    with _stack_lock:
        if guard in _stack:
            _stack.remove(guard)
        if not _stack and _saved:
            _unpatch()
