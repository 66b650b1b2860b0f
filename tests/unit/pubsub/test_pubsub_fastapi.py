"""``faststream_gcp_pubsub.fastapi.PubSubRouter`` behaves as FastStream's FastAPI routers.

Written from FastStream's FastAPI plugin guide
(https://faststream.ag2.ai/latest/getting-started/integrations/fastapi/): subscribers and
publishers declared on the router, FastAPI's ``Depends`` and FastStream's ``Context`` in
handlers, the broker started and stopped by the app's lifespan, ``router.broker`` usable
in HTTP endpoints, the AsyncAPI document served by the app, and the test client
(``TestPubSubBroker(router.broker)``) working through it. A real FastAPI app, driven by
Starlette's ``TestClient`` (httpx).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from faststream_gcp_pubsub import TestPubSubBroker
from faststream_gcp_pubsub.fastapi import Context, PubSubMessage, PubSubRouter


class Order(BaseModel):
    sku: str
    quantity: int


def multiplier() -> int:
    return 3


def build(router: PubSubRouter, seen: list[dict[str, Any]]) -> FastAPI:
    @router.subscriber("orders-sub", topic="orders")
    @router.publisher("totals")
    async def on_order(
        order: Order,
        factor: Annotated[int, Depends(multiplier)],
        message: PubSubMessage,
        correlation_id: Annotated[str, Context("message.correlation_id")],
    ) -> dict[str, int]:
        seen.append(
            {
                "order": order,
                "factor": factor,
                "origin": message.attributes.get("origin"),
                "correlation_id": correlation_id,
            }
        )
        return {"total": order.quantity * factor}

    @router.post("/orders")
    async def place(order: Order) -> dict[str, str]:
        message_id = await router.broker.publish(
            order.model_dump(), "orders", headers={"origin": "http"}, correlation_id="c-1"
        )
        return {"message_id": message_id}

    app = FastAPI()
    app.include_router(router)
    return app


def _wait_for(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the handler never ran")


def test_lifespan_runs_the_broker_and_an_endpoint_publishes_through_it() -> None:
    router = PubSubRouter("proj", in_memory=True, logger=None)
    seen: list[dict[str, Any]] = []
    totals: list[dict[str, int]] = []

    @router.subscriber("totals-sub", topic="totals")
    async def on_total(body: dict[str, int]) -> None:
        totals.append(body)

    app = build(router, seen)

    with TestClient(app) as client:
        assert router.broker.running
        response = client.post("/orders", json={"sku": "a", "quantity": 2})
        assert response.status_code == 200
        _wait_for(lambda: bool(totals))
    assert not router.broker.running

    [record] = seen
    assert record == {
        "order": Order(sku="a", quantity=2),
        "factor": 3,
        "origin": "http",
        "correlation_id": "c-1",
    }
    assert totals == [{"total": 6}]


async def test_the_test_client_works_through_the_router() -> None:
    router = PubSubRouter("proj", logger=None)
    seen: list[dict[str, Any]] = []
    app = build(router, seen)
    on_order = router.broker.subscribers[0].calls[0].handler  # type: ignore[attr-defined]
    totals = router.broker.publishers[0]

    async with TestPubSubBroker(router.broker):
        with TestClient(app) as client:
            response = client.post("/orders", json={"sku": "b", "quantity": 5})
            assert response.status_code == 200
            on_order.mock.assert_called_once_with({"sku": "b", "quantity": 5})
            totals.mock.assert_called_once_with({"total": 15})
    assert seen[0]["factor"] == 3


def test_the_app_serves_the_asyncapi_document_with_pubsub_bindings() -> None:
    router = PubSubRouter("proj", in_memory=True, logger=None)
    app = build(router, [])

    with TestClient(app) as client:
        page = client.get("/asyncapi")
        document = client.get("/asyncapi.json").json()

    assert page.status_code == 200
    assert "orders-sub" in page.text
    assert document["servers"]["development"]["protocol"] == "googlepubsub"
    channel = next(c for c in document["channels"].values() if c["address"] == "orders-sub")
    assert channel["bindings"]["googlepubsub"]["x-topic"] == "orders"
    assert channel["bindings"]["googlepubsub"]["x-subscription"]["name"] == "orders-sub"
