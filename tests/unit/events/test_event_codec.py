from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import fastavro
import pytest
from event_strategies import STRATEGIES
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.errors import DecodeError, SchemaError
from worker.events.codec import ContentType, decode, decode_event, encode
from worker.events.models import (
    BackfillRequested,
    Event,
    FileArrived,
    PartitionCompleted,
    PartitionRequested,
)
from worker.events.schemas import load_schema

ARRIVED = FileArrived(
    event_id="e-1",
    uri="gs://landing/trips/2024-01-15/part-1.csv",
    bucket="landing",
    object="trips/2024-01-15/part-1.csv",
    generation=1705312800123456,
    size=2048,
    content_type="text/csv",
    event_time=datetime(2024, 1, 15, 10, 0, 0, 123000, tzinfo=UTC),
    source="worker",
    dataset="trips",
)
AVRO: ContentType = "application/avro"
JSON: ContentType = "application/json"


def _avro_record(event: Event) -> dict[str, Any]:
    return event.model_dump()


def _compatible_writer_schema() -> dict[str, Any]:
    """Another producer's schema: fields reordered and one we do not know added."""
    schema = load_schema("file-arrived")
    schema["fields"] = [*reversed(schema["fields"]), {"name": "checksum", "type": "string"}]
    return schema


@pytest.mark.parametrize("content_type", [AVRO, JSON])
@pytest.mark.parametrize("model", list(STRATEGIES), ids=lambda model: model.event_type)
@settings(max_examples=60)
@given(data=st.data())
def test_decode_of_encode_gives_back_the_event(
    model: type[Event], content_type: ContentType, data: st.DataObject
) -> None:
    event = data.draw(STRATEGIES[model])
    body, attributes = encode(event, content_type)
    assert decode(body, attributes, model) == event


def test_encode_describes_the_body_in_attributes() -> None:
    body, attributes = encode(ARRIVED, AVRO)
    assert attributes == {
        "content-type": "application/avro",
        "event-type": "file-arrived",
        "schema-version": "1",
    }
    written = fastavro.schemaless_reader(
        io.BytesIO(body), fastavro.parse_schema(load_schema("file-arrived"))
    )
    assert isinstance(written, dict)
    assert written["uri"] == ARRIVED.uri
    json_body, json_attributes = encode(ARRIVED, JSON)
    assert json_attributes["content-type"] == "application/json"
    assert json.loads(json_body)["generation"] == ARRIVED.generation


def test_timestamps_are_kept_in_utc_at_millisecond_precision() -> None:
    local = datetime(2024, 1, 15, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    event = ARRIVED.model_copy(update={"event_time": local})
    assert FileArrived.model_validate(event.model_dump()).event_time == datetime(
        2024, 1, 15, 10, 0, 0, 123000, tzinfo=UTC
    )


def test_avro_from_a_compatible_writer_schema_is_resolved_against_ours() -> None:
    writer = _compatible_writer_schema()
    buffer = io.BytesIO()
    record = _avro_record(ARRIVED) | {"checksum": "abc"}
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(writer), record)
    attributes = {
        "googclient_schemaencoding": "BINARY",
        "googclient_schemaname": "projects/p/schemas/file-arrived",
        "googclient_schemarevisionid": "a1b2c3d4",
    }
    writer_schemas = {"projects/p/schemas/file-arrived@a1b2c3d4": writer}
    decoded = decode(buffer.getvalue(), attributes, FileArrived, writer_schemas=writer_schemas)
    assert decoded == ARRIVED


def test_avro_from_an_unknown_writer_schema_revision_is_not_silently_misread() -> None:
    writer = _compatible_writer_schema()
    buffer = io.BytesIO()
    fastavro.schemaless_writer(
        buffer, fastavro.parse_schema(writer), _avro_record(ARRIVED) | {"checksum": "abc"}
    )
    with pytest.raises((DecodeError, SchemaError)):
        decode(buffer.getvalue(), {"googclient_schemaencoding": "BINARY"}, FileArrived)


