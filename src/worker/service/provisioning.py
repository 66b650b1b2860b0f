"""``worker setup``: create what the service needs on Pub/Sub, idempotently, and report drift.

What is provisioned is what the service declares (:func:`build_service`): each consumed
topic with its ``<topic>-worker`` subscription (ack deadline, retry policy, dead-letter
policy), each ``<topic>-dlq`` with its ``<topic>-dlq-keep`` subscription, and the topics the
service publishes to. Optionally ``<partition-completed>-keep`` keeps completion events for
someone to read (the demo, an operator), the Avro schemas are registered (or a new
revision committed) where the endpoint has a schema service, and with ``bind_topics`` the
topics carrying our own events are bound to them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from faststream_gcp_pubsub import ProvisionReport, SubscriptionSpec
from faststream_gcp_pubsub.provision import provision
from faststream_gcp_pubsub.specs import KEEP_SUBSCRIPTION_SUFFIX, ResourceSet
from worker.errors import ConfigurationError
from worker.service.app import build_service
from worker.service.schema_registry import SchemaOutcome, bind_topics, register_schemas
from worker.settings import Settings


@dataclass(slots=True)
class SetupReport:
    pubsub: ProvisionReport
    schemas: list[SchemaOutcome] = field(default_factory=list)


def completed_keep_subscription(settings: Settings) -> SubscriptionSpec:
    topic = settings.topics.partition_completed
    return SubscriptionSpec(name=f"{topic}{KEEP_SUBSCRIPTION_SUFFIX}", topic=topic, managed=False)


async def setup_pubsub(
    settings: Settings,
    *,
    dry_run: bool,
    keep_completed: bool,
    schemas: bool,
    bind: bool = False,
) -> SetupReport:
    """Provision (or with ``dry_run`` only plan) every resource the service needs."""
    if settings.broker == "memory":
        raise ConfigurationError(
            "the in-memory broker keeps nothing between processes; there is nothing to set up",
            where="WORKER_BROKER=memory",
        )
    if bind and (not schemas or settings.event_encoding != "avro"):
        raise ConfigurationError(
            "binding topics to schemas needs --schemas and WORKER_EVENT_ENCODING=avro: a "
            "topic with a schema accepts only Avro, and the worker publishes to these topics",
            where="worker setup --bind-topics",
        )
    service = build_service(settings)
    broker = service.broker
    try:
        report = await broker.provision(dry_run=dry_run)
        if keep_completed:
            extra = ResourceSet(subscriptions=(completed_keep_subscription(settings),))
            more = await provision(broker.transport.admin, extra, dry_run=dry_run)
            report.actions += more.actions
            report.drift += more.drift
    finally:
        await broker.stop()
        close = getattr(service.ports.storage, "close", None)
        if callable(close):
            close()
    outcome = SetupReport(report)
    host = settings.pubsub_emulator_host
    if schemas:
        outcome.schemas = await asyncio.to_thread(
            register_schemas, settings.project, dry_run=dry_run, emulator_host=host
        )
    if bind:
        topics = settings.topics
        bound = {
            topics.backfill_requested: "backfill-requested",
            topics.partition_requested: "partition-requested",
            topics.partition_completed: "partition-completed",
        }
        outcome.schemas += await asyncio.to_thread(
            bind_topics, settings.project, bound, dry_run=dry_run, emulator_host=host
        )
    return outcome
