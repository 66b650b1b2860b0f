"""``PubSubRouter``: declare subscribers and publishers apart from the broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from faststream._internal.broker.router import ArgsContainer, BrokerRouter, SubscriberRoute
from faststream._internal.constants import EMPTY
from faststream.middlewares import AckPolicy

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.broker.registrator import PubSubRegistrator
from faststream_gcp_pubsub.transport.base import Delivery

if TYPE_CHECKING:
    from fast_depends.dependencies import Dependant
    from faststream._internal.basic_types import SendableMessage
    from faststream._internal.types import BrokerMiddleware, CustomCallable


class PubSubPublisherArgs(ArgsContainer):
    """A delayed ``publisher(...)`` declaration for :class:`PubSubRoute`."""

    def __init__(self, topic: str, **kwargs: Any) -> None:
        super().__init__(topic, **kwargs)


class PubSubRoute(SubscriberRoute):
    """A delayed ``subscriber(...)`` declaration: ``PubSubRoute(handler, "sub", topic=...)``."""

    def __init__(
        self,
        call: Callable[..., SendableMessage] | Callable[..., Awaitable[SendableMessage]],
        subscription: str,
        *,
        publishers: Iterable[PubSubPublisherArgs] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(call, subscription, publishers=publishers, **kwargs)


class PubSubRouter(PubSubRegistrator, BrokerRouter[Delivery, PubSubBrokerConfig]):
    def __init__(
        self,
        prefix: str = "",
        handlers: Iterable[PubSubRoute] = (),
        *,
        dependencies: Sequence[Dependant] = (),
        middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
        routers: Iterable[PubSubRegistrator] = (),
        parser: CustomCallable | None = None,
        decoder: CustomCallable | None = None,
        include_in_schema: bool | None = None,
        ack_policy: AckPolicy = EMPTY,
    ) -> None:
        super().__init__(
            handlers=handlers,
            config=PubSubBrokerConfig(
                prefix=prefix,
                ack_policy=ack_policy,
                broker_dependencies=dependencies,
                broker_middlewares=middlewares,
                broker_parser=parser,
                broker_decoder=decoder,
                include_in_schema=include_in_schema,
            ),
            routers=routers,
        )
