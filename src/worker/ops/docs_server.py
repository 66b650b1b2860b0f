"""A small static file server for the ``asyncapi/`` directory (``worker docs serve``).

The standard library's threading HTTP server is enough for a handful of static files and
needs no ASGI stack. It stops on Ctrl-C and on SIGTERM (how container runtimes stop it).
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from worker.errors import ConfigurationError


class _DocsHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".yaml": "application/yaml",
        ".avsc": "application/json",
    }


def make_server(
    directory: Path, host: str, port: int, *, log: Callable[[str], None] | None = None
) -> ThreadingHTTPServer:
    """A server for ``directory`` bound to ``host:port`` (port 0 picks a free one)."""
    if not directory.is_dir():
        raise ConfigurationError("no such directory to serve", where=str(directory))

    class Handler(_DocsHandler):
        def log_message(self, format: str, *args: object) -> None:
            if log is not None:
                log(f"{self.address_string()} {format % args}")

    try:
        return ThreadingHTTPServer(
            (host, port), functools.partial(Handler, directory=str(directory))
        )
    except OSError as exc:
        raise ConfigurationError(f"cannot listen: {exc}", where=f"{host}:{port}") from exc


def serve_until_stopped(server: ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the socket; returns normally either way."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, so it must not run on the
        # thread that is serving (the main thread, where signal handlers run).
        threading.Thread(target=server.shutdown, daemon=True).start()

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main_thread else None
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
