"""Declared Pub/Sub resources: what a subscriber or publisher needs to exist.

These are plain values shared by the provisioner, both transports and the AsyncAPI
description, so that one declaration drives what is created, what is consumed and what
is documented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ACK_DEADLINE_S = 60
DEFAULT_MAX_DELIVERY_ATTEMPTS = 5
KEEP_SUBSCRIPTION_SUFFIX = "-keep"


@dataclass(frozen=True, slots=True)
class RetryBackoff:
    """The subscription's retry policy: exponential backoff between redeliveries."""

    minimum_s: float
    maximum_s: float

    def __post_init__(self) -> None:
        if not 0 <= self.minimum_s <= self.maximum_s <= 600:
            msg = (
                f"retry backoff must satisfy 0 <= min <= max <= 600 seconds, "
                f"got ({self.minimum_s}, {self.maximum_s})"
            )
            raise ValueError(msg)

    def delay_for(self, attempt: int) -> float:
        """Delay before redelivering after the ``attempt``-th failed delivery (1-based)."""
        return float(min(self.maximum_s, self.minimum_s * 2 ** max(attempt - 1, 0)))


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """A subscription as the worker declares it.

    ``managed`` is False for subscriptions the worker only needs to exist (the
    ``<dlq-topic>-keep`` ones): their settings are the server's defaults and are not
    compared for drift.
    """

    name: str
    topic: str | None
    ack_deadline_s: int = DEFAULT_ACK_DEADLINE_S
    dead_letter_topic: str | None = None
    max_delivery_attempts: int = DEFAULT_MAX_DELIVERY_ATTEMPTS
    retry_backoff: RetryBackoff | None = None
    enable_message_ordering: bool = False
    enable_exactly_once_delivery: bool = False
    filter: str = ""
    managed: bool = True

    def __post_init__(self) -> None:
        if len(self.name) < 3:
            msg = f"subscription id {self.name!r} is shorter than 3 characters"
            raise ValueError(msg)
        if not 10 <= self.ack_deadline_s <= 600:
            msg = f"ack deadline of {self.name!r} must be 10..600 s, got {self.ack_deadline_s}"
            raise ValueError(msg)
        if self.dead_letter_topic and not 5 <= self.max_delivery_attempts <= 100:
            msg = (
                f"max delivery attempts of {self.name!r} must be 5..100, "
                f"got {self.max_delivery_attempts}"
            )
            raise ValueError(msg)

    def describe(self) -> str:
        """One human line with every Pub/Sub setting (AsyncAPI, dry-run plans, logs)."""
        parts = [f"subscription `{self.name}`"]
        if self.topic:
            parts.append(f"on topic `{self.topic}`")
        parts.append(f"ack deadline {self.ack_deadline_s} s")
        if self.dead_letter_topic:
            parts.append(
                f"dead-letter topic `{self.dead_letter_topic}` after "
                f"{self.max_delivery_attempts} delivery attempts"
            )
        if self.retry_backoff:
            parts.append(
                f"retry backoff {self.retry_backoff.minimum_s:g}-{self.retry_backoff.maximum_s:g} s"
            )
        if self.enable_message_ordering:
            parts.append("message ordering")
        if self.enable_exactly_once_delivery:
            parts.append("exactly-once delivery")
        if self.filter:
            parts.append(f"filter {self.filter!r}")
        return "; ".join(parts)


def keep_subscription(dead_letter_topic: str) -> SubscriptionSpec:
    """The subscription that keeps dead letters, so none is lost before someone looks."""
    return SubscriptionSpec(
        name=f"{dead_letter_topic}{KEEP_SUBSCRIPTION_SUFFIX}",
        topic=dead_letter_topic,
        managed=False,
    )


@dataclass(frozen=True, slots=True)
class ResourceSet:
    """Topics and subscriptions, in creation order (topics before subscriptions)."""

    topics: tuple[str, ...] = ()
    subscriptions: tuple[SubscriptionSpec, ...] = field(default=())

    def merge(self, other: ResourceSet) -> ResourceSet:
        topics = dict.fromkeys((*self.topics, *other.topics))
        by_name = {s.name: s for s in (*self.subscriptions, *other.subscriptions)}
        return ResourceSet(tuple(topics), tuple(by_name.values()))


def resources_for(spec: SubscriptionSpec) -> ResourceSet:
    """Everything one subscriber needs: its topic, its dead-letter topic and keeper."""
    topics = tuple(t for t in (spec.topic, spec.dead_letter_topic) if t)
    subscriptions: tuple[SubscriptionSpec, ...] = (spec,)
    if spec.dead_letter_topic:
        subscriptions = (*subscriptions, keep_subscription(spec.dead_letter_topic))
    return ResourceSet(topics, subscriptions)
