"""``worker dev`` restarts ``worker serve`` when the source changes and echoes its log."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from worker.devenv.demo_environments import EmulatedEnvironment, Launchers
from worker.devenv.dev import LogTail, SourceWatcher, watch_and_restart
from worker.devenv.emulators import ManagedProcess, free_port, spawn_process
from worker.devenv.supervisor import Supervisor
from worker.settings import Settings


def sleeper(logs: Path, _env: dict[str, str], port: int) -> ManagedProcess:
    argv = [sys.executable, "-c", "import time; time.sleep(300)"]
    return spawn_process("worker-serve", argv, port=port, log=logs / "sleeper.log")


def bump(path: Path) -> None:
    """Change ``path``'s mtime for sure (coarse filesystem clocks included)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_source_watcher_reports_added_modified_and_removed_python_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    kept = tmp_path / "pkg" / "kept.py"
    kept.write_text("x = 1\n")
    doomed = tmp_path / "doomed.py"
    doomed.write_text("")
    watcher = SourceWatcher(tmp_path)
    assert watcher.changed() == []

    bump(kept)
    added = tmp_path / "pkg" / "added.avsc"
    added.write_text("{}")
    doomed.unlink()
    (tmp_path / "notes.txt").write_text("not source")

    assert watcher.changed() == sorted([kept, added, doomed])
    assert watcher.changed() == []


def test_log_tail_returns_only_complete_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    tail = LogTail(log)
    assert tail.new_lines() == []

    log.write_text("one\ntwo\nhal")
    assert tail.new_lines() == ["one", "two"]
    with log.open("a") as handle:
        handle.write("f\n")
    assert tail.new_lines() == ["half"]
    assert tail.new_lines() == []


def script(steps: list[Callable[[], None]]) -> Callable[[], bool]:
    """A keep_going callback that runs one step per loop turn, then stops the loop."""
    pending = list(steps)

    def keep_going() -> bool:
        if not pending:
            return False
        pending.pop(0)()
        return True

    return keep_going


def test_a_source_change_restarts_worker_serve_by_pid(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    module = source / "flows.py"
    module.write_text("")
    said: list[str] = []
    with Supervisor() as supervisor:
        environment = EmulatedEnvironment(
            Settings(_env_file=None),  # type: ignore[call-arg]
            tmp_path,
            supervisor,
            launchers=Launchers(worker=sleeper),
        )
        environment.logs.mkdir()
        first = supervisor.adopt(sleeper(environment.logs, {}, free_port()))
        environment.worker = first
        (environment.logs / "worker-serve.log").write_text('{"event": "message.settled"}\n')

        watch_and_restart(
            environment,
            SourceWatcher(source),
            poll_s=0.01,
            say=said.append,
            keep_going=script([lambda: None, lambda: bump(module), lambda: None]),
        )
        second = environment.serving()

        assert first.proc.poll() is not None
        assert second.proc.poll() is None
        assert second.port == first.port
        assert supervisor.pids == {"worker-serve": second.pid}
    assert second.proc.poll() is not None
    assert said[0] == '{"event": "message.settled"}'
    assert f"restarted worker serve, pid {second.pid}" in said[1]


def test_a_worker_that_exits_is_reported_once_and_not_restarted_in_a_loop(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    with Supervisor() as supervisor:
        environment = EmulatedEnvironment(
            Settings(_env_file=None),  # type: ignore[call-arg]
            tmp_path,
            supervisor,
            launchers=Launchers(worker=sleeper),
        )
        environment.logs.mkdir()
        crashed = spawn_process(
            "worker-serve",
            [sys.executable, "-c", "raise SystemExit(3)"],
            port=free_port(),
            log=environment.logs / "crash.log",
        )
        crashed.proc.wait(timeout=30)
        environment.worker = supervisor.adopt(crashed)

        watch_and_restart(
            environment,
            SourceWatcher(tmp_path / "nothing-here"),
            poll_s=0.01,
            say=said.append,
            keep_going=script([lambda: None] * 3),
        )

    assert said == ["# worker serve exited with code 3; save a change to restart it"]
    assert environment.serving() is crashed
