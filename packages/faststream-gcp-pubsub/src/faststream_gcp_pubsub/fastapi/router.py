"""``PubSubRouter``: a FastAPI router carrying a Pub/Sub broker (FastStream's ``StreamRouter``).

Handlers declared on it take FastAPI dependencies (``Depends``) and FastStream's context
(``Context``, ``faststream_gcp_pubsub.fastapi.PubSubMessage``); the app's lifespan starts
the broker and stops it; ``router.broker`` publishes from HTTP endpoints; the AsyncAPI
document (with ``googlepubsub`` bindings) is served at ``schema_url``; and
``TestPubSubBroker(router.broker)`` tests it all in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi.datastructures import Default
from faststream._internal.fastapi.router import StreamRouter
from typing_extensions import override

from faststream_gcp_pubsub.asyncapi import PubSubAsyncAPI
from faststream_gcp_pubsub.broker.broker import PubSubBroker
from faststream_gcp_pubsub.transport.base import Delivery

if TYPE_CHECKING:
    from enum import Enum

    from fastapi import params
    from fastapi.types import IncEx
    from faststream._internal.context import ContextRepo
    from faststream._internal.types import BrokerMiddleware
    from faststream.specification.base import SpecificationFactory
    from starlette.types import Lifespan

    from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher
    from faststream_gcp_pubsub.subscriber.usecase import PubSubSubscriberBase


_NO_RESPONSE_MODEL: Any = Default(None)


class PubSubRouter(StreamRouter[Delivery]):
    """A FastAPI ``APIRouter`` with a :class:`PubSubBroker` as ``router.broker``.

    ``project`` and ``broker_options`` go to :class:`PubSubBroker` (``in_memory``,
    ``transport``, ``provision_on_start``, ``graceful_timeout``, ``parser``, ``decoder``,
    ``codec``, ``ack_policy``, ``logger``, ...); the rest are FastAPI's router options
    and FastStream's (``schema_url`` serves the AsyncAPI page, ``None`` turns it off).
    """

    broker_class = PubSubBroker
    broker: PubSubBroker

    def __init__(
        self,
        project: str = "local-project",
        *,
        middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
        context: ContextRepo | None = None,
        specification: SpecificationFactory | None = None,
        schema_url: str | None = "/asyncapi",
        setup_state: bool = True,
        prefix: str = "",
        tags: list[str | Enum] | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        lifespan: Lifespan[Any] | None = None,
        include_in_schema: bool = True,
        **broker_options: Any,
    ) -> None:
        super().__init__(
            project,
            context=context,
            middlewares=middlewares,
            prefix=prefix,
            tags=tags,
            dependencies=dependencies,
            lifespan=lifespan,
            include_in_schema=include_in_schema,
            setup_state=setup_state,
            specification=specification or PubSubAsyncAPI(),
            schema_url=schema_url,
            **broker_options,
        )

    @override
    def subscriber(  # type: ignore[override]
        self,
        subscription: str,
        *,
        dependencies: Iterable[params.Depends] = (),
        response_model: Any = _NO_RESPONSE_MODEL,
        response_model_include: IncEx | None = None,
        response_model_exclude: IncEx | None = None,
        response_model_by_alias: bool = True,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_exclude_none: bool = False,
        **subscriber_options: Any,
    ) -> PubSubSubscriberBase[Any]:
        """As :meth:`PubSubBroker.subscriber`, plus FastAPI's response-model options."""
        # FastStream's StreamRouter annotates the decorator, but returns the subscriber.
        subscriber: PubSubSubscriberBase[Any] = super().subscriber(  # type: ignore[assignment]
            subscription,
            dependencies=dependencies,
            response_model=response_model,
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_by_alias=response_model_by_alias,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_exclude_none=response_model_exclude_none,
            **subscriber_options,
        )
        return subscriber

    @override
    def publisher(self, topic: str, **publisher_options: Any) -> PubSubPublisher:  # type: ignore[override]
        """As :meth:`PubSubBroker.publisher`."""
        return self.broker.publisher(topic, **publisher_options)
