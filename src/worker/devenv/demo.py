"""``worker demo``: the whole product on one machine, from upload to completion event.

1. Clean the demo directory; pick the environment: the real emulators when Google's
   Pub/Sub emulator is installed, else the same service on the in-memory broker.
2. Start it (emulators, provisioning, ``worker serve``), subscribe to completions and
   dead letters, and land the planned files (a week of trips plus two poison objects).
3. Wait until every file has an outcome or the timeout passes, then report: each file's
   fate against the plan, rows, dead letters with reasons, where the output is.
4. Whatever happens, stop every process started here, by PID.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.devenv.demo_environments import (
    DemoEnvironment,
    DemoMode,
    EmbeddedEnvironment,
    EmulatedEnvironment,
    Launchers,
)
from worker.devenv.demo_observer import DemoObserver, wait_until
from worker.devenv.demo_plan import DemoPlan, build_plan
from worker.devenv.demo_tally import Completion, DeadLetter, DemoTally, FileVerdict
from worker.devenv.emulators import find_pubsub_emulator
from worker.devenv.environment import embedded_settings
from worker.devenv.logs import logs_to_file
from worker.devenv.supervisor import Supervisor, signals_interrupt
from worker.errors import ConfigurationError
from worker.runtime import configure
from worker.settings import Settings

DEFAULT_WORKDIR = Path("data/demo")
DEFAULT_TIMEOUT_S = 180.0
ASYNCAPI_PAGE = Path("asyncapi/index.html")
IN_PROCESS_LOG = "demo-process.log"
"""The logs of everything the demo runs inside its own process (the whole worker, in memory)."""
NO_EMULATOR_NOTE = (
    "Google's Pub/Sub emulator was not found (Debian package "
    "google-cloud-cli-pubsub-emulator); running on the in-memory broker with a local "
    "directory as the bucket"
)
FORCED_IN_MEMORY_NOTE = "--no-emulators: running on the in-memory broker with a local bucket"
MEMORY_BROKER_NOTE = "WORKER_BROKER=memory: running on the in-memory broker with a local bucket"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    workdir: Path = DEFAULT_WORKDIR
    use_emulators: bool = True
    """False forces the in-memory path (``--no-emulators``)."""
    timeout_s: float = DEFAULT_TIMEOUT_S
    """Overall wait for every planned file's outcome, once the files are landed."""
    plan: DemoPlan = field(default_factory=build_plan)
    pid_file: Path | None = None


@dataclass
class DemoSummary:
    mode: DemoMode
    note: str | None
    workdir: Path
    landing_uri: str
    output_uri: str
    verdicts: list[FileVerdict]
    completions: list[Completion]
    dead_letters: list[DeadLetter]
    processes: dict[str, int]
    """Name → PID of every process the demo started (all stopped by now)."""
    logs: Path
    asyncapi_page: Path | None
    elapsed_s: float
    timed_out: bool
    stop_errors: list[str]
    error: Exception | None = None
    """What stopped the demo early (a process that would not start, ...)."""

    @property
    def succeeded(self) -> bool:
        return self.failure() is None

    def failure(self) -> str | None:
        """One line saying why the demo failed, or None."""
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}; logs: {self.logs}"
        if self.timed_out:
            waiting = ", ".join(v.planned.name for v in self.verdicts if v.outcome == "pending")
            return f"timed out waiting for {waiting}; logs: {self.logs}"
        wrong = [
            f"{v.planned.name}: {v.outcome}, expected {_expected(v)}"
            for v in self.verdicts
            if not v.ok
        ]
        if wrong:
            return "unexpected outcomes: " + "; ".join(wrong)
        if self.stop_errors:
            return "; ".join(self.stop_errors)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "succeeded": self.succeeded,
            "failure": self.failure(),
            "mode": self.mode,
            "note": self.note,
            "workdir": str(self.workdir),
            "landing_uri": self.landing_uri,
            "output_uri": self.output_uri,
            "files": [
                {
                    "name": v.planned.name,
                    "role": v.planned.role,
                    "expected": _expected(v),
                    "outcome": v.outcome,
                    "ok": v.ok,
                }
                for v in self.verdicts
            ],
            "partitions": [
                {
                    "dataset": c.dataset,
                    "partition": c.partition.isoformat(),
                    "status": c.status,
                    "run_id": c.run_id,
                    "rows_in": c.rows_in,
                    "rows_out": c.rows_out,
                    "rows_quarantined": c.rows_quarantined,
                    "partition_uri": c.partition_uri,
                }
                for c in first_completions(self.completions)
            ],
            "completion_events": len(self.completions),
            "dead_letters": [
                {
                    "reason": d.reason,
                    "error_type": d.error_type,
                    "message": d.message,
                    "subscription": d.subscription,
                    "uri": d.uri,
                }
                for d in self.dead_letters
            ],
            "processes": [{"name": n, "pid": p} for n, p in self.processes.items()],
            "logs": str(self.logs),
            "asyncapi_page": str(self.asyncapi_page) if self.asyncapi_page else None,
            "elapsed_s": round(self.elapsed_s, 3),
            "timed_out": self.timed_out,
            "error": None if self.error is None else str(self.error),
            "stop_errors": self.stop_errors,
        }


