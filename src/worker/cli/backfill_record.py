"""``worker backfill`` keeps the same record as the service and announces the same event.

The record is created by the first task that plans (Cloud Run Jobs run several; they share
one backfill id, derived from ``CLOUD_RUN_EXECUTION``), every finished partition is noted,
and the task that settles the last one wins the claim and publishes ``backfill-completed``
on Pub/Sub (on the in-memory broker nothing outlives the process, so it is only recorded).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import date

from worker.core.backfill import PartitionOutcome
from worker.core.backfill_announce import BackfillCompletion, claim_completion, mark_published
from worker.core.backfill_record import (
    BackfillRecord,
    SettledPartition,
    create_record,
    planned_entries,
    record_settled,
)
from worker.core.model import Ports
from worker.core.partitions import PlannedPartition
from worker.settings import Settings


def shared_backfill_id(fallback: str) -> str:
    """One id for every task of a Cloud Run Jobs execution; else the checkpoint's own."""
    execution = os.environ.get("CLOUD_RUN_EXECUTION")
    return f"bf-{execution}" if execution else fallback


def open_record(
    ports: Ports,
    *,
    backfill_id: str,
    dataset: str,
    start: date,
    end: date,
    mode: str,
    whole_plan: list[PlannedPartition],
    requested_by: str,
) -> BackfillRecord:
    now = ports.clock()
    return create_record(
        ports.storage,
        ports.output_uri,
        BackfillRecord.model_validate(
            {
                "backfill_id": backfill_id,
                "dataset": dataset,
                "start_date": start,
                "end_date": end,
                "mode": mode,
                "requested_by": requested_by,
                "requested_at": now,
                "planned_at": now,
                "planned_by": "cli",
                "partitions": planned_entries(whole_plan),
            }
        ),
    )


def note_outcome(ports: Ports, dataset: str, backfill_id: str, outcome: PartitionOutcome) -> None:
    if outcome.status not in ("committed", "skipped", "failed"):
        return
    settled = SettledPartition.model_validate(
        {
            "partition": outcome.partition,
            "status": outcome.status,
            "run_id": outcome.run_id,
            "reason": outcome.reason or (outcome.error_type if outcome.error else None),
            "message": outcome.error,
            "settled_at": ports.clock(),
        }
    )
    record_settled(ports.storage, ports.output_uri, dataset, backfill_id, settled)


def announce(
    settings: Settings,
    ports: Ports,
    dataset: str,
    backfill_id: str,
    *,
    warn: Callable[[str], None],
) -> tuple[BackfillCompletion, bool] | None:
    """Claim and publish the completion when this task settled the last partition; the
    summary and whether it went out on Pub/Sub (never on the in-memory broker).

    The partitions are done whatever Pub/Sub says: a failed publish is reported through
    ``warn`` and leaves the claim unpublished (``worker status --backfill-id`` shows it);
    it does not fail the backfill."""
    claimed = claim_completion(
        ports.storage,
        ports.output_uri,
        dataset,
        backfill_id,
        claimer=f"cli:{os.getpid()}",
        clock=ports.clock,
    )
    if claimed is None:
        return None
    if settings.broker == "pubsub":
        try:
            asyncio.run(_publish(settings, claimed.completion))
        except Exception as exc:  # any failure: the record in storage stays the truth
            warn(
                f"backfill-completed was not published ({type(exc).__name__}: {exc}); "
                f"the backfill's record in storage is complete"
            )
            return claimed.completion, False
    else:
        return claimed.completion, False
    mark_published(ports.storage, claimed)
    return claimed.completion, True


async def _publish(settings: Settings, completion: BackfillCompletion) -> None:
    from faststream_gcp_pubsub import PubSubBroker
    from worker.service.backfill_tracking import completed_event
    from worker.service.publishing import publish_event

    broker = PubSubBroker(project=settings.project)
    try:
        await broker.connect()
        await publish_event(
            broker,
            completed_event(completion),
            settings.event_encoding,
            topic=settings.topics.backfill_completed,
        )
    finally:
        await broker.stop()
