"""Topics bound to a Pub/Sub schema with several committed revisions, on Google's emulator.

Google documents what a subscriber of such a topic receives
(https://cloud.google.com/pubsub/docs/publish-topics-schema, "Publish messages with
schema"): a message is validated against the allowed revisions from the most recent one
down, and Pub/Sub adds ``googclient_schemaname``, ``googclient_schemaencoding`` (``JSON``
or ``BINARY``) and ``googclient_schemarevisionid``, the revision that validated it. A
revision is fetched as ``<schema>@<revision id>``
(https://cloud.google.com/pubsub/docs/samples/pubsub-old-version-get-schema-revision) and
committed with CommitSchema (https://cloud.google.com/pubsub/docs/commit-schema-revision).
The emulator (as installed here) does all of this: CreateSchema, CommitSchema,
ListSchemaRevisions, GetSchema at a revision, UpdateTopic schema settings, validation on
publish and the three attributes.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import fastavro
import pytest
from google.pubsub_v1 import PublisherClient, SchemaServiceClient, SubscriberClient
from google.pubsub_v1.types import Encoding, Schema

from conftest import serving
from worker.datasets.trips_sample import generate_trips_csv, sample_name
from worker.devenv.emulators import ManagedProcess
from worker.events import decode_partition_requested
from worker.events.schemas import latest_version, load_schema
from worker.service.provisioning import setup_pubsub
from worker.service.schema_revisions import SchemaRevisions, schema_service_fetch
from worker.settings import Settings, TopicNames

pytestmark = pytest.mark.integration

DAY = date(2024, 2, 10)
REQUESTED_AT = datetime(2024, 2, 11, 8, 0, tzinfo=UTC)
SCHEMA_ID = "partition-requested-v1"


@pytest.fixture
def clients(pubsub_emulator: ManagedProcess) -> Iterator[tuple[Any, Any, Any]]:
    schemas, publisher, subscriber = SchemaServiceClient(), PublisherClient(), SubscriberClient()
    yield schemas, publisher, subscriber
    for client in (schemas, publisher, subscriber):
        client.transport.close()


@pytest.fixture
def settings(pubsub_emulator: ManagedProcess, tmp_path: Path) -> Settings:
    """A project of its own: schemas are per project, and these tests commit revisions."""
    name = f"sr-{uuid.uuid4().hex[:8]}"
    landing = tmp_path / "landing"
    (landing / "trips").mkdir(parents=True)
    (landing / sample_name(DAY)).write_bytes(generate_trips_csv(DAY, rows=12))
    return Settings(
        project=f"proj-{name}",
        landing_uri=str(landing),
        output_uri=str(tmp_path / "output"),
        workdir=str(tmp_path / "work"),
        broker="pubsub",
        event_encoding="avro",
        log_format="json",
        retry_min_backoff_s=1,
        retry_max_backoff_s=2,
        pubsub_emulator_host=pubsub_emulator.host,
        topics=TopicNames(
            file_arrived=f"{name}-arrived",
            backfill_requested=f"{name}-backfill",
            partition_requested=f"{name}-requested",
            partition_completed=f"{name}-completed",
        ),
    )


def _older() -> dict[str, Any]:
    """What a producer registered before ``reason`` (which has a default) was added."""
    schema = load_schema("partition-requested")
    schema["fields"] = [field for field in schema["fields"] if field["name"] != "reason"]
    return schema


def _with_priority() -> dict[str, Any]:
    """A later producer revision: a field ours does not know, with a default."""
    schema = load_schema("partition-requested")
    schema["fields"].append({"name": "priority", "type": "int", "default": 0})
    return schema


def _renamed() -> dict[str, Any]:
    """An incompatible revision: ``dataset`` (no default in ours) became ``dataset_id``."""
    schema = copy.deepcopy(_with_priority())
    for field in schema["fields"]:
        if field["name"] == "dataset":
            field.update(name="dataset_id", type="long")
    return schema


def _record(**extra: Any) -> dict[str, Any]:
    return {
        "backfill_id": None,
        "dataset": "trips",
        "partition_date": DAY,
        "force": False,
        "reason": None,
        "requested_at": REQUESTED_AT,
        **extra,
    }


def _binary(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), record)
    return out.getvalue()


def _commit(schemas: Any, project: str, definition: dict[str, Any]) -> str:
    path = schemas.schema_path(project, SCHEMA_ID)
    schema = Schema(name=path, type_=Schema.Type.AVRO, definition=json.dumps(definition))
    revision: str = schemas.commit_schema(request={"name": path, "schema": schema}).revision_id
    return revision


def _pull(subscriber: Any, subscription: str, count: int) -> list[Any]:
    received: list[Any] = []
    while len(received) < count:
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": count}, timeout=30
        )
        received += [item.message for item in response.received_messages]
    return received


async def test_setup_commits_our_schema_as_a_new_revision_and_binds_the_topics(
    settings: Settings, clients: tuple[Any, Any, Any]
) -> None:
    schemas, publisher, _ = clients
    older = schemas.create_schema(
        request={
            "parent": f"projects/{settings.project}",
            "schema_id": SCHEMA_ID,
            "schema": Schema(type_=Schema.Type.AVRO, definition=json.dumps(_older())),
        }
    )

    report = await setup_pubsub(
        settings, dry_run=False, keep_completed=False, schemas=True, bind=True
    )

    outcomes = {outcome.resource: outcome for outcome in report.schemas}
    committed = outcomes[f"schema {SCHEMA_ID}"]
    assert committed.status == "committed"
    assert committed.detail.endswith(f"over {older.revision_id}")
    revisions = schemas.list_schema_revisions(
        request={"name": schemas.schema_path(settings.project, SCHEMA_ID)}
    )
    definitions = [json.loads(revision.definition) for revision in revisions]
    assert sorted(map(json.dumps, definitions)) == sorted(
        map(json.dumps, [_older(), load_schema("partition-requested")])
    )
    assert outcomes["schema file-arrived-v1"].status == "created"
    topics = settings.topics
    for topic, event_type in (
        (topics.backfill_requested, "backfill-requested"),
        (topics.partition_requested, "partition-requested"),
        (topics.partition_completed, "partition-completed"),
    ):
        assert outcomes[f"topic {topic}"].status == "bound"
        bound = publisher.get_topic(
            request={"topic": publisher.topic_path(settings.project, topic)}
        )
        # Each topic is bound to the newest version of its event (partition-completed is v2).
        newest = latest_version(event_type)
        assert bound.schema_settings.schema.endswith(f"/schemas/{event_type}-v{newest}")
        assert bound.schema_settings.encoding == Encoding.BINARY
    arrived = publisher.get_topic(
        request={"topic": publisher.topic_path(settings.project, topics.file_arrived)}
    )
    assert not arrived.schema_settings.schema

    again = await setup_pubsub(
        settings, dry_run=True, keep_completed=False, schemas=True, bind=True
    )
    assert {outcome.status for outcome in again.schemas} == {"exists"}


async def test_the_writers_revision_decodes_binary_and_json_and_is_fetched_once(
    settings: Settings, clients: tuple[Any, Any, Any]
) -> None:
    schemas, publisher, subscriber = clients
    await setup_pubsub(settings, dry_run=False, keep_completed=False, schemas=True)
    added = _commit(schemas, settings.project, _with_priority())
    schema_name = schemas.schema_path(settings.project, SCHEMA_ID)
    received = []
    for encoding, body in (
        (Encoding.BINARY, _binary(_with_priority(), _record(priority=3))),
        (Encoding.BINARY, _binary(_with_priority(), _record(priority=4))),
        (
            Encoding.JSON,
            json.dumps(
                {**_record(partition_date=19763, requested_at=1707638400000), "priority": 5}
            ).encode(),
        ),
    ):
        topic = publisher.topic_path(settings.project, f"t-{uuid.uuid4().hex[:10]}")
        publisher.create_topic(
            request={
                "name": topic,
                "schema_settings": {"schema": schema_name, "encoding": encoding},
            }
        )
        subscription = subscriber.subscription_path(settings.project, f"s-{uuid.uuid4().hex[:10]}")
        subscriber.create_subscription(request={"name": subscription, "topic": topic})
        publisher.publish(request={"topic": topic, "messages": [{"data": body}]})
        received += _pull(subscriber, subscription, 1)

    fetched: list[str] = []
    fetch = schema_service_fetch(settings.pubsub_emulator_host)
    revisions = SchemaRevisions(lambda key: fetched.append(key) or fetch(key))
    events = []
    for message in received:
        attributes = dict(message.attributes)
        assert attributes["googclient_schemaname"] == schema_name
        assert attributes["googclient_schemarevisionid"] == added
        await revisions.prepare(attributes)
        events.append(
            decode_partition_requested(message.data, attributes, writer_schemas=revisions.known)
        )

    assert [received[i].attributes["googclient_schemaencoding"] for i in range(3)] == [
        "BINARY",
        "BINARY",
        "JSON",
    ]
    assert {(event.dataset, event.partition_date, event.requested_at) for event in events} == {
        ("trips", DAY, REQUESTED_AT)
    }
    assert fetched == [f"{schema_name}@{added}"]


async def test_a_compatible_revision_commits_and_an_incompatible_one_is_dead_lettered(
    settings: Settings, clients: tuple[Any, Any, Any]
) -> None:
    """The service itself, on a bound topic: a message written with a revision that adds a
    field with a default computes its partition; one written with a revision that drops a
    field ours requires is dead-lettered as ``schema``, naming both revisions."""
    schemas, publisher, subscriber = clients
    await setup_pubsub(settings, dry_run=False, keep_completed=False, schemas=True, bind=True)
    topics = settings.topics
    dead_letters = subscriber.subscription_path(settings.project, f"dlq-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        request={
            "name": dead_letters,
            "topic": publisher.topic_path(
                settings.project, settings.dead_letter_topic_for(topics.partition_requested)
            ),
        }
    )
    requested = publisher.topic_path(settings.project, topics.partition_requested)
    added = _commit(schemas, settings.project, _with_priority())
    good = publisher.publish(
        request={
            "topic": requested,
            "messages": [{"data": _binary(_with_priority(), _record(priority=1))}],
        }
    ).message_ids[0]
    renamed = _commit(schemas, settings.project, _renamed())
    bad_record = {key: value for key, value in _record(priority=1).items() if key != "dataset"}
    bad = publisher.publish(
        request={
            "topic": requested,
            "messages": [{"data": _binary(_renamed(), {**bad_record, "dataset_id": 7})}],
        }
    ).message_ids[0]

    async with serving(settings) as service:
        for _ in range(600):
            fates = {record.message_id: (record.fate, record.reason) for record in service.fates}
            if good in fates and bad in fates:
                break
            await asyncio.sleep(0.1)
        completed = list(service.completions)

    assert fates[good] == ("ack", "processed")
    assert [(event.partition_date, event.rows_out) for event in completed] == [(DAY, 12)]
    assert fates[bad] == ("dead-letter", "schema")
    (letter,) = _pull(subscriber, dead_letters, 1)
    message = letter.attributes["x-error-message"]
    schema_name = schemas.schema_path(settings.project, SCHEMA_ID)
    assert f"writer revision {schema_name}@{renamed}" in message
    assert "our partition-requested schema v1" in message
    assert added != renamed