@pytest.mark.parametrize("encoding", ["BINARY", "JSON"])
def test_an_incompatible_writer_revision_is_a_schema_error_naming_both(encoding: str) -> None:
    """A revision without ``uri`` (which ours requires, with no default) cannot be resolved
    (Avro schema resolution: a reader field with no default must be in the writer's
    schema, https://avro.apache.org/docs/1.11.1/specification/#schema-resolution)."""
    writer = load_schema("file-arrived")
    writer["fields"] = [field for field in writer["fields"] if field["name"] != "uri"]
    parsed = fastavro.parse_schema(writer)
    record = {key: value for key, value in _avro_record(ARRIVED).items() if key != "uri"}
    if encoding == "BINARY":
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, record)
        body = buffer.getvalue()
    else:
        lines = io.StringIO()
        fastavro.json_writer(lines, parsed, [record])
        body = lines.getvalue().strip().encode()
    attributes = {
        "googclient_schemaencoding": encoding,
        "googclient_schemaname": "projects/p/schemas/file-arrived-v1",
        "googclient_schemarevisionid": "0badc0de",
    }
    writer_schemas = {"projects/p/schemas/file-arrived-v1@0badc0de": writer}
    with pytest.raises(SchemaError) as raised:
        decode(body, attributes, FileArrived, writer_schemas=writer_schemas)
    text = str(raised.value)
    assert "writer revision projects/p/schemas/file-arrived-v1@0badc0de cannot be read" in text
    assert "as our file-arrived schema v1" in text
    assert "uri" in text


def test_avro_container_file_is_read_with_its_embedded_writer_schema() -> None:
    buffer = io.BytesIO()
    record = _avro_record(ARRIVED) | {"checksum": "abc"}
    fastavro.writer(buffer, fastavro.parse_schema(_compatible_writer_schema()), [record])
    assert decode(buffer.getvalue(), {"content-type": AVRO}, FileArrived) == ARRIVED
    assert decode(buffer.getvalue(), {}, FileArrived) == ARRIVED


def test_avro_container_with_two_records_is_a_schema_error() -> None:
    buffer = io.BytesIO()
    record = _avro_record(ARRIVED)
    fastavro.writer(buffer, fastavro.parse_schema(load_schema("file-arrived")), [record, record])
    with pytest.raises(SchemaError, match="2 records"):
        decode(buffer.getvalue(), {"content-type": AVRO}, FileArrived)


def test_compressed_avro_container_is_refused() -> None:
    buffer = io.BytesIO()
    schema = fastavro.parse_schema(load_schema("file-arrived"))
    fastavro.writer(buffer, schema, [_avro_record(ARRIVED)], codec="deflate")
    with pytest.raises(DecodeError, match="codec 'deflate'"):
        decode(buffer.getvalue(), {"content-type": AVRO}, FileArrived)


def test_writer_schema_lacking_a_required_field_is_a_schema_error_naming_it() -> None:
    schema = load_schema("file-arrived")
    schema["fields"] = [field for field in schema["fields"] if field["name"] != "generation"]
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(schema), [_avro_record(ARRIVED)])
    with pytest.raises(SchemaError, match="generation"):
        decode(buffer.getvalue(), {"content-type": AVRO}, FileArrived)


def test_avro_json_encoding_of_a_schema_topic_is_read() -> None:
    avro_json = {
        "event_id": "e-1",
        "uri": ARRIVED.uri,
        "bucket": "landing",
        "object": ARRIVED.object,
        "generation": ARRIVED.generation,
        "size": {"long": 2048},
        "content_type": {"string": "text/csv"},
        "event_time": int(ARRIVED.event_time.timestamp() * 1000),
        "source": "worker",
        "dataset": {"string": "trips"},
    }
    body = json.dumps(avro_json, indent=2).encode()
    assert decode(body, {"googclient_schemaencoding": "JSON"}, FileArrived) == ARRIVED


def test_json_without_content_type_and_with_parameters_is_read() -> None:
    body, _ = encode(ARRIVED, JSON)
    assert decode(body, {}, FileArrived) == ARRIVED
    charset = {"content-type": "Application/JSON; charset=utf-8"}
    assert decode(body, charset, FileArrived) == ARRIVED


def test_decode_event_picks_the_model_from_the_event_type_attribute() -> None:
    requested = PartitionRequested(
        dataset="trips",
        partition_date=date(2024, 1, 15),
        requested_at=datetime(2024, 1, 16, tzinfo=UTC),
    )
    assert decode_event(*encode(requested, AVRO)) == requested
    with pytest.raises(SchemaError, match="event-type"):
        decode_event(encode(requested, JSON)[0], {})


