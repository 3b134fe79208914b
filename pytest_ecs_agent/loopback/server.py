"""The loopback LLM server: a real HTTP/1.1 server on 127.0.0.1 in background threads.

Each connection is served by its own daemon thread (``ThreadingHTTPServer`` from the
standard library), so concurrent requests and keep-alive connections work and a server
left open never holds up interpreter exit. JSON answers carry ``Content-Length``;
event streams use chunked transfer encoding with one chunk per SSE frame, written
straight to the socket, so a client sees each frame as soon as it is sent and a stream
cut short (``drop_after``) is an incomplete chunked body to the client (httpx raises
``RemoteProtocolError``). :meth:`LoopbackServer.close` stops accepting, aborts open
connections (interrupting any scripted delay) and joins every thread.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import selectors
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from pytest_ecs_agent.loopback import wire
from pytest_ecs_agent.loopback.echo import echo_reply
from pytest_ecs_agent.loopback.replies import ReceivedRequest, Reply
from pytest_ecs_agent.loopback.schema import SchemaError
from pytest_ecs_agent.loopback.validation import ANTHROPIC_MESSAGES, parse_json, validate

__all__ = ["LoopbackServer"]

logger = logging.getLogger("pytest_ecs_agent.loopback")

_JOIN_TIMEOUT = 5.0
_MAX_BODY = 64 * 1024 * 1024


class LoopbackServer:
    """A scriptable OpenAI / Anthropic compatible HTTP server on 127.0.0.1.

    Use it as a context manager, or call :meth:`start` and :meth:`close` (idempotent).
    Replies are served in FIFO order: the queue of the request's path first, then the
    general queue; with nothing queued, ``echo`` answers any valid request, else the
    server answers 500 saying no reply was scripted. Requests to the known endpoints are
    validated like the real APIs unless ``validate`` is false.

    ``port`` 0 (the default) binds an ephemeral port; a fixed port gives a stable URL
    (a recording script, an SDK configured elsewhere). It is reusable right after a
    previous server on it closed; a port still in use raises :class:`OSError` naming it.
    """

    def __init__(
        self,
        *,
        echo: bool = False,
        echo_tools: bool = False,
        validate: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.echo = echo
        self.echo_tools = echo_tools
        self.validate = validate
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError(f"LoopbackServer: port must be an int (0 for an ephemeral port), "
                            f"got {type(port).__name__} {port!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"LoopbackServer: port must be 0 (ephemeral) or 1-65535, "
                             f"got {port}")
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._paths: dict[str, deque[Reply]] = {}
        self._requests: list[ReceivedRequest] = []
        self._ids = itertools.count(1)
        self._closing = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LoopbackServer:
        """Bind the port (ephemeral by default) and serve in a background thread.

        Returns ``self``. Raises :class:`OSError` naming the address when it cannot bind.
        """
        if self._closed:
            raise RuntimeError("LoopbackServer: cannot start a closed server; create a new one")
        if self._httpd is not None:
            return self
        try:
            self._httpd = _HTTPServer((self._host, self._port), self)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"LoopbackServer: cannot listen on {self._host}:{self._port} ({exc.strerror}); "
                "another process holds it: pick a free port, or port=0 for an ephemeral one",
            ) from exc
        self._thread = threading.Thread(
            target=self._httpd.serve_until_closed,
            name=f"loopback-server-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, abort open connections and join all threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        httpd = self._httpd
        if httpd is None:
            return
        httpd.stop_serving()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)
        httpd.server_close()
        httpd.abort_connections()
        httpd.join_workers(_JOIN_TIMEOUT)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        """The bound port."""
        if self._httpd is None:
            raise RuntimeError("LoopbackServer: not started; call start() or use `with`")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The OpenAI SDK / provider base URL: ``url + "/v1"``."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The Anthropic SDK / provider base URL (the SDK appends ``/v1/messages``)."""
        return self.url

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *replies: Reply, path: str | None = None) -> None:
        """Queue replies, served in order; with ``path``, only to requests on that path."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(
                    f"LoopbackServer.enqueue: expected a Reply (Reply.json, Reply.sse, ...), "
                    f"got {type(reply).__name__}"
                )
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ValueError(
                f"LoopbackServer.enqueue: path must start with '/', like "
                f"'/v1/chat/completions', got {path!r}"
            )
        with self._lock:
            if path is None:
                self._queue.extend(replies)
            else:
                self._paths.setdefault(path, deque()).extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies have not been served yet (all queues)."""
        with self._lock:
            return len(self._queue) + sum(len(q) for q in self._paths.values())

    @property
    def requests(self) -> list[ReceivedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> ReceivedRequest:
        """The most recent request (``LookupError`` when none arrived yet)."""
        with self._lock:
            if not self._requests:
                raise LookupError("LoopbackServer: no request received yet")
            return self._requests[-1]

    def reset(self) -> None:
        """Forget queued replies and received requests."""
        with self._lock:
            self._queue.clear()
            self._paths.clear()
            self._requests.clear()

    # ------------------------------------------------------------------ serving

    def _answer(self, request: ReceivedRequest) -> Reply:
        """Record ``request`` and decide the reply (called from handler threads)."""
        with self._lock:
            self._requests.append(request)
        if self.validate:
            failure = validate(request.method, request.path, request.headers, request.body)
            if failure is not None:
                return Reply.json(failure.body(), status=failure.status)
        with self._lock:
            queue = self._paths.get(request.path)
            if queue:
                return queue.popleft()
            if self._queue:
                return self._queue.popleft()
        where = f"{request.method} {request.path}"
        if not self.echo:
            return _loopback_error(
                request.path, 500,
                f"loopback server: no reply was scripted for {where}; queue one with "
                "server.enqueue(Reply.json(...)) or set server.echo = True",
            )
        if not self.validate:  # echo answers valid requests only, whatever the switch says
            failure = validate(request.method, request.path, request.headers, request.body)
            if failure is not None:
                return Reply.json(failure.body(), status=failure.status)
        try:
            reply = echo_reply(request.path, request.json, tools=self.echo_tools)
        except SchemaError as exc:
            return _loopback_error(request.path, 500, f"loopback echo: {exc}")
        if reply is None:
            return _loopback_error(
                request.path, 404,
                f"loopback server: echo mode has no answer for {where}; it answers POST "
                "/v1/chat/completions, /v1/embeddings and /v1/messages",
            )
        return reply

    def _request_id(self) -> str:
        return f"req_loopback_{next(self._ids)}"


_NO_RETRY = {"x-should-retry": "false"}  # the OpenAI / Anthropic SDKs honour it


def _loopback_error(path: str, status: int, message: str) -> Reply:
    """The server's own error (not a scripted one): the SDKs are told not to retry it."""
    if path == ANTHROPIC_MESSAGES:
        body = wire.anthropic_error(message, type="api_error")
    else:
        body = wire.openai_error(message, type="loopback_error")
    return Reply.json(body, status=status, headers=_NO_RETRY)


class _HTTPServer(ThreadingHTTPServer):
    """Tracks its connection threads and sockets so ``close`` can abort and join them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # the default 5 resets bursts of parallel connections

    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
        self.owner = owner
        self._live_lock = threading.Lock()
        self._workers: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)

    def serve_until_closed(self) -> None:
        """Accept connections until :meth:`stop_serving` (no polling: close is immediate)."""
        while True:
            for key, _ in self._selector.select():
                if key.fileobj is self._wake_r:
                    return
                self._handle_request_noblock()  # type: ignore[attr-defined]

    def stop_serving(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def server_close(self) -> None:
        if not hasattr(self, "_selector"):  # the bind failed inside TCPServer.__init__
            super().server_close()
            return
        self._selector.close()
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self._work, args=(request, client_address), daemon=True,
            name="loopback-connection",
        )
        with self._live_lock:
            self._workers.add(worker)
            self._connections.add(request)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._live_lock:
                self._workers.discard(threading.current_thread())
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("loopback server: error on connection from %s", client_address,
                     exc_info=True)

    def abort_connections(self) -> None:
        with self._live_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def join_workers(self, timeout: float) -> None:
        with self._live_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body are separate writes; with Nagle on, a keep-alive
    # client's delayed ACK stalls every answer by ~40 ms.
    disable_nagle_algorithm = True
    server_version = "pytest-ecs-agent-loopback"
    sys_version = ""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("loopback server: " + format, *args)

    def do_POST(self) -> None:
        self._handle()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_POST

    def _handle(self) -> None:
        body = self._read_body()
        if body is None:
            return
        target = urlsplit(self.path)
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            key = key.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = ReceivedRequest(
            method=self.command, path=target.path or "/", headers=headers, body=body,
            json=parse_json(body), query=target.query,
        )
        owner = self.server.owner
        try:
            reply = owner._answer(request)
        except Exception as exc:  # a bug in the server must not look like a dropped socket
            logger.exception("loopback server: internal error")
            reply = _loopback_error(request.path, 500,
                                    f"loopback server internal error: {exc!r}")
        try:
            self._send(reply, owner._request_id())
        except OSError:  # the client went away
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
            if size < 0 or size > _MAX_BODY:
                raise ValueError(size)
        except ValueError:
            self.send_error(400, f"bad Content-Length: {length!r}")
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.send_error(400, "bad chunked request body")
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > _MAX_BODY:
                self.send_error(413, "request body too large")
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; False when the server is closing (the answer is abandoned)."""
        return seconds <= 0 or not self.server.owner._closing.wait(seconds)

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _headers_out(
        self, reply: Reply, request_id: str, defaults: list[tuple[str, str]]
    ) -> None:
        custom = {key.lower() for key, _ in reply.headers}
        self.send_response(reply.status)
        for key, value in [*defaults, ("x-request-id", request_id),
                           ("request-id", request_id)]:
            if key.lower() not in custom:
                self.send_header(key, value)
        for key, value in reply.headers:
            self.send_header(key, value)
        self.end_headers()

    def _send(self, reply: Reply, request_id: str) -> None:
        if not self._wait(reply.first_byte_delay):
            self._abort()
            return
        if reply.kind == "drop":
            self._abort()
            return
        if reply.kind == "body":
            self._headers_out(reply, request_id, [
                ("Content-Type", reply.content_type),
                ("Content-Length", str(len(reply.body))),
            ])
            if self.command != "HEAD":
                self.wfile.write(reply.body)
            return
        self._headers_out(reply, request_id, [
            ("Content-Type", reply.content_type),
            ("Cache-Control", "no-cache"),
            ("Transfer-Encoding", "chunked"),
        ])
        for index, frame in enumerate(reply.frames):
            if reply.drop_after is not None and index >= reply.drop_after:
                self._abort()
                return
            if index and not self._wait(reply.delay):
                self._abort()
                return
            data = frame.encode("utf-8")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        if reply.drop_after is not None:  # N >= number of frames: cut before the last chunk
            self._abort()
            return
        self.wfile.write(b"0\r\n\r\n")
