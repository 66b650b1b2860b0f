"""The demo observer reads completions and dead letters off the in-memory Pub/Sub."""

from __future__ import annotations

from datetime import UTC, date, datetime

from faststream_gcp_pubsub import MemoryTransport, PubSubBroker
from worker.devenv.demo_observer import DemoObserver, wait_until
from worker.devenv.demo_tally import Completion, DeadLetter
from worker.errors import UnroutableError
from worker.events.codec import encode
from worker.events.deadletter import dead_letter_attributes
from worker.events.models import FileArrived, InputRef, PartitionCompleted
from worker.settings import Settings

NOW = datetime(2024, 1, 9, 12, 0, tzinfo=UTC)


def completed_event(day: date) -> PartitionCompleted:
    return PartitionCompleted(
        event_id="run1",
        run_id="run1",
        dataset="trips",
        partition_date=day,
        partition_uri="/out/trips/year=2024/month=01/day=01",
        manifest_uri="/out/trips/year=2024/month=01/day=01/_manifest.json",
        status="committed",
        rows_in=10,
        rows_out=9,
        rows_quarantined=1,
        files=("part-0.parquet",),
        inputs=(InputRef(uri="/landing/trips/2024-01-01.csv", generation=1),),
        completed_at=NOW,
        worker_version="0.1.0",
    )


def service_like_broker(transport: MemoryTransport, settings: Settings) -> PubSubBroker:
    """Declares what the service does: a consumed topic with a dead-letter topic, and the
    completion topic it publishes to."""
    broker = PubSubBroker(transport=transport, logger=None)

    @broker.subscriber(
        "file-arrived-worker", topic="file-arrived", dead_letter_topic="file-arrived-dlq"
    )
    @broker.publisher(settings.topics.partition_completed)
    async def on_file(body: bytes) -> None: ...

    for topic in ("backfill-requested", "partition-requested"):
        broker.subscriber(f"{topic}-worker", topic=topic, dead_letter_topic=f"{topic}-dlq")(on_file)
    return broker


async def test_observer_collects_completion_events_and_dead_letters_with_their_object() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    transport = MemoryTransport()
    service = service_like_broker(transport, settings)
    completions: list[Completion] = []
    dead_letters: list[DeadLetter] = []
    await service.start()
    observer = DemoObserver(
        settings, transport, on_completion=completions.append, on_dead_letter=dead_letters.append
    )
    async with observer:
        body, attributes = encode(completed_event(date(2024, 1, 1)), "application/json")
        await service.publish(body, "partition-completed", headers=attributes)
        arrived = FileArrived(
            event_id="e1",
            uri="/landing/notes/readme.txt",
            bucket="",
            object="notes/readme.txt",
            generation=5,
            event_time=NOW,
            source="worker",
        )
        original, original_attributes = encode(arrived, "application/json")
        error_attributes = dead_letter_attributes(
            original_attributes,
            error=UnroutableError("no dataset matches", where="/landing/notes/readme.txt"),
            stage="route",
            subscription="file-arrived-worker",
            message_id="42",
            delivery_attempt=1,
            worker_version="0.1.0",
            now=NOW,
        )
        await service.publish(original, "file-arrived-dlq", headers=error_attributes)

        assert await wait_until(lambda: bool(completions and dead_letters), timeout_s=5)
    await service.stop()

    assert completions == [
        Completion(
            "trips",
            date(2024, 1, 1),
            "committed",
            "run1",
            10,
            9,
            1,
            "/out/trips/year=2024/month=01/day=01",
        )
    ]
    [dead] = dead_letters
    assert (dead.reason, dead.error_type, dead.subscription, dead.uri) == (
        "unroutable",
        "UnroutableError",
        "file-arrived-worker",
        "/landing/notes/readme.txt",
    )
    assert observer.keep_subscriptions == (
        "file-arrived-dlq-keep",
        "backfill-requested-dlq-keep",
        "partition-requested-dlq-keep",
    )


async def test_wait_until_gives_up_after_the_timeout() -> None:
    assert not await wait_until(lambda: False, timeout_s=0.05, poll_s=0.01)
