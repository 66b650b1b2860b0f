"""The service's side of a backfill's record: create it, settle partitions, announce the end.

The storage protocol lives in :mod:`worker.core.backfill_record` and
:mod:`worker.core.backfill_announce`; this module runs it off the event loop and publishes
``backfill-completed`` when this replica wins the announcement. :func:`completed_event`
is shared with the CLI's ``worker backfill``, so both paths announce the same way.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime

from worker import __version__
from worker.core.backfill_announce import BackfillCompletion, claim_completion, mark_published
from worker.core.backfill_record import SettledPartition, SettledStatus, record_settled
from worker.core.model import Ports
from worker.errors import AnnouncementPendingError
from worker.events import BackfillCompleted, BackfillFailure
from worker.observability.logging import get_logger
from worker.service.publishing import wire_message
from worker.settings import EventEncoding

log = get_logger("worker.service")

PENDING_POLLS = 20
PENDING_POLL_S = 0.25
"""How long a replica that lost the claim waits for the winner's publish (5 s in all)."""


def replica_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def completed_event(completion: BackfillCompletion) -> BackfillCompleted:
    return BackfillCompleted(
        event_id=completion.backfill_id,
        backfill_id=completion.backfill_id,
        dataset=completion.dataset,
        start_date=completion.start_date,
        end_date=completion.end_date,
        mode=completion.mode,
        planned=completion.planned,
        committed=completion.committed,
        failed=completion.failed,
        skipped=completion.skipped,
        failures=tuple(
            BackfillFailure(
                partition_date=item.partition_date, reason=item.reason, message=item.message
            )
            for item in completion.failures
        ),
        started_at=completion.started_at,
        finished_at=completion.finished_at,
        worker_version=__version__,
    )


class BackfillTracker:
    def __init__(
        self,
        ports: Ports,
        publish: Callable[[bytes, dict[str, str]], Awaitable[object]],
        encoding: EventEncoding,
        clock: Callable[[], datetime],
    ) -> None:
        self._ports = ports
        self._publish = publish
        self._encoding = encoding
        self._clock = clock
        self._replica = replica_name()

    async def settle(
        self,
        dataset: str,
        backfill_id: str,
        settled: SettledPartition,
    ) -> None:
        """Note ``settled`` and, if it was the last pending partition, try to announce."""
        ports = self._ports
        await asyncio.to_thread(
            record_settled, ports.storage, ports.output_uri, dataset, backfill_id, settled
        )
        await self.announce(dataset, backfill_id)

    def note(
        self,
        partition: object,
        status: SettledStatus,
        *,
        run_id: str | None = None,
        reason: str | None = None,
        message: str | None = None,
    ) -> SettledPartition:
        return SettledPartition.model_validate(
            {
                "partition": partition,
                "status": status,
                "run_id": run_id,
                "reason": reason,
                "message": message,
                "settled_at": self._clock(),
            }
        )

    async def announce(self, dataset: str, backfill_id: str) -> None:
        """Publish ``backfill-completed`` if this replica wins the claim.

        A replica that loses the race to a live claimant waits a moment for it to publish
        (the usual case: both settled their last partitions at once) before giving up with
        AnnouncementPendingError, which nacks the message so it comes back later."""
        ports = self._ports
        claim = functools.partial(
            claim_completion,
            ports.storage,
            ports.output_uri,
            dataset,
            backfill_id,
            claimer=self._replica,
            clock=self._clock,
        )
        for attempt in range(PENDING_POLLS):
            try:
                claimed = await asyncio.to_thread(claim)
                break
            except AnnouncementPendingError:
                if attempt == PENDING_POLLS - 1:
                    raise
                await asyncio.sleep(PENDING_POLL_S)
        if claimed is None:
            return
        event = completed_event(claimed.completion)
        body, attributes = wire_message(event, self._encoding)
        await self._publish(body, attributes)
        marked = await asyncio.to_thread(mark_published, ports.storage, claimed)
        log.info(
            "backfill.completed",
            backfill_id=backfill_id,
            dataset=dataset,
            committed=event.committed,
            failed=event.failed,
            skipped=event.skipped,
            claim_marked=marked,
        )
