"""``worker dev``: the demo's environment, kept running, with ``worker serve`` restarted
whenever the worker's source changes.

watchfiles is not among our dependencies, so changes are found by polling modification
times once a second: cheap for a few hundred files, and no extra install.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import worker
from worker.devenv.demo_environments import EmulatedEnvironment, Launchers
from worker.devenv.emulators import find_pubsub_emulator
from worker.devenv.environment import export_lines, service_environment
from worker.devenv.supervisor import Supervisor, signals_interrupt
from worker.errors import ConfigurationError
from worker.settings import Settings

DEFAULT_DEV_WORKDIR = Path("data/dev")
WATCHED_SUFFIXES = (".py", ".avsc")
NO_EMULATOR = (
    "worker dev needs Google's Pub/Sub emulator (Debian package "
    "google-cloud-cli-pubsub-emulator, or WORKER_PUBSUB_EMULATOR_BIN); without it, "
    "`worker demo --no-emulators` runs the service on the in-memory broker"
)


class SourceWatcher:
    """Says when any watched file under ``root`` was added, removed or modified."""

    def __init__(self, root: Path, suffixes: tuple[str, ...] = WATCHED_SUFFIXES) -> None:
        self.root = root
        self.suffixes = suffixes
        self._snapshot = self._scan()

    def _scan(self) -> dict[Path, int]:
        found: dict[Path, int] = {}
        for path in self.root.rglob("*"):
            if path.suffix in self.suffixes and "__pycache__" not in path.parts:
                try:
                    found[path] = path.stat().st_mtime_ns
                except FileNotFoundError:
                    continue  # removed between listing and stat: the next scan says so
        return found

    def changed(self) -> list[Path]:
        """The files that changed since the last call (empty when none)."""
        current = self._scan()
        differing = {
            path
            for path in current.keys() | self._snapshot.keys()
            if current.get(path) != self._snapshot.get(path)
        }
        self._snapshot = current
        return sorted(differing)


class LogTail:
    """The lines appended to a log file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete = data.rpartition(b"\n")[0]
        if not complete:
            return []
        self._offset += len(complete) + 1
        return complete.decode("utf-8", errors="replace").splitlines()


def dev_instructions(settings: Settings, worker_url: str) -> list[str]:
    """What a second terminal needs: the exports, then what to try."""
    dead_letters = f"{settings.dead_letter_topic_for(settings.topics.file_arrived)}-keep"
    return [
        "# In a second terminal:",
        *export_lines(service_environment(settings)),
        "# then land files (fake-gcs-server notifies the worker) and look:",
        "worker sample-data --dataset trips --start-date 2024-01-01 --days 2 --rows-per-day 500",
        f"curl -s {worker_url}/readyz; curl -s {worker_url}/metrics | head",
        f"worker dlq list --subscription {dead_letters}",
    ]


@dataclass(frozen=True, slots=True)
class DevOptions:
    workdir: Path = DEFAULT_DEV_WORKDIR
    source_root: Path = Path(worker.__file__).parent
    poll_s: float = 1.0
    pid_file: Path | None = None


def watch_and_restart(
    environment: EmulatedEnvironment,
    watcher: SourceWatcher,
    *,
    poll_s: float,
    say: Callable[[str], None],
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Until interrupted (or ``keep_going`` says stop): echo the worker's log and restart
    it when the source changes. A worker that exits (a syntax error, say) is reported once
    and restarted by the next change, not in a loop."""
    tail = LogTail(environment.logs / "worker-serve.log")
    exit_reported = False
    while keep_going():
        for line in tail.new_lines():
            say(line)
        changed = watcher.changed()
        if changed:
            restarted = environment.restart_worker()
            say(
                f"# {len(changed)} file(s) changed ({changed[0]}): restarted worker serve, "
                f"pid {restarted.pid}"
            )
            exit_reported = False
        elif not exit_reported:
            code = environment.serving().proc.poll()
            if code is not None:
                say(f"# worker serve exited with code {code}; save a change to restart it")
                exit_reported = True
        time.sleep(poll_s)


def run_dev(
    settings: Settings,
    options: DevOptions,
    *,
    say: Callable[[str], None],
    launchers: Launchers | None = None,
    provisioner: Callable[[Settings], Awaitable[object]] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Start the environment, print how to use it, then watch until Ctrl-C; stop all by PID."""
    if launchers is None and find_pubsub_emulator() is None:
        raise ConfigurationError(NO_EMULATOR, where="worker dev")
    workdir = options.workdir.resolve()
    shutil.rmtree(workdir / "logs", ignore_errors=True)
    (workdir / "logs").mkdir(parents=True)
    with Supervisor(options.pid_file) as supervisor, signals_interrupt():
        environment = EmulatedEnvironment(
            settings, workdir, supervisor, launchers=launchers, provisioner=provisioner
        )
        try:
            asyncio.run(_start(environment, say))
            worker_process = environment.serving()
            for line in dev_instructions(environment.settings, f"http://{worker_process.host}"):
                say(line)
            say(f"# watching {options.source_root} for changes; Ctrl-C stops everything")
            watch_and_restart(
                environment,
                SourceWatcher(options.source_root),
                poll_s=options.poll_s,
                say=say,
                keep_going=keep_going,
            )
        finally:
            asyncio.run(environment.close())


async def _start(environment: EmulatedEnvironment, say: Callable[[str], None]) -> None:
    await environment.start(say)
    await environment.ready()
