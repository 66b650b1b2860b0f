"""``POST /pubsub/push`` on the in-memory broker, called as Pub/Sub would, through raw ASGI."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from service_support import DAY, FlakyStorage, make_settings

from faststream_gcp_pubsub import PubSubBroker
from faststream_gcp_pubsub.push import MAX_PUSH_BODY_BYTES
from faststream_gcp_pubsub.transport.base import Delivery, StreamOptions
from faststream_gcp_pubsub.transport.memory import MemoryStream, MemoryTransport
from faststream_gcp_pubsub.transport.push import PushTransport
from worker.core.model import Ports
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.events.deadletter import (
    DELIVERY_ATTEMPT,
    ERROR_REASON,
    ERROR_TYPE,
    ORIGINAL_MESSAGE_ID,
    SOURCE_SUBSCRIPTION,
)
from worker.runtime import build_ports, utc_now
from worker.service.app import build_service
from worker.service.handle import WorkerService
from worker.service.health import readiness
from worker.service.publishing import file_arrived_event, wire_message

# A test value, not a credential.
TOKEN = "s3cret-token"  # noqa: S105
SUBSCRIPTION = "projects/local-project/subscriptions/file-arrived-worker"


@dataclasses.dataclass
class Reply:
    status: int
    body: bytes


async def call(
    service: WorkerService,
    body: bytes,
    *,
    query: str = f"token={TOKEN}",
    method: str = "POST",
    chunks: int = 1,
    length: int | None = -1,
) -> Reply:
    """One HTTP request to the service's ASGI app, as uvicorn would make it. ``length``
    is the declared Content-Length: -1 for the body's, None for none (chunked)."""
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        declared = len(body) if length == -1 else length
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/pubsub/push",
        "raw_path": b"/pubsub/push",
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    size = max(1, -(-len(body) // chunks))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    inbox = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await service.app(scope, receive, send)
    return Reply(sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]))


def envelope(
    data: bytes,
    attributes: dict[str, str],
    *,
    subscription: str = SUBSCRIPTION,
    message_id: str = "101",
    delivery_attempt: int = 1,
) -> bytes:
    return json.dumps(
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": attributes,
                "messageId": message_id,
                "publishTime": "2024-01-16T08:00:00.123456789Z",
            },
            "subscription": subscription,
            "deliveryAttempt": delivery_attempt,
        }
    ).encode()


