"""Keep a message's lease while the core works on it in a worker thread.

The core calls ``Ports.heartbeat`` between stages from the worker thread; the message can
only be touched on the event loop, so each beat schedules ``extend_lease`` there and
returns at once (the core never waits on Pub/Sub). A failed extension is logged: the
worst case is a redelivery, which the commit protocol makes harmless.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Protocol

from worker.observability.logging import get_logger

log = get_logger("worker.service.lease")


class Leased(Protocol):
    """What a heartbeat needs of a message (``PubSubMessage`` has it)."""

    @property
    def message_id(self) -> str: ...

    async def extend_lease(self, seconds: float) -> None: ...


class LeaseHeartbeat:
    """``Ports.heartbeat`` for one message: each call asks for ``seconds`` more lease."""

    def __init__(self, message: Leased, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self._message = message
        self._loop = loop
        self._seconds = seconds
        self.beats = 0

    def __call__(self) -> None:
        self.beats += 1
        future = asyncio.run_coroutine_threadsafe(
            self._message.extend_lease(self._seconds), self._loop
        )
        future.add_done_callback(self._report)

    def _report(self, future: concurrent.futures.Future[None]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.warning(
                "lease.extend_failed",
                message_id=self._message.message_id,
                error_type=type(error).__name__,
                error=str(error),
            )
