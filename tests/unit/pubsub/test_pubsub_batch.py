"""Batch subscribers: one handler call for the messages waiting, settled as a whole."""

from __future__ import annotations

import asyncio
import json

import pytest
from faststream import AckPolicy
from pubsub_fakes import RecordingDelivery
from pydantic import BaseModel
from test_pubsub_workers import BurstTransport

from faststream_gcp_pubsub import (
    DeliveryBatch,
    PubSubAsyncAPI,
    PubSubBatchMessage,
    PubSubBatchSubscriber,
    PubSubBroker,
    PubSubMessage,
    TestPubSubBroker,
)
from faststream_gcp_pubsub.batch import PubSubBatchParser


class Row(BaseModel):
    n: int


async def test_a_published_batch_reaches_the_handler_as_one_validated_list() -> None:
    broker = PubSubBroker(logger=None)
    calls: list[tuple[list[Row], list[dict[str, str]], list[int | None]]] = []

    @broker.subscriber("rows-sub", topic="rows", batch=True, max_batch=10)
    async def handle(rows: list[Row], msg: PubSubBatchMessage) -> None:
        calls.append((rows, msg.batch_headers, msg.delivery_attempts))

    assert isinstance(broker.subscribers[0], PubSubBatchSubscriber)
    async with TestPubSubBroker(broker) as br:
        await br.publish_batch(*({"n": n} for n in range(4)), topic="rows", headers={"k": "v"})

    [(rows, headers, attempts)] = calls
    assert rows == [Row(n=n) for n in range(4)]
    assert [h["k"] for h in headers] == ["v"] * 4
    assert attempts == [None] * 4  # no dead-letter policy: Pub/Sub does not count


async def test_batches_are_cut_at_max_batch() -> None:
    broker = PubSubBroker(logger=None)
    sizes: list[int] = []

    @broker.subscriber("rows-sub", topic="rows", batch=True, max_batch=3)
    async def handle(rows: list[dict[str, int]]) -> None:
        sizes.append(len(rows))

    async with TestPubSubBroker(broker) as br:
        await br.publish_batch(*({"n": n} for n in range(7)), topic="rows")

    assert sizes == [3, 3, 1]


async def test_a_failing_batch_is_redelivered_whole_then_dead_lettered() -> None:
    broker = PubSubBroker(logger=None)
    attempts: list[list[int | None]] = []
    dead: list[int] = []

    @broker.subscriber(
        "rows-sub", topic="rows", dead_letter_topic="rows-dlq", batch=True, max_batch=10
    )
    async def handle(rows: list[Row], msg: PubSubBatchMessage) -> None:
        attempts.append(msg.delivery_attempts)
        raise RuntimeError("boom")

    @broker.subscriber("rows-dlq-sub", topic="rows-dlq")
    async def keep(row: Row) -> None:
        dead.append(row.n)

    async with TestPubSubBroker(broker, redeliver=True) as br:
        with pytest.raises(RuntimeError, match="boom"):
            await br.publish_batch({"n": 1}, {"n": 2}, topic="rows")

    # NACK_ON_ERROR gives both back; each is redelivered (together, as they are due
    # together) until the subscription's 5 attempts are used up.
    assert attempts == [[k, k] for k in range(1, 6)]
    assert sorted(dead) == [1, 2]


async def test_reject_dead_letters_every_message_with_the_error() -> None:
    broker = PubSubBroker(logger=None)
    letters: list[tuple[int, dict[str, str]]] = []

    @broker.subscriber(
        "rows-sub",
        topic="rows",
        dead_letter_topic="rows-dlq",
        batch=True,
        ack_policy=AckPolicy.REJECT_ON_ERROR,
    )
    async def handle(rows: list[Row]) -> None:
        raise ValueError("unreadable rows")

    @broker.subscriber("rows-dlq-sub", topic="rows-dlq")
    async def keep(row: Row, msg: PubSubMessage) -> None:
        letters.append((row.n, dict(msg.attributes)))

    async with TestPubSubBroker(broker) as br:
        with pytest.raises(ValueError, match="unreadable rows"):  # the test client re-raises
            await br.publish_batch({"n": 1}, {"n": 2}, topic="rows")

    assert sorted(n for n, _ in letters) == [1, 2]
    for _, attributes in letters:
        assert attributes["x-error-type"] == "ValueError"
        assert attributes["x-error-message"] == "unreadable rows"
        assert attributes["x-source-subscription"] == "rows-sub"


async def test_messages_settled_one_by_one_keep_their_fate() -> None:
    broker = PubSubBroker(logger=None)
    seen: list[list[int]] = []

    @broker.subscriber("rows-sub", topic="rows", batch=True)
    async def handle(rows: list[Row], msg: PubSubBatchMessage) -> None:
        seen.append([row.n for row in rows])
        if len(seen) == 1:
            await msg.deliveries[0].nack()  # only the first comes again

    async with TestPubSubBroker(broker, redeliver=True) as br:
        await br.publish_batch({"n": 1}, {"n": 2}, {"n": 3}, topic="rows")

    assert seen == [[1, 2, 3], [1]]


