"""Watch topics for a while through subscriptions of one's own (``publish backfill --wait``).

Each watched topic gets a fresh subscription ``<topic>-watch-<id>`` created BEFORE the
request is published (so nothing is missed), with a one-day expiration policy as a backstop,
and deleted on close. Errors are translated at this boundary (:mod:`worker.ops.pubsub_clients`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from worker.observability.logging import get_logger
from worker.ops.pubsub_clients import make_clients, translate_error

log = get_logger("worker.ops")

EXPIRE_AFTER_S = 24 * 3600
"""The shortest expiration Pub/Sub accepts: an abandoned watch cleans itself up."""


@dataclass(frozen=True, slots=True)
class Watched:
    topic: str
    data: bytes
    attributes: dict[str, str]


class EventWatch:
    def __init__(
        self, project: str, topics: Sequence[str], *, emulator_host: str | None = None
    ) -> None:
        self.project = project
        self._subscriber, self._publisher = make_clients(emulator_host)
        suffix = uuid.uuid4().hex[:8]
        self._paths: dict[str, str] = {}
        try:
            for topic in topics:
                path = f"projects/{project}/subscriptions/{topic}-watch-{suffix}"
                self._create(path, f"projects/{project}/topics/{topic}")
                self._paths[topic] = path
        except BaseException:
            self.close()
            raise

    def _create(self, path: str, topic_path: str) -> None:
        request: dict[str, Any] = {
            "name": path,
            "topic": topic_path,
            "expiration_policy": {"ttl": {"seconds": EXPIRE_AFTER_S}},
        }
        try:
            self._subscriber.create_subscription(request=request)
        except Exception as exc:
            raise translate_error(exc, f"create subscription {path}") from exc

    def pull(self, timeout_s: float = 2.0) -> list[Watched]:
        """What arrived on every watched topic since the last pull (acked)."""
        from google.api_core.exceptions import DeadlineExceeded

        got: list[Watched] = []
        for topic, path in self._paths.items():
            try:
                response = self._subscriber.pull(
                    subscription=path, max_messages=100, timeout=timeout_s
                )
            except DeadlineExceeded:
                continue
            except Exception as exc:
                raise translate_error(exc, f"pull from {path}") from exc
            received = list(response.received_messages)
            if not received:
                continue
            try:
                self._subscriber.acknowledge(
                    subscription=path, ack_ids=[item.ack_id for item in received]
                )
            except Exception as exc:
                raise translate_error(exc, f"ack on {path}") from exc
            got.extend(
                Watched(topic, bytes(item.message.data), dict(item.message.attributes))
                for item in received
            )
        return got

    def close(self) -> None:
        for path in self._paths.values():
            try:
                self._subscriber.delete_subscription(subscription=path)
            except Exception as exc:  # best effort: the expiration policy is the backstop
                log.warning("watch.subscription_left", subscription=path, error=str(exc))
        self._paths.clear()
        self._publisher.stop()
        self._subscriber.close()

    def __enter__(self) -> EventWatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
