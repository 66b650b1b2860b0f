"""What each message asks for: route, plan, process a partition, announce it.

The handlers in :mod:`worker.service.app` call these. Each raises ``worker.errors`` on
failure and never settles a message itself (that is :mod:`worker.service.settle`'s job).
The synchronous core runs off the event loop (``asyncio.to_thread``) with the message's
trace, log scope and lease heartbeat plugged into its ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from worker.core.backfill_record import (
    BackfillRecord,
    SettledStatus,
    create_record,
    planned_entries,
)
from worker.core.load import partition_state
from worker.core.manifest import read_manifest
from worker.core.model import PartitionResult, PartitionTask, Ports
from worker.core.partitions import parse_mode, plan_backfill
from worker.core.pipeline import process_partition
from worker.core.quality import CheckOutcome
from worker.errors import QualityError, WorkerError
from worker.events import (
    BackfillRequested,
    FileArrived,
    PartitionCompleted,
    PartitionRequested,
)
from worker.observability.logging import get_logger
from worker.observability.metrics import WorkerMetrics
from worker.observability.tracing import stage_span
from worker.service.backfill_tracking import BackfillTracker
from worker.service.completion import completion_event
from worker.service.lease import Leased, LeaseHeartbeat
from worker.service.policy import decide
from worker.service.publishing import wire_message
from worker.service.routing import route
from worker.service.scope import enter_stage, learn
from worker.settings import EventEncoding

log = get_logger("worker.service")

FAN_OUT_CHUNK = 1000
"""Pub/Sub takes at most 1000 messages per publish request."""


class BatchPublisher(Protocol):
    """A FastStream publisher bound to one topic."""

    async def publish(
        self, message: bytes, topic: str = "", *, headers: dict[str, str] | None = None
    ) -> str: ...

    async def publish_batch(
        self, *messages: bytes, topic: str = "", headers: dict[str, str] | None = None
    ) -> list[str]: ...


@contextlib.contextmanager
def _core_stage(name: str) -> Iterator[None]:
    """``Ports.stage``: note the stage reached and give it a span."""
    enter_stage(name)
    with stage_span(name):
        yield


class Flows:
    """The service's use of the core, shared by every subscriber."""

    def __init__(
        self,
        ports: Ports,
        metrics: WorkerMetrics,
        *,
        completed: BatchPublisher,
        requested: BatchPublisher,
        encoding: EventEncoding,
        lease_extension_s: float,
        backfills: BackfillTracker,
        on_completed: Callable[[PartitionCompleted], None] | None = None,
    ) -> None:
        self.ports = ports
        self._backfills = backfills
        self._metrics = metrics
        self._completed = completed
        self._requested = requested
        self._encoding = encoding
        self._lease_extension_s = lease_extension_s
        self._on_completed = on_completed

    async def file_arrived(self, event: FileArrived, message: Leased) -> PartitionCompleted:
        """Recompute the partition the arrived object feeds (from all its inputs)."""
        enter_stage("route")
        dataset, day = route(event, self.ports.registry, self.ports.landing_uri)
        learn(dataset=dataset, partition=day)
        task = PartitionTask(dataset=dataset, partition=day, trigger="file-arrived")
        return await self._process(task, message)

    async def partition_requested(
        self, event: PartitionRequested, message: Leased
    ) -> PartitionCompleted:
        enter_stage("route")
        learn(dataset=event.dataset, partition=event.partition_date, backfill_id=event.backfill_id)
        self.ports.registry.get(event.dataset)
        task = PartitionTask(
            dataset=event.dataset,
            partition=event.partition_date,
            force=event.force,
            backfill_id=event.backfill_id,
            trigger="partition-requested",
        )
        if event.backfill_id is None:
            return await self._process(task, message)
        try:
            result, completed = await self._run(task, message)
        except WorkerError as exc:
            if decide(exc).fate == "dead-letter":
                # Settled for good: the message is dead-lettered, not retried.
                note = self._backfills.note(
                    task.partition, "failed", reason=exc.reason, message=str(exc)
                )
                await self._backfills.settle(event.dataset, event.backfill_id, note)
            raise
        status: SettledStatus = "committed" if result.status == "committed" else "skipped"
        note = self._backfills.note(task.partition, status, run_id=completed.run_id)
        await self._backfills.settle(event.dataset, event.backfill_id, note)
        return completed

    async def backfill_requested(self, event: BackfillRequested) -> list[PartitionRequested]:
        """Plan the range and fan one ``partition-requested`` per partition to run out to
        every replica; the backfill id travels on each."""
        enter_stage("plan")
        learn(dataset=event.dataset, backfill_id=event.backfill_id)
        self.ports.registry.get(event.dataset)
        state_of = functools.partial(
            partition_state, self.ports.storage, self.ports.output_uri, event.dataset
        )
        with stage_span("plan"):
            plan = await asyncio.to_thread(
                plan_backfill,
                event.dataset,
                event.start_date,
                event.end_date,
                parse_mode(event.mode),
                state_of,
            )
        # A redelivered request finds the first planner's record and fans out ITS plan.
        record = await asyncio.to_thread(
            create_record,
            self.ports.storage,
            self.ports.output_uri,
            BackfillRecord(
                backfill_id=event.backfill_id,
                dataset=event.dataset,
                start_date=event.start_date,
                end_date=event.end_date,
                mode=event.mode,
                reason=event.reason,
                requested_by=event.requested_by,
                requested_at=event.requested_at,
                planned_at=self.ports.clock(),
                planned_by="service",
                partitions=planned_entries(plan),
            ),
        )
        force = {item.partition: item.force for item in plan}
        requests = [
            PartitionRequested(
                backfill_id=event.backfill_id,
                dataset=event.dataset,
                partition_date=entry.partition,
                force=force.get(entry.partition, event.mode == "all"),
                reason=entry.reason,
                # The request's own time, so a redelivered backfill fans out equal messages.
                requested_at=event.requested_at,
            )
            for entry in record.to_run()
        ]
        enter_stage("publish")
        with stage_span("publish"):
            await self._fan_out(requests)
        if not requests:
            await self._backfills.announce(event.dataset, event.backfill_id)
        log.info(
            "backfill.fanned_out",
            planned=len(plan),
            requested=len(requests),
            start=event.start_date.isoformat(),
            end=event.end_date.isoformat(),
            mode=event.mode,
        )
        return requests

    async def _fan_out(self, requests: Sequence[PartitionRequested]) -> None:
        for start in range(0, len(requests), FAN_OUT_CHUNK):
            chunk = requests[start : start + FAN_OUT_CHUNK]
            wired = [wire_message(request, self._encoding) for request in chunk]
            # Every message of one chunk has the same attributes (type, version, trace).
            await self._requested.publish_batch(*(body for body, _ in wired), headers=wired[0][1])

    async def _process(self, task: PartitionTask, message: Leased) -> PartitionCompleted:
        return (await self._run(task, message))[1]

    async def _run(
        self, task: PartitionTask, message: Leased
    ) -> tuple[PartitionResult, PartitionCompleted]:
        heartbeat = LeaseHeartbeat(message, asyncio.get_running_loop(), self._lease_extension_s)
        ports = dataclasses.replace(self.ports, stage=_core_stage, heartbeat=heartbeat)
        try:
            result = await asyncio.to_thread(process_partition, task, ports)
        except QualityError as exc:
            failed = [item for item in exc.report if isinstance(item, CheckOutcome)]
            self._metrics.quality(task.dataset, (item.name for item in failed if not item.passed))
            raise
        learn(run_id=result.run_id)
        self._count(result)
        enter_stage("publish")
        with stage_span("publish"):
            manifest = await asyncio.to_thread(read_manifest, ports.storage, result.partition_uri)
            event = completion_event(result, manifest, backfill_id=task.backfill_id)
            body, attributes = wire_message(event, self._encoding)
            await self._completed.publish(body, headers=attributes)
        if self._on_completed is not None:
            self._on_completed(event)
        return result, event

    def _count(self, result: PartitionResult) -> None:
        fresh = result.status == "committed"
        self._metrics.partition(
            result.dataset,
            result.status,
            result.duration_s,
            # A skipped partition's rows were counted when it was committed.
            rows_in=result.rows_in if fresh else 0,
            rows_out=result.rows_out if fresh else 0,
            rows_quarantined=result.rows_quarantined if fresh else 0,
        )
        if fresh:
            self._metrics.quality(
                result.dataset, (item.name for item in result.quality if not item.passed)
            )
