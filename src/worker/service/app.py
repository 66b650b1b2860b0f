"""The worker service: a FastStream app that turns messages into committed partitions.

``worker serve`` runs it (so does ``faststream run worker.service.app:app``). The app is
built by :func:`create_app` from one :class:`Settings`; :func:`build_service` returns it
together with the handles an in-process caller needs (``worker demo``, tests, ``worker
publish`` on the memory broker): the broker, a ``publish_file_arrived`` entry,
``wait_idle`` and the completions and fates seen so far.

Subscribers (each ``<topic>-worker`` with its ``<topic>-dlq``, retry and dead-letter policy):

- ``file-arrived``: normalize → route → process the partition → publish ``partition-completed``;
- ``backfill-requested``: plan the range → one ``partition-requested`` per partition to run;
- ``partition-requested``: process the partition → publish ``partition-completed``; for a
  backfill, note the settled partition and, after its last one, publish
  ``backfill-completed`` (exactly one replica: :mod:`worker.service.backfill_tracking`).

With ``WORKER_DELIVERY=push`` the same subscribers open no streaming pull: Pub/Sub POSTs
each message to ``/pubsub/push`` (:mod:`worker.service.push`), which hands it to them.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from faststream._internal.types import CustomCallable
from faststream.asgi import AsgiFastStream
from faststream.asgi.handlers import HttpHandler
from faststream.middlewares import AckPolicy

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, PubSubRouter, PubSubSubscriber
from faststream_gcp_pubsub.transport.push import PushTransport, push_transport
from worker import __version__
from worker.core.model import Ports
from worker.events import (
    BackfillCompleted,
    BackfillRequested,
    FileArrived,
    PartitionCompleted,
    PartitionRequested,
)
from worker.observability.metrics import WorkerMetrics
from worker.runtime import build_ports, utc_now
from worker.service.backfill_tracking import BackfillTracker
from worker.service.decoders import Decoders
from worker.service.flows import Flows
from worker.service.handle import WorkerService
from worker.service.health import health_routes
from worker.service.push import push_route
from worker.service.schema_revisions import SchemaRevisions, no_fetch, schema_service_fetch
from worker.service.settle import Settler
from worker.service.specification import ServiceAsyncAPI
from worker.settings import Settings, load_settings


def _broker_for(settings: Settings) -> PubSubBroker:
    in_memory = settings.broker == "memory"
    return PubSubBroker(
        project=settings.project,
        in_memory=in_memory,
        # Push mode: subscribers take what /pubsub/push hands them instead of pulling.
        transport=push_transport(settings.project, in_memory=in_memory)
        if settings.delivery == "push"
        else None,
        graceful_timeout=settings.shutdown_grace_s,
        # FastStream's own received/processed lines stay at debug: the service writes one
        # line per fate instead.
        log_level=logging.DEBUG,
    )


def build_service(
    settings: Settings,
    *,
    broker: PubSubBroker | None = None,
    metrics: WorkerMetrics | None = None,
    ports: Ports | None = None,
    revisions: SchemaRevisions | None = None,
) -> WorkerService:
    """The app and its in-process handles, wired from ``settings``.

    ``broker``, ``metrics``, ``ports`` and ``revisions`` replace what settings would build
    (an in-process caller sharing its own broker or storage, tests injecting faults)."""
    broker = broker or _broker_for(settings)
    metrics = metrics or WorkerMetrics()
    topics = settings.topics
    service = WorkerService(settings=settings, broker=broker, metrics=metrics)
    consumed = (topics.file_arrived, topics.backfill_requested, topics.partition_requested)
    settler = Settler(
        broker,
        metrics,
        dead_letter_topics={
            settings.subscription_for(topic): settings.dead_letter_topic_for(topic)
            for topic in consumed
        },
        worker_version=__version__,
        clock=utc_now,
        on_settled=service.record_fate,
    )
    router = PubSubRouter(middlewares=[settler], ack_policy=AckPolicy.MANUAL)
    completed = router.publisher(
        topics.partition_completed,
        schema=PartitionCompleted,
        title=f"{topics.partition_completed}:publish",
        description="A partition is committed (event id = run id; re-announced identically "
        "for duplicates).",
    )
    requested = router.publisher(
        topics.partition_requested,
        schema=PartitionRequested,
        title=f"{topics.partition_requested}:publish",
        description="One partition of a backfill, fanned out so every replica shares the load.",
    )
    backfill_completed = router.publisher(
        topics.backfill_completed,
        schema=BackfillCompleted,
        title=f"{topics.backfill_completed}:publish",
        description="Every planned partition of a backfill has settled; announced once, by "
        "the replica that wins a conditional create in storage (event id = backfill id).",
    )
    ports = ports or build_ports(settings)

    async def announce_backfill(body: bytes, attributes: dict[str, str]) -> None:
        await backfill_completed.publish(body, headers=attributes)

    flows = Flows(
        ports,
        metrics,
        completed=completed,
        requested=requested,
        encoding=settings.event_encoding,
        lease_extension_s=settings.ack_deadline_s,
        backfills=BackfillTracker(ports, announce_backfill, settings.event_encoding, utc_now),
        on_completed=service.record_completion,
    )
    subscriber = functools.partial(_subscriber, router, settings)
    decoders = Decoders(revisions or _schema_revisions(settings))

    @subscriber(
        topics.file_arrived, decoders.file_arrived, "A file landed: recompute its partition."
    )
    async def on_file_arrived(event: FileArrived, message: PubSubMessage) -> None:
        await flows.file_arrived(event, message)

    @subscriber(topics.backfill_requested, decoders.backfill, "Fan a date range out.")
    async def on_backfill_requested(event: BackfillRequested) -> None:
        await flows.backfill_requested(event)

    @subscriber(topics.partition_requested, decoders.partition, "Compute one partition.")
    async def on_partition_requested(event: PartitionRequested, message: PubSubMessage) -> None:
        await flows.partition_requested(event, message)

    broker.include_router(router)
    routes: list[tuple[str, HttpHandler]] = [*health_routes(broker, metrics)]
    if isinstance(broker.transport, PushTransport):
        routes.append(
            push_route(
                broker.transport,
                token=settings.push_auth_token,
                allow_no_token=settings.push_allow_no_token,
            )
        )
    service.app = AsgiFastStream(
        broker,
        asgi_routes=routes,
        asyncapi_path="/docs/asyncapi",
        specification=ServiceAsyncAPI(),
        after_shutdown=[functools.partial(_close_storage, ports.storage)],
    )
    service.ports = ports
    return service


def _schema_revisions(settings: Settings) -> SchemaRevisions:
    if settings.broker != "pubsub":
        return SchemaRevisions(no_fetch)
    return SchemaRevisions(schema_service_fetch(settings.pubsub_emulator_host))


def _subscriber(
    router: PubSubRouter,
    settings: Settings,
    topic: str,
    decoder: CustomCallable,
    description: str,
) -> PubSubSubscriber:
    return router.subscriber(
        settings.subscription_for(topic),
        topic=topic,
        dead_letter_topic=settings.dead_letter_topic_for(topic),
        max_delivery_attempts=settings.max_delivery_attempts,
        retry_backoff=(settings.retry_min_backoff_s, settings.retry_max_backoff_s),
        ack_deadline=settings.ack_deadline_s,
        max_messages=settings.max_messages,
        decoder=decoder,
        # The service's own words: the broker keeps a description as given and puts the
        # subscription's settings in the channel's googlepubsub binding.
        description=(
            f"{description} A message that fails is retried "
            f"({settings.retry_min_backoff_s:g}-{settings.retry_max_backoff_s:g} s backoff) "
            f"and dead-lettered to `{settings.dead_letter_topic_for(topic)}` after "
            f"{settings.max_delivery_attempts} delivery attempts."
        ),
    )


def _close_storage(storage: object) -> None:
    close = getattr(storage, "close", None)
    if callable(close):
        close()


def create_app(settings: Settings | None = None) -> AsgiFastStream:
    """The ASGI FastStream app; settings are read from the environment when not given."""
    return build_service(settings or load_settings()).app


@functools.cache
def _edge_app() -> AsgiFastStream:
    """The process's app for ``faststream run``: configure logging and tracing, then build."""
    from worker.observability.tracing import configure_tracing
    from worker.runtime import configure

    settings = load_settings()
    configure(settings)
    configure_tracing(settings.trace_exporter)
    return create_app(settings)


def __getattr__(name: str) -> Any:
    # ``app`` is built on first access, not at import: importing this module (tests, the
    # CLI, AsyncAPI generation) must not read the environment or open clients.
    if name == "app":
        return _edge_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
