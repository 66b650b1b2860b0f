"""HTTP endpoints for Cloud Run: liveness, readiness and Prometheus metrics.

- ``GET /healthz``: the process serves HTTP (liveness; never touches Pub/Sub, so an
  emulator outage does not get the instance killed);
- ``GET /readyz``: the broker is started, Pub/Sub answers, and every subscription the
  service consumes exists (503 with the missing ones otherwise); in push mode
  (``WORKER_DELIVERY=push``) subscriptions are not read (the service needs no subscriber
  role there), so ready = started and Pub/Sub answering the publisher;
- ``GET /metrics``: Prometheus text exposition of :class:`WorkerMetrics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.asgi import AsgiResponse, get
from faststream.asgi.handlers import GetHandler
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import Scope
from prometheus_client import CONTENT_TYPE_LATEST

from faststream_gcp_pubsub import PubSubBroker, PubSubSubscriberBase
from faststream_gcp_pubsub.errors import BrokerError
from faststream_gcp_pubsub.transport.push import PushTransport
from worker.errors import WorkerError
from worker.observability.metrics import WorkerMetrics

READINESS_TIMEOUT_S = 5.0


async def readiness(broker: PubSubBroker, timeout_s: float = READINESS_TIMEOUT_S) -> list[str]:
    """What keeps the service from being ready; empty when it is ready."""
    subscriptions = [
        s.subscription for s in broker.subscribers if isinstance(s, PubSubSubscriberBase)
    ]
    if isinstance(broker.transport, PushTransport):
        subscriptions = []
    if not broker.running:
        return ["broker is not started"]
    if not await broker.ping(timeout_s):
        return ["Pub/Sub does not answer"]
    problems = []
    try:
        async with asyncio.timeout(timeout_s):
            for name in subscriptions:
                if await broker.transport.admin.get_subscription(name) is None:
                    problems.append(f"subscription {name} does not exist")
    except TimeoutError:
        problems.append(f"Pub/Sub did not answer within {timeout_s:g}s")
    except (WorkerError, BrokerError) as error:
        problems.append(f"cannot read subscriptions: {error}")
    return problems


def health_routes(broker: PubSubBroker, metrics: WorkerMetrics) -> Sequence[tuple[str, GetHandler]]:
    """The ASGI routes ``AsgiFastStream`` serves beside the broker."""

    @get(include_in_schema=False)
    async def healthz(scope: Scope) -> AsgiResponse:
        return JSONResponse({"status": "alive"})

    @get(include_in_schema=False)
    async def readyz(scope: Scope) -> AsgiResponse:
        problems = await readiness(broker)
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @get(include_in_schema=False)
    async def prometheus(scope: Scope) -> AsgiResponse:
        return AsgiResponse(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return (("/healthz", healthz), ("/readyz", readyz), ("/metrics", prometheus))
