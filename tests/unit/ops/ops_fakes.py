"""In-process stand-ins for Google's Pub/Sub clients, as ``DeadLetterQueue`` uses them.

They model what matters for listing and replay: leases from synchronous pull, ack
deadline 0 giving a message back, acks removing it, publish futures that resolve or fail.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from google.api_core.exceptions import NotFound


@dataclass
class StoredMessage:
    message_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: datetime = field(default_factory=lambda: datetime(2024, 1, 15, 12, tzinfo=UTC))


class FakeSubscriber:
    def __init__(self, messages: list[StoredMessage]) -> None:
        self.available = {message.message_id: message for message in messages}
        self.leased: dict[str, StoredMessage] = {}
        self.acked: list[str] = []
        self.released: list[str] = []
        self.events: list[tuple[str, str]] = []
        self._ack_ids = itertools.count(1)
        self.closed = False

    def pull(self, *, subscription: str, max_messages: int, timeout: float) -> Any:
        received = []
        for message_id in list(self.available)[:max_messages]:
            message = self.available.pop(message_id)
            ack_id = f"ack-{next(self._ack_ids)}"
            self.leased[ack_id] = message
            received.append(SimpleNamespace(ack_id=ack_id, message=message))
        return SimpleNamespace(received_messages=received)

    def modify_ack_deadline(
        self, *, subscription: str, ack_ids: list[str], ack_deadline_seconds: int
    ) -> None:
        if ack_deadline_seconds:
            return
        for ack_id in ack_ids:
            message = self.leased.pop(ack_id)
            self.available[message.message_id] = message
            self.released.append(message.message_id)
            self.events.append(("release", message.message_id))

    def acknowledge(self, *, subscription: str, ack_ids: list[str]) -> None:
        for ack_id in ack_ids:
            message = self.leased.pop(ack_id)
            self.acked.append(message.message_id)
            self.events.append(("ack", message.message_id))

    def close(self) -> None:
        self.closed = True


class FakeFuture:
    def __init__(self, outcome: str | Exception, events: list[tuple[str, str]], label: str):
        self._outcome = outcome
        self._events = events
        self._label = label

    def result(self, timeout: float | None = None) -> str:
        self._events.append(("resolved", self._label))
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome


class FakePublisher:
    def __init__(self, events: list[tuple[str, str]], missing_topics: frozenset[str] = frozenset()):
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        self.missing_topics = missing_topics
        self._events = events
        self._ids = itertools.count(1000)
        self.stopped = False

    def publish(self, topic: str, data: bytes, **attributes: str) -> FakeFuture:
        label = f"{topic}#{len(self.published)}"
        self.published.append((topic, data, dict(attributes)))
        if topic.rsplit("/", 1)[-1] in self.missing_topics:
            return FakeFuture(NotFound("Topic not found"), self._events, label)
        return FakeFuture(str(next(self._ids)), self._events, label)

    def stop(self) -> None:
        self.stopped = True
