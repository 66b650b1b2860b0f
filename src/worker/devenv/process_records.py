"""Records of the servers we start, so those a killed session left running can be stopped.

:mod:`worker.devenv.emulators` writes one small JSON file per server it starts, in a
per-user runtime directory (``$WORKER_RUN_DIR``, else ``$XDG_RUNTIME_DIR/worker``, else
``<tmp>/worker-<uid>``), and removes it when it stops the server. A test session or
``worker dev`` killed with SIGKILL never stops its servers; :func:`sweep_orphans` does, on
the next start.

A PID alone names no process: PIDs are recycled. A record therefore holds the server's PID
*and* start time (field 22 of ``/proc/PID/stat``, clock ticks since boot, unchanged by
``exec``) and its command line, plus the PID and start time of its owner (the process that
started it). The sweep stops a recorded server only when its owner is gone and the process
with that PID still has the recorded start time and command line; anything else is left
alone. Linux only: where ``/proc`` is missing nothing is recorded and nothing is stopped.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from worker.errors import ConfigurationError

PROC = Path("/proc")
RECORD_SUFFIX = ".json"
_STARTTIME_AFTER_COMM = 19
"""``starttime`` is field 22 of ``/proc/PID/stat``; counted after the ``(comm)`` field,
which may itself hold spaces and parentheses, it is the 20th."""


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """One process for as long as it lives: a PID and when that PID's process started."""

    pid: int
    start_ticks: int

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The running process with ``pid`` (a zombie counts as gone), or None."""
        try:
            text = (PROC / str(pid) / "stat").read_text()
        except OSError:
            return None
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):
            return None
        return cls(pid, int(fields[_STARTTIME_AFTER_COMM]))

    def is_running(self) -> bool:
        return ProcessIdentity.of(self.pid) == self


def command_line(pid: int) -> tuple[str, ...] | None:
    """The argv of process ``pid`` as the kernel shows it, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return tuple(part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0")[:-1])


@dataclass(frozen=True, slots=True)
class ServerRecord:
    """A server we started, as written to its record file."""

    name: str
    server: ProcessIdentity
    command: tuple[str, ...]
    owner: ProcessIdentity

    def is_verified(self) -> bool:
        """The process with the recorded PID is still the one we started."""
        return self.server.is_running() and command_line(self.server.pid) == self.command

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "pid": self.server.pid,
                "start_ticks": self.server.start_ticks,
                "command": list(self.command),
                "owner_pid": self.owner.pid,
                "owner_start_ticks": self.owner.start_ticks,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ServerRecord:
        """Parse a record; ValueError when it is not one of ours."""
        try:
            data = json.loads(text)
            command = data["command"]
            if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
                raise TypeError("command is not a list of strings")
            return cls(
                name=str(data["name"]),
                server=ProcessIdentity(int(data["pid"]), int(data["start_ticks"])),
                command=tuple(command),
                owner=ProcessIdentity(int(data["owner_pid"]), int(data["owner_start_ticks"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a server record: {exc}") from exc


@dataclass(slots=True)
class SweepReport:
    """What a sweep did with each record it read."""

    stopped: list[ServerRecord] = field(default_factory=list)
    """Orphans (owner gone, process verified) that were stopped."""
    gone: list[ServerRecord] = field(default_factory=list)
    """Records of processes that had already ended, or whose PID now names another."""
    unverified: list[ServerRecord] = field(default_factory=list)
    """Owner gone, PID and start time match, command line does not: left running."""


def default_run_dir() -> Path:
    explicit = os.environ.get("WORKER_RUN_DIR")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "worker"
    return Path(tempfile.gettempdir()) / f"worker-{os.getuid()}"


def private_run_dir(run_dir: Path | None = None) -> Path:
    """The run directory, created 0700; refused when another user could write records."""
    path = run_dir or default_run_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigurationError(
            "server records directory is not a directory owned by this user", where=str(path)
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigurationError(
            "server records directory is writable by other users", where=str(path)
        )
    return path


def record_server(
    name: str, pid: int, *, run_dir: Path | None = None, owner_pid: int | None = None
) -> Path | None:
    """Write (or refresh) the record of server ``pid``, owned by ``owner_pid`` (default:
    this process). None when either process is already gone or ``/proc`` is missing."""
    server = ProcessIdentity.of(pid)
    owner = ProcessIdentity.of(os.getpid() if owner_pid is None else owner_pid)
    command = command_line(pid)
    if server is None or owner is None or command is None:
        return None
    record = ServerRecord(name, server, command, owner)
    path = private_run_dir(run_dir) / f"{pid}{RECORD_SUFFIX}"
    # Written whole then renamed, so a sweep never reads half a record.
    scratch = path.with_suffix(".tmp")
    scratch.write_text(record.to_json())
    scratch.replace(path)
    return path


def forget_server(pid: int, *, run_dir: Path | None = None) -> None:
    """Remove the record of server ``pid`` (it was stopped by its owner)."""
    (run_dir or default_run_dir()).joinpath(f"{pid}{RECORD_SUFFIX}").unlink(missing_ok=True)


def sweep_orphans(*, run_dir: Path | None = None, timeout_s: float = 10.0) -> SweepReport:
    """Stop the recorded servers whose owner is gone and that are verifiably ours."""
    report = SweepReport()
    directory = run_dir or default_run_dir()
    if not directory.is_dir():
        return report
    directory = private_run_dir(directory)
    for path in sorted(directory.glob(f"*{RECORD_SUFFIX}")):
        try:
            record = ServerRecord.from_json(path.read_text())
        except (OSError, ValueError):
            continue  # not ours to judge: never act on a file we cannot read as a record
        if record.owner.is_running():
            continue
        if not record.server.is_running():
            report.gone.append(record)
        elif not record.is_verified():
            report.unverified.append(record)
        else:
            stop_verified(record, timeout_s)
            report.stopped.append(record)
        path.unlink(missing_ok=True)
    return report


def stop_verified(record: ServerRecord, timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``; each signal only after re-verifying."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if not record.is_verified():
            return
        try:
            os.kill(record.server.pid, signum)
        except ProcessLookupError:
            return
        if _ended(record.server, timeout_s):
            return


def _ended(process: ProcessIdentity, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while process.is_running():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
