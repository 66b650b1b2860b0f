"""``worker docs serve``'s server: serves the directory, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from worker.errors import ConfigurationError
from worker.ops.docs_server import make_server, serve_until_stopped


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback URL we built
        return response.headers["Content-Type"], response.read()


def test_serves_the_page_and_the_document(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>docs</h1>", encoding="utf-8")
    (tmp_path / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    seen: list[str] = []
    server = make_server(tmp_path, "127.0.0.1", 0, log=seen.append)
    host, port = server.server_address[:2]
    thread = threading.Thread(target=serve_until_stopped, args=(server,), daemon=True)
    thread.start()
    try:
        assert fetch(f"http://{host!s}:{port}/") == ("text/html", b"<h1>docs</h1>")
        assert fetch(f"http://{host!s}:{port}/asyncapi.yaml") == (
            "application/yaml",
            b"asyncapi: 3.0.0\n",
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert any("GET /asyncapi.yaml" in line for line in seen)


def test_a_missing_directory_or_busy_port_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such directory"):
        make_server(tmp_path / "absent", "127.0.0.1", 0)
    first = make_server(tmp_path, "127.0.0.1", 0)
    try:
        with pytest.raises(ConfigurationError, match="cannot listen"):
            make_server(tmp_path, "127.0.0.1", first.server_address[1])
    finally:
        first.server_close()


SERVE = """
import sys
from pathlib import Path
from worker.ops.docs_server import make_server, serve_until_stopped
server = make_server(Path(sys.argv[1]), "127.0.0.1", 0)
print(server.server_address[1], flush=True)
serve_until_stopped(server)
print("stopped", flush=True)
"""


def test_sigterm_stops_the_server_and_exits_0(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("ok", encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, "-c", SERVE, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            assert fetch(f"http://127.0.0.1:{port}/")[1] == b"ok"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            assert process.stdout.read().strip() == "stopped"
        finally:
            if process.poll() is None:
                process.kill()
