"""Topic and subscription management through Google's admin API, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from google.api_core import exceptions as google_exceptions

from faststream_gcp_pubsub.specs import RetryBackoff, SubscriptionSpec
from faststream_gcp_pubsub.transport.base import TopicState
from faststream_gcp_pubsub.transport.grpc_delivery import translate_error


def _short_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(getattr(value, "seconds", 0)) + float(getattr(value, "nanos", 0)) / 1e9


def _duration(seconds: float) -> dict[str, int]:
    whole = int(seconds)
    return {"seconds": whole, "nanos": round((seconds - whole) * 1e9)}


def spec_from_proto(subscription: Any) -> SubscriptionSpec:
    """What the server holds, in the same shape the worker declares."""
    dead_letter = subscription.dead_letter_policy
    dead_letter_topic = _short_name(dead_letter.dead_letter_topic) or None
    retry = subscription.retry_policy
    retry_backoff = None
    if "retry_policy" in subscription:
        retry_backoff = RetryBackoff(
            _seconds(retry.minimum_backoff), _seconds(retry.maximum_backoff)
        )
    return SubscriptionSpec(
        name=_short_name(subscription.name),
        topic=_short_name(subscription.topic) or None,
        ack_deadline_s=subscription.ack_deadline_seconds or 10,
        dead_letter_topic=dead_letter_topic,
        max_delivery_attempts=dead_letter.max_delivery_attempts or 5,
        retry_backoff=retry_backoff,
        enable_message_ordering=subscription.enable_message_ordering,
        enable_exactly_once_delivery=subscription.enable_exactly_once_delivery,
        filter=subscription.filter,
    )


class GrpcAdmin:
    def __init__(self, project: str, clients: Callable[[], tuple[Any, Any]]) -> None:
        self._project = project
        self._clients = clients

    async def _call(self, where: str, call: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(call)
        except google_exceptions.GoogleAPICallError as error:
            raise translate_error(error, where) from error
        except google_exceptions.RetryError as error:
            raise translate_error(error, where) from error

    async def list_one_topic(self) -> None:
        publisher, _ = self._clients()
        project = f"projects/{self._project}"

        def list_one() -> None:
            next(iter(publisher.list_topics(request={"project": project}, timeout=5)), None)

        await self._call(f"list topics of {project}", list_one)

    async def get_topic(self, name: str) -> TopicState | None:
        publisher, _ = self._clients()
        path = publisher.topic_path(self._project, name)

        def get() -> TopicState | None:
            try:
                publisher.get_topic(request={"topic": path})
            except google_exceptions.NotFound:
                return None
            return TopicState(name)

        result: TopicState | None = await self._call(f"get topic {path}", get)
        return result

    async def create_topic(self, name: str) -> None:
        publisher, _ = self._clients()
        path = publisher.topic_path(self._project, name)

        def create() -> None:
            try:
                publisher.create_topic(request={"name": path})
            except google_exceptions.AlreadyExists:
                return

        await self._call(f"create topic {path}", create)

    async def get_subscription(self, name: str) -> SubscriptionSpec | None:
        _, subscriber = self._clients()
        path = subscriber.subscription_path(self._project, name)

        def get() -> SubscriptionSpec | None:
            try:
                return spec_from_proto(subscriber.get_subscription(request={"subscription": path}))
            except google_exceptions.NotFound:
                return None

        result: SubscriptionSpec | None = await self._call(f"get subscription {path}", get)
        return result

    async def create_subscription(self, spec: SubscriptionSpec) -> None:
        publisher, subscriber = self._clients()
        path = subscriber.subscription_path(self._project, spec.name)
        request: dict[str, Any] = {
            "name": path,
            "topic": publisher.topic_path(self._project, spec.topic),
            "ack_deadline_seconds": spec.ack_deadline_s,
            "enable_message_ordering": spec.enable_message_ordering,
            "enable_exactly_once_delivery": spec.enable_exactly_once_delivery,
            "filter": spec.filter,
        }
        if spec.dead_letter_topic:
            request["dead_letter_policy"] = {
                "dead_letter_topic": publisher.topic_path(self._project, spec.dead_letter_topic),
                "max_delivery_attempts": spec.max_delivery_attempts,
            }
        if spec.retry_backoff:
            request["retry_policy"] = {
                "minimum_backoff": _duration(spec.retry_backoff.minimum_s),
                "maximum_backoff": _duration(spec.retry_backoff.maximum_s),
            }

        def create() -> None:
            try:
                subscriber.create_subscription(request=request)
            except google_exceptions.AlreadyExists:
                return

        await self._call(f"create subscription {path}", create)
