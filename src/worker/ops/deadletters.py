"""What a dead letter says: why it failed, what it was about, where it came from.

A dead letter (see :mod:`worker.events.deadletter`) is the original message, bytes and
attributes unchanged, plus ``x-*`` error attributes. When Pub/Sub's own dead-letter policy
forwarded it instead (the worker kept nacking it until max delivery attempts), it carries
Pub/Sub's ``CloudPubSubDeadLetter*`` attributes.

This module reads one without any network: the error description, the original message
to replay, the topic it came from, and the dataset / object / partition it concerned,
decoded with :mod:`worker.events` where the body allows and from attribute hints where it
does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from worker.errors import ConfigurationError, WorkerError
from worker.events import (
    BackfillRequested,
    Event,
    FileArrived,
    PartitionCompleted,
    PartitionRequested,
    decode_backfill_requested,
    decode_event,
    decode_partition_requested,
    normalize_file_arrived,
    strip_error_attributes,
)
from worker.events import deadletter as attrs
from worker.events.wire import EVENT_TYPE

DLQ_TOPIC_SUFFIX = "-dlq"
KEEP_SUBSCRIPTION_SUFFIX = "-dlq-keep"
"""``<topic>-dlq-keep`` keeps the dead letters of ``<topic>`` (see DESIGN, default names)."""
PUBSUB_ATTRIBUTE_PREFIX = "CloudPubSubDeadLetter"
"""Attributes Pub/Sub adds when its dead-letter policy forwards a message."""
PUBSUB_SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
PUBSUB_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"
MAX_ATTEMPTS_REASON = "max-delivery-attempts"
"""The reason shown for letters Pub/Sub forwarded: the worker nacked them every time."""


@dataclass(frozen=True, slots=True)
class Subject:
    """What the failed message was about, as far as it can be told."""

    dataset: str | None = None
    object: str | None = None
    partition: str | None = None
    event_type: str | None = None

    def describe(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("dataset", self.dataset),
                ("object", self.object),
                ("partition", self.partition),
            )
            if value
        ]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message pulled from a dead-letter subscription."""

    ack_id: str
    message_id: str
    """Its id in the dead-letter topic (the original's is ``original_message_id``)."""
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    publish_time: datetime | None = None
    ordering_key: str = ""
    """The original's ordering key ("" for none): the worker's dead-letter publish and
    Pub/Sub's dead-letter policy both keep it on the dead letter, and a replay reuses it."""

    @property
    def original_attributes(self) -> dict[str, str]:
        """The attributes as they arrived at the worker: what a replay publishes."""
        return {
            key: value
            for key, value in strip_error_attributes(self.attributes).items()
            if not key.startswith(PUBSUB_ATTRIBUTE_PREFIX)
        }

    @property
    def forwarded_by_pubsub(self) -> bool:
        """Pub/Sub's dead-letter policy forwarded it (rather than the worker's verdict)."""
        return PUBSUB_DELIVERY_COUNT in self.attributes

    def _attribute(self, name: str) -> str | None:
        return self.attributes.get(name) or None

    @property
    def reason(self) -> str | None:
        reason = self._attribute(attrs.ERROR_REASON)
        if reason is None and self.forwarded_by_pubsub:
            return MAX_ATTEMPTS_REASON
        return reason

    @property
    def error_type(self) -> str | None:
        return self._attribute(attrs.ERROR_TYPE)

    @property
    def error_message(self) -> str | None:
        return self._attribute(attrs.ERROR_MESSAGE)

    @property
    def stage(self) -> str | None:
        return self._attribute(attrs.ERROR_STAGE)

    @property
    def source_subscription(self) -> str | None:
        return self._attribute(attrs.SOURCE_SUBSCRIPTION) or self._attribute(
            PUBSUB_SOURCE_SUBSCRIPTION
        )

    @property
    def declared_source_topic(self) -> str | None:
        return self._attribute(attrs.SOURCE_TOPIC)

    @property
    def original_message_id(self) -> str | None:
        return self._attribute(attrs.ORIGINAL_MESSAGE_ID)

    @property
    def delivery_attempt(self) -> str | None:
        return self._attribute(attrs.DELIVERY_ATTEMPT) or self._attribute(PUBSUB_DELIVERY_COUNT)

    @property
    def worker_version(self) -> str | None:
        return self._attribute(attrs.WORKER_VERSION)

    @property
    def dead_lettered_at(self) -> str | None:
        """When the worker dead-lettered it, else when it was published to the DLQ topic
        (dead letters forwarded by Pub/Sub's own policy carry no ``x-*`` attributes)."""
        stamped = self._attribute(attrs.DEAD_LETTERED_AT)
        if stamped is not None:
            return stamped
        if self.publish_time is None:
            return None
        return self.publish_time.isoformat(timespec="milliseconds")

    def subject(self) -> Subject:
        return subject_of(self.data, self.original_attributes)


