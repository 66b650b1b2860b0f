"""One in-memory subscription: leases, redelivery, retry backoff, dead-lettering, ordering.

It models what the Pub/Sub service does for a subscription, as far as a worker can see:

- a message is leased to one consumer at a time, within that consumer's flow control;
- nack (or a lease that runs out) makes it deliverable again after the retry policy's
  backoff (at once without a retry policy);
- with a dead-letter policy, ``delivery_attempt`` counts deliveries from 1, and a failed
  delivery number ``max_delivery_attempts`` forwards the message to the dead-letter topic
  (only if that topic exists, as on the emulator) with Pub/Sub's
  ``CloudPubSubDeadLetterSource*`` attributes;
- with message ordering, one message per ordering key is out at a time, in publish order;
- with exactly-once delivery, acking a lease that already ran out fails.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from faststream_gcp_pubsub.errors import AckFailedError
from faststream_gcp_pubsub.transport.base import (
    Delivery,
    DeliveryCallback,
    PublishFunc,
    StreamOptions,
)

if TYPE_CHECKING:
    from faststream_gcp_pubsub.specs import SubscriptionSpec
    from faststream_gcp_pubsub.transport.clock import Clock, TimerHandle
    from faststream_gcp_pubsub.transport.memory import MemoryServer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    message_id: str
    data: bytes
    attributes: Mapping[str, str]
    ordering_key: str
    publish_time: datetime


class _Entry:
    __slots__ = ("attempts", "current", "finished", "message")

    def __init__(self, message: StoredMessage) -> None:
        self.message = message
        self.attempts = 0
        self.current: MemoryDelivery | None = None
        self.finished = False
        """Acked, dead-lettered or dropped: never delivered again."""


class MemoryConsumer:
    """One attached stream and its flow-control budget."""

    __slots__ = ("deliver", "options", "outstanding", "outstanding_bytes")

    def __init__(self, deliver: DeliveryCallback, options: StreamOptions) -> None:
        self.deliver = deliver
        self.options = options
        self.outstanding = 0
        self.outstanding_bytes = 0

    def has_room_for(self, size: int) -> bool:
        if self.outstanding >= self.options.max_messages:
            return False
        return self.outstanding == 0 or self.outstanding_bytes + size <= self.options.max_bytes


class MemoryDelivery(Delivery):
    __slots__ = ("_attempt", "_consumer", "_entry", "_owner", "_timer", "expires_at")

    def __init__(
        self,
        owner: MemorySubscription,
        entry: _Entry,
        consumer: MemoryConsumer,
        forward: PublishFunc,
    ) -> None:
        super().__init__(owner.spec.name, forward)
        self._owner = owner
        self._entry = entry
        self._consumer = consumer
        self._timer: TimerHandle | None = None
        self.expires_at = 0.0
        self._attempt = entry.attempts

    @property
    def message_id(self) -> str:
        return self._entry.message.message_id

    @property
    def data(self) -> bytes:
        return self._entry.message.data

    @property
    def attributes(self) -> Mapping[str, str]:
        return self._entry.message.attributes

    @property
    def ordering_key(self) -> str:
        return self._entry.message.ordering_key

    @property
    def publish_time(self) -> datetime:
        return self._entry.message.publish_time

    @property
    def delivery_attempt(self) -> int | None:
        return self._attempt if self._owner.spec.dead_letter_topic else None

    @property
    def finished(self) -> bool:
        """The message is done with on this subscription (acked, dead-lettered, dropped)."""
        return self._entry.finished

    async def _ack(self) -> None:
        self._owner.ack(self)

    async def _nack(self) -> None:
        self._owner.nack(self)

    async def modify_ack_deadline(self, seconds: int) -> None:
        if seconds <= 0:
            await self.nack()
        else:
            self._owner.extend(self, seconds)


class MemorySubscription:
    def __init__(self, spec: SubscriptionSpec, server: MemoryServer) -> None:
        self.spec = spec
        self._server = server
        self._clock: Clock = server.clock
        self._ordered = spec.enable_message_ordering
        self._ready: deque[_Entry] = deque()
        self._waiting_by_key: dict[str, deque[_Entry]] = {}
        self._busy_keys: set[str] = set()
        self._consumers: list[MemoryConsumer] = []
        self._next_consumer = 0
        self.delivered = 0

    @property
    def backlog(self) -> int:
        """Messages not yet acked, out on lease or waiting (for tests and health)."""
        waiting = sum(len(q) for q in self._waiting_by_key.values())
        leased = sum(c.outstanding for c in self._consumers)
        return len(self._ready) + waiting + leased

    def attach(self, consumer: MemoryConsumer) -> None:
        self._consumers.append(consumer)
        self._pump()

    def detach(self, consumer: MemoryConsumer) -> None:
        if consumer in self._consumers:
            self._consumers.remove(consumer)

    def enqueue(self, message: StoredMessage) -> None:
        entry = _Entry(message)
        key = message.ordering_key
        if self._ordered and key:
            if key in self._busy_keys:
                self._waiting_by_key.setdefault(key, deque()).append(entry)
                return
            self._busy_keys.add(key)
        self._ready.append(entry)
        self._pump()

    def ack(self, delivery: MemoryDelivery) -> None:
        entry = delivery._entry
        if entry.current is not delivery:
            if self.spec.enable_exactly_once_delivery:
                msg = (
                    f"ack of message {delivery.message_id} failed: its lease on "
                    "subscription had expired (exactly-once delivery)"
                )
                raise AckFailedError(msg, where=self.spec.name)
            return
        self._release(delivery)
        self._finish(entry)
        self._pump()

    def nack(self, delivery: MemoryDelivery) -> None:
        if delivery._entry.current is not delivery:
            return
        self._release(delivery)
        self._fail(delivery._entry)
        self._pump()

    def drop(self, delivery: MemoryDelivery) -> None:
        """Forget the message of ``delivery``: its lease ends and it is never delivered
        again, whatever was scheduled for it (the test client's answer to a failed
        handler when redelivery is not modelled)."""
        entry = delivery._entry
        if entry.finished:
            return
        if entry.current is not None:
            self._release(entry.current)
        if entry in self._ready:
            self._ready.remove(entry)
        self._finish(entry)
        self._pump()

    def extend(self, delivery: MemoryDelivery, seconds: float) -> None:
        if delivery._entry.current is not delivery or not self._server.expire_leases:
            return
        deadline = self._clock.now() + seconds
        if deadline > delivery.expires_at:
            self._arm_expiry(delivery, deadline)

    def _arm_expiry(self, delivery: MemoryDelivery, deadline: float) -> None:
        if delivery._timer is not None:
            delivery._timer.cancel()
        delivery.expires_at = deadline
        delivery._timer = self._clock.call_later(
            deadline - self._clock.now(), lambda: self._expire(delivery)
        )

    def _expire(self, delivery: MemoryDelivery) -> None:
        if delivery._entry.current is not delivery:
            return
        log.warning(
            "lease of message %s on %s expired; redelivering", delivery.message_id, self.spec.name
        )
        self._release(delivery)
        self._fail(delivery._entry)
        self._pump()

    def _release(self, delivery: MemoryDelivery) -> None:
        delivery._entry.current = None
        consumer = delivery._consumer
        consumer.outstanding -= 1
        consumer.outstanding_bytes -= len(delivery.data)
        if delivery._timer is not None:
            delivery._timer.cancel()
            delivery._timer = None

    def _finish(self, entry: _Entry) -> None:
        entry.finished = True
        key = entry.message.ordering_key
        if not (self._ordered and key):
            return
        waiting = self._waiting_by_key.get(key)
        if waiting:
            self._ready.append(waiting.popleft())
            if not waiting:
                del self._waiting_by_key[key]
        else:
            self._busy_keys.discard(key)

    def _fail(self, entry: _Entry) -> None:
        spec = self.spec
        dead_letter_topic = spec.dead_letter_topic
        if dead_letter_topic and entry.attempts >= spec.max_delivery_attempts:
            if self._server.has_topic(dead_letter_topic):
                self._forward_to_dead_letter_topic(entry, dead_letter_topic)
                self._finish(entry)
                return
            log.warning(
                "dead-letter topic %s of %s does not exist; message %s stays",
                dead_letter_topic,
                spec.name,
                entry.message.message_id,
            )
        delay = spec.retry_backoff.delay_for(entry.attempts) if spec.retry_backoff else 0.0
        if delay > 0:
            self._clock.call_later(delay, lambda: self._make_ready(entry))
        else:
            self._make_ready(entry)

    def _make_ready(self, entry: _Entry) -> None:
        if entry.finished:
            return
        if self._ordered and entry.message.ordering_key:
            self._ready.appendleft(entry)
        else:
            self._ready.append(entry)
        self._pump()

    def _forward_to_dead_letter_topic(self, entry: _Entry, topic: str) -> None:
        message = entry.message
        attributes = {
            **message.attributes,
            "CloudPubSubDeadLetterSourceDeliveryCount": str(entry.attempts),
            "CloudPubSubDeadLetterSourceSubscription": self.spec.name,
            "CloudPubSubDeadLetterSourceSubscriptionProject": self._server.project,
            "CloudPubSubDeadLetterSourceTopicPublishTime": message.publish_time.isoformat(),
        }
        self._server.publish_now(topic, message.data, attributes, message.ordering_key)

    def _pump(self) -> None:
        ready = self._ready
        while ready:
            consumer = self._pick_consumer(len(ready[0].message.data))
            if consumer is None:
                return
            self._deliver(ready.popleft(), consumer)

    def _pick_consumer(self, size: int) -> MemoryConsumer | None:
        consumers = self._consumers
        for offset in range(len(consumers)):
            index = (self._next_consumer + offset) % len(consumers)
            if consumers[index].has_room_for(size):
                self._next_consumer = index + 1
                return consumers[index]
        return None

    def _deliver(self, entry: _Entry, consumer: MemoryConsumer) -> None:
        entry.attempts += 1
        delivery = MemoryDelivery(self, entry, consumer, self._server.publish)
        entry.current = delivery
        consumer.outstanding += 1
        consumer.outstanding_bytes += len(entry.message.data)
        self.delivered += 1
        if self._server.expire_leases:
            self._arm_expiry(delivery, self._clock.now() + consumer.options.max_lease_duration_s)
        consumer.deliver(delivery)
