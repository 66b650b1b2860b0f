"""A fault-injecting HTTP reverse proxy for tests against real emulators.

Put it in front of fake-gcs-server (or any plain-HTTP server on loopback), point the client
at ``proxy.url`` and script what goes wrong::

    with FaultyProxy(upstream="127.0.0.1:4443") as proxy:
        proxy.inject(Fault.UNAVAILABLE, times=2)           # the next two requests get 503
        proxy.inject(Fault.RESET, when=lambda method, path: method == "POST")
        proxy.inject(Fault.STALL)                          # hold one request past a timeout
        ...
        assert proxy.faults_served() == 3

Faults are consumed in the order they were injected; a request matches the first rule
whose ``when`` accepts it. Every request is recorded (method, path, fault applied).

The proxy binds 127.0.0.1 on a free port, serves each connection on its own thread, and
``stop()`` (or leaving the ``with`` block) closes every connection it accepted and joins
its threads. Note: fake-gcs-server answers resumable-upload session URLs with its own
``-external-url``, so the chunks of a resumable upload bypass the proxy.
"""

from __future__ import annotations

import enum
import http.client
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

RequestMatcher = Callable[[str, str], bool]
"""``(method, path) -> bool``: whether a fault rule applies to a request."""

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)


class Fault(enum.Enum):
    UNAVAILABLE = "503"
    """Answer 503 Service Unavailable without forwarding."""
    RATE_LIMITED = "429"
    """Answer 429 Too Many Requests without forwarding."""
    INTERNAL_ERROR = "500"
    """Answer 500 Internal Server Error without forwarding."""
    RESET = "reset"
    """Reset the TCP connection (RST) without forwarding: the request never happened."""
    RESET_AFTER_FORWARD = "reset-after-forward"
    """Forward, let upstream act, then reset: the request happened but its answer is lost."""
    CORRUPT_BODY = "corrupt-body"
    """Forward, then flip the last byte of a non-empty response body."""
    STALL = "stall"
    """Hold the request for ``stall_s`` seconds (a client timeout), then close without answering."""


_STATUS_FAULTS = {Fault.UNAVAILABLE: 503, Fault.RATE_LIMITED: 429, Fault.INTERNAL_ERROR: 500}


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None
    when: RequestMatcher | None


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    fault: Fault | None


class FaultyProxy:
    """Reverse proxy to ``upstream`` (``host:port``) that injects scripted faults."""

    def __init__(
        self, upstream: str, *, upstream_timeout_s: float = 30.0, stall_s: float = 5.0
    ) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream_host = host
        self.upstream_port = int(port or 80)
        self.upstream_timeout_s = upstream_timeout_s
        self.stall_s = stall_s
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._requests: list[ProxiedRequest] = []
        self._connections: set[socket.socket] = set()
        self._server = _ProxyServer(self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultyProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="faulty-proxy", kwargs={"poll_interval": 0.1}
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases stalled requests at once
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        with self._lock:
            open_connections = list(self._connections)
        for conn in open_connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue  # already closed by its handler
        self._server.server_close()

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def inject(
        self, fault: Fault, *, times: int | None = 1, when: RequestMatcher | None = None
    ) -> None:
        """Apply ``fault`` to the next ``times`` matching requests (``None``: to all of them)."""
        with self._lock:
            self._rules.append(_Rule(fault, times, when))

    def clear(self) -> None:
        """Drop every pending fault rule; requests pass through untouched from now on."""
        with self._lock:
            self._rules.clear()

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self._lock:
            return list(self._requests)

    def faults_served(self) -> int:
        return sum(1 for request in self.requests if request.fault is not None)

    def _next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            fault = None
            for rule in self._rules:
                if rule.when is None or rule.when(method, path):
                    fault = rule.fault
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    break
            self._requests.append(ProxiedRequest(method, path, fault))
            return fault

    def _track(self, conn: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins every handler thread

    def __init__(self, proxy: FaultyProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hang up mid-request on purpose in these tests; that is not a failure.
        return


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def setup(self) -> None:
        super().setup()
        self.server.proxy._track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.proxy._track(self.connection, open_=False)
        try:
            super().finish()
        except OSError:
            return  # the socket was reset on purpose

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._relay()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                continue  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _relay(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        fault = proxy._next_fault(self.command, self.path)
        if fault in _STATUS_FAULTS:
            self._answer_injected_status(_STATUS_FAULTS[fault])
            return
        if fault is Fault.RESET:
            self._reset()
            return
        if fault is Fault.STALL:
            proxy.stopping.wait(proxy.stall_s)
            self.close_connection = True
            return
        status, reason, headers, data = self._forward(body)
        if fault is Fault.RESET_AFTER_FORWARD:
            self._reset()
            return
        if fault is Fault.CORRUPT_BODY and data:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        conn = http.client.HTTPConnection(
            proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout_s
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            conn.close()

    def _answer_injected_status(self, status: int) -> None:
        payload = json.dumps(
            {"error": {"code": status, "message": f"injected by FaultyProxy ({status})"}}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
