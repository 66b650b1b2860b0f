"""``WorkerService``: the built app plus what an in-process caller drives it with.

``worker demo``, ``worker publish`` on the memory broker and tests run the service inside
their own process::

    service = build_service(settings)
    async with service.running():
        await service.publish_file_arrived("/abs/data/landing/trips/2024-01-01.csv")
        await service.wait_idle()
        print(service.completions[-1])
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

from faststream.asgi import AsgiFastStream

from faststream_gcp_pubsub import MemoryTransport, PubSubBroker
from worker.core.model import Ports
from worker.errors import ConfigurationError, InputNotFoundError
from worker.events import PartitionCompleted
from worker.observability.metrics import WorkerMetrics
from worker.runtime import utc_now
from worker.service.policy import Verdict
from worker.service.publishing import backfill_event, file_arrived_event, publish_event
from worker.service.scope import MessageScope
from worker.settings import Settings

RECENT = 1000
"""How many completions and fates an in-process caller can look back on."""


@dataclass(frozen=True, slots=True)
class FateRecord:
    message_id: str
    subscription: str
    fate: str
    reason: str
    dataset: str | None
    partition: str | None


@dataclass(eq=False)
class WorkerService:
    settings: Settings
    broker: PubSubBroker
    metrics: WorkerMetrics
    app: AsgiFastStream = field(init=False)
    ports: Ports = field(init=False)
    completions: deque[PartitionCompleted] = field(default_factory=lambda: deque(maxlen=RECENT))
    """Completion events this process published, oldest first."""
    fates: deque[FateRecord] = field(default_factory=lambda: deque(maxlen=RECENT))
    """The fate of each message this process settled, oldest first."""

    def record_completion(self, event: PartitionCompleted) -> None:
        self.completions.append(event)

    def record_fate(self, scope: MessageScope, verdict: Verdict) -> None:
        self.fates.append(
            FateRecord(
                scope.message_id,
                scope.subscription,
                verdict.fate,
                verdict.reason,
                scope.dataset,
                scope.partition,
            )
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerService]:
        """Start the app (broker, subscribers) in this process; stop it on exit.

        The app's lifespan is held by a task of its own: FastStream's lifespan is an
        AnyIO task group, which must be left by the task that entered it, and callers
        (fixtures, exit stacks) may leave this context from another task.
        """
        started, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with self.app.start_lifespan_context():
                started.set()
                await stop.wait()

        holder = asyncio.create_task(hold(), name="worker-service-lifespan")
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({holder, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            waiter.cancel()
            await holder  # raises what made startup fail
        try:
            yield self
        finally:
            stop.set()
            await holder

    async def publish_file_arrived(self, uri: str, *, generation: int | None = None) -> str:
        """Announce ``uri`` as our own ``file-arrived`` event; returns the message id.

        Without ``generation`` the object's current one is read from storage.
        """
        size: int | None = None
        if generation is None:
            info = await asyncio.to_thread(self.ports.storage.stat, uri)
            if info is None:
                raise InputNotFoundError("cannot announce a file that does not exist", where=uri)
            generation, size = info.generation, info.size
        event = file_arrived_event(uri, generation=generation, size=size, event_time=utc_now())
        topic = self.settings.topics.file_arrived
        return await publish_event(self.broker, event, self.settings.event_encoding, topic=topic)

    async def publish_backfill(
        self,
        dataset: str,
        start: date,
        end: date,
        *,
        mode: str = "missing",
        reason: str | None = None,
        requested_by: str = "worker",
    ) -> str:
        """Request a backfill of ``dataset`` over ``start..end``; returns the message id."""
        event = backfill_event(
            dataset,
            start,
            end,
            mode=mode,
            reason=reason,
            requested_by=requested_by,
            requested_at=utc_now(),
        )
        return await publish_event(
            self.broker,
            event,
            self.settings.event_encoding,
            topic=self.settings.topics.backfill_requested,
        )

    async def wait_idle(self, timeout_s: float = 60.0, poll_s: float = 0.05) -> None:
        """Wait until no message is waiting on or leased from the service's subscriptions.

        Only on the in-memory broker (``WORKER_BROKER=memory``), where this process is the
        whole of Pub/Sub. A redelivery still waiting out its retry backoff is not counted.
        """
        transport = self.broker.transport
        if not isinstance(transport, MemoryTransport):
            raise ConfigurationError(
                "wait_idle needs the in-memory broker (WORKER_BROKER=memory)",
                where="worker service",
            )
        names = [self.settings.subscription_for(topic) for topic in self._consumed_topics()]
        async with asyncio.timeout(timeout_s):
            while True:
                subscriptions = transport.server.subscriptions
                if all(name in subscriptions and not subscriptions[name].backlog for name in names):
                    return
                await asyncio.sleep(poll_s)

    def _consumed_topics(self) -> tuple[str, ...]:
        topics = self.settings.topics
        return (topics.file_arrived, topics.backfill_requested, topics.partition_requested)
