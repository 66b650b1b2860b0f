"""How a message body is encoded, read from its attributes.

Our producers say it with ``content-type``. When a Pub/Sub topic has a schema, Pub/Sub
itself sets ``googclient_schemaencoding`` (``BINARY`` = Avro binary, ``JSON`` = Avro's
JSON encoding) together with the schema name and revision; that wins over
``content-type``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from worker.errors import DecodeError

CONTENT_TYPE = "content-type"
EVENT_TYPE = "event-type"
SCHEMA_VERSION = "schema-version"
PUBSUB_SCHEMA_ENCODING = "googclient_schemaencoding"
PUBSUB_SCHEMA_NAME = "googclient_schemaname"
PUBSUB_SCHEMA_REVISION = "googclient_schemarevisionid"

AVRO_MEDIA_TYPE = "application/avro"
JSON_MEDIA_TYPE = "application/json"
CLOUDEVENTS_JSON_MEDIA_TYPE = "application/cloudevents+json"
_AVRO_ALIASES = frozenset({AVRO_MEDIA_TYPE, "avro/binary", "application/vnd.apache.avro+binary"})
_JSON_ALIASES = frozenset({JSON_MEDIA_TYPE, "text/json"})
OCF_MAGIC = b"Obj\x01"


class WireFormat(enum.Enum):
    AVRO_BINARY = "avro-binary"
    """Schemaless Avro binary: the writer schema is known from the attributes."""
    AVRO_CONTAINER = "avro-container"
    """An Avro Object Container File, which embeds its writer schema."""
    AVRO_JSON = "avro-json"
    """Avro's JSON encoding (unions as ``{"type": value}``), as Pub/Sub schemas use it."""
    JSON = "json"
    """Our plain JSON form: the event's fields as a JSON object."""


def media_type(attributes: Mapping[str, str]) -> str | None:
    """The ``content-type`` attribute without parameters, lower case (None when absent)."""
    raw = attributes.get(CONTENT_TYPE)
    if raw is None:
        return None
    return raw.split(";", 1)[0].strip().lower()


def wire_format(body: bytes, attributes: Mapping[str, str]) -> WireFormat:
    """Decide how to read ``body``; an unknown encoding is a :class:`DecodeError`."""
    schema_encoding = attributes.get(PUBSUB_SCHEMA_ENCODING)
    if schema_encoding is not None:
        if schema_encoding == "BINARY":
            return WireFormat.AVRO_BINARY
        if schema_encoding == "JSON":
            return WireFormat.AVRO_JSON
        raise DecodeError(
            f"unknown Pub/Sub schema encoding {schema_encoding!r} (expected BINARY or JSON)",
            where=f"{PUBSUB_SCHEMA_ENCODING} attribute",
        )
    declared = media_type(attributes)
    if declared in _AVRO_ALIASES:
        return WireFormat.AVRO_CONTAINER if body.startswith(OCF_MAGIC) else WireFormat.AVRO_BINARY
    if declared in _JSON_ALIASES:
        return WireFormat.JSON
    if declared is None:
        # `gcloud pubsub topics publish --message='{...}'` sends no attributes; a container
        # file announces itself, and anything else must then be JSON.
        return WireFormat.AVRO_CONTAINER if body.startswith(OCF_MAGIC) else WireFormat.JSON
    raise DecodeError(
        f"unknown content type {attributes[CONTENT_TYPE]!r} "
        f"(expected {AVRO_MEDIA_TYPE} or {JSON_MEDIA_TYPE})",
        where=f"{CONTENT_TYPE} attribute",
    )
