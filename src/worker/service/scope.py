"""What the service knows about the message in hand, for its fate line, dead letter and logs.

One :class:`MessageScope` lives in a context variable while a message is handled. The
settling middleware opens it; the decoder, the handler and the core's stage hook (in the
worker thread: ``asyncio.to_thread`` copies the context, so they share the same object)
fill in the stage reached and the dataset, partition and run id as they learn them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

import structlog

_current: ContextVar[MessageScope | None] = ContextVar("worker_message_scope", default=None)


@dataclass(slots=True)
class MessageScope:
    subscription: str
    message_id: str
    delivery_attempt: int | None
    stage: str = "receive"
    """The stage reached: receive, decode, route, plan, extract, validate, transform, load,
    publish. A failure is reported at the stage it happened in."""
    dataset: str | None = None
    partition: str | None = None
    run_id: str | None = None
    backfill_id: str | None = None

    def enter(self, stage: str) -> None:
        self.stage = stage

    def learn(
        self,
        *,
        dataset: str | None = None,
        partition: date | None = None,
        run_id: str | None = None,
        backfill_id: str | None = None,
    ) -> None:
        """Record what the handler found out; later log lines of this message carry it."""
        learned: dict[str, str] = {}
        if dataset is not None:
            self.dataset = learned["dataset"] = dataset
        if partition is not None:
            self.partition = learned["partition"] = partition.isoformat()
        if run_id:
            self.run_id = learned["run_id"] = run_id
        if backfill_id is not None:
            self.backfill_id = learned["backfill_id"] = backfill_id
        structlog.contextvars.bind_contextvars(**learned)

    def log_fields(self) -> dict[str, str | int | None]:
        return {
            "message_id": self.message_id,
            "subscription": self.subscription,
            "delivery_attempt": self.delivery_attempt,
            "dataset": self.dataset,
            "partition": self.partition,
            "run_id": self.run_id,
            "backfill_id": self.backfill_id,
        }


def current_scope() -> MessageScope | None:
    return _current.get()


def learn(
    *,
    dataset: str | None = None,
    partition: date | None = None,
    run_id: str | None = None,
    backfill_id: str | None = None,
) -> None:
    """Record facts about the current message (no-op outside a message)."""
    scope = _current.get()
    if scope is not None:
        scope.learn(dataset=dataset, partition=partition, run_id=run_id, backfill_id=backfill_id)


def enter_stage(stage: str) -> None:
    """Note the stage the current message reached (no-op outside a message)."""
    scope = _current.get()
    if scope is not None:
        scope.enter(stage)


@contextlib.contextmanager
def message_scope(scope: MessageScope) -> Iterator[MessageScope]:
    """Make ``scope`` current and bind its identity to every log line until it closes."""
    token = _current.set(scope)
    bound = structlog.contextvars.bind_contextvars(
        message_id=scope.message_id,
        subscription=scope.subscription,
        delivery_attempt=scope.delivery_attempt,
    )
    try:
        yield scope
    finally:
        # Clear everything this message bound (also what the handler learned), so the
        # worker task's next message starts clean.
        structlog.contextvars.unbind_contextvars(
            "dataset", "partition", "run_id", "backfill_id", *bound
        )
        _current.reset(token)
