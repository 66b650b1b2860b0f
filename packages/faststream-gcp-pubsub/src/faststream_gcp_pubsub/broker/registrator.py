"""``@broker.subscriber`` and ``@broker.publisher`` for Pub/Sub (shared by broker and router)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from faststream._internal.broker.registrator import Registrator
from faststream._internal.constants import EMPTY
from faststream._internal.parser import BatchCodecProto
from faststream.middlewares import AckPolicy
from typing_extensions import override

from faststream_gcp_pubsub.batch import DEFAULT_MAX_BATCH
from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.publisher.factory import create_publisher
from faststream_gcp_pubsub.specs import (
    DEFAULT_ACK_DEADLINE_S,
    DEFAULT_MAX_DELIVERY_ATTEMPTS,
    RetryBackoff,
    SubscriptionSpec,
)
from faststream_gcp_pubsub.subscriber.factory import create_subscriber
from faststream_gcp_pubsub.transport.base import Delivery, StreamOptions

if TYPE_CHECKING:
    from fast_depends.dependencies import Dependant
    from faststream._internal.parser import CodecProto
    from faststream._internal.types import BrokerMiddleware, CustomCallable

    from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher
    from faststream_gcp_pubsub.subscriber.usecase import (
        PubSubBatchSubscriber,
        PubSubSubscriber,
        PubSubSubscriberBase,
    )


class PubSubRegistrator(Registrator[Delivery, PubSubBrokerConfig]):
    """Declares subscribers and publishers; included into a ``PubSubBroker``."""

    @overload  # type: ignore[override]
    def subscriber(
        self,
        subscription: str,
        *,
        topic: str | None = None,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = DEFAULT_MAX_DELIVERY_ATTEMPTS,
        retry_backoff: tuple[float, float] | None = None,
        ack_deadline: int = DEFAULT_ACK_DEADLINE_S,
        enable_message_ordering: bool = False,
        enable_exactly_once_delivery: bool = False,
        filter: str = "",
        max_messages: int = 100,
        max_bytes: int = 100 * 1024 * 1024,
        max_lease_duration: float = 3600.0,
        max_workers: int | None = None,
        batch: Literal[False] = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        # FastStream arguments
        ack_policy: AckPolicy = EMPTY,
        no_reply: bool = False,
        dependencies: Sequence[Dependant] = (),
        parser: CustomCallable | None = None,
        decoder: CustomCallable | None = None,
        codec: CodecProto | None = None,
        persistent: bool = True,
        # AsyncAPI
        title: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> PubSubSubscriber: ...

    @overload
    def subscriber(
        self,
        subscription: str,
        *,
        topic: str | None = None,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = DEFAULT_MAX_DELIVERY_ATTEMPTS,
        retry_backoff: tuple[float, float] | None = None,
        ack_deadline: int = DEFAULT_ACK_DEADLINE_S,
        enable_message_ordering: bool = False,
        enable_exactly_once_delivery: bool = False,
        filter: str = "",
        max_messages: int = 100,
        max_bytes: int = 100 * 1024 * 1024,
        max_lease_duration: float = 3600.0,
        max_workers: int | None = None,
        batch: Literal[True],
        max_batch: int = DEFAULT_MAX_BATCH,
        # FastStream arguments
        ack_policy: AckPolicy = EMPTY,
        no_reply: bool = False,
        dependencies: Sequence[Dependant] = (),
        parser: CustomCallable | None = None,
        decoder: CustomCallable | None = None,
        codec: CodecProto | None = None,
        persistent: bool = True,
        # AsyncAPI
        title: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> PubSubBatchSubscriber: ...

    @override
    def subscriber(
        self,
        subscription: str,
        *,
        topic: str | None = None,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = DEFAULT_MAX_DELIVERY_ATTEMPTS,
        retry_backoff: tuple[float, float] | None = None,
        ack_deadline: int = DEFAULT_ACK_DEADLINE_S,
        enable_message_ordering: bool = False,
        enable_exactly_once_delivery: bool = False,
        filter: str = "",
        max_messages: int = 100,
        max_bytes: int = 100 * 1024 * 1024,
        max_lease_duration: float = 3600.0,
        max_workers: int | None = None,
        batch: bool = False,
        max_batch: int = DEFAULT_MAX_BATCH,
        # FastStream arguments
        ack_policy: AckPolicy = EMPTY,
        no_reply: bool = False,
        dependencies: Sequence[Dependant] = (),
        parser: CustomCallable | None = None,
        decoder: CustomCallable | None = None,
        codec: CodecProto | None = None,
        persistent: bool = True,
        # AsyncAPI
        title: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
    ) -> PubSubSubscriberBase[Any]:
        """Consume ``subscription`` (created on ``topic`` by :meth:`provision`).

        Args:
            subscription: subscription id (>= 3 characters).
            topic: the topic it is attached to; needed to provision it.
            dead_letter_topic: target of the subscription's dead-letter policy and of
                ``reject`` (explicit dead-lettering with error attributes, then ack).
            max_delivery_attempts: deliveries before the server dead-letters (5..100).
            retry_backoff: ``(min, max)`` seconds of the subscription's retry policy;
                None means immediate redelivery.
            ack_deadline: the subscription's ack deadline in seconds (10..600).
            enable_message_ordering, enable_exactly_once_delivery, filter: subscription
                settings, applied at creation.
            max_messages, max_bytes: flow control: leased but unsettled messages/bytes.
            max_lease_duration: how long leases are extended for one message, seconds.
            max_workers: concurrent handler calls; defaults to ``max_messages``
                (``max_messages // max_batch`` for batch subscribers).
            batch: hand the handler a list of bodies (``list[Row]``), up to
                ``max_batch`` messages per call: those waiting when it is free.
            ack_policy: FastStream's acknowledgement policy (default NACK_ON_ERROR).
        """
        if batch:
            _require_batch_codec(codec or self.config.broker_codec)
        spec = SubscriptionSpec(
            name=subscription,
            topic=topic,
            ack_deadline_s=ack_deadline,
            dead_letter_topic=dead_letter_topic,
            max_delivery_attempts=max_delivery_attempts,
            retry_backoff=RetryBackoff(*retry_backoff) if retry_backoff else None,
            enable_message_ordering=enable_message_ordering,
            enable_exactly_once_delivery=enable_exactly_once_delivery,
            filter=filter,
        )
        subscriber = create_subscriber(
            spec=spec,
            stream_options=StreamOptions(
                max_messages=max_messages,
                max_bytes=max_bytes,
                max_lease_duration_s=max_lease_duration,
                lease_extension_s=ack_deadline,
            ),
            max_workers=max_workers or _default_workers(max_messages, max_batch if batch else None),
            max_batch=max_batch if batch else None,
            ack_policy=ack_policy,
            no_reply=no_reply,
            config=cast("PubSubBrokerConfig", self.config),
            title_=title,
            description_=description,
            include_in_schema=include_in_schema,
        )
        super().subscriber(subscriber, persistent=persistent)
        return subscriber.add_call(
            parser_=parser or self._parser,
            decoder_=decoder or self._decoder,
            codec_=codec,
            dependencies_=dependencies,
        )

    @override
    def publisher(  # type: ignore[override]
        self,
        topic: str,
        *,
        ordering_key: str = "",
        headers: dict[str, str] | None = None,
        persistent: bool = True,
        # AsyncAPI
        title: str | None = None,
        description: str | None = None,
        schema: Any | None = None,
        include_in_schema: bool = True,
    ) -> PubSubPublisher:
        """Publish to ``topic``; ``headers`` become attributes of every message."""
        publisher = create_publisher(
            topic=topic,
            ordering_key=ordering_key,
            headers=headers,
            config=cast("PubSubBrokerConfig", self.config),
            schema_=schema,
            title_=title,
            description_=description,
            include_in_schema=include_in_schema,
        )
        super().publisher(publisher, persistent=persistent)
        return publisher

    @override
    def include_router(
        self,
        router: Registrator[Any, Any],
        *,
        prefix: str = "",
        dependencies: Sequence[Dependant] = (),
        middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
        include_in_schema: bool | None = None,
    ) -> None:
        if not isinstance(router, PubSubRegistrator):
            msg = f"router must be a PubSubRouter, got {type(router).__name__}"
            raise TypeError(msg)
        super().include_router(
            router,
            prefix=prefix,
            dependencies=dependencies,
            middlewares=middlewares,
            include_in_schema=include_in_schema,
        )


def _require_batch_codec(codec: CodecProto | None) -> None:
    """FastStream's own check (made at start), made as early as the codec is known."""
    if codec is not None and not isinstance(codec, BatchCodecProto):
        msg = "Batch subscriber requires a codec implementing BatchCodecProto."
        raise ValueError(msg)


def _default_workers(max_messages: int, max_batch: int | None) -> int:
    """Enough handler calls at once to keep every leased message busy."""
    if max_batch is None or max_batch < 1:  # a bad max_batch is refused by the factory
        return max_messages
    return max(1, max_messages // max_batch)