@pytest.mark.parametrize(
    ("body", "attributes", "message"),
    [
        (b'{"event_id": ', {"content-type": JSON}, "not valid JSON"),
        (b"\xff\xfe{}", {"content-type": JSON}, "not UTF-8"),
        (b'{"generation": NaN}', {"content-type": JSON}, "not valid JSON"),
        (b"[" * 40 + b"]" * 40, {"content-type": JSON}, "nested deeper"),
        (b"{}", {"content-type": "text/csv"}, "unknown content type 'text/csv'"),
        (b"{}", {"googclient_schemaencoding": "PROTO"}, "unknown Pub/Sub schema encoding"),
        (b"\x06abc", {"content-type": AVRO}, "not valid Avro binary"),
    ],
)
def test_unreadable_bodies_are_decode_errors(
    body: bytes, attributes: dict[str, str], message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(body, attributes, FileArrived)


def test_truncated_avro_and_trailing_bytes_are_decode_errors() -> None:
    body, attributes = encode(ARRIVED, AVRO)
    with pytest.raises(DecodeError, match="not valid Avro binary"):
        decode(body[:-5], attributes, FileArrived)
    with pytest.raises(DecodeError, match="trailing bytes"):
        decode(body + b"\x00", attributes, FileArrived)


def test_oversized_body_is_a_decode_error_before_any_parsing() -> None:
    body, attributes = encode(ARRIVED, JSON)
    with pytest.raises(DecodeError, match="exceeds 100 bytes"):
        decode(body, attributes, FileArrived, max_body_bytes=100)
    with pytest.raises(DecodeError, match="exceeds 10485760 bytes"):
        decode(b" " * (10 * 1024 * 1024 + 1), attributes, FileArrived)


def _json_with(**changes: object) -> bytes:
    document = json.loads(ARRIVED.model_dump_json())
    document.update(changes)
    return json.dumps({key: value for key, value in document.items() if value != "<drop>"}).encode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_json_with(generation="<drop>"), "generation: Field required"),
        (_json_with(generation="twelve"), "generation: Input should be a valid integer"),
        (_json_with(generation=-1), "generation: Input should be greater than or equal to 0"),
        (_json_with(generation=2**63), "generation: Input should be less than or equal"),
        (_json_with(source="ftp"), "source: Input should be"),
        (_json_with(event_time="2024-01-15T10:00:00"), "event_time: Input should have timezone"),
        (_json_with(checksum="abc"), "checksum: Extra inputs are not permitted"),
        (_json_with(dataset="\ud800"), "dataset: Input should be a valid string"),
        (_json_with(uri="gs://other/x"), "is not gs://<bucket>/<object>"),
        (b"[1, 2]", "expected a JSON object, got list"),
    ],
)
def test_wrong_shapes_are_schema_errors_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(SchemaError, match="file-arrived") as raised:
        decode(body, {"content-type": JSON}, FileArrived)
    assert field in str(raised.value)


def test_event_type_attribute_must_match_the_expected_event() -> None:
    body, attributes = encode(ARRIVED, JSON)
    with pytest.raises(SchemaError, match="'file-arrived', expected 'backfill-requested'"):
        decode(body, attributes, BackfillRequested)


@pytest.mark.parametrize(
    ("version", "message"), [("7", "no schema version 7"), ("v1", "not a number")]
)
def test_unknown_schema_version_is_a_schema_error(version: str, message: str) -> None:
    body, attributes = encode(ARRIVED, AVRO)
    with pytest.raises(SchemaError, match=message):
        decode(body, attributes | {"schema-version": version}, FileArrived)


def test_backfill_range_must_be_ordered() -> None:
    with pytest.raises(SchemaError, match="end_date 2024-01-01 is before start_date 2024-02-01"):
        decode(
            json.dumps(
                {
                    "backfill_id": "b",
                    "dataset": "trips",
                    "start_date": "2024-02-01",
                    "end_date": "2024-01-01",
                    "mode": "missing",
                    "requested_by": "ops",
                    "requested_at": "2024-03-01T00:00:00Z",
                }
            ).encode(),
            {},
            BackfillRequested,
        )


def test_partition_completed_event_id_is_the_run_id() -> None:
    document = {
        "event_id": "other",
        "run_id": "r1",
        "dataset": "trips",
        "partition_date": "2024-01-15",
        "partition_uri": "gs://out/trips/date=2024-01-15",
        "manifest_uri": "gs://out/trips/date=2024-01-15/_manifest.json",
        "status": "committed",
        "rows_in": 1,
        "rows_out": 1,
        "rows_quarantined": 0,
        "files": [],
        "inputs": [],
        "completed_at": "2024-01-16T00:00:00Z",
        "worker_version": "0.1.0",
    }
    with pytest.raises(SchemaError, match="event_id must equal run_id"):
        decode(json.dumps(document).encode(), {}, PartitionCompleted)
