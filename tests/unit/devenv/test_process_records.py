"""Server records: what identifies a process we started, and when the sweep may stop it.

The processes are real (``python -c 'sleep'``): what is under test is reading them from
``/proc``. The sweep must never signal a process it cannot prove is ours.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from worker.devenv import process_records
from worker.devenv.process_records import (
    ProcessIdentity,
    ServerRecord,
    command_line,
    forget_server,
    private_run_dir,
    record_server,
    sweep_orphans,
)
from worker.errors import ConfigurationError

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").is_file(), reason="LOUD SKIP: server records need Linux /proc"
)

SLEEP = [
    sys.executable,
    "-c",
    "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)",
]

Spawn = Callable[[], subprocess.Popen[bytes]]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(SLEEP, stdout=subprocess.PIPE)
        started.append(proc)
        # Until the child has exec'd, /proc/PID/cmdline is still pytest's own; the line it
        # prints is the handshake that says the sleeper now runs, whatever the machine's load.
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"


def ended(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def orphan(spawn: Spawn, run_dir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A recorded server whose owner has since died."""
    owner, server = spawn(), spawn()
    path = record_server("dummy", server.pid, run_dir=run_dir, owner_pid=owner.pid)
    assert path is not None
    ended(owner)
    return server, path


def rewrite(path: Path, **changes: object) -> None:
    record = ServerRecord.from_json(path.read_text())
    path.write_text(dataclasses.replace(record, **changes).to_json())  # type: ignore[arg-type]


def test_a_record_names_the_server_its_start_time_command_and_owner(
    spawn: Spawn, run_dir: Path
) -> None:
    server = spawn()
    path = record_server("dummy", server.pid, run_dir=run_dir)
    assert path == run_dir / f"{server.pid}.json"

    record = ServerRecord.from_json(path.read_text())
    stat_fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    assert record.server == ProcessIdentity(server.pid, int(stat_fields[19]))
    assert record.command == tuple(SLEEP)
    assert record.owner == ProcessIdentity.of(os.getpid())
    assert record.is_verified()

    forget_server(server.pid, run_dir=run_dir)
    assert not path.exists()


def test_the_run_dir_is_private(run_dir: Path) -> None:
    assert private_run_dir(run_dir).stat().st_mode & 0o777 == 0o700
    run_dir.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by other users"):
        private_run_dir(run_dir)


def test_a_server_whose_owner_lives_is_left_running(spawn: Spawn, run_dir: Path) -> None:
    server = spawn()
    path = record_server("dummy", server.pid, run_dir=run_dir)

    report = sweep_orphans(run_dir=run_dir, timeout_s=1)

    assert report.stopped == report.gone == report.unverified == []
    assert server.poll() is None
    assert path is not None
    assert path.exists()


def test_a_recycled_pid_is_never_signalled(spawn: Spawn, run_dir: Path) -> None:
    server, path = orphan(spawn, run_dir)
    # Same PID, another start time: the recorded process ended and the PID was reused.
    identity = ProcessIdentity.of(server.pid)
    assert identity is not None
    rewrite(path, server=ProcessIdentity(server.pid, identity.start_ticks - 1))

    report = sweep_orphans(run_dir=run_dir, timeout_s=1)

    assert server.poll() is None
    assert [record.server.pid for record in report.gone] == [server.pid]
    assert report.stopped == []
    assert not path.exists()


def test_a_changed_command_line_is_never_signalled(spawn: Spawn, run_dir: Path) -> None:
    server, path = orphan(spawn, run_dir)
    rewrite(path, command=("java", "-jar", "something-else.jar"))

    report = sweep_orphans(run_dir=run_dir, timeout_s=1)

    assert server.poll() is None
    assert [record.server.pid for record in report.unverified] == [server.pid]
    assert report.stopped == []


def test_the_record_of_a_server_that_already_ended_is_dropped(spawn: Spawn, run_dir: Path) -> None:
    server, path = orphan(spawn, run_dir)
    ended(server)

    report = sweep_orphans(run_dir=run_dir, timeout_s=1)

    assert [record.server.pid for record in report.gone] == [server.pid]
    assert not path.exists()


def test_files_that_are_not_records_are_left_untouched(run_dir: Path) -> None:
    stray = private_run_dir(run_dir) / "123.json"
    stray.write_text('{"pid": 123}')
    report = sweep_orphans(run_dir=run_dir, timeout_s=1)
    assert report.stopped == report.gone == report.unverified == []
    assert stray.exists()
    with pytest.raises(ValueError, match="not a server record"):
        ServerRecord.from_json("[1, 2]")


def test_a_missing_run_dir_sweeps_nothing(tmp_path: Path) -> None:
    report = sweep_orphans(run_dir=tmp_path / "absent")
    assert report.stopped == report.gone == report.unverified == []
    assert not (tmp_path / "absent").exists()


def test_identity_parsing_survives_odd_process_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = " ".join(["S", *[str(n) for n in range(4, 22)], "987654", "0"])
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(f"42 (a) b (c)) {fields}\n")
    (tmp_path / "42" / "cmdline").write_bytes(b"srv\0--flag=a b\0")
    (tmp_path / "43").mkdir()
    (tmp_path / "43" / "stat").write_text(f"43 (zombie) {fields.replace('S', 'Z', 1)}\n")
    monkeypatch.setattr(process_records, "PROC", tmp_path)

    assert ProcessIdentity.of(42) == ProcessIdentity(42, 987654)
    assert command_line(42) == ("srv", "--flag=a b")
    assert ProcessIdentity.of(43) is None
    assert ProcessIdentity.of(44) is None
