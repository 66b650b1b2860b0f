"""FastStream's documented broker behaviours, walked for ``PubSubBroker``.

Each test states one behaviour FastStream documents for all its brokers (getting-started
guides at https://faststream.ag2.ai/latest/getting-started/: subscription, publishing,
routers, context, dependencies, middlewares, acknowledgement, lifespan) and runs it on a
running broker twice: on the in-memory transport and on Google's Pub/Sub emulator
(``integration``). Test-client behaviours are in ``test_pubsub_test_client_contract.py``,
codecs in ``test_pubsub_codecs.py``, lifecycle and dynamic use in
``test_pubsub_lifecycle.py``, AsyncAPI in ``test_pubsub_asyncapi.py`` and FastAPI in
``test_pubsub_fastapi.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fast_depends import Depends
from faststream import AckPolicy, BaseMiddleware, Context, FastStream
from pydantic import BaseModel

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage, PubSubRouter

EMULATOR_PROJECT = "it-project"


class Order(BaseModel):
    sku: str
    quantity: int


@dataclass
class Where:
    """One transport to run a behaviour on, with names unique to the test."""

    kind: str
    tag: str

    def name(self, base: str) -> str:
        return f"{base}-{self.tag}"

    def broker(self, **options: Any) -> PubSubBroker:
        options.setdefault("logger", None)
        options.setdefault("graceful_timeout", 5.0)
        if self.kind == "memory":
            return PubSubBroker(project="conformance", in_memory=True, **options)
        options.setdefault("provision_on_start", True)
        options.setdefault("reconnect_backoff", (0.2, 2.0))
        return PubSubBroker(project=EMULATOR_PROJECT, **options)


@pytest.fixture(params=["memory", pytest.param("emulator", marks=pytest.mark.integration)])
def where(request: pytest.FixtureRequest) -> Where:
    if request.param == "emulator":
        request.getfixturevalue("pubsub_emulator")
    return Where(request.param, uuid.uuid4().hex[:8])


@asynccontextmanager
async def running(broker: PubSubBroker) -> AsyncIterator[PubSubBroker]:
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition``; a bound only so a broken behaviour fails instead of hanging."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_a_handler_gets_the_validated_body_headers_and_correlation_id(
    where: Where,
) -> None:
    broker = where.broker()
    seen: list[tuple[Order, str, str]] = []

    @broker.subscriber(where.name("orders-sub"), topic=where.name("orders"))
    async def handle(order: Order, msg: PubSubMessage) -> None:
        seen.append((order, msg.headers["origin"], msg.correlation_id))

    async with running(broker):
        await broker.publish(
            {"sku": "a", "quantity": 2},
            where.name("orders"),
            headers={"origin": "shop"},
            correlation_id="corr-1",
        )
        await until(lambda: bool(seen), "the order handled")
    assert seen == [(Order(sku="a", quantity=2), "shop", "corr-1")]


async def test_a_return_value_goes_to_the_publisher_and_to_reply_to(where: Where) -> None:
    broker = where.broker()
    totals: list[tuple[str, dict[str, int]]] = []

    @broker.subscriber(where.name("orders-sub"), topic=where.name("orders"))
    @broker.publisher(where.name("totals"))
    async def handle(order: Order) -> dict[str, int]:
        return {"total": order.quantity * 10}

    @broker.subscriber(where.name("totals-sub"), topic=where.name("totals"))
    async def on_total(body: dict[str, int]) -> None:
        totals.append(("publisher", body))

    @broker.subscriber(where.name("replies-sub"), topic=where.name("replies"))
    async def on_reply(body: dict[str, int], msg: PubSubMessage) -> None:
        totals.append((f"reply {msg.correlation_id}", body))

    async with running(broker):
        await broker.publish(
            {"sku": "a", "quantity": 3},
            where.name("orders"),
            reply_to=where.name("replies"),
            correlation_id="c-9",
        )
        await until(lambda: len(totals) == 2, "the publisher's and the reply's copies")
    assert sorted(totals) == [("publisher", {"total": 30}), ("reply c-9", {"total": 30})]


async def test_a_router_prefixes_names_and_applies_its_dependencies(where: Where) -> None:
    broker = where.broker()
    checked: list[str] = []

    def check(msg: PubSubMessage) -> None:
        checked.append(msg.subscription)

    router = PubSubRouter(prefix=where.name("r") + "-", dependencies=[Depends(check)])
    seen: list[str] = []

    @router.subscriber("jobs-sub", topic="jobs")
    async def handle(body: str) -> None:
        seen.append(body)

    broker.include_router(router)
    async with running(broker):
        await broker.publish("x", f"{where.name('r')}-jobs")
        await until(lambda: bool(seen), "the routed message")
    assert checked == [f"{where.name('r')}-jobs-sub"]


async def test_context_and_depends_are_injected(where: Where) -> None:
    broker = where.broker()
    seen: list[tuple[str, int]] = []

    def quantity_doubled(order: Order) -> int:
        return order.quantity * 2

    @broker.subscriber(where.name("orders-sub"), topic=where.name("orders"))
    async def handle(
        order: Order,
        origin: Annotated[str, Context("message.headers.origin")],
        doubled: Annotated[int, Depends(quantity_doubled)],
    ) -> None:
        seen.append((origin, doubled))

    async with running(broker):
        await broker.publish(
            {"sku": "a", "quantity": 4}, where.name("orders"), headers={"origin": "o"}
        )
        await until(lambda: bool(seen), "the injected call")
    assert seen == [("o", 8)]


async def test_custom_parser_and_decoder_wrap_the_default_ones(where: Where) -> None:
    calls: list[str] = []

    async def parser(raw: Any, original: Any) -> Any:
        calls.append("parser")
        return await original(raw)

    async def decoder(msg: Any, original: Any) -> Any:
        calls.append("decoder")
        return {"wrapped": await original(msg)}

    broker = where.broker()
    seen: list[dict[str, Any]] = []

    @broker.subscriber(
        where.name("raw-sub"), topic=where.name("raw"), parser=parser, decoder=decoder
    )
    async def handle(body: dict[str, Any]) -> None:
        seen.append(body)

    async with running(broker):
        await broker.publish({"n": 1}, where.name("raw"))
        await until(lambda: bool(seen), "the decoded message")
    assert seen == [{"wrapped": {"n": 1}}]
    assert calls == ["parser", "decoder"]


async def test_a_middleware_sees_consume_and_publish(where: Where) -> None:
    events: list[str] = []

    class Recording(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            events.append(f"consume {msg.raw_message.subscription}")
            return await call_next(msg)

        async def publish_scope(self, call_next: Any, cmd: Any) -> Any:
            events.append(f"publish {cmd.destination}")
            return await call_next(cmd)

    broker = where.broker(middlewares=[Recording])
    done = asyncio.Event()

    @broker.subscriber(where.name("in-sub"), topic=where.name("in"))
    async def handle(body: str) -> None:
        done.set()

    async with running(broker):
        await broker.publish("x", where.name("in"))
        await until(done.is_set, "the handled message")
    assert events == [f"publish {where.name('in')}", f"consume {where.name('in-sub')}"]


async def test_handlers_of_one_subscriber_are_chosen_by_filter(where: Where) -> None:
    broker = where.broker()
    routed: list[tuple[str, Any]] = []
    subscriber = broker.subscriber(where.name("mixed-sub"), topic=where.name("mixed"))

    @subscriber(filter=lambda msg: msg.content_type == "application/json")
    async def as_json(body: dict[str, int]) -> None:
        routed.append(("json", body))

    @subscriber
    async def as_text(body: str) -> None:
        routed.append(("text", body))

    async with running(broker):
        await broker.publish({"n": 1}, where.name("mixed"))
        await broker.publish("plain", where.name("mixed"))
        await until(lambda: len(routed) == 2, "both messages routed")
    assert sorted(routed, key=lambda r: r[0]) == [("json", {"n": 1}), ("text", "plain")]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (AckPolicy.ACK, [("x", 1), ("after", 1)]),
        (AckPolicy.NACK_ON_ERROR, [("x", 1), ("x", 2), ("after", 1)]),
    ],
)
async def test_the_ack_policy_decides_whether_a_failure_comes_back(
    where: Where, policy: AckPolicy, expected: list[tuple[str, int]]
) -> None:
    broker = where.broker()
    attempts: list[tuple[str, int | None]] = []

    @broker.subscriber(
        where.name("flaky-sub"),
        topic=where.name("flaky"),
        ack_policy=policy,
        dead_letter_topic=where.name("flaky-dlq"),
        max_workers=1,
    )
    async def handle(body: str, msg: PubSubMessage) -> None:
        attempts.append((body, msg.delivery_attempt))
        if body == "x" and msg.delivery_attempt == 1:
            raise RuntimeError("first attempt fails")

    async with running(broker):
        await broker.publish("x", where.name("flaky"))
        await until(lambda: len(attempts) == len(expected) - 1, "the failing message's attempts")
        # A message given back is delivered again before one published after it settled.
        await broker.publish("after", where.name("flaky"))
        await until(lambda: ("after", 1) in attempts, "the later message")
    assert attempts == expected


async def test_a_faststream_app_runs_the_broker_and_its_hooks(where: Where) -> None:
    broker = where.broker()
    app = FastStream(broker, logger=None)
    seen: list[str] = []

    @broker.subscriber(where.name("hello-sub"), topic=where.name("hello"))
    async def handle(body: str) -> None:
        seen.append(body)

    @app.after_startup
    async def greet() -> None:
        await broker.publish("hi from startup", where.name("hello"))

    await app.start()
    try:
        await until(lambda: bool(seen), "the message published after startup")
    finally:
        await app.stop()
    assert seen == ["hi from startup"]
    assert not broker.running
