"""Turn every producer's "a file arrived" message into one :class:`FileArrived`.

Three producer forms reach the ``file-arrived`` subscription:

* Cloud Storage Pub/Sub notifications (attributes ``eventType``, ``bucketId``,
  ``objectId``, ``objectGeneration``, ``payloadFormat``; body = object resource or empty);
* Eventarc CloudEvents ``google.cloud.storage.object.v1.finalized``, in binary mode
  (``ce-*`` attributes, body = object resource) or structured mode
  (``application/cloudevents+json`` envelope with ``data``);
* our own ``file-arrived`` event, Avro or JSON.

Only finalized objects start work; other storage events come back as :class:`Ignored`.
The event id is derived from bucket, object and generation, so the same write announced
by two producers (or twice by one) deduplicates.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from worker.errors import ConfigurationError, ForbiddenPathError, SchemaError
from worker.events.bounded_json import MAX_BODY_BYTES, check_body_size, parse_json_object
from worker.events.codec import WriterSchemas, decode, validate_event
from worker.events.models import BackfillRequested, FileArrived, FileSource, PartitionRequested
from worker.events.wire import CLOUDEVENTS_JSON_MEDIA_TYPE, media_type
from worker.storage.uris import GCS_SCHEME, check_object_name, parse_uri

GCS_FINALIZE = "OBJECT_FINALIZE"
GCS_IGNORED_EVENTS = frozenset({"OBJECT_DELETE", "OBJECT_METADATA_UPDATE", "OBJECT_ARCHIVE"})
CE_FINALIZED = "google.cloud.storage.object.v1.finalized"
CE_IGNORED_EVENTS = frozenset(
    {
        "google.cloud.storage.object.v1.deleted",
        "google.cloud.storage.object.v1.archived",
        "google.cloud.storage.object.v1.metadataUpdated",
    }
)
_NOTIFICATION_MARKERS = ("eventType", "bucketId", "objectId", "payloadFormat")
_CE_SOURCE = re.compile(r"^//storage\.googleapis\.com/projects/_/buckets/(?P<bucket>[^/]+)$")
_CE_SUBJECT_PREFIX = "objects/"
# Cloud Storage bucket naming rules: 3-63 characters per dot-separated name, 222 in all.
_BUCKET_NAME = re.compile(r"^(?=.{3,222}$)[a-z0-9][a-z0-9._-]*[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid message that asks for no work: acknowledge it and log ``reason``."""

    reason: str
    event_type: str


def normalize_file_arrived(
    body: bytes,
    attributes: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    writer_schemas: WriterSchemas | None = None,
) -> FileArrived | Ignored:
    """The :class:`FileArrived` a message announces, whichever producer sent it."""
    check_body_size(body, max_bytes=max_body_bytes, where="file-arrived message")
    if any(marker in attributes for marker in _NOTIFICATION_MARKERS):
        return _from_notification(body, attributes)
    if "ce-type" in attributes or "ce-specversion" in attributes:
        context = {key[3:]: value for key, value in attributes.items() if key.startswith("ce-")}
        return _from_cloudevent(
            context,
            lambda: parse_json_object(body, where="binary-mode CloudEvent data"),
            where="binary-mode CloudEvent",
        )
    if media_type(attributes) == CLOUDEVENTS_JSON_MEDIA_TYPE:
        envelope = parse_json_object(body, where="structured-mode CloudEvent")
        return _from_cloudevent(
            envelope, lambda: _cloudevent_data(envelope), where="structured-mode CloudEvent"
        )
    event = decode(
        body, attributes, FileArrived, max_body_bytes=max_body_bytes, writer_schemas=writer_schemas
    )
    _check_event_location(event)
    return event


def decode_backfill_requested(
    body: bytes,
    attributes: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    writer_schemas: WriterSchemas | None = None,
) -> BackfillRequested:
    return decode(
        body,
        attributes,
        BackfillRequested,
        max_body_bytes=max_body_bytes,
        writer_schemas=writer_schemas,
    )


def decode_partition_requested(
    body: bytes,
    attributes: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    writer_schemas: WriterSchemas | None = None,
) -> PartitionRequested:
    return decode(
        body,
        attributes,
        PartitionRequested,
        max_body_bytes=max_body_bytes,
        writer_schemas=writer_schemas,
    )


