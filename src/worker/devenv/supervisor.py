"""Keep track of every process the demo or ``worker dev`` starts, and stop each by its PID.

A :class:`Supervisor` is a context manager: whatever happens inside (an error, Ctrl-C,
SIGTERM or SIGHUP from a closing terminal), leaving it stops every adopted process, last
started first. Only processes it adopted are ever signalled.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Protocol, TypeVar

TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stoppable(Protocol):
    """A process we started: :class:`~worker.devenv.emulators.ManagedProcess` is one."""

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int: ...

    def stop(self, timeout_s: float = 10.0) -> None: ...


StoppableT = TypeVar("StoppableT", bound=Stoppable)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so every ``finally`` runs."""


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(f"received {signal.Signals(signum).name}")


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`Terminated` while inside (main thread only)."""
    previous = {}
    # Python allows handlers only in the main thread; elsewhere (a test runner's worker
    # thread) the caller's own handling stays in charge.
    with contextlib.suppress(ValueError):
        for signum in TERMINATING_SIGNALS:
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Supervisor:
    """The processes started so far; ``pid_file`` lists them (JSON) for outside checks."""

    def __init__(self, pid_file: Path | None = None) -> None:
        self.pid_file = pid_file
        self.processes: list[Stoppable] = []
        self.stop_errors: list[str] = []

    def adopt(self, process: StoppableT) -> StoppableT:
        self.processes.append(process)
        self._write_pid_file()
        return process

    def release(self, process: Stoppable) -> None:
        """Stop one process now (e.g. to restart it) and forget it."""
        self._stop(process)
        self.processes.remove(process)
        self._write_pid_file()

    @property
    def pids(self) -> dict[str, int]:
        return {process.name: process.pid for process in self.processes}

    def _stop(self, process: Stoppable) -> None:
        # One process that will not stop must not keep the others alive.
        try:
            process.stop()
        except Exception as exc:
            self.stop_errors.append(f"could not stop {process.name} (pid {process.pid}): {exc}")

    def stop_all(self) -> None:
        """Stop every adopted process, newest first; a failure to stop one is recorded."""
        for process in reversed(self.processes):
            self._stop(process)

    def _write_pid_file(self) -> None:
        if self.pid_file is None:
            return
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        records = [{"name": p.name, "pid": p.pid} for p in self.processes]
        self.pid_file.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A second Ctrl-C while stopping must not leave the rest running.
        with signals_ignored():
            self.stop_all()


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM/SIGHUP while cleaning up (main thread only)."""
    previous = {}
    with contextlib.suppress(ValueError):
        for signum in (signal.SIGINT, *TERMINATING_SIGNALS):
            previous[signum] = signal.signal(signum, signal.SIG_IGN)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