def _expected(verdict: FileVerdict) -> str:
    planned = verdict.planned
    return planned.expect if planned.reason is None else f"{planned.expect}:{planned.reason}"


def first_completions(completions: list[Completion]) -> list[Completion]:
    """One completion per partition (the first heard), in partition order."""
    first: dict[tuple[str, Any], Completion] = {}
    for completion in completions:
        first.setdefault((completion.dataset, completion.partition), completion)
    return sorted(first.values(), key=lambda c: (c.dataset, c.partition))


def prepare_workdir(workdir: Path) -> Path:
    """Empty ``workdir`` (it belongs to the demo) and return its absolute path."""
    workdir = workdir.resolve()
    if workdir == Path.cwd().resolve() or workdir in Path.cwd().resolve().parents:
        raise ConfigurationError(
            "refusing to clean the current directory or one of its parents", where=str(workdir)
        )
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "logs").mkdir(parents=True)
    return workdir


def choose_mode(settings: Settings, options: DemoOptions) -> tuple[bool, str | None]:
    """(use the emulators?, the note explaining the in-memory path when not)."""
    if not options.use_emulators:
        return False, FORCED_IN_MEMORY_NOTE
    if settings.broker == "memory":
        return False, MEMORY_BROKER_NOTE
    if find_pubsub_emulator() is None:
        return False, NO_EMULATOR_NOTE
    return True, None


async def _drive(
    environment: DemoEnvironment,
    tally: DemoTally,
    options: DemoOptions,
    progress: Callable[[str], None],
) -> bool:
    """Start, observe, land every file, wait; whether every file got an outcome in time."""
    await environment.start(progress)
    tally.landing_uri = environment.settings.landing_uri
    observer = DemoObserver(
        environment.settings,
        environment.transport,
        on_completion=tally.add_completion,
        on_dead_letter=tally.add_dead_letter,
    )
    async with observer:
        plan = tally.plan
        progress(f"landing {len(plan.files)} files under {tally.landing_uri}")
        for planned in plan.files:
            uri = plan.uri(tally.landing_uri, planned)
            await environment.land(uri, await asyncio.to_thread(plan.content, planned))
        await environment.ready()
        progress(f"waiting for {len(plan.files)} outcomes (timeout {options.timeout_s:.0f}s)")

        def settled() -> bool:
            environment.check()
            return tally.done

        return await wait_until(settled, timeout_s=options.timeout_s)


async def _run(
    environment: DemoEnvironment,
    tally: DemoTally,
    options: DemoOptions,
    progress: Callable[[str], None],
) -> bool:
    try:
        return await _drive(environment, tally, options, progress)
    finally:
        await environment.close()


def run_demo(
    settings: Settings,
    options: DemoOptions,
    *,
    progress: Callable[[str], None] = lambda _: None,
    launchers: Launchers | None = None,
    provisioner: Callable[[Settings], Awaitable[object]] | None = None,
) -> DemoSummary:
    """Run the demo; every process it started is stopped before this returns or raises."""
    started = time.monotonic()
    use_emulators, note = choose_mode(settings, options)
    if note:
        progress(note)
    workdir = prepare_workdir(options.workdir)
    supervisor = Supervisor(options.pid_file)
    environment: DemoEnvironment
    if use_emulators:
        environment = EmulatedEnvironment(
            settings, workdir, supervisor, launchers=launchers, provisioner=provisioner
        )
    else:
        environment = EmbeddedEnvironment(embedded_settings(settings, workdir=workdir))
    tally = DemoTally(options.plan, environment.settings.landing_uri)
    error: Exception | None = None
    finished = False
    in_process_log = workdir / "logs" / IN_PROCESS_LOG
    with supervisor, signals_interrupt():
        try:
            with logs_to_file(in_process_log, settings.log_level):
                finished = asyncio.run(_run(environment, tally, options, progress))
        except Exception as exc:
            # Reported in the summary (with the PIDs, all stopped by then); the CLI exits
            # with the error's code.
            error = exc
        finally:
            configure(settings)
    return DemoSummary(
        mode=environment.mode,
        note=note,
        workdir=workdir,
        landing_uri=environment.settings.landing_uri,
        output_uri=environment.settings.output_uri,
        verdicts=tally.verdicts(),
        completions=list(tally.completions),
        dead_letters=list(tally.dead_letters),
        processes=supervisor.pids,
        logs=workdir / "logs",
        asyncapi_page=ASYNCAPI_PAGE.resolve() if ASYNCAPI_PAGE.is_file() else None,
        elapsed_s=time.monotonic() - started,
        timed_out=error is None and not finished,
        stop_errors=list(supervisor.stop_errors),
        error=error,
    )
