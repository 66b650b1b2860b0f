"""Encode events for publishing and decode the messages we receive.

``encode`` writes Avro binary (schemaless, our current schema) or our plain JSON form and
returns the attributes that describe it. ``decode`` reads every form a conforming
producer may send (see :mod:`worker.events.wire`) into the expected event model; it
raises :class:`DecodeError` when the bytes cannot be read at all and
:class:`SchemaError` when they can but are not the event we expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from worker.errors import ConfigurationError, SchemaError
from worker.events import avro_io
from worker.events.bounded_json import (
    MAX_BODY_BYTES,
    check_body_size,
    parse_json,
    parse_json_object,
)
from worker.events.models import EVENT_MODELS, Event
from worker.events.schemas import latest_version, parsed_schema, schema_path
from worker.events.wire import (
    AVRO_MEDIA_TYPE,
    CONTENT_TYPE,
    EVENT_TYPE,
    JSON_MEDIA_TYPE,
    PUBSUB_SCHEMA_NAME,
    PUBSUB_SCHEMA_REVISION,
    SCHEMA_VERSION,
    WireFormat,
    wire_format,
)

EventT = TypeVar("EventT", bound=Event)
ContentType = Literal["application/avro", "application/json"]
WriterSchemas = Mapping[str, Mapping[str, Any]]
"""Writer schemas of Pub/Sub schema revisions, keyed ``"<googclient_schemaname>@<revision>"``."""

_MAX_REPORTED_FIELDS = 5


def encode(event: Event, content_type: ContentType) -> tuple[bytes, dict[str, str]]:
    """The body and attributes to publish ``event`` with."""
    version = latest_version(event.event_type)
    if content_type == AVRO_MEDIA_TYPE:
        body = avro_io.write_binary(event.model_dump(), parsed_schema(event.event_type, version))
    elif content_type == JSON_MEDIA_TYPE:
        body = event.model_dump_json().encode("utf-8")
    else:
        raise ConfigurationError(
            f"cannot encode as {content_type!r} (use {AVRO_MEDIA_TYPE} or {JSON_MEDIA_TYPE})",
            where=f"{event.event_type} encoder",
        )
    attributes = {
        CONTENT_TYPE: content_type,
        EVENT_TYPE: event.event_type,
        SCHEMA_VERSION: str(version),
    }
    return body, attributes


def decode(
    body: bytes,
    attributes: Mapping[str, str],
    expected: type[EventT],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    writer_schemas: WriterSchemas | None = None,
) -> EventT:
    """Read one ``expected`` event from a message body and its attributes."""
    where = f"{expected.event_type} message"
    check_body_size(body, max_bytes=max_body_bytes, where=where)
    declared_type = attributes.get(EVENT_TYPE)
    if declared_type is not None and declared_type != expected.event_type:
        raise SchemaError(
            f"event-type attribute says {declared_type!r}, expected {expected.event_type!r}",
            where=where,
        )
    version = _declared_version(attributes, expected.event_type, where=where)
    reader = parsed_schema(expected.event_type)
    form = wire_format(body, attributes)
    record: Mapping[str, Any]
    if form is WireFormat.JSON:
        record = parse_json_object(body, where=where)
    elif form is WireFormat.AVRO_CONTAINER:
        record = avro_io.read_container(body, reader, where=where)
    else:
        writer, writer_name = _writer_schema(
            attributes, expected.event_type, version, writer_schemas, where
        )
        names = (
            writer_name,
            f"our {expected.event_type} schema v{latest_version(expected.event_type)}",
        )
        if form is WireFormat.AVRO_JSON:
            record = avro_io.read_json(
                parse_json(body, where=where), writer, reader, where=where, names=names
            )
        else:
            record = avro_io.read_binary(body, writer, reader, where=where, names=names)
    return validate_event(expected, record, where=where)


def decode_event(
    body: bytes,
    attributes: Mapping[str, str],
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    writer_schemas: WriterSchemas | None = None,
) -> Event:
    """Decode a message of any of our event types, chosen by its ``event-type`` attribute."""
    declared_type = attributes.get(EVENT_TYPE)
    if declared_type is None:
        raise SchemaError("message has no event-type attribute", where="event-type attribute")
    model = EVENT_MODELS.get(declared_type)
    if model is None:
        raise SchemaError(
            f"unknown event type {declared_type!r} (known: {', '.join(EVENT_MODELS)})",
            where="event-type attribute",
        )
    return decode(
        body, attributes, model, max_body_bytes=max_body_bytes, writer_schemas=writer_schemas
    )


def validate_event(expected: type[EventT], record: Mapping[str, Any], *, where: str) -> EventT:
    """Build the model from decoded data, naming every offending field on failure."""
    try:
        return expected.model_validate(record)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or '<record>'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        ]
        more = len(problems) - _MAX_REPORTED_FIELDS
        summary = "; ".join(problems[:_MAX_REPORTED_FIELDS]) + (
            f"; and {more} more" if more > 0 else ""
        )
        raise SchemaError(
            f"not a valid {expected.event_type} event: {summary}", where=where
        ) from error


def _declared_version(attributes: Mapping[str, str], event_type: str, *, where: str) -> int | None:
    raw = attributes.get(SCHEMA_VERSION)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise SchemaError(f"schema-version attribute {raw!r} is not a number", where=where)
    version = int(raw)
    schema_path(event_type, version)
    return version


def _writer_schema(
    attributes: Mapping[str, str],
    event_type: str,
    version: int | None,
    writer_schemas: WriterSchemas | None,
    where: str,
) -> tuple[dict[str, Any], str]:
    """The schema the producer wrote with, and how errors name it: the Pub/Sub schema
    revision the message names when it is known, else the version it declares, else our
    current one (a schema topic using our own schema)."""
    name, revision = attributes.get(PUBSUB_SCHEMA_NAME), attributes.get(PUBSUB_SCHEMA_REVISION)
    chosen = latest_version(event_type) if version is None else version
    ours = f"{event_type} schema v{chosen}"
    if name and revision:
        key = f"{name}@{revision}"
        known = writer_schemas.get(key) if writer_schemas else None
        if known is not None:
            parsed = avro_io.parse_writer_schema(known, where=f"{where}, schema {key}")
            return parsed, f"writer revision {key}"
        return parsed_schema(
            event_type, version
        ), f"writer revision {key} (unknown; read as {ours})"
    return parsed_schema(event_type, version), f"writer {ours}"