def file_event_id(bucket: str, object_name: str, generation: int) -> str:
    """The id of "this generation of this object was written", the same from any producer."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"gs://{bucket}/{object_name}#{generation}"))


def _from_notification(body: bytes, attributes: Mapping[str, str]) -> FileArrived | Ignored:
    where = "Cloud Storage notification"
    event_type = _required_text(attributes, "eventType", where=f"{where} attributes")
    if event_type != GCS_FINALIZE:
        return _ignored(event_type, GCS_IGNORED_EVENTS, where=where)
    bucket = _required_text(attributes, "bucketId", where=f"{where} attributes")
    name = _required_text(attributes, "objectId", where=f"{where} attributes")
    generation = _required_text(attributes, "objectGeneration", where=f"{where} attributes")
    payload_format = _required_text(attributes, "payloadFormat", where=f"{where} attributes")
    if payload_format == "JSON_API_V1":
        resource = parse_json_object(body, where=f"{where} body")
        _check_resource_agrees(resource, bucket, name, generation, where=f"{where} body")
    elif payload_format == "NONE":
        resource = {}
    else:
        raise SchemaError(
            f"unknown payloadFormat {payload_format!r} (expected JSON_API_V1 or NONE)",
            where=f"{where} attributes",
        )
    event_time = (
        attributes.get("eventTime") or resource.get("updated") or resource.get("timeCreated")
    )
    if event_time is None:
        raise SchemaError("no eventTime attribute and no time in the body", where=where)
    return _build(bucket, name, generation, resource, event_time, "gcs_notification", where)


def _from_cloudevent(
    context: Mapping[str, Any], load_data: Callable[[], dict[str, Any]], *, where: str
) -> FileArrived | Ignored:
    """``load_data`` reads the object resource, only once the event type asks for work."""
    event_type = _required_text(context, "type", where=where)
    if event_type != CE_FINALIZED:
        return _ignored(event_type, CE_IGNORED_EVENTS, where=where)
    spec_version = _required_text(context, "specversion", where=where)
    if spec_version != "1.0":
        raise SchemaError(f"unsupported CloudEvents specversion {spec_version!r}", where=where)
    _required_text(context, "id", where=where)
    source = _required_text(context, "source", where=where)
    matched_source = _CE_SOURCE.match(source)
    if matched_source is None:
        raise SchemaError(f"source {source!r} is not a Cloud Storage bucket", where=where)
    subject = _required_text(context, "subject", where=where)
    if not subject.startswith(_CE_SUBJECT_PREFIX):
        raise SchemaError(f"subject {subject!r} does not name an object", where=where)
    bucket, name = matched_source["bucket"], subject[len(_CE_SUBJECT_PREFIX) :]
    resource = load_data()
    if resource.get("generation") is None:
        raise SchemaError("required 'generation' is missing", where=f"{where} data")
    generation = str(_count(resource["generation"], "generation", where=f"{where} data"))
    _check_resource_agrees(resource, bucket, name, generation, where=f"{where} data")
    event_time = context.get("time") or resource.get("updated") or resource.get("timeCreated")
    if event_time is None:
        raise SchemaError("no time attribute and no time in the data", where=where)
    return _build(bucket, name, generation, resource, event_time, "cloudevent", where)


def _cloudevent_data(envelope: Mapping[str, Any]) -> dict[str, Any]:
    where = "structured-mode CloudEvent"
    if "data" in envelope:
        data = envelope["data"]
    elif "data_base64" in envelope:
        encoded = _required_text(envelope, "data_base64", where=where)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise SchemaError(f"data_base64 is not base64: {error}", where=where) from error
        data = parse_json_object(raw, where=f"{where} data_base64")
    else:
        raise SchemaError("envelope has neither data nor data_base64", where=where)
    if not isinstance(data, dict):
        raise SchemaError(f"data is a {type(data).__name__}, expected an object", where=where)
    return data


def _ignored(event_type: str, known: frozenset[str], *, where: str) -> Ignored:
    if event_type not in known:
        raise SchemaError(f"unknown storage event type {event_type!r}", where=where)
    return Ignored(
        reason=f"{where} {event_type}: only finalized objects start work", event_type=event_type
    )


def _build(
    bucket: str,
    name: str,
    generation_text: str,
    resource: Mapping[str, Any],
    event_time: object,
    source: FileSource,
    where: str,
) -> FileArrived:
    if not _BUCKET_NAME.match(bucket):
        raise SchemaError(f"{bucket!r} is not a valid bucket name", where=where)
    _check_object(bucket, name)
    generation = _count(generation_text, "generation", where=where)
    size = resource.get("size")
    record = {
        "event_id": file_event_id(bucket, name, generation),
        "uri": f"gs://{bucket}/{name}",
        "bucket": bucket,
        "object": name,
        "generation": generation,
        "size": None if size is None else _count(size, "size", where=where),
        "content_type": resource.get("contentType"),
        "event_time": event_time,
        "source": source,
    }
    return validate_event(FileArrived, record, where=where)


def _check_object(bucket: str, name: str) -> None:
    where = f"gs://{bucket}/{name!r}"
    if not name:
        raise SchemaError("empty object name", where=where)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as error:
        raise SchemaError("object name is not valid Unicode", where=where) from error
    check_object_name(name, where=where)
    if name.startswith("/"):
        raise ForbiddenPathError("absolute object name refused", where=where)


def _check_event_location(event: FileArrived) -> None:
    if event.uri.startswith("gs://"):
        _check_object(event.bucket, event.object)
        return
    try:
        parsed = parse_uri(event.uri)
    except ConfigurationError as error:
        raise SchemaError(f"uri is not usable: {error.message}", where=event.uri) from error
    if parsed.scheme == GCS_SCHEME:
        raise SchemaError("uri is not gs:// nor a local path", where=event.uri)


def _check_resource_agrees(
    resource: Mapping[str, Any], bucket: str, name: str, generation: str, *, where: str
) -> None:
    """The object resource must describe the same object as the envelope."""
    for key, expected in (("bucket", bucket), ("name", name), ("generation", generation)):
        if key in resource and str(resource[key]) != expected:
            raise SchemaError(
                f"object resource {key} {resource[key]!r} disagrees with {expected!r}", where=where
            )


def _required_text(mapping: Mapping[str, Any], key: str, *, where: str) -> str:
    value = mapping.get(key)
    if value is None or value == "":
        raise SchemaError(f"required {key!r} is missing", where=where)
    if not isinstance(value, str):
        raise SchemaError(f"{key!r} is a {type(value).__name__}, expected a string", where=where)
    return value


def _count(value: object, field: str, *, where: str) -> int:
    """A non-negative integer: Cloud Storage's JSON API sends 64-bit numbers as strings."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SchemaError(f"{field} {value!r} is not an integer", where=where)
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise SchemaError(f"{field} {value!r} is not a non-negative 64-bit integer", where=where)
    return int(text)