def landed_file(tmp_path: Path) -> Path:
    path = tmp_path / "landing" / sample_name(DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(generate_trips_csv(DAY, 20, 0.0, 0))
    return path


def file_arrived(path: Path) -> tuple[bytes, dict[str, str]]:
    event = file_arrived_event(str(path), generation=1, size=None, event_time=utc_now())
    return wire_message(event, "json")


@contextlib.asynccontextmanager
async def pushing(
    tmp_path: Path, ports: Callable[[Any], Ports] | None = None, **overrides: object
) -> AsyncIterator[WorkerService]:
    """The service in push mode (token ``TOKEN`` unless overridden), running."""
    settings = make_settings(
        tmp_path, **{"delivery": "push", "push_auth_token": TOKEN, **overrides}
    )
    service = build_service(settings, ports=ports(settings) if ports else None)
    async with service.running():
        yield service


def dead_letter_keeper(service: WorkerService) -> tuple[list[Delivery], MemoryStream]:
    """What reaches the file-arrived dead-letter topic's keep subscription."""
    transport = service.broker.transport
    assert isinstance(transport, PushTransport)
    assert isinstance(transport.inner, MemoryTransport)
    kept: list[Delivery] = []
    stream = transport.inner.open_stream("file-arrived-dlq-keep", StreamOptions(), kept.append)
    return kept, stream


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[WorkerService]:
    async with pushing(tmp_path) as running:
        yield running


async def test_a_pushed_file_arrival_is_processed_and_acked(
    service: WorkerService, tmp_path: Path
) -> None:
    data, attributes = file_arrived(landed_file(tmp_path))

    reply = await call(service, envelope(data, attributes))

    assert (reply.status, reply.body) == (204, b"")
    assert [(f.message_id, f.subscription, f.fate) for f in service.fates] == [
        ("101", "file-arrived-worker", "ack")
    ]
    [completion] = service.completions
    assert completion.partition_date == DAY
    assert (Path(completion.partition_uri) / "_manifest.json").is_file()


async def test_a_permanent_failure_is_dead_lettered_with_the_original_bytes_then_acked(
    service: WorkerService,
) -> None:
    kept, keeper = dead_letter_keeper(service)
    poison = b"\x00 not an event"
    try:
        reply = await call(
            service,
            envelope(poison, {"content-type": "application/json", "origin": "probe"},
                     delivery_attempt=2),
        )  # fmt: skip
    finally:
        await keeper.close()

    assert reply.status == 204
    assert [(f.fate, f.reason) for f in service.fates] == [("dead-letter", "decode")]
    [letter] = kept
    assert letter.data == poison
    assert letter.attributes["origin"] == "probe"
    assert letter.attributes[ERROR_REASON] == "decode"
    assert letter.attributes[ERROR_TYPE] == "DecodeError"
    assert letter.attributes[DELIVERY_ATTEMPT] == "2"
    assert letter.attributes[ORIGINAL_MESSAGE_ID] == "101"
    assert letter.attributes[SOURCE_SUBSCRIPTION] == "file-arrived-worker"


async def test_a_transient_failure_answers_503_so_pubsub_retries(tmp_path: Path) -> None:
    def flaky(settings: Any) -> Ports:
        ports = build_ports(settings)
        return dataclasses.replace(ports, storage=FlakyStorage(ports.storage, failures=1))

    data, attributes = file_arrived(landed_file(tmp_path))
    async with pushing(tmp_path, ports=flaky) as service:
        first = await call(service, envelope(data, attributes, delivery_attempt=1))
        retried = await call(service, envelope(data, attributes, delivery_attempt=2))

    assert first.status == 503
    assert b"nacked" in first.body
    assert retried.status == 204
    assert [(f.fate, f.reason) for f in service.fates] == [
        ("nack", "storage-transient"),
        ("ack", "processed"),
    ]


@pytest.mark.parametrize("query", ["", "token=wrong", f"token={TOKEN}x", f"token=a&token={TOKEN}"])
async def test_a_missing_or_wrong_token_is_refused_before_anything_runs(
    service: WorkerService,
    tmp_path: Path,
    query: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data, attributes = file_arrived(landed_file(tmp_path))

    reply = await call(service, envelope(data, attributes), query=query)

    assert reply.status == 401
    assert list(service.fates) == []
    assert TOKEN not in capsys.readouterr().out + reply.body.decode()


async def test_without_a_configured_token_push_is_refused_unless_allowed(
    tmp_path: Path,
) -> None:
    data, attributes = file_arrived(landed_file(tmp_path))
    async with pushing(tmp_path, push_auth_token=None) as closed:
        refused = await call(closed, envelope(data, attributes), query="")
        assert list(closed.fates) == []
    async with pushing(tmp_path, push_auth_token=None, push_allow_no_token=True) as open_:
        allowed = await call(open_, envelope(data, attributes), query="")

    assert refused.status == 403
    assert b"WORKER_PUSH_AUTH_TOKEN" in refused.body
    assert allowed.status == 204


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"subscription": "x"}',
        b'{"message": {}, "subscription": "%s"}' % SUBSCRIPTION.encode(),
    ],
)
async def test_a_malformed_envelope_is_a_bad_request(service: WorkerService, body: bytes) -> None:
    reply = await call(service, body)

    assert reply.status == 400
    assert b"push envelope" in reply.body
    assert list(service.fates) == []


async def test_a_push_for_a_subscription_nobody_consumes_is_not_found(
    service: WorkerService,
) -> None:
    body = envelope(b"{}", {}, subscription="projects/local-project/subscriptions/elsewhere")

    reply = await call(service, body)

    assert reply.status == 404
    assert b"elsewhere" in reply.body
    assert list(service.fates) == []


async def test_an_oversized_body_is_refused(service: WorkerService) -> None:
    limit = MAX_PUSH_BODY_BYTES
    declared = await call(service, b"{}", length=limit + 1)
    streamed = await call(service, b" " * (limit + 1), chunks=4, length=None)

    assert (declared.status, streamed.status) == (413, 413)
    assert list(service.fates) == []


async def test_only_post_is_served(service: WorkerService) -> None:
    assert (await call(service, b"", method="GET")).status == 405


async def test_push_mode_pulls_nothing(service: WorkerService, tmp_path: Path) -> None:
    transport = service.broker.transport
    assert isinstance(transport, PushTransport)
    await service.publish_file_arrived(str(landed_file(tmp_path)))
    await asyncio.sleep(0.2)

    assert isinstance(transport.inner, MemoryTransport)
    assert transport.inner.server.subscriptions["file-arrived-worker"].backlog == 1
    assert list(service.fates) == []


async def test_pull_mode_has_no_push_endpoint(tmp_path: Path) -> None:
    service = build_service(make_settings(tmp_path))
    async with service.running():
        reply = await call(service, envelope(b"{}", {}))

    assert reply.status == 404
    assert not isinstance(service.broker.transport, PushTransport)


async def test_readiness_in_push_mode_does_not_read_subscriptions() -> None:
    pull = PubSubBroker(transport=MemoryTransport("p"), provision_on_start=False, logger=None)
    push = PubSubBroker(
        transport=PushTransport(MemoryTransport("p")), provision_on_start=False, logger=None
    )
    for broker in (pull, push):
        broker.subscriber("absent-sub", topic="absent-topic")(_ignore)
    await pull.start()
    await push.start()
    try:
        assert await readiness(pull) == ["subscription absent-sub does not exist"]
        assert await readiness(push) == []
    finally:
        await pull.stop()
        await push.stop()


async def _ignore(body: bytes) -> None:
    return None
