"""``PubSubRouter`` in a real FastAPI app, its broker on Google's Pub/Sub emulator.

FastStream's FastAPI plugin (https://faststream.ag2.ai/latest/getting-started/
integrations/fastapi/): the app's lifespan starts the broker, an HTTP endpoint publishes
with ``router.broker``, a handler with a FastAPI dependency consumes it.
"""

from __future__ import annotations

import time
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pubsub_it_helpers import PROJECT

from faststream_gcp_pubsub.fastapi import PubSubMessage, PubSubRouter
from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration


def tenant() -> str:
    return "acme"


def test_an_endpoint_publishes_and_a_router_handler_consumes_on_the_emulator(
    pubsub_emulator: ManagedProcess, unique_name: str
) -> None:
    router = PubSubRouter(PROJECT, provision_on_start=True, graceful_timeout=5.0, logger=None)
    seen: list[tuple[str, str, str]] = []

    @router.subscriber(f"{unique_name}-sub", topic=unique_name)
    async def on_event(
        body: str, owner: Annotated[str, Depends(tenant)], message: PubSubMessage
    ) -> None:
        seen.append((body, owner, message.subscription))

    @router.get("/send/{text}")
    async def send(text: str) -> dict[str, str]:
        return {"id": await router.broker.publish(text, unique_name)}

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/send/hello").status_code == 200
        for _ in range(3000):
            if seen:
                break
            time.sleep(0.01)
    assert seen == [("hello", "acme", f"{unique_name}-sub")]
