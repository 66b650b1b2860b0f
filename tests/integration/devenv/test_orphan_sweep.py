"""The sweep stops real servers orphaned by a killed session, and only those.

A dummy server (``python -c 'sleep'``) stands in for an emulator: what is under test is
the record / verify / signal path, which is the same for every server we start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.devenv.process_records import ProcessIdentity, record_server, sweep_orphans

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not Path("/proc/self/stat").is_file(), reason="LOUD SKIP: orphan sweeping needs Linux /proc"
    ),
]

SLEEP = "import time; print('ready', flush=True); time.sleep(60)"
IGNORE_SIGTERM = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def start(children: list[subprocess.Popen[bytes]], code: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    children.append(proc)
    # The child speaks only once it runs ``code``: before that, /proc still shows the forked
    # parent's command line, and a record taken then would never match the server.
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def test_a_server_whose_owner_died_is_stopped(
    children: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    owner = start(children, SLEEP)
    server = start(children, SLEEP)
    record_server("dummy", server.pid, run_dir=tmp_path, owner_pid=owner.pid)
    owner.kill()
    owner.wait(timeout=10)

    report = sweep_orphans(run_dir=tmp_path, timeout_s=10)

    assert server.wait(timeout=10) == -signal.SIGTERM
    assert [(r.name, r.server.pid) for r in report.stopped] == [("dummy", server.pid)]
    assert list(tmp_path.glob("*.json")) == []


def test_a_server_that_ignores_sigterm_is_killed_after_the_timeout(
    children: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    owner = start(children, SLEEP)
    server = start(children, IGNORE_SIGTERM)
    assert server.stdout is not None
    record_server("stubborn", server.pid, run_dir=tmp_path, owner_pid=owner.pid)
    owner.kill()
    owner.wait(timeout=10)

    report = sweep_orphans(run_dir=tmp_path, timeout_s=0.5)

    assert server.wait(timeout=10) == -signal.SIGKILL
    assert [r.server.pid for r in report.stopped] == [server.pid]


def test_a_killed_session_s_spawned_server_is_stopped_by_the_next_sweep(tmp_path: Path) -> None:
    # The owner starts a server through worker.devenv.emulators, as the test fixtures and
    # `worker dev` do, then dies by SIGKILL before it can stop it.
    owner_code = (
        "import sys, time; from pathlib import Path\n"
        "from worker.devenv.emulators import spawn_process\n"
        f"server = spawn_process('dummy', [sys.executable, '-c', {SLEEP!r}], port=1,"
        f" log=Path({str(tmp_path / 'dummy.log')!r}))\n"
        "print(server.pid, flush=True); time.sleep(60)\n"
    )
    env = {**os.environ, "WORKER_RUN_DIR": str(tmp_path / "run")}
    with subprocess.Popen(
        [sys.executable, "-c", owner_code], stdout=subprocess.PIPE, env=env
    ) as owner:
        try:
            assert owner.stdout is not None
            server = ProcessIdentity.of(int(owner.stdout.readline()))
            assert server is not None
        finally:
            owner.kill()
    try:
        assert server.is_running()

        report = sweep_orphans(run_dir=tmp_path / "run", timeout_s=10)

        assert [r.server for r in report.stopped] == [server]
        assert not server.is_running()
    finally:
        if server.is_running():
            os.kill(server.pid, signal.SIGKILL)
