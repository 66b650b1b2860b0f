"""A TCP proxy for gRPC (HTTP/2 without TLS) that ends a dead client's calls cleanly.

When a gRPC client process dies (SIGKILL), its TCP connection just drops. Google's Pub/Sub
emulator (0.8.20) mishandles that: the cancel path of its bundled grpc-core 1.68.1 calls a
method its older grpc-api lacks (``InternalStatus.asRuntimeException``), the
``NoSuchMethodError`` aborts the clean-up, and the dead streaming pull stays registered on
its subscription. From then on the emulator keeps dispatching that subscription's messages
to the dead stream, and fresh streaming pulls get nothing (see RELIABILITY.md).

Real Pub/Sub forgets a dead client's stream and redelivers its messages after their ack
deadline. This proxy makes the emulator behave the same way: put it between a client and
the emulator (``PUBSUB_EMULATOR_HOST=proxy.host``); when the client side of a connection
closes, the proxy half-closes every call the client left open (an empty DATA frame with
END_STREAM, exactly what a client that finished sending would send), waits for the
emulator to end those calls normally, and only then closes the emulator-side connection.
The client's messages are not acked, modified or handed back: they come back only once
their ack deadline passes, as after a real crash.

It relays bytes unchanged and parses only HTTP/2 frame headers (9 bytes each) to know
which streams are open. Frames are forwarded whole, so a client that dies mid-frame never
leaves the emulator with half a frame. Binds 127.0.0.1 on a free port; ``stop()`` closes
every connection and joins every thread it started.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER = 9
DATA, HEADERS, RST_STREAM = 0x0, 0x1, 0x3
END_STREAM = 0x1


@dataclass(frozen=True)
class Frame:
    kind: int
    flags: int
    stream: int
    raw: bytes


def read_exact(sock: socket.socket, size: int) -> bytes | None:
    """``size`` bytes from ``sock``, or None when it closes first."""
    chunks, missing = [], size
    while missing:
        try:
            chunk = sock.recv(missing)
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> Frame | None:
    header = read_exact(sock, FRAME_HEADER)
    if header is None:
        return None
    length = int.from_bytes(header[:3], "big")
    payload = read_exact(sock, length) if length else b""
    if payload is None:
        return None
    stream = int.from_bytes(header[5:9], "big") & 0x7FFF_FFFF
    return Frame(header[3], header[4], stream, header + payload)


def end_stream_frame(stream: int) -> bytes:
    """An empty DATA frame with END_STREAM: the client has nothing more to send."""
    return (0).to_bytes(3, "big") + bytes([DATA, END_STREAM]) + stream.to_bytes(4, "big")


@dataclass
class _Connection:
    client: socket.socket
    upstream: socket.socket
    client_open: set[int] = field(default_factory=set)
    """Streams the client opened and has not finished sending on."""
    server_open: set[int] = field(default_factory=set)
    """Streams the server has not ended yet."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    server_done: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.server_done = threading.Condition(self.lock)


class HalfCloseProxy:
    """Relay to the gRPC server at ``upstream`` (``host:port``); see the module docstring."""

    def __init__(self, upstream: str, *, drain_timeout_s: float = 30.0) -> None:
        host, _, port = upstream.partition(":")
        self.upstream = (host, int(port))
        self.drain_timeout_s = drain_timeout_s
        self.half_closed_streams = 0
        """Calls the proxy ended on behalf of a client that went away."""
        self.history: list[str] = []
        """What the proxy did for each client that went away (for failure messages)."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[_Connection] = []
        self._threads: list[threading.Thread] = []

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> HalfCloseProxy:
        self._spawn(self._accept_loop, "halfclose-proxy-accept")
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            for sock in (conn.client, conn.upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with conn.lock:
                conn.server_done.notify_all()
        while True:
            with self._lock:
                threads = [t for t in self._threads if t.is_alive()]
            if not threads:
                break
            for thread in threads:
                thread.join()
        for conn in connections:
            conn.client.close()
            conn.upstream.close()

    def __enter__(self) -> HalfCloseProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, name=name, args=args)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(client, upstream)
            with self._lock:
                self._connections.append(conn)
            self._spawn(self._client_to_server, "halfclose-proxy-up", conn)
            self._spawn(self._server_to_client, "halfclose-proxy-down", conn)

    def _client_to_server(self, conn: _Connection) -> None:
        preface = read_exact(conn.client, len(PREFACE))
        if preface is not None and preface == PREFACE and self._send(conn.upstream, preface):
            while (frame := read_frame(conn.client)) is not None:
                with conn.lock:
                    if frame.kind == HEADERS and frame.stream not in conn.client_open:
                        conn.client_open.add(frame.stream)
                        conn.server_open.add(frame.stream)
                    if frame.kind in (DATA, HEADERS) and frame.flags & END_STREAM:
                        conn.client_open.discard(frame.stream)
                    if frame.kind == RST_STREAM:
                        conn.client_open.discard(frame.stream)
                        conn.server_open.discard(frame.stream)
                if not self._send(conn.upstream, frame.raw):
                    break
        self._finish_for_dead_client(conn)

    def _finish_for_dead_client(self, conn: _Connection) -> None:
        """Half-close what the client left open, let the server end it, then hang up."""
        with conn.lock:
            left_open = sorted(conn.client_open)
            conn.client_open.clear()
        sent = [s for s in left_open if self._send(conn.upstream, end_stream_frame(s))]
        with self._lock:
            self.half_closed_streams += len(sent)
        started = time.monotonic()
        deadline = started + self.drain_timeout_s
        with conn.lock:
            while conn.server_open and not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                conn.server_done.wait(min(remaining, 0.5))
            still_open = sorted(conn.server_open)
        with self._lock:
            self.history.append(
                f"{time.strftime('%H:%M:%S')} client gone: half-closed streams {sent}; "
                f"after {time.monotonic() - started:.1f}s the server had not ended {still_open}"
            )
        with contextlib.suppress(OSError):
            conn.upstream.shutdown(socket.SHUT_RDWR)

    def _server_to_client(self, conn: _Connection) -> None:
        client_alive = True
        while (frame := read_frame(conn.upstream)) is not None:
            with conn.lock:
                ended = frame.kind == RST_STREAM or (
                    frame.kind in (DATA, HEADERS) and frame.flags & END_STREAM
                )
                if ended and frame.stream in conn.server_open:
                    conn.server_open.discard(frame.stream)
                    conn.server_done.notify_all()
            if client_alive:
                client_alive = self._send(conn.client, frame.raw)
        with conn.lock:
            conn.server_open.clear()
            conn.server_done.notify_all()
        with contextlib.suppress(OSError):
            conn.client.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> bool:
        try:
            sock.sendall(data)
        except OSError:
            return False
        return True