def topic_from_keep_subscription(subscription: str) -> str | None:
    """``file-arrived`` for ``file-arrived-dlq-keep`` (or its full path); None otherwise."""
    name = subscription.rsplit("/", 1)[-1]
    if name.endswith(KEEP_SUBSCRIPTION_SUFFIX) and len(name) > len(KEEP_SUBSCRIPTION_SUFFIX):
        return name.removesuffix(KEEP_SUBSCRIPTION_SUFFIX)
    return None


def source_topic(letter: DeadLetter, subscription: str, override: str | None = None) -> str:
    """The topic a replay republishes ``letter`` to: ``override``, else its
    ``x-source-topic`` attribute, else the topic its keep subscription is named after."""
    if override:
        return override
    declared = letter.declared_source_topic
    if declared is not None:
        return declared
    derived = topic_from_keep_subscription(subscription)
    if derived is None:
        raise ConfigurationError(
            f"dead letter {letter.message_id} has no {attrs.SOURCE_TOPIC} attribute and "
            f"subscription {subscription!r} is not named <topic>{KEEP_SUBSCRIPTION_SUFFIX}; "
            "name the source topic with --to-topic",
            where=f"dead letter {letter.message_id}",
        )
    return derived


_DECODERS: tuple[Callable[[bytes, Mapping[str, str]], object], ...] = (
    normalize_file_arrived,
    decode_backfill_requested,
    decode_partition_requested,
)


def subject_of(data: bytes, attributes: Mapping[str, str]) -> Subject:
    """Decode the original message with the worker's own codecs when possible; otherwise
    fall back to what Cloud Storage notifications and CloudEvents say in attributes."""
    event = _decoded(data, attributes)
    if isinstance(event, Event):
        return _event_subject(event)
    return _attribute_subject(attributes)


def _decoded(data: bytes, attributes: Mapping[str, str]) -> object | None:
    if EVENT_TYPE in attributes:
        decoders: tuple[Callable[[bytes, Mapping[str, str]], object], ...] = (decode_event,)
    else:
        decoders = _DECODERS
    for decoder in decoders:
        try:
            return decoder(data, attributes)
        except WorkerError:
            continue
    return None


def _event_subject(event: Event) -> Subject:
    if isinstance(event, FileArrived):
        return Subject(dataset=event.dataset, object=event.uri, event_type=event.event_type)
    if isinstance(event, BackfillRequested):
        span = f"{event.start_date.isoformat()}..{event.end_date.isoformat()}"
        return Subject(dataset=event.dataset, partition=span, event_type=event.event_type)
    if isinstance(event, PartitionRequested | PartitionCompleted):
        return Subject(
            dataset=event.dataset,
            partition=event.partition_date.isoformat(),
            event_type=event.event_type,
        )
    return Subject(event_type=event.event_type)


def _attribute_subject(attributes: Mapping[str, str]) -> Subject:
    bucket, name = attributes.get("bucketId"), attributes.get("objectId")
    if bucket and name:
        return Subject(object=f"gs://{bucket}/{name}", event_type=attributes.get("eventType"))
    subject = attributes.get("ce-subject", "")
    if subject.startswith("objects/"):
        source = attributes.get("ce-source", "")
        bucket = source.rsplit("/buckets/", 1)[-1] if "/buckets/" in source else ""
        where = f"gs://{bucket}/" if bucket else ""
        return Subject(
            object=where + subject.removeprefix("objects/"), event_type=attributes.get("ce-type")
        )
    return Subject(event_type=attributes.get(EVENT_TYPE))


def listing_record(letter: DeadLetter) -> dict[str, object]:
    """One dead letter as ``worker dlq list --json`` prints it (and the table shows it)."""
    subject = letter.subject()
    attempt = letter.delivery_attempt
    return {
        "message_id": letter.message_id,
        "original_message_id": letter.original_message_id,
        "dead_lettered_at": letter.dead_lettered_at,
        "reason": letter.reason,
        "error_type": letter.error_type,
        "error_message": letter.error_message,
        "stage": letter.stage,
        "source_subscription": letter.source_subscription,
        "source_topic": letter.declared_source_topic,
        "delivery_attempt": int(attempt) if attempt and attempt.isdigit() else attempt,
        "worker_version": letter.worker_version,
        "event_type": subject.event_type,
        "dataset": subject.dataset,
        "object": subject.object,
        "partition": subject.partition,
        "ordering_key": letter.ordering_key or None,
        "body_bytes": len(letter.data),
        "attributes": dict(sorted(letter.original_attributes.items())),
    }
