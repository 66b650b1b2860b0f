"""TestPubSubBroker keeps FastStream's test-client contract.

Written from FastStream's "Subscriber Testing" guide
(https://faststream.ag2.ai/latest/getting-started/subscription/test/: a message the
handler cannot take makes ``await br.publish(...)`` raise, e.g. pydantic's
``ValidationError``), its RPC guide
(https://faststream.ag2.ai/latest/getting-started/publishing/broker/ ``broker.request``)
and from how its first-party test clients behave (``faststream.kafka.TestKafkaBroker``
answers ``request`` in memory although Kafka has no RPC and raises
``SubscriberNotFound`` when nothing consumes the destination).
"""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from faststream import AckPolicy
from faststream.exceptions import FeatureNotSupportedException, SubscriberNotFound
from pydantic import BaseModel, ValidationError

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, PubSubResponse, TestPubSubBroker


class Order(BaseModel):
    sku: str
    quantity: int


class HandlerFailed(Exception):
    pass


@pytest.mark.parametrize("ack_policy", list(AckPolicy))
@pytest.mark.parametrize("dead_letter_topic", [None, "orders-dlq"])
async def test_a_raising_handler_raises_from_publish_once(
    ack_policy: AckPolicy, dead_letter_topic: str | None
) -> None:
    broker = PubSubBroker(logger=None)
    calls: list[int | None] = []

    @broker.subscriber(
        "orders-sub",
        topic="orders",
        ack_policy=ack_policy,
        dead_letter_topic=dead_letter_topic,
    )
    async def handle(body: str, msg: PubSubMessage) -> None:
        calls.append(msg.delivery_attempt)
        raise HandlerFailed(body)

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(HandlerFailed, match="boom") as raised:
            await br.publish("boom", "orders")
        # The next publish is handled on its own: nothing of the first comes back.
        with pytest.raises(HandlerFailed, match="again"):
            await br.publish("again", "orders")

    assert len(calls) == 2
    # The traceback reaches into the handler that raised.
    assert any(frame.name == "handle" for frame in _frames(raised.value))


def _frames(error: BaseException) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(error.__traceback__))


async def test_a_validation_error_reaches_the_caller() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("orders-sub", topic="orders")
    async def handle(order: Order) -> None: ...

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(ValidationError):
            await br.publish({"sku": "a"}, "orders")


async def test_parser_and_decoder_errors_reach_the_caller() -> None:
    broker = PubSubBroker(logger=None)

    async def failing_parser(msg: Any, original: Any) -> Any:
        raise LookupError("parser refused")

    async def failing_decoder(msg: Any, original: Any) -> Any:
        raise KeyError("decoder refused")

    @broker.subscriber("parsed-sub", topic="parsed", parser=failing_parser)
    async def parsed(body: str) -> None: ...

    @broker.subscriber("decoded-sub", topic="decoded", decoder=failing_decoder)
    async def decoded(body: str) -> None: ...

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(LookupError, match="parser refused"):
            await br.publish("x", "parsed")
        with pytest.raises(KeyError, match="decoder refused"):
            await br.publish("x", "decoded")


async def test_redelivery_is_modelled_only_when_asked() -> None:
    broker = PubSubBroker(logger=None)
    attempts: list[int | None] = []

    @broker.subscriber(
        "orders-sub", topic="orders", dead_letter_topic="orders-dlq", max_delivery_attempts=5
    )
    async def handle(body: str, msg: PubSubMessage) -> None:
        attempts.append(msg.delivery_attempt)
        raise HandlerFailed(body)

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(HandlerFailed):
            await br.publish("x", "orders")
    assert attempts == [1]

    attempts.clear()
    async with TestPubSubBroker(broker, redeliver=True) as br:
        with pytest.raises(HandlerFailed):
            await br.publish("x", "orders")
    assert attempts == [1, 2, 3, 4, 5]


async def test_an_explicit_nack_is_not_redelivered_by_default() -> None:
    broker = PubSubBroker(logger=None)
    seen: list[str] = []

    @broker.subscriber("orders-sub", topic="orders", ack_policy=AckPolicy.MANUAL)
    async def handle(body: str, msg: PubSubMessage) -> None:
        seen.append(body)
        await msg.nack()

    async with TestPubSubBroker(broker) as br:
        await br.publish("x", "orders")
        assert br.transport.server.subscriptions["orders-sub"].backlog == 0
    assert seen == ["x"]


async def test_request_is_answered_by_the_handler_return_value() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("quote-sub", topic="quotes")
    async def quote(order: Order) -> PubSubResponse:
        return PubSubResponse({"total": order.quantity * 3}, headers={"currency": "EUR"})

    publisher = broker.publisher("quotes")

    async with TestPubSubBroker(broker) as br:
        answer = await br.request({"sku": "a", "quantity": 2}, "quotes", correlation_id="c-1")
        via_publisher = await publisher.request({"sku": "b", "quantity": 5})

    assert await answer.decode() == {"total": 6}
    assert answer.headers["currency"] == "EUR"
    assert answer.correlation_id == "c-1"
    assert await via_publisher.decode() == {"total": 15}


async def test_a_request_whose_handler_raises_raises() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("quote-sub", topic="quotes")
    async def quote(body: str) -> str:
        raise HandlerFailed(body)

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(HandlerFailed, match="no quote"):
            await br.request("no quote", "quotes")


async def test_request_on_the_real_transport_says_why_it_is_refused() -> None:
    broker = PubSubBroker(in_memory=True, logger=None)

    @broker.subscriber("quote-sub", topic="quotes")
    async def quote(body: str) -> str:
        return body

    await broker.start()
    try:
        with pytest.raises(FeatureNotSupportedException, match="no request/reply") as refused:
            await broker.request("x", "quotes")
    finally:
        await broker.stop()
    assert "reply_to" in str(refused.value)


async def test_publishing_to_an_undeclared_topic_raises_subscriber_not_found() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("orders-sub", topic="orders")
    async def handle(body: str) -> None: ...

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(SubscriberNotFound, match="'nowhere'"):
            await br.publish("x", "nowhere")
        with pytest.raises(SubscriberNotFound, match="'nowhere'"):
            await br.publish_batch("x", "y", topic="nowhere")
        with pytest.raises(SubscriberNotFound):
            await br.request("x", "nowhere")


async def test_a_subscription_without_topic_gets_one_fake_and_none_stays() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("jobs-sub")  # attached to the topic of its own name
    async def handle(body: str) -> None: ...

    to_jobs = broker.publisher("jobs-sub")
    to_audit = broker.publisher("audit")
    declared = set(broker.subscribers)

    for _ in range(2):  # entering again starts from nothing, as a new client would
        async with TestPubSubBroker(broker) as br:
            fakes = set(broker.subscribers) - declared
            await br.publish("x", "jobs-sub")
            await to_jobs.publish("y")
            await to_audit.publish("z")
            assert [c.args for c in handle.mock.call_args_list] == [("x",), ("y",)]
            to_audit.mock.assert_called_once_with("z")
        assert len(fakes) == 1  # only for "audit": "jobs-sub" has its real subscriber
        assert set(broker.subscribers) == declared


async def test_the_real_subscriber_sees_what_its_publisher_sends() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("jobs-sub")
    async def handle(body: str) -> None: ...

    to_jobs = broker.publisher("jobs-sub")

    async with TestPubSubBroker(broker):
        await to_jobs.publish("y")
        handle.mock.assert_called_once_with("y")
        to_jobs.mock.assert_called_once_with("y")