async def test_a_burst_waiting_in_the_inbox_is_taken_in_batches() -> None:
    transport = BurstTransport()
    broker = PubSubBroker(transport=transport, logger=None)
    batches: list[list[str]] = []
    done = asyncio.Event()
    burst = [RecordingDelivery(message_id=f"m-{n}", subscription="in-sub") for n in range(7)]

    @broker.subscriber("in-sub", topic="in-topic", batch=True, max_batch=3, max_messages=10)
    async def handle(rows: list[dict[str, int]], msg: PubSubBatchMessage) -> None:
        batches.append([d.message_id for d in msg.deliveries])
        if sum(map(len, batches)) == len(burst):
            done.set()

    async with broker:
        await broker.start()
        assert transport.deliver is not None
        for delivery in burst:
            transport.deliver(delivery)
        await asyncio.wait_for(done.wait(), timeout=5)

    assert [len(b) for b in batches] == [3, 3, 1]
    assert [m for b in batches for m in b] == [d.message_id for d in burst]
    assert all(d.calls == ["ack"] for d in burst)


async def test_the_parser_keeps_each_message_s_content_type() -> None:
    batch = DeliveryBatch(
        "in-sub",
        [
            RecordingDelivery(b'{"n": 1}', {"content-type": "application/json"}, message_id="a"),
            RecordingDelivery(b"plain", {"content-type": "text/plain"}, message_id="b"),
            RecordingDelivery(b"\xff\x00", {}, message_id="c"),
        ],
    )
    parser = PubSubBatchParser("in-dlq")
    message = await parser.parse_message(batch)

    assert await parser.decode_batch(message) == [{"n": 1}, "plain", b"\xff\x00"]
    assert message.message_id == "a..c"
    assert message.dead_letter_topic == "in-dlq"
    assert message.headers == {"content-type": "application/json"}


async def test_extend_lease_reaches_every_unsettled_message_capped_at_ten_minutes() -> None:
    first, second = RecordingDelivery(message_id="a"), RecordingDelivery(message_id="b")
    await first.ack()
    message = await PubSubBatchParser().parse_message(DeliveryBatch("in-sub", [first, second]))

    await message.extend_lease(5000)

    assert (first.deadlines, second.deadlines) == ([], [600])


def test_an_empty_batch_and_a_zero_max_batch_are_refused() -> None:
    with pytest.raises(ValueError, match="in-sub needs at least one delivery"):
        DeliveryBatch("in-sub", [])
    broker = PubSubBroker(logger=None)
    with pytest.raises(ValueError, match="max_batch of subscriber 'rows-sub' must be >= 1"):
        broker.subscriber("rows-sub", topic="rows", batch=True, max_batch=0)


def test_asyncapi_shows_the_batch_size_and_a_list_payload() -> None:
    broker = PubSubBroker(project="proj", logger=None)

    @broker.subscriber("rows-sub", topic="rows", batch=True, max_batch=25)
    async def handle(rows: list[Row]) -> None: ...

    spec = PubSubAsyncAPI(broker, title="t", version="1", schema_version="3.0.0")
    document = json.loads(spec.to_specification().to_json())

    [channel] = document["channels"].values()
    assert channel["bindings"]["googlepubsub"]["x-subscription"]["maxBatch"] == 25
    payload = document["components"]["schemas"]["Handle:Message:Payload"]
    assert payload["type"] == "array"
    assert payload["items"] == {"$ref": "#/components/schemas/Row"}


class AnsweredDelivery(RecordingDelivery):
    """Acks wait for the server's answer (exactly-once): here, until all were asked."""

    def __init__(self, message_id: str, asked: list[str], everyone_asked: asyncio.Event) -> None:
        super().__init__(message_id=message_id)
        self._asked = asked
        self._everyone_asked = everyone_asked

    @property
    def settling_waits_for_server(self) -> bool:
        return True

    async def _ack(self) -> None:
        self._asked.append(self.message_id)
        if len(self._asked) == 3:
            self._everyone_asked.set()
        await self._everyone_asked.wait()
        await super()._ack()


async def test_acks_that_wait_for_the_server_are_asked_together() -> None:
    asked: list[str] = []
    everyone_asked = asyncio.Event()
    deliveries = [AnsweredDelivery(f"m-{n}", asked, everyone_asked) for n in range(3)]

    # One by one, the first ack would wait forever for the other two to be asked.
    await asyncio.wait_for(DeliveryBatch("in-sub", deliveries).ack(), timeout=5)

    assert all(d.calls == ["ack"] for d in deliveries)
