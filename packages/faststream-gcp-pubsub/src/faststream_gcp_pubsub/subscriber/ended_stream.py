"""A stream that could not be opened (re-provisioning failed): the supervisor retries."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from faststream_gcp_pubsub.errors import BrokerError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from faststream_gcp_pubsub.transport.base import Delivery


class EndedStream:
    """Stands in for a stream that could not be opened, so the supervisor retries."""

    def __init__(self, error: BaseException) -> None:
        self._error = error

    async def wait_closed(self) -> BaseException | None:
        return self._error

    async def close(self, unsettled: Sequence[Delivery] = ()) -> None:
        for delivery in unsettled:
            with contextlib.suppress(BrokerError):
                await delivery._nack()
