"""One streaming pull, and how its messages are settled once the stream is gone.

Google's client settles (ack, nack, lease) through a dispatcher that lives and dies with
the stream, so a message still in hand when the stream ends, on stop or on its own, is
settled with unary ``acknowledge`` / ``modify_ack_deadline(0)`` calls instead, batched.

Closing: the client cancels its stream (RST_STREAM), which the emulator installed here
misses (its gRPC server fails on it). It keeps the dead stream registered and sends it
redeliveries, nacked messages first, which then return only after the ack deadline. So
the stream is first half-closed, as a finished request stream does; the server ends the
call, and only then are unprocessed messages handed back (deadline 0): on Pub/Sub and on
the emulator alike the next subscriber gets them at once. Half-closing reaches into the
client's streaming-pull manager (it offers no public way); should that change, closing
falls back to cancelling.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from google.cloud.pubsub_v1 import types
from google.cloud.pubsub_v1.subscriber.message import Message

from faststream_gcp_pubsub.errors import BrokerError
from faststream_gcp_pubsub.transport.base import (
    Delivery,
    DeliveryCallback,
    PublishFunc,
    StreamOptions,
)
from faststream_gcp_pubsub.transport.grpc_delivery import (
    GrpcDelivery,
    LoopScheduler,
    translate_error,
)

log = logging.getLogger(__name__)

ACK_IDS_PER_REQUEST = 1000
"""Google's client sends at most this many ack ids per request (the request size limit)."""
HALF_CLOSE_WAIT_S = 5.0
"""How long the server gets to end a half-closed stream before it is cancelled."""


class GrpcStream:
    """One streaming pull; its end (error or cancel) is observable from the loop."""

    def __init__(
        self,
        client: Any,
        path: str,
        subscription: str,
        options: StreamOptions,
        deliver: DeliveryCallback,
        forward: PublishFunc,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._client = client
        self._path = path
        self.subscription = subscription
        self.forward = forward
        self._deliver = deliver
        self._closing = False
        self.gone = False
        """True once the stream stopped: its client can no longer settle messages. A plain
        flag, set by the client's thread: ``Future.done()`` takes a lock on every ack."""
        self._arrived_while_closing: list[Message] = []
        self._ended: asyncio.Future[BaseException | None] = self._loop.create_future()
        flow_control = types.FlowControl(
            max_bytes=options.max_bytes,
            max_messages=options.max_messages,
            max_lease_duration=options.max_lease_duration_s,
            max_duration_per_lease_extension=options.lease_extension_s,
        )
        self._scheduler = LoopScheduler(self._loop, self._on_message)
        self._future: concurrent.futures.Future[Any] = client.subscribe(
            path,
            callback=self._on_message,
            flow_control=flow_control,
            scheduler=self._scheduler,
        )
        self._future.add_done_callback(self._on_done)

    def _on_message(self, message: Message) -> None:
        if self._closing:
            self._arrived_while_closing.append(message)
            return
        self._deliver(GrpcDelivery(message, self))

    def _on_done(self, future: concurrent.futures.Future[Any]) -> None:
        self.gone = True
        error = None if future.cancelled() else future.exception()
        if self._closing:
            error = None
        where = f"streaming pull of {self.subscription}"
        outcome = translate_error(error, where) if error is not None else None
        try:
            self._loop.call_soon_threadsafe(self._set_ended, outcome)
        except RuntimeError:
            return  # the loop is gone; nobody is waiting any more

    def _set_ended(self, outcome: BaseException | None) -> None:
        if not self._ended.done():
            self._ended.set_result(outcome)

    async def wait_closed(self) -> BaseException | None:
        return await asyncio.shield(self._ended)

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        """Half-close the pull (cancel it if that fails or takes too long), wait until
        the client flushed what it settled, then hand back ``unsettled`` and whatever
        arrived meanwhile (deadline 0, unary calls).

        Handing back only after the call ended keeps the messages from being redelivered
        to this very stream.
        """
        self._closing = True
        if _half_close(self._future):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HALF_CLOSE_WAIT_S):
                    await self.wait_closed()
        self._future.cancel()
        await self.wait_closed()
        messages = [d.message for d in unsettled if isinstance(d, GrpcDelivery)]
        messages += self._arrived_while_closing + self._scheduler.left_over
        self._arrived_while_closing = []
        try:
            await self.settle([m.ack_id for m in messages], ack=False)
        except BrokerError as error:
            # They come back anyway once their lease runs out; stopping must not fail.
            log.warning(
                "handing back %d messages of %s failed: %s", len(messages), self.subscription, error
            )

    async def settle(self, ack_ids: Sequence[str], *, ack: bool) -> None:
        """Ack, or hand back (ack deadline 0), with unary calls, in batches."""
        if ack_ids:
            await asyncio.to_thread(self._settle_blocking, list(ack_ids), ack)

    def _settle_blocking(self, ack_ids: list[str], ack: bool) -> None:
        for start in range(0, len(ack_ids), ACK_IDS_PER_REQUEST):
            batch = ack_ids[start : start + ACK_IDS_PER_REQUEST]
            try:
                if ack:
                    self._client.acknowledge(subscription=self._path, ack_ids=batch)
                else:
                    self._client.modify_ack_deadline(
                        subscription=self._path, ack_ids=batch, ack_deadline_seconds=0
                    )
            except Exception as error:
                # A closed channel raises ValueError, the API its own errors: all translated.
                what = "ack" if ack else "hand back"
                raise translate_error(error, f"{what} on {self.subscription}") from error


def _half_close(future: concurrent.futures.Future[Any]) -> bool:
    """End the request side of the streaming pull behind ``future``; False if unable."""
    manager = getattr(future, "_StreamingPullFuture__manager", None)
    requests = getattr(getattr(manager, "_rpc", None), "_request_queue", None)
    if requests is None or future.done():
        return False
    requests.put(None)  # what ends the client's request generator
    return True
