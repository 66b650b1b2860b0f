"""Run a planned backfill: worker processes, a resumable checkpoint, progress, a summary.

Transforms are CPU-bound, so ``parallel > 1`` means worker *processes* (spawned from a
fork server, never forked from a parent holding threads and sockets). Each child builds
its own :class:`Ports` from a picklable factory; the parent only schedules, records the
checkpoint and reports progress. A failed partition is recorded and never stops the others.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from worker.core.backfill_checkpoint import Checkpoint, PartitionOutcome, checkpoint_path
from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.core.partitions import PlannedPartition
from worker.errors import ConfigurationError, WorkerError
from worker.observability.logging import get_logger

__all__ = [
    "BackfillProgress",
    "BackfillSummary",
    "Checkpoint",
    "PartitionOutcome",
    "checkpoint_path",
    "prestart_workers",
    "run_backfill",
    "run_one",
]

ProcessFn = Callable[[PartitionTask, Ports], PartitionResult]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """Reported once before the first partition (``outcome`` None) and after each one."""

    done: int
    total: int
    outcome: PartitionOutcome | None


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    backfill_id: str
    outcomes: tuple[PartitionOutcome, ...]
    """Every planned-to-run partition, in date order (resumed ones included)."""
    not_run: tuple[PlannedPartition, ...] = ()
    """Partitions the plan skipped, with the reason."""

    @property
    def failed(self) -> tuple[PartitionOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.status == "failed")

    @property
    def rows_out(self) -> int:
        return sum(outcome.rows_out for outcome in self.outcomes)


def _process_with_pipeline(task: PartitionTask, ports: Ports) -> PartitionResult:
    from worker.core.pipeline import process_partition

    return process_partition(task, ports)


def run_one(process: ProcessFn, task: PartitionTask, ports: Ports) -> PartitionOutcome:
    """Run one partition; every failure becomes a failed outcome, never an exception."""
    started = time.perf_counter()
    try:
        result = process(task, ports)
    except WorkerError as exc:
        return PartitionOutcome(
            task.partition,
            "failed",
            duration_s=time.perf_counter() - started,
            error=str(exc),
            error_type=type(exc).__name__,
            reason=exc.reason,
        )
    except Exception as exc:
        _log.exception("partition crashed", dataset=task.dataset, partition=str(task.partition))
        return PartitionOutcome(
            task.partition,
            "failed",
            duration_s=time.perf_counter() - started,
            error=f"unexpected {type(exc).__name__}: {exc}",
            error_type=type(exc).__name__,
        )
    return PartitionOutcome(
        task.partition,
        result.status,
        run_id=result.run_id,
        rows_out=result.rows_out,
        rows_quarantined=result.rows_quarantined,
        duration_s=time.perf_counter() - started,
        error=result.reason if result.status == "failed" else None,
        error_type="PartitionFailed" if result.status == "failed" else None,
    )


_child: dict[str, Any] = {}
"""The pool child's own ports and process function, built once by ``_init_child``."""


def _init_child(
    ports_factory: Callable[[], Ports],
    process: ProcessFn,
    child_setup: Callable[[], None] | None,
) -> None:
    if child_setup is not None:
        child_setup()
    _child["ports"] = ports_factory()
    _child["process"] = process


def _run_in_child(task: PartitionTask) -> PartitionOutcome:
    return run_one(_child["process"], task, _child["ports"])


PRELOAD_MODULES = ("worker.core.pipeline", "worker.datasets")
"""Imported once by the fork server, so children start with pandera and polars loaded
(importing them costs seconds of CPU per process otherwise)."""


def _pool_context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD_MODULES))
    return context


POLARS_THREADS_VARIABLE = "POLARS_MAX_THREADS"


