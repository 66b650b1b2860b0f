"""TestPubSubBroker: FastStream's test client, modelling what Pub/Sub does."""

from __future__ import annotations

import asyncio

import pytest
from faststream import AckPolicy, FastStream
from pydantic import BaseModel

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, PubSubResponse, TestPubSubBroker


class Arrival(BaseModel):
    name: str
    size: int


async def test_round_trip_decodes_validates_and_publishes_the_result() -> None:
    broker = PubSubBroker(project="proj", logger=None)
    seen: list[tuple[Arrival, dict[str, str]]] = []

    @broker.subscriber("in-sub", topic="in-topic")
    @broker.publisher("out-topic")
    async def handle(event: Arrival, msg: PubSubMessage) -> dict[str, int]:
        seen.append((event, dict(msg.attributes)))
        return {"doubled": event.size * 2}

    out_publisher = broker.publisher("out-topic")

    async with TestPubSubBroker(broker) as br:
        message_id = await br.publish(
            {"name": "a.csv", "size": 3}, "in-topic", headers={"origin": "test"}
        )

        handle.mock.assert_called_once_with({"name": "a.csv", "size": 3})
        out_publisher.mock.assert_called_once_with({"doubled": 6})

    [(event, attributes)] = seen
    assert event == Arrival(name="a.csv", size=3)
    assert attributes["origin"] == "test"
    assert attributes["content-type"] == "application/json"
    assert message_id == "1"


async def test_a_message_nacked_forever_is_caught_when_redelivery_is_modelled() -> None:
    broker = PubSubBroker(logger=None)

    @broker.subscriber("in-sub", topic="in-topic")
    async def handle(event: Arrival) -> None: ...

    async with TestPubSubBroker(broker, redeliver=True, max_deliveries_per_publish=3) as br:
        with pytest.raises(RuntimeError, match="nacking a message forever"):
            await br.publish({"name": "no size"}, "in-topic")


async def test_nack_redelivery_counts_attempts_then_dead_letters() -> None:
    broker = PubSubBroker(logger=None)
    attempts: list[int | None] = []
    dead: list[dict[str, str]] = []

    @broker.subscriber(
        "in-sub",
        topic="in-topic",
        dead_letter_topic="in-topic-dlq",
        max_delivery_attempts=5,
        retry_backoff=(10, 600),
    )
    async def handle(body: dict[str, str], msg: PubSubMessage) -> None:
        attempts.append(msg.delivery_attempt)
        raise ConnectionError("transient")

    @broker.subscriber("in-topic-dlq-keep", topic="in-topic-dlq")
    async def keep(body: dict[str, str], msg: PubSubMessage) -> None:
        dead.append(dict(msg.attributes))

    test_client = TestPubSubBroker(broker, redeliver=True)
    async with test_client as br:
        with pytest.raises(ConnectionError):
            await br.publish({"k": "v"}, "in-topic", headers={"origin": "x"})
        elapsed_virtual = test_client.clock.now()

    assert attempts == [1, 2, 3, 4, 5]
    [letter] = dead
    assert letter["origin"] == "x"
    assert letter["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert elapsed_virtual == 10 + 20 + 40 + 80


async def test_ordering_keys_are_handled_in_publish_order() -> None:
    broker = PubSubBroker(logger=None)
    order: list[str] = []
    failed_once: set[str] = set()

    @broker.subscriber("in-sub", topic="in-topic", enable_message_ordering=True)
    async def handle(body: str, msg: PubSubMessage) -> None:
        if body == "a2" and body not in failed_once:
            failed_once.add(body)
            raise ConnectionError("retry me")
        order.append(f"{msg.ordering_key}:{body}")

    async with TestPubSubBroker(broker, redeliver=True) as br:
        with pytest.raises(ConnectionError):
            await br.publish_batch("a1", "a2", "a3", topic="in-topic", ordering_key="a")

    assert order == ["a:a1", "a:a2", "a:a3"]


async def test_response_sets_ordering_key_and_attributes_of_the_output() -> None:
    broker = PubSubBroker(logger=None)
    outputs: list[tuple[str, str]] = []

    @broker.subscriber("in-sub", topic="in-topic")
    @broker.publisher("out-topic")
    async def handle(body: str) -> PubSubResponse:
        return PubSubResponse(body.upper(), headers={"stage": "done"}, ordering_key="k")

    @broker.subscriber("out-sub", topic="out-topic")
    async def sink(body: str, msg: PubSubMessage) -> None:
        outputs.append((msg.ordering_key, msg.attributes["stage"]))

    async with TestPubSubBroker(broker) as br:
        await br.publish("hi", "in-topic")

    assert outputs == [("k", "done")]


async def test_manual_policy_leaves_unsettled_messages_leased() -> None:
    broker = PubSubBroker(logger=None)
    calls: list[str] = []

    @broker.subscriber("in-sub", topic="in-topic", ack_policy=AckPolicy.MANUAL)
    async def handle(body: str) -> None:
        calls.append(body)

    async with TestPubSubBroker(broker) as br:
        await br.publish("x", "in-topic")
        assert br.transport.server.subscriptions["in-sub"].backlog == 1

    assert calls == ["x"]


async def test_memory_broker_runs_a_faststream_app_in_process() -> None:
    broker = PubSubBroker(project="proj", in_memory=True, logger=None)
    app = FastStream(broker, logger=None)
    done = asyncio.Event()
    results: list[dict[str, int]] = []

    @broker.subscriber("in-sub", topic="in-topic", max_messages=4)
    @broker.publisher("out-topic")
    async def handle(body: dict[str, int]) -> dict[str, int]:
        return {"n": body["n"] + 1}

    @broker.subscriber("out-sub", topic="out-topic")
    async def sink(body: dict[str, int]) -> None:
        results.append(body)
        if len(results) == 3:
            done.set()

    await app.start()
    try:
        ids = await broker.publish_batch({"n": 1}, {"n": 2}, {"n": 3}, topic="in-topic")
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await app.stop()

    assert sorted(r["n"] for r in results) == [2, 3, 4]
    assert len(set(ids)) == 3
    assert broker.transport.server.subscriptions["in-sub"].backlog == 0
