from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from worker.errors import ForbiddenPathError, SchemaError
from worker.events.codec import encode
from worker.events.models import FileArrived, PartitionRequested
from worker.events.normalize import (
    Ignored,
    decode_backfill_requested,
    decode_partition_requested,
    file_event_id,
    normalize_file_arrived,
)

NAME = "trips/2024-01-15/part 1.csv"
RESOURCE = {
    "kind": "storage#object",
    "id": f"landing/{NAME}/1705312800123456",
    "name": NAME,
    "bucket": "landing",
    "generation": "1705312800123456",
    "metageneration": "1",
    "contentType": "text/csv",
    "timeCreated": "2024-01-15T10:00:00.123Z",
    "updated": "2024-01-15T10:00:00.123Z",
    "size": "2048",
    "md5Hash": "XUFAKrxLKna5cZ2REBfFkg==",
    "crc32c": "AAAAAA==",
}
NOTIFICATION = {
    "notificationConfig": "projects/_/buckets/landing/notificationConfigs/1",
    "eventType": "OBJECT_FINALIZE",
    "payloadFormat": "JSON_API_V1",
    "bucketId": "landing",
    "objectId": NAME,
    "objectGeneration": "1705312800123456",
    "eventTime": "2024-01-15T10:00:00.456Z",
}
CE_ATTRIBUTES = {
    "ce-specversion": "1.0",
    "ce-type": "google.cloud.storage.object.v1.finalized",
    "ce-source": "//storage.googleapis.com/projects/_/buckets/landing",
    "ce-subject": f"objects/{NAME}",
    "ce-id": "8a1b2c3d",
    "ce-time": "2024-01-15T10:00:00.456Z",
    "content-type": "application/json",
}
EXPECTED = FileArrived(
    event_id=file_event_id("landing", NAME, 1705312800123456),
    uri=f"gs://landing/{NAME}",
    bucket="landing",
    object=NAME,
    generation=1705312800123456,
    size=2048,
    content_type="text/csv",
    event_time=datetime(2024, 1, 15, 10, 0, 0, 456000, tzinfo=UTC),
    source="gcs_notification",
)


def _structured(**envelope_changes: object) -> bytes:
    context = {key[3:]: value for key, value in CE_ATTRIBUTES.items() if key.startswith("ce-")}
    envelope = context | {"datacontenttype": "application/json", "data": RESOURCE}
    return json.dumps(envelope | envelope_changes).encode()


STRUCTURED = {"content-type": "application/cloudevents+json; charset=utf-8"}


def test_storage_notification_with_object_resource() -> None:
    body = json.dumps(RESOURCE).encode()
    assert normalize_file_arrived(body, NOTIFICATION) == EXPECTED


def test_storage_notification_without_payload_has_no_size_or_type() -> None:
    arrived = normalize_file_arrived(b"", NOTIFICATION | {"payloadFormat": "NONE"})
    assert arrived == EXPECTED.model_copy(update={"size": None, "content_type": None})


def test_overwrite_uses_the_new_generation() -> None:
    attributes = NOTIFICATION | {"overwroteGeneration": "1700000000000000"}
    arrived = normalize_file_arrived(json.dumps(RESOURCE).encode(), attributes)
    assert isinstance(arrived, FileArrived)
    assert arrived.generation == 1705312800123456


def test_binary_and_structured_cloudevents_give_the_same_event_as_the_notification() -> None:
    from_binary = normalize_file_arrived(json.dumps(RESOURCE).encode(), CE_ATTRIBUTES)
    from_structured = normalize_file_arrived(_structured(), STRUCTURED)
    envelope = json.loads(_structured())
    envelope["data_base64"] = base64.b64encode(json.dumps(envelope.pop("data")).encode()).decode()
    from_base64 = normalize_file_arrived(json.dumps(envelope).encode(), STRUCTURED)
    cloudevent = EXPECTED.model_copy(update={"source": "cloudevent"})
    assert from_binary == from_structured == cloudevent
    assert isinstance(from_base64, FileArrived)
    assert from_base64.event_id == EXPECTED.event_id


@pytest.mark.parametrize("content_type", ["application/avro", "application/json"])
def test_our_own_event_passes_through(content_type: str) -> None:
    own = EXPECTED.model_copy(update={"source": "worker", "dataset": "trips"})
    body, attributes = encode(
        own, "application/avro" if "avro" in content_type else "application/json"
    )
    assert normalize_file_arrived(body, attributes) == own


def test_our_own_event_for_a_local_file_passes_through() -> None:
    local = EXPECTED.model_copy(
        update={"uri": "/data/landing/a.csv", "bucket": "", "object": "/data/landing/a.csv"}
    )
    assert normalize_file_arrived(*encode(local, "application/json")) == local


