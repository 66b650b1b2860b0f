"""A gRPC delivery is settled through the client while its stream runs, by unary calls after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from faststream_gcp_pubsub.errors import AckFailedError, BrokerError
from faststream_gcp_pubsub.transport.base import OutgoingMessage
from faststream_gcp_pubsub.transport.grpc_delivery import GrpcDelivery


class FakeMessage:
    """The parts of Google's ``Message`` a delivery settles through."""

    def __init__(self, *, exactly_once: bool = False) -> None:
        self.ack_id = "ack-1"
        self.message_id = "m-1"
        self.exactly_once_enabled = exactly_once
        self.calls: list[str] = []

    def ack(self) -> None:
        self.calls.append("ack")

    def nack(self) -> None:
        self.calls.append("nack")


class FakeStream:
    subscription = "in-sub"

    def __init__(self, *, gone: bool, fails: bool = False) -> None:
        self.gone = gone
        self.fails = fails
        self.settled: list[tuple[list[str], bool]] = []

    async def forward(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        return []

    async def settle(self, ack_ids: Sequence[str], *, ack: bool) -> None:
        if self.fails:
            raise BrokerError("channel closed", where="test")
        self.settled.append((list(ack_ids), ack))


def _delivery(stream: FakeStream, message: FakeMessage) -> GrpcDelivery:
    fake: Any = message  # stands in for google.cloud.pubsub_v1's Message
    return GrpcDelivery(fake, stream)


@pytest.mark.parametrize("settle", ["ack", "nack"])
async def test_while_the_stream_runs_the_client_settles(settle: str) -> None:
    stream, message = FakeStream(gone=False), FakeMessage()

    await getattr(_delivery(stream, message), settle)()

    assert message.calls == [settle]
    assert stream.settled == []


@pytest.mark.parametrize(("settle", "is_ack"), [("ack", True), ("nack", False)])
async def test_after_the_stream_ended_a_unary_call_settles(settle: str, is_ack: bool) -> None:
    stream, message = FakeStream(gone=True), FakeMessage()

    await getattr(_delivery(stream, message), settle)()

    assert message.calls == []
    assert stream.settled == [(["ack-1"], is_ack)]


async def test_a_failed_late_hand_back_is_not_raised() -> None:
    delivery = _delivery(FakeStream(gone=True, fails=True), FakeMessage())

    await delivery.nack()

    assert delivery.settled


async def test_a_failed_late_exactly_once_ack_is_raised() -> None:
    delivery = _delivery(FakeStream(gone=True, fails=True), FakeMessage(exactly_once=True))

    with pytest.raises(AckFailedError, match="after its stream ended"):
        await delivery.ack()


@pytest.mark.parametrize(
    ("gone", "exactly_once", "waits"),
    [(False, False, False), (False, True, True), (True, False, True)],
)
def test_settling_waits_for_the_server_with_exactly_once_or_after_the_stream(
    gone: bool, exactly_once: bool, waits: bool
) -> None:
    delivery = _delivery(FakeStream(gone=gone), FakeMessage(exactly_once=exactly_once))

    assert delivery.settling_waits_for_server is waits
