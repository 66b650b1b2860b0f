"""``PubSubBroker``: FastStream's broker contract over Google Cloud Pub/Sub."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fast_depends import dependency_provider
from faststream._internal.broker import BrokerUsecase
from faststream._internal.constants import EMPTY
from faststream._internal.context.repository import ContextRepo
from faststream._internal.di import FastDependsConfig
from faststream.message import gen_cor_id
from faststream.middlewares import AckPolicy
from faststream.response.publish_type import PublishType
from faststream.specification.schema import BrokerSpec
from typing_extensions import override

from faststream_gcp_pubsub.broker.config import PubSubBrokerConfig
from faststream_gcp_pubsub.broker.logging import make_pubsub_logger_state
from faststream_gcp_pubsub.broker.registrator import PubSubRegistrator
from faststream_gcp_pubsub.message import PubSubMessage
from faststream_gcp_pubsub.provision import ProvisionReport, provision
from faststream_gcp_pubsub.publisher.producer import PubSubProducer
from faststream_gcp_pubsub.publisher.usecase import PubSubPublisher
from faststream_gcp_pubsub.response import PubSubPublishCommand
from faststream_gcp_pubsub.specs import ResourceSet
from faststream_gcp_pubsub.subscriber.usecase import PubSubSubscriberBase
from faststream_gcp_pubsub.transport.base import BatchSettings, Delivery, Transport
from faststream_gcp_pubsub.transport.memory import MemoryTransport

if TYPE_CHECKING:
    from types import TracebackType

    from fast_depends import Provider
    from fast_depends.dependencies import Dependant
    from fast_depends.library.serializer import SerializerProto
    from faststream._internal.basic_types import LoggerProto, SendableMessage
    from faststream._internal.parser import CodecProto
    from faststream._internal.types import BrokerMiddleware, CustomCallable, IdGenerator
    from faststream.security import BaseSecurity
    from faststream.specification.schema.extra import Tag, TagDict

PUBSUB_API_URL = "https://pubsub.googleapis.com"


def _make_transport(
    project: str,
    in_memory: bool,
    batch_settings: BatchSettings | None,
    publish_timeout: float,
) -> Transport:
    if in_memory:
        return MemoryTransport(project)
    # Imported here so the in-memory runtime never loads Google's client.
    from faststream_gcp_pubsub.transport.grpc import GrpcTransport

    return GrpcTransport(project, batch_settings=batch_settings, publish_timeout_s=publish_timeout)


class PubSubBroker(
    PubSubRegistrator,
    BrokerUsecase[Delivery, Transport, PubSubBrokerConfig],
):
    """Google Cloud Pub/Sub for FastStream: streaming pull in, batching publisher out.

    ``in_memory=True`` (or ``transport=MemoryTransport(...)``) runs the same broker on an
    in-process model of Pub/Sub: no emulator, same semantics.
    """

    def __init__(
        self,
        project: str = "local-project",
        *,
        in_memory: bool = False,
        transport: Transport | None = None,
        batch_settings: BatchSettings | None = None,
        publish_timeout: float = 60.0,
        provision_on_start: bool | None = None,
        reprovision_on_reconnect: bool = True,
        reconnect_backoff: tuple[float, float] = (0.5, 30.0),
        graceful_timeout: float | None = 15.0,
        decoder: CustomCallable | None = None,
        parser: CustomCallable | None = None,
        codec: CodecProto | None = None,
        dependencies: Sequence[Dependant] = (),
        middlewares: Sequence[BrokerMiddleware[Any, Any]] = (),
        routers: Iterable[PubSubRegistrator] = (),
        ack_policy: AckPolicy = EMPTY,
        id_generator: IdGenerator = gen_cor_id,
        # AsyncAPI
        specification_url: str | None = None,
        protocol: str | None = None,
        protocol_version: str | None = None,
        description: str | None = None,
        tags: Iterable[Tag | TagDict] = (),
        security: BaseSecurity | None = None,
        # logging
        logger: LoggerProto | None = EMPTY,
        log_level: int = logging.INFO,
        # FastDepends
        apply_types: bool = True,
        serializer: SerializerProto | None = EMPTY,
        provider: Provider | None = None,
        context: ContextRepo | None = None,
    ) -> None:
        self.project = project
        self.transport = transport or _make_transport(
            project, in_memory, batch_settings, publish_timeout
        )
        self.provision_on_start = (
            self.transport.provisions_on_start if provision_on_start is None else provision_on_start
        )
        super().__init__(
            routers=routers,
            config=PubSubBrokerConfig(
                producer=PubSubProducer(parser=parser, decoder=decoder),
                reconnect_backoff=reconnect_backoff,
                reprovision_on_reconnect=reprovision_on_reconnect,
                broker_middlewares=middlewares,
                broker_parser=parser,
                broker_decoder=decoder,
                broker_codec=codec,
                logger=make_pubsub_logger_state(logger=logger, log_level=log_level),
                fd_config=FastDependsConfig(
                    use_fastdepends=apply_types,
                    serializer=serializer,
                    provider=provider or dependency_provider,
                    context=context or ContextRepo(),
                ),
                broker_dependencies=dependencies,
                graceful_timeout=graceful_timeout,
                ack_policy=ack_policy,
                id_generator=id_generator,
                extra_context={"broker": self},
            ),
            specification=BrokerSpec(
                description=description,
                url=[specification_url or f"{PUBSUB_API_URL}/projects/{project}"],
                protocol=protocol or "googlepubsub",
                protocol_version=protocol_version or "v1",
                tags=tags,
                security=security,
            ),
        )

    @override
    async def _connect(self) -> Transport:
        await self.transport.connect()
        self.config.broker_config.connect(self.transport)
        return self.transport

    @override
    async def start(self) -> None:
        await self.connect()
        if self.provision_on_start:
            await self.provision()
        self.config.logger.log(
            f"Pub/Sub connected (project {self.project})",
            logging.INFO,
            {"subscription": "", "message_id": ""},
        )
        await super().start()
        self.config.broker_config.running = True

    @override
    async def stop(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> None:
        self.config.broker_config.running = False
        await super().stop(exc_type, exc_val, exc_tb)
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        self.config.broker_config.disconnect()

    @override
    async def ping(self, timeout: float | None = None) -> bool:
        if self._connection is None:
            return False
        try:
            async with asyncio.timeout(timeout or 5.0):
                return await self._connection.ping()
        except TimeoutError:
            return False

    def declared_resources(self) -> ResourceSet:
        """Every topic and subscription the declared subscribers and publishers need."""
        resources = ResourceSet()
        for subscriber in self.subscribers:
            if isinstance(subscriber, PubSubSubscriberBase):
                resources = resources.merge(subscriber.resources())
        for publisher in self.publishers:
            if isinstance(publisher, PubSubPublisher):
                resources = resources.merge(ResourceSet(topics=(publisher.topic,)))
        return resources

    async def provision(self, *, dry_run: bool = False) -> ProvisionReport:
        """Create what is declared and missing; report drift. ``dry_run`` only plans."""
        await self.connect()
        report = await provision(self.transport.admin, self.declared_resources(), dry_run=dry_run)
        if not dry_run:
            self.config.broker_config.provisioned = True
        return report

    @override
    async def publish(
        self,
        message: SendableMessage = None,
        topic: str = "",
        *,
        headers: dict[str, str] | None = None,
        ordering_key: str = "",
        correlation_id: str | None = None,
        reply_to: str = "",
    ) -> str:
        """Publish one message to ``topic``; headers become attributes. Returns its id."""
        cmd = PubSubPublishCommand(
            message,
            topic=topic,
            headers=headers,
            ordering_key=ordering_key,
            correlation_id=correlation_id or self.config.id_generator(),
            reply_to=reply_to,
            _publish_type=PublishType.PUBLISH,
        )
        message_id: str = await self._basic_publish(cmd, producer=self.config.producer)
        return message_id

    @override
    async def publish_batch(  # type: ignore[override]
        self,
        *messages: SendableMessage,
        topic: str = "",
        headers: dict[str, str] | None = None,
        ordering_key: str = "",
        correlation_id: str | None = None,
    ) -> list[str]:
        """Publish several messages to ``topic`` in one go. Returns their ids in order."""
        if not messages:
            return []
        first, *rest = messages
        cmd = PubSubPublishCommand(
            first,
            *rest,
            topic=topic,
            headers=headers,
            ordering_key=ordering_key,
            correlation_id=correlation_id or self.config.id_generator(),
            _publish_type=PublishType.PUBLISH,
        )
        message_ids: list[str] = await self._basic_publish_batch(cmd, producer=self.config.producer)
        return message_ids

    @override
    async def request(  # type: ignore[override]
        self,
        message: SendableMessage = None,
        topic: str = "",
        *,
        headers: dict[str, str] | None = None,
        ordering_key: str = "",
        correlation_id: str | None = None,
        timeout: float | None = 0.5,
    ) -> PubSubMessage:
        """Answered by the handler's return value under ``TestPubSubBroker``; on a real
        transport ``FeatureNotSupportedException`` (Pub/Sub has no request/reply)."""
        cmd = PubSubPublishCommand(
            message,
            topic=topic,
            headers=headers,
            ordering_key=ordering_key,
            correlation_id=correlation_id or self.config.id_generator(),
            timeout=timeout,
            _publish_type=PublishType.REQUEST,
        )
        answer: PubSubMessage = await self._basic_request(cmd, producer=self.config.producer)
        return answer
