"""``WORKER_BROKER=memory`` as a real runtime: the app started in-process, its HTTP routes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from service_support import DAY, make_settings

from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.service import app as app_module
from worker.service.app import build_service, create_app
from worker.service.handle import WorkerService


async def http_get(app: Any, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def memory_service(tmp_path: Path) -> WorkerService:
    return build_service(make_settings(tmp_path, broker="memory"))


def land(tmp_path: Path, offset: int = 0) -> Path:
    day = DAY + timedelta(days=offset)
    path = tmp_path / "landing" / sample_name(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(generate_trips_csv(day, 15))
    return path


async def test_the_memory_broker_serves_arrivals_and_backfills_in_process(tmp_path: Path) -> None:
    service = memory_service(tmp_path)
    first, second = land(tmp_path), land(tmp_path, 1)
    async with service.running():
        await service.publish_file_arrived(str(first))
        await service.wait_idle(timeout_s=30)
        assert [event.partition_date for event in service.completions] == [DAY]

        await service.publish_backfill("trips", DAY, DAY + timedelta(days=1))
        await service.wait_idle(timeout_s=30)

    assert second.exists()
    dates = [event.partition_date for event in service.completions]
    assert dates == [DAY, DAY + timedelta(days=1)]
    assert [record.fate for record in service.fates] == ["ack", "ack", "ack"]


async def test_health_readiness_and_metrics(tmp_path: Path) -> None:
    service = memory_service(tmp_path)
    status, body = await http_get(service.app, "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "alive"})
    status, body = await http_get(service.app, "/readyz")
    assert status == 503
    assert json.loads(body)["problems"] == ["broker is not started"]

    async with service.running():
        status, body = await http_get(service.app, "/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ready"})
        await service.publish_file_arrived(str(land(tmp_path)))
        await service.wait_idle(timeout_s=30)
        status, body = await http_get(service.app, "/metrics")

    assert status == 200
    text = body.decode()
    assert 'worker_messages_total{fate="ack",subscription="file-arrived-worker"} 1.0' in text
    assert 'worker_rows_processed_total{dataset="trips",kind="out"} 15.0' in text


async def test_readiness_names_a_missing_subscription(tmp_path: Path) -> None:
    service = memory_service(tmp_path)
    async with service.running():
        server = service.broker.transport.server  # type: ignore[attr-defined]
        del server.subscriptions["backfill-requested-worker"]
        status, body = await http_get(service.app, "/readyz")
    assert status == 503
    assert json.loads(body)["problems"] == ["subscription backfill-requested-worker does not exist"]


def test_create_app_reads_settings_from_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("WORKER_BROKER", "memory")
    monkeypatch.setenv("WORKER_TOPIC_FILE_ARRIVED", "uploads")
    monkeypatch.setenv("WORKER_WORKDIR", str(tmp_path))
    app = create_app()
    (broker,) = app.brokers
    names = {subscriber.subscription for subscriber in broker.subscribers}  # type: ignore[attr-defined]
    assert names == {"uploads-worker", "backfill-requested-worker", "partition-requested-worker"}


def test_the_module_level_app_is_built_on_first_access_only() -> None:
    assert "app" not in vars(app_module)
    assert callable(app_module.__getattr__)


async def test_the_running_service_serves_its_asyncapi_page(tmp_path: Path) -> None:
    status, body = await http_get(memory_service(tmp_path).app, "/docs/asyncapi")
    assert status == 200
    assert b"file-arrived-worker" in body


def test_asyncapi_documents_the_event_schemas(tmp_path: Path) -> None:
    schema = memory_service(tmp_path).app.schema.to_specification().to_jsonable()
    payloads = set(schema["components"]["schemas"])
    assert {"FileArrived", "BackfillRequested", "PartitionRequested", "PartitionCompleted"} <= {
        name.split(":")[-1] for name in payloads
    }
