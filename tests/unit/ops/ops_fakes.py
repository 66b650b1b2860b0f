"""In-process stand-ins for Google's Pub/Sub clients, as ``DeadLetterQueue`` uses them.

They model what matters for listing and replay: leases from synchronous pull, ack
deadline 0 giving a message back, acks removing it, publish futures that resolve or fail,
and an ordered publisher pausing a key after a failed publish until it is resumed.
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
    ordering_key: str = ""


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
        self.ordering_keys: list[str] = []
        """The ordering key of each publish, in order ("" for none)."""
        self.paused: set[tuple[str, str]] = set()
        self.resumed: list[tuple[str, str]] = []
        self.missing_topics = missing_topics
        self._events = events
        self._ids = itertools.count(1000)
        self.stopped = False

    def publish(
        self, topic: str, data: bytes, ordering_key: str = "", **attributes: str
    ) -> FakeFuture:
        label = f"{topic}#{len(self.published)}"
        self.published.append((topic, data, dict(attributes)))
        self.ordering_keys.append(ordering_key)
        if ordering_key and (topic, ordering_key) in self.paused:
            return FakeFuture(RuntimeError("ordering key paused"), self._events, label)
        if topic.rsplit("/", 1)[-1] in self.missing_topics:
            if ordering_key:
                self.paused.add((topic, ordering_key))
            return FakeFuture(NotFound("Topic not found"), self._events, label)
        return FakeFuture(str(next(self._ids)), self._events, label)

    def resume_publish(self, topic: str, ordering_key: str) -> None:
        self.paused.discard((topic, ordering_key))
        self.resumed.append((topic, ordering_key))

    def stop(self) -> None:
        self.stopped = True
