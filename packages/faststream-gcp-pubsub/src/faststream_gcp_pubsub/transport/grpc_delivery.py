"""Bridge from Google's streaming-pull threads into the event loop.

The client library hands each leased message to a *scheduler*. Its default one runs the
callback on a thread pool; :class:`LoopScheduler` instead queues messages and wakes the
event loop once per burst, so no worker thread is spent and the loop is never blocked.
Lease extension, flow control and ordering stay with the library.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from google.api_core import exceptions as google_exceptions
from google.cloud.pubsub_v1.subscriber.exceptions import AcknowledgeError
from google.cloud.pubsub_v1.subscriber.message import Message
from google.cloud.pubsub_v1.subscriber.scheduler import Scheduler

from faststream_gcp_pubsub.errors import AckFailedError, BrokerError, TransientBrokerError
from faststream_gcp_pubsub.transport.base import Delivery, PublishFunc

log = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.InternalServerError,
    google_exceptions.Aborted,
    google_exceptions.ResourceExhausted,
    google_exceptions.Unknown,
    google_exceptions.GatewayTimeout,
    google_exceptions.RetryError,
)


def translate_error(error: BaseException, where: str) -> BrokerError:
    """Map a Google client error to the worker's tree (the adapter boundary)."""
    if isinstance(error, BrokerError):
        return error
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, TRANSIENT_ERRORS):
        return TransientBrokerError(text, where=where)
    return BrokerError(text, where=where)


class SettlingStream(Protocol):
    """What a delivery needs of its stream (see ``grpc_stream.GrpcStream``)."""

    subscription: str
    forward: PublishFunc
    gone: bool

    async def settle(self, ack_ids: Sequence[str], *, ack: bool) -> None: ...


class GrpcDelivery(Delivery):
    """One message of a streaming pull. Settled through the client while the stream
    runs; once it is gone, through unary calls (the client's dispatcher died with it)."""

    __slots__ = ("_stream", "message")

    def __init__(self, message: Message, stream: SettlingStream) -> None:
        super().__init__(stream.subscription, stream.forward)
        self.message = message
        self._stream = stream

    @property
    def message_id(self) -> str:
        message_id: str = self.message.message_id
        return message_id

    @property
    def data(self) -> bytes:
        data: bytes = self.message.data
        return data

    @property
    def attributes(self) -> Mapping[str, str]:
        attributes: Mapping[str, str] = self.message.attributes
        return attributes

    @property
    def ordering_key(self) -> str:
        key: str = self.message.ordering_key
        return key

    @property
    def publish_time(self) -> datetime:
        published: datetime = self.message.publish_time
        return published

    @property
    def delivery_attempt(self) -> int | None:
        attempt: int | None = self.message.delivery_attempt
        return attempt

    @property
    def settling_waits_for_server(self) -> bool:
        return self._stream.gone or bool(self.message.exactly_once_enabled)

    async def _ack(self) -> None:
        if self._stream.gone:
            await self._settle_unary(ack=True)
            return
        if not self.message.exactly_once_enabled:
            self.message.ack()
            return
        try:
            await asyncio.wrap_future(self.message.ack_with_response())
        except AcknowledgeError as error:
            msg = f"ack of message {self.message_id} refused: {error.error_code}"
            raise AckFailedError(msg, where=self.subscription) from error

    async def _nack(self) -> None:
        if self._stream.gone:
            await self._settle_unary(ack=False)
            return
        self.message.nack()

    async def _settle_unary(self, *, ack: bool) -> None:
        try:
            await self._stream.settle([self.message.ack_id], ack=ack)
        except BrokerError as error:
            if ack and self.message.exactly_once_enabled:
                msg = f"ack of message {self.message_id} failed after its stream ended: {error}"
                raise AckFailedError(msg, where=self.subscription) from error
            # Best effort, like every ack: the message returns when its lease runs out.
            log.warning(
                "settling message %s of %s failed: %s", self.message_id, self.subscription, error
            )

    async def modify_ack_deadline(self, seconds: int) -> None:
        if seconds <= 0:
            await self.nack()
        else:
            self.message.modify_ack_deadline(seconds)


class LoopScheduler(Scheduler):  # type: ignore[misc]  # the library ships no type hints
    """Hands messages from the library's consumer thread to the event loop in bursts."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, on_message: Callable[[Message], None]
    ) -> None:
        self._loop = loop
        self._on_message = on_message
        self._requests: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: deque[Message] = deque()
        self.left_over: list[Message] = []
        """Received but never handed to the loop: the stream hands them back itself."""
        self._wakeup_scheduled = False
        self._open = True

    @property
    def queue(self) -> queue.Queue[Any]:
        """The library's ack/nack/lease request queue (read by its dispatcher thread)."""
        return self._requests

    def schedule(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        # The library's wrapped callback only adds error logging around ours; the loop
        # side calls ``on_message`` directly and does its own error handling.
        message = args[0]
        with self._lock:
            if not self._open:
                message.nack()
                return
            self._pending.append(message)
            if self._wakeup_scheduled:
                return
            self._wakeup_scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:
            # The loop is closed: nobody will hand them back, so the client nacks them.
            self.shutdown()
            for dropped in self.left_over:
                dropped.nack()

    def _drain(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._wakeup_scheduled = False
        for message in batch:
            self._on_message(message)

    def shutdown(self, await_msg_callbacks: bool = False) -> list[Message]:
        """Stop accepting. Undelivered messages are kept in ``left_over`` rather than
        returned: the library would nack them through the stream being torn down."""
        with self._lock:
            self._open = False
            self.left_over.extend(self._pending)
            self._pending.clear()
        return []
