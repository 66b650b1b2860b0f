"""Settle every message exactly once: the middleware around each delivery and its one settle.

The service's subscribers run with ``AckPolicy.MANUAL``: FastStream never acks on its own,
and :class:`SettleMiddleware` (installed on the service's router) sees every outcome,
decoding errors included, asks :func:`worker.service.policy.decide` for the fate and
applies it:

- ``ack`` / ``ignored`` → ack;
- ``dead-letter`` → publish the ORIGINAL bytes and attributes plus the ``x-error-*``
  attributes to the subscription's dead-letter topic, then ack (if that publish fails, the
  message is nacked instead: never acked unprocessed);
- ``nack`` → nack; the subscription's retry policy backs off and its dead-letter policy is
  the backstop.

It also opens the message's trace (continuing the producer's) and log scope, and writes
ONE log line and one metric per fate. Errors never escape it: a bad message cannot crash
the worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from opentelemetry.trace import Span, Status, StatusCode

from faststream_gcp_pubsub import PubSubBroker
from faststream_gcp_pubsub.errors import BrokerError
from faststream_gcp_pubsub.transport.base import Delivery, OutgoingMessage
from worker.errors import WorkerError
from worker.events.deadletter import dead_letter_attributes
from worker.observability.logging import get_logger
from worker.observability.metrics import WorkerMetrics
from worker.observability.tracing import message_span
from worker.service.policy import Verdict, decide
from worker.service.scope import MessageScope, message_scope

log = get_logger("worker.service")

_LOG_LEVEL = {"ack": "info", "ignored": "info", "nack": "warning", "dead-letter": "error"}


class Settler:
    """Applies fates; called by FastStream as a middleware factory, once per delivery."""

    def __init__(
        self,
        broker: PubSubBroker,
        metrics: WorkerMetrics,
        *,
        dead_letter_topics: Mapping[str, str],
        worker_version: str,
        clock: Callable[[], datetime],
        on_settled: Callable[[MessageScope, Verdict], None] | None = None,
    ) -> None:
        self._broker = broker
        self._metrics = metrics
        self._dead_letter_topics = dict(dead_letter_topics)
        """Subscription → the dead-letter topic of its topic."""
        self._worker_version = worker_version
        self._clock = clock
        self._on_settled = on_settled

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> SettleMiddleware:
        return SettleMiddleware(msg, context=context, settler=self)

    async def settle(
        self, delivery: Delivery, scope: MessageScope, error: Exception | None
    ) -> Verdict:
        """Apply the fate of one handled delivery; log it once; count it."""
        verdict = decide(error)
        failure: str | None = None
        if verdict.fate == "dead-letter":
            try:
                await self._dead_letter(delivery, scope, error)
            except Exception as publish_error:  # any failure means "keep the message"
                failure = f"dead-letter publish failed: {type(publish_error).__name__}: "
                failure += str(publish_error)
                verdict = Verdict("nack", verdict.reason)
        try:
            if verdict.fate == "nack":
                await delivery.nack()
            else:
                await delivery.ack()
        except (WorkerError, BrokerError) as settle_error:
            failure = f"{verdict.fate} failed: {settle_error}"
        self._metrics.message(scope.subscription, verdict.fate)
        self._log(verdict, scope, error, failure)
        if self._on_settled is not None:
            self._on_settled(scope, verdict)
        return verdict

    def given_back(self, scope: MessageScope) -> None:
        """Log and count a delivery cut short by shutdown (the subscriber nacks it)."""
        verdict = Verdict("nack", "shutdown")
        self._metrics.message(scope.subscription, verdict.fate)
        self._log(verdict, scope, None, None)
        if self._on_settled is not None:
            self._on_settled(scope, verdict)

    async def _dead_letter(
        self, delivery: Delivery, scope: MessageScope, error: Exception | None
    ) -> None:
        topic = self._dead_letter_topics.get(delivery.subscription)
        if topic is None or error is None:
            raise WorkerError(
                "no dead-letter topic is known for this subscription",
                where=f"subscription {delivery.subscription}",
            )
        attributes = dead_letter_attributes(
            delivery.attributes,
            error=error,
            stage=scope.stage,
            subscription=delivery.subscription,
            message_id=delivery.message_id,
            delivery_attempt=delivery.delivery_attempt,
            worker_version=self._worker_version,
            now=self._clock(),
        )
        # Straight to the transport: the publisher would add FastStream's own attributes,
        # and a dead letter must carry exactly what arrived (plus why) to be replayable.
        await self._broker.transport.publish(
            topic, [OutgoingMessage(delivery.data, attributes, delivery.ordering_key)]
        )

    def _log(
        self, verdict: Verdict, scope: MessageScope, error: Exception | None, failure: str | None
    ) -> None:
        fields: dict[str, Any] = {
            **scope.log_fields(),
            "fate": verdict.fate,
            "reason": verdict.reason,
            "stage": scope.stage,
        }
        if error is not None and verdict.fate != "ignored":
            fields["error_type"] = type(error).__name__
            fields["error"] = str(error)
        if failure is not None:
            fields["settle_failure"] = failure
        level = "error" if failure is not None else _LOG_LEVEL[verdict.fate]
        getattr(log, level)("message.settled", **fields)


class SettleMiddleware(BaseMiddleware):
    """Per delivery: open the trace and log scope, then settle the outcome (see module)."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, settler: Settler) -> None:
        super().__init__(msg, context=context)
        self._settler = settler
        self._exit = contextlib.ExitStack()
        self._scope: MessageScope | None = None
        self._span: Span | None = None

    async def on_receive(self) -> None:
        delivery = self.msg
        if not isinstance(delivery, Delivery):
            return  # publish-side instances are built without a message
        scope = MessageScope(
            subscription=delivery.subscription,
            message_id=delivery.message_id,
            delivery_attempt=delivery.delivery_attempt,
        )
        self._scope = self._exit.enter_context(message_scope(scope))
        span_attributes: dict[str, str | int] = {
            "messaging.system": "gcp_pubsub",
            "messaging.destination.subscription.name": delivery.subscription,
            "messaging.message.id": delivery.message_id,
        }
        if delivery.delivery_attempt is not None:
            span_attributes["messaging.gcp_pubsub.message.delivery_attempt"] = (
                delivery.delivery_attempt
            )
        self._span = self._exit.enter_context(
            message_span(f"process {delivery.subscription}", delivery.attributes, span_attributes)
        )

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        delivery, scope = self.msg, self._scope
        try:
            if not isinstance(delivery, Delivery) or scope is None:
                return False
            if exc_val is not None and not isinstance(exc_val, Exception):
                # Cancellation at shutdown: the subscriber nacks what it still holds; say so.
                self._settler.given_back(scope)
                return False
            verdict = await self._settler.settle(delivery, scope, exc_val)
            if self._span is not None:
                self._span.set_attribute("worker.fate", verdict.fate)
                self._span.set_attribute("worker.reason", verdict.reason)
                if exc_val is not None and verdict.fate != "ignored":
                    self._span.record_exception(exc_val)
                    self._span.set_status(Status(StatusCode.ERROR, verdict.reason))
            return True
        finally:
            self._exit.close()
