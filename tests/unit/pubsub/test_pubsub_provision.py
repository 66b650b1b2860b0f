"""Provisioning: idempotent creation, dry-run plans, drift reported (never silently fixed)."""

from __future__ import annotations

import logging

import pytest

from faststream_gcp_pubsub import PubSubBroker
from faststream_gcp_pubsub.errors import ProvisioningError
from faststream_gcp_pubsub.provision import find_drift
from faststream_gcp_pubsub.specs import RetryBackoff, SubscriptionSpec
from faststream_gcp_pubsub.transport.memory import MemoryTransport


def _broker() -> PubSubBroker:
    broker = PubSubBroker(transport=MemoryTransport("proj"), provision_on_start=False, logger=None)

    @broker.subscriber(
        "file-arrived-worker",
        topic="file-arrived",
        dead_letter_topic="file-arrived-dlq",
        max_delivery_attempts=7,
        retry_backoff=(10, 600),
        ack_deadline=60,
        enable_message_ordering=True,
    )
    @broker.publisher("partition-completed")
    async def handle(body: dict[str, str]) -> None: ...

    return broker


async def test_dry_run_plans_everything_and_creates_nothing() -> None:
    broker = _broker()

    report = await broker.provision(dry_run=True)

    assert report.lines() == [
        "would create-topic topic file-arrived",
        "would create-topic topic file-arrived-dlq",
        "would create-topic topic partition-completed",
        "would create-subscription subscription file-arrived-worker (subscription "
        "`file-arrived-worker`; on topic `file-arrived`; ack deadline 60 s; dead-letter topic "
        "`file-arrived-dlq` after 7 delivery attempts; retry backoff 10-600 s; message ordering)",
        "would create-subscription subscription file-arrived-dlq-keep (subscription "
        "`file-arrived-dlq-keep`; on topic `file-arrived-dlq`; ack deadline 60 s)",
    ]
    assert not broker.transport.server.has_topic("file-arrived")  # type: ignore[attr-defined]


async def test_provision_creates_then_is_idempotent() -> None:
    broker = _broker()

    first = await broker.provision()
    second = await broker.provision()

    assert len(first.created) == 5
    assert second.created == []
    assert second.drift == []
    server = broker.transport.server  # type: ignore[attr-defined]
    created = server.subscriptions["file-arrived-worker"].spec
    assert created.dead_letter_topic == "file-arrived-dlq"
    assert created.max_delivery_attempts == 7
    assert created.retry_backoff == RetryBackoff(10, 600)
    assert created.enable_message_ordering
    assert server.subscriptions["file-arrived-dlq-keep"].spec.topic == "file-arrived-dlq"


async def test_existing_subscription_with_other_settings_is_reported_as_drift(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = _broker()
    server = broker.transport.server  # type: ignore[attr-defined]
    server.create_topic("file-arrived")
    server.create_subscription(
        SubscriptionSpec(name="file-arrived-worker", topic="file-arrived", ack_deadline_s=10)
    )

    with caplog.at_level(logging.WARNING):
        report = await broker.provision()

    assert {(d.setting, d.declared, d.actual) for d in report.drift} == {
        ("ack deadline", "60 s", "10 s"),
        ("dead-letter topic", "file-arrived-dlq", "None"),
        ("retry backoff", "10-600 s", "none"),
        ("message ordering", "True", "False"),
        ("max delivery attempts", "7", "?"),
    }
    assert server.subscriptions["file-arrived-worker"].spec.ack_deadline_s == 10
    assert "drift" in caplog.text


def test_keep_subscriptions_are_only_checked_for_their_topic() -> None:
    declared = SubscriptionSpec(name="x-dlq-keep", topic="x-dlq", managed=False)
    actual = SubscriptionSpec(name="x-dlq-keep", topic="x-dlq", ack_deadline_s=600)

    assert find_drift(declared, actual) == []
    moved = SubscriptionSpec(name="x-dlq-keep", topic="elsewhere", managed=False)
    assert [d.setting for d in find_drift(declared, moved)] == ["topic"]


async def test_subscription_without_topic_must_already_exist() -> None:
    broker = PubSubBroker(transport=MemoryTransport(), logger=None)

    @broker.subscriber("orphan-sub")
    async def handle(body: str) -> None: ...

    with pytest.raises(ProvisioningError, match="no topic was declared"):
        await broker.provision()


def test_subscription_settings_are_validated_where_declared() -> None:
    broker = PubSubBroker(logger=None)

    with pytest.raises(ValueError, match="ack deadline"):
        broker.subscriber("sub-x", topic="top", ack_deadline=5)
    with pytest.raises(ValueError, match="max delivery attempts"):
        broker.subscriber("sub-x", topic="top", dead_letter_topic="dlq", max_delivery_attempts=2)
    with pytest.raises(ValueError, match="retry backoff"):
        broker.subscriber("sub-x", topic="top", retry_backoff=(10, 5))
    with pytest.raises(ValueError, match="shorter than 3"):
        broker.subscriber("ab", topic="top")
