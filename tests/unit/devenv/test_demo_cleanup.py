"""Whatever fails, the demo stops every process it started, by PID.

The launchers here start throwaway ``sleep`` processes in place of the emulators and
``worker serve``, so a test can check that each one really ended.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from worker.devenv import demo as demo_module
from worker.devenv.demo import DemoOptions, run_demo
from worker.devenv.demo_environments import Launchers
from worker.devenv.demo_plan import build_plan
from worker.devenv.emulators import ManagedProcess, free_port, spawn_process
from worker.devenv.supervisor import Supervisor, Terminated, signals_interrupt
from worker.errors import ConfigurationError
from worker.settings import Settings


class SleepLaunchers:
    """Launchers whose processes only sleep; remembers each one."""

    def __init__(self, logs: Path, *, fail_at: str | None = None) -> None:
        self.logs = logs
        self.fail_at = fail_at
        self.started: list[ManagedProcess] = []

    def _sleep(self, name: str) -> ManagedProcess:
        if name == self.fail_at:
            raise ConfigurationError(f"{name} would not start", where="test launcher")
        argv = [sys.executable, "-c", "import time; time.sleep(300)"]
        process = spawn_process(name, argv, port=free_port(), log=self.logs / f"{name}.log")
        self.started.append(process)
        return process

    def launchers(self) -> Launchers:
        return Launchers(
            pubsub=lambda _logs: self._sleep("pubsub-emulator"),
            gcs=lambda _logs, _project, _topic, _host: self._sleep("fake-gcs-server"),
            worker=lambda _logs, _env, _port: self._sleep("worker-serve"),
        )


@pytest.fixture
def emulator_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Take the emulator path even on machines without the Cloud SDK."""
    monkeypatch.setattr(demo_module, "find_pubsub_emulator", lambda: tmp_path / "emulator")


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def options(tmp_path: Path) -> DemoOptions:
    return DemoOptions(
        workdir=tmp_path / "demo",
        timeout_s=5,
        plan=build_plan(days=1, rows_per_day=10),
        pid_file=tmp_path / "pids.json",
    )


def assert_all_stopped(processes: list[ManagedProcess]) -> None:
    assert processes
    for process in processes:
        assert process.proc.poll() is not None, f"{process.name} (pid {process.pid}) still runs"


@pytest.mark.usefixtures("emulator_found")
def test_a_failing_provisioning_step_stops_both_emulators(tmp_path: Path) -> None:
    sleepers = SleepLaunchers(tmp_path)

    async def failing_provisioner(_: Settings) -> None:
        raise ConfigurationError("topic creation refused", where="test provisioner")

    summary = run_demo(
        settings(),
        options(tmp_path),
        launchers=sleepers.launchers(),
        provisioner=failing_provisioner,
    )

    assert_all_stopped(sleepers.started)
    assert [p.name for p in sleepers.started] == ["pubsub-emulator", "fake-gcs-server"]
    assert isinstance(summary.error, ConfigurationError)
    assert not summary.succeeded
    assert "topic creation refused" in (summary.failure() or "")
    assert summary.processes == {p.name: p.pid for p in sleepers.started}
    recorded = json.loads((tmp_path / "pids.json").read_text(encoding="utf-8"))
    assert [r["pid"] for r in recorded] == [p.pid for p in sleepers.started]


@pytest.mark.usefixtures("emulator_found")
def test_a_process_that_will_not_start_still_gets_the_others_stopped(tmp_path: Path) -> None:
    sleepers = SleepLaunchers(tmp_path, fail_at="fake-gcs-server")

    summary = run_demo(settings(), options(tmp_path), launchers=sleepers.launchers())

    assert_all_stopped(sleepers.started)
    assert [p.name for p in sleepers.started] == ["pubsub-emulator"]
    assert "fake-gcs-server would not start" in str(summary.error)


@pytest.mark.usefixtures("emulator_found")
def test_ctrl_c_during_a_step_stops_everything_and_propagates(tmp_path: Path) -> None:
    sleepers = SleepLaunchers(tmp_path)

    async def interrupted(_: Settings) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_demo(
            settings(), options(tmp_path), launchers=sleepers.launchers(), provisioner=interrupted
        )

    assert_all_stopped(sleepers.started)


def test_sigterm_unwinds_like_ctrl_c_inside_signals_interrupt() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def receive_sigterm() -> None:
        with signals_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises at once; the sleep only bounds a broken one

    with pytest.raises(Terminated, match="SIGTERM"):
        receive_sigterm()

    assert signal.getsignal(signal.SIGTERM) == before


def test_one_process_that_cannot_be_stopped_does_not_keep_the_others_alive(
    tmp_path: Path,
) -> None:
    class Stubborn:
        name = "stubborn"
        pid = 999_999

        def stop(self, timeout_s: float = 10.0) -> None:
            raise OSError("permission denied")

    sleepers = SleepLaunchers(tmp_path)
    with Supervisor() as supervisor:
        supervisor.adopt(sleepers._sleep("first"))
        supervisor.adopt(Stubborn())
        supervisor.adopt(sleepers._sleep("last"))

    assert_all_stopped(sleepers.started)
    assert supervisor.stop_errors == ["could not stop stubborn (pid 999999): permission denied"]