@pytest.mark.parametrize(
    ("attributes", "body"),
    [
        (NOTIFICATION | {"eventType": "OBJECT_DELETE"}, b""),
        (NOTIFICATION | {"eventType": "OBJECT_METADATA_UPDATE"}, b""),
        (NOTIFICATION | {"eventType": "OBJECT_ARCHIVE"}, b""),
        (CE_ATTRIBUTES | {"ce-type": "google.cloud.storage.object.v1.deleted"}, b""),
    ],
)
def test_non_finalize_events_are_ignored_with_a_reason(
    attributes: dict[str, str], body: bytes
) -> None:
    ignored = normalize_file_arrived(body, attributes)
    assert isinstance(ignored, Ignored)
    assert ignored.event_type in ignored.reason
    assert "only finalized objects start work" in ignored.reason


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (NOTIFICATION | {"eventType": "OBJECT_EXPLODE"}, "unknown storage event type"),
        (CE_ATTRIBUTES | {"ce-type": "com.example.other"}, "unknown storage event type"),
        (NOTIFICATION | {"payloadFormat": "XML"}, "unknown payloadFormat 'XML'"),
        (
            NOTIFICATION | {"bucketId": "Bad_Bucket!", "payloadFormat": "NONE"},
            "not a valid bucket name",
        ),
        (
            NOTIFICATION | {"objectGeneration": "12a", "payloadFormat": "NONE"},
            "generation '12a' is not",
        ),
        (CE_ATTRIBUTES | {"ce-specversion": "0.3"}, "specversion"),
        (CE_ATTRIBUTES | {"ce-source": "//pubsub.googleapis.com/x"}, "not a Cloud Storage bucket"),
        (CE_ATTRIBUTES | {"ce-subject": "buckets/landing"}, "does not name an object"),
        (NOTIFICATION | {"objectId": "other.csv"}, "name 'trips/2024-01-15/part 1.csv' disagrees"),
    ],
)
def test_malformed_envelopes_are_schema_errors(attributes: dict[str, str], message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        normalize_file_arrived(json.dumps(RESOURCE).encode(), attributes)


@pytest.mark.parametrize(
    "attribute", ["eventType", "bucketId", "objectId", "objectGeneration", "payloadFormat"]
)
def test_notification_missing_an_attribute_names_it(attribute: str) -> None:
    attributes = {key: value for key, value in NOTIFICATION.items() if key != attribute}
    with pytest.raises(SchemaError, match=f"'{attribute}' is missing"):
        normalize_file_arrived(json.dumps(RESOURCE).encode(), attributes)


@pytest.mark.parametrize("attribute", ["ce-id", "ce-source", "ce-subject", "ce-specversion"])
def test_cloudevent_missing_an_attribute_names_it(attribute: str) -> None:
    attributes = {key: value for key, value in CE_ATTRIBUTES.items() if key != attribute}
    with pytest.raises(SchemaError, match=f"'{attribute[3:]}' is missing"):
        normalize_file_arrived(json.dumps(RESOURCE).encode(), attributes)


def test_structured_cloudevent_without_data_is_a_schema_error() -> None:
    body = json.loads(_structured())
    del body["data"]
    with pytest.raises(SchemaError, match="neither data nor data_base64"):
        normalize_file_arrived(json.dumps(body).encode(), STRUCTURED)


@pytest.mark.parametrize(
    "name",
    ["a/../../etc/passwd", "%2e%2e/secrets", "a\x00b.csv", "/etc/passwd", "dir\\..\\x"],
)
def test_dangerous_object_names_are_forbidden_from_every_producer(name: str) -> None:
    resource = RESOURCE | {"name": name}
    with pytest.raises(ForbiddenPathError):
        normalize_file_arrived(b"", NOTIFICATION | {"objectId": name, "payloadFormat": "NONE"})
    with pytest.raises(ForbiddenPathError):
        normalize_file_arrived(
            json.dumps(resource).encode(), CE_ATTRIBUTES | {"ce-subject": f"objects/{name}"}
        )
    own = FileArrived.model_validate(
        EXPECTED.model_dump() | {"object": name, "uri": f"gs://landing/{name}"}
    )
    with pytest.raises(ForbiddenPathError):
        normalize_file_arrived(*encode(own, "application/json"))


def test_the_same_write_has_the_same_event_id_and_other_generations_do_not() -> None:
    assert file_event_id("landing", NAME, 1) == file_event_id("landing", NAME, 1)
    assert file_event_id("landing", NAME, 1) != file_event_id("landing", NAME, 2)
    assert file_event_id("landing", NAME, 1) != file_event_id("landing2", NAME, 1)


def test_request_decoders_read_their_own_event_and_refuse_the_other() -> None:
    requested = PartitionRequested(
        dataset="trips",
        partition_date=datetime(2024, 1, 15, tzinfo=UTC).date(),
        force=True,
        requested_at=datetime(2024, 1, 16, tzinfo=UTC),
    )
    body, attributes = encode(requested, "application/avro")
    assert decode_partition_requested(body, attributes) == requested
    with pytest.raises(SchemaError, match="expected 'backfill-requested'"):
        decode_backfill_requested(body, attributes)


def test_cloudevent_data_may_carry_the_generation_as_a_number() -> None:
    resource = RESOURCE | {"generation": 1705312800123456}
    arrived = normalize_file_arrived(json.dumps(resource).encode(), CE_ATTRIBUTES)
    assert isinstance(arrived, FileArrived)
    assert arrived.generation == 1705312800123456
    del resource["generation"]
    with pytest.raises(SchemaError, match="'generation' is missing"):
        normalize_file_arrived(json.dumps(resource).encode(), CE_ATTRIBUTES)
