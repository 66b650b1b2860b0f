"""Listen where a downstream consumer and an operator would: completions and dead letters.

The observer is a second :class:`PubSubBroker` on the same Pub/Sub (the emulator, or the
service's in-memory transport) with its own subscription on ``partition-completed`` and
the ``<topic>-dlq-keep`` subscriptions that ``worker setup`` creates. It consumes (acks)
what it reads: the demo's environment is thrown away afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage
from faststream_gcp_pubsub.specs import KEEP_SUBSCRIPTION_SUFFIX, SubscriptionSpec
from faststream_gcp_pubsub.transport.base import Transport
from worker.devenv.demo_tally import Completion, DeadLetter
from worker.errors import WorkerError
from worker.events.codec import decode
from worker.events.deadletter import (
    ERROR_MESSAGE,
    ERROR_REASON,
    ERROR_TYPE,
    SOURCE_SUBSCRIPTION,
    strip_error_attributes,
)
from worker.events.models import FileArrived, PartitionCompleted
from worker.events.normalize import normalize_file_arrived
from worker.settings import Settings

DEMO_SUBSCRIPTION_SUFFIX = "-demo"
UNKNOWN = "unknown"


def completion_from_message(body: bytes, attributes: Mapping[str, str]) -> Completion:
    event = decode(body, attributes, PartitionCompleted)
    return Completion(
        dataset=event.dataset,
        partition=event.partition_date,
        status=event.status,
        run_id=event.run_id,
        rows_in=event.rows_in,
        rows_out=event.rows_out,
        rows_quarantined=event.rows_quarantined,
        partition_uri=event.partition_uri,
    )


def dead_letter_from_message(body: bytes, attributes: Mapping[str, str]) -> DeadLetter:
    """What a dead letter says about itself; the object it named, when it was a file event."""
    uri: str | None = None
    # A dead letter may be anything that arrived, unreadable bytes included: the object is
    # a best-effort hint, never a reason to fail.
    with contextlib.suppress(WorkerError, ValueError):
        arrived = normalize_file_arrived(body, strip_error_attributes(attributes))
        if isinstance(arrived, FileArrived):
            uri = arrived.uri
    return DeadLetter(
        reason=attributes.get(ERROR_REASON, UNKNOWN),
        error_type=attributes.get(ERROR_TYPE, UNKNOWN),
        message=attributes.get(ERROR_MESSAGE, ""),
        subscription=attributes.get(SOURCE_SUBSCRIPTION, ""),
        uri=uri,
    )


def consumed_topics(settings: Settings) -> tuple[str, ...]:
    """The topics the worker consumes, hence the ones with a dead-letter topic."""
    topics = settings.topics
    return (topics.file_arrived, topics.backfill_requested, topics.partition_requested)


class DemoObserver:
    """Collects completion events and dead letters into two callbacks."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        *,
        on_completion: Callable[[Completion], None],
        on_dead_letter: Callable[[DeadLetter], None],
    ) -> None:
        self.completed_topic = settings.topics.partition_completed
        self.subscription = f"{self.completed_topic}{DEMO_SUBSCRIPTION_SUFFIX}"
        self.broker = PubSubBroker(
            settings.project, transport=transport, provision_on_start=False, logger=None
        )
        self.keep_subscriptions = tuple(
            f"{settings.dead_letter_topic_for(topic)}{KEEP_SUBSCRIPTION_SUFFIX}"
            for topic in consumed_topics(settings)
        )
        self._transport = transport

        @self.broker.subscriber(self.subscription, topic=self.completed_topic)
        async def on_completed(msg: PubSubMessage) -> None:
            on_completion(completion_from_message(msg.body, msg.attributes))

        for keep in self.keep_subscriptions:

            @self.broker.subscriber(keep)
            async def on_dead(msg: PubSubMessage) -> None:
                on_dead_letter(dead_letter_from_message(msg.body, msg.attributes))

    async def create_subscription(self) -> None:
        """Subscribe to completions before any file lands, so none is missed."""
        await self._transport.connect()
        admin = self._transport.admin
        if await admin.get_subscription(self.subscription) is None:
            spec = SubscriptionSpec(self.subscription, self.completed_topic)
            await admin.create_subscription(spec)

    async def start(self) -> None:
        await self.create_subscription()
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    async def __aenter__(self) -> DemoObserver:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


async def wait_until(done: Callable[[], bool], *, timeout_s: float, poll_s: float = 0.2) -> bool:
    """Poll ``done`` until it holds or ``timeout_s`` passes; whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not done():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(poll_s)
    return True