@contextlib.contextmanager
def polars_threads_per_worker(parallel: int) -> Iterator[None]:
    """While worker processes start, give each ``cores // parallel`` Polars threads (unless
    the user set ``POLARS_MAX_THREADS``): N processes each running a thread per core put N
    times more busy threads than cores on the machine (measured: --parallel 2 on 2 cores
    ran 29% faster with one thread each). The caller's own environment is restored."""
    if parallel <= 1 or POLARS_THREADS_VARIABLE in os.environ:
        yield
        return
    os.environ[POLARS_THREADS_VARIABLE] = str(max(1, (os.cpu_count() or 1) // parallel))
    try:
        yield
    finally:
        os.environ.pop(POLARS_THREADS_VARIABLE, None)


def prestart_workers(parallel: int) -> None:
    """Start the fork server now, so its imports overlap with the caller's own start-up
    (planning, reading partition states) instead of following it."""
    if parallel > 1 and isinstance(_pool_context(), multiprocessing.context.ForkServerContext):
        with polars_threads_per_worker(parallel):
            forkserver.ensure_running()


def run_backfill(
    planned: Sequence[PlannedPartition],
    *,
    ports_factory: Callable[[], Ports],
    parallel: int = 1,
    checkpoint: Checkpoint | None = None,
    on_progress: Callable[[BackfillProgress], None] | None = None,
    process: ProcessFn = _process_with_pipeline,
    child_setup: Callable[[], None] | None = None,
) -> BackfillSummary:
    """Run every planned partition that ``runs`` and is not already done per the checkpoint.

    ``ports_factory``, ``process`` and ``child_setup`` must be picklable (module-level
    functions or ``functools.partial`` of them) when ``parallel > 1``. The checkpoint is
    removed when every partition succeeded, so the next identical command starts afresh.
    """
    if parallel < 1:
        raise ConfigurationError(f"--parallel must be at least 1, got {parallel}")
    book = checkpoint or Checkpoint(Path(os.devnull))
    to_run = [item for item in planned if item.runs and not book.is_done(item.partition)]
    tasks = [
        PartitionTask(
            dataset=item.dataset,
            partition=item.partition,
            force=item.force,
            backfill_id=book.backfill_id,
            trigger="backfill",
        )
        for item in to_run
    ]
    report = on_progress or (lambda _: None)
    report(BackfillProgress(0, len(tasks), None))
    ran: dict[date, PartitionOutcome] = {}

    def finish(outcome: PartitionOutcome) -> None:
        ran[outcome.partition] = outcome
        if checkpoint is not None:
            checkpoint.record(outcome)
        report(BackfillProgress(len(ran), len(tasks), outcome))

    if parallel == 1 or len(tasks) <= 1:
        ports = ports_factory() if tasks else None
        for task in tasks:
            assert ports is not None  # built above whenever there is a task
            finish(run_one(process, task, ports))
    else:
        _run_in_pool(tasks, parallel, ports_factory, process, child_setup, finish)

    outcomes = tuple(
        ran.get(item.partition) or replace(book.finished[item.partition], resumed=True)
        for item in planned
        if item.runs
    )
    summary = BackfillSummary(
        book.backfill_id, outcomes, tuple(item for item in planned if not item.runs)
    )
    if checkpoint is not None and not summary.failed:
        checkpoint.remove()
    return summary


def _run_in_pool(
    tasks: Sequence[PartitionTask],
    parallel: int,
    ports_factory: Callable[[], Ports],
    process: ProcessFn,
    child_setup: Callable[[], None] | None,
    finish: Callable[[PartitionOutcome], None],
) -> None:
    pool = ProcessPoolExecutor(
        max_workers=min(parallel, len(tasks)),
        mp_context=_pool_context(),
        initializer=_init_child,
        initargs=(ports_factory, process, child_setup),
    )
    try:
        with polars_threads_per_worker(parallel):
            pending: dict[Future[PartitionOutcome], PartitionTask] = {
                pool.submit(_run_in_child, task): task for task in tasks
            }
        for future in as_completed(pending):
            task = pending[future]
            try:
                outcome = future.result()
            except Exception as exc:
                # Only the pool itself fails here (a child died, or could not start):
                # run_one already turned every partition error into an outcome.
                outcome = PartitionOutcome(
                    task.partition,
                    "failed",
                    error=f"worker process failed: {type(exc).__name__}: {exc}",
                    error_type=type(exc).__name__,
                )
            finish(outcome)
    finally:
        # On Ctrl-C, drop the queue; partitions already running finish and commit or not,
        # and the checkpoint holds exactly the ones that were recorded.
        pool.shutdown(wait=True, cancel_futures=True)
