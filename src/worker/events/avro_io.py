"""Avro reading and writing with fastavro, every failure translated into our error tree.

Reading always resolves the writer's schema against ours (Avro schema resolution), so a
producer whose schema differs compatibly (extra or reordered fields, added defaults) is
understood. Garbage input makes fastavro raise almost anything (EOFError, ValueError,
OverflowError, IndexError...), hence the broad catches around its calls.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import fastavro
from fastavro.read import SchemaResolutionError

from worker.errors import DecodeError, SchemaError

# Compressed container blocks could inflate a small message without bound.
_ALLOWED_CONTAINER_CODECS = frozenset({"null"})


def parse_writer_schema(schema: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    try:
        parsed = fastavro.parse_schema(dict(schema))
    except Exception as error:  # fastavro raises several unrelated types for bad schemas
        raise SchemaError(
            f"writer schema is not a valid Avro schema: {error}", where=where
        ) from error
    if not isinstance(parsed, dict):
        raise SchemaError("writer schema is not an Avro record", where=where)
    return parsed


def write_binary(record: Mapping[str, Any], schema: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, dict(record))
    return buffer.getvalue()


Names = tuple[str, str]
"""How errors name the writer's schema and ours (e.g. a Pub/Sub revision and our version)."""
_UNNAMED: Names = ("the writer's schema", "ours")


def _unresolvable(error: Exception, names: Names, *, where: str) -> SchemaError:
    writer, reader = names
    return SchemaError(f"{writer} cannot be read as {reader}: {error}", where=where)


def read_binary(
    body: bytes,
    writer: dict[str, Any],
    reader: dict[str, Any],
    *,
    where: str,
    names: Names = _UNNAMED,
) -> dict[str, Any]:
    """One schemaless Avro record; every byte of ``body`` must belong to it."""
    stream = io.BytesIO(body)
    try:
        record = fastavro.schemaless_reader(stream, writer, None if writer is reader else reader)
    except SchemaResolutionError as error:
        raise _unresolvable(error, names, where=where) from error
    except Exception as error:  # see module docstring: garbage makes fastavro raise anything
        raise DecodeError(f"body is not valid Avro binary: {error!r}", where=where) from error
    if stream.tell() != len(body):
        raise DecodeError(
            f"Avro record ended at byte {stream.tell()} of {len(body)}: trailing bytes "
            "(corrupt body, or written with a different schema)",
            where=where,
        )
    return _as_record(record, where=where)


def read_container(body: bytes, reader: dict[str, Any], *, where: str) -> dict[str, Any]:
    """The single record of an Avro Object Container File (writer schema embedded)."""
    try:
        container = fastavro.reader(io.BytesIO(body), reader_schema=reader)
        codec = container.codec
        if codec not in _ALLOWED_CONTAINER_CODECS:
            raise DecodeError(
                f"Avro container codec {codec!r} refused (use 'null': messages are small)",
                where=where,
            )
        records = list(container)
    except (DecodeError, SchemaError):
        raise
    except SchemaResolutionError as error:
        raise SchemaError(
            f"embedded writer schema cannot be read as ours: {error}", where=where
        ) from error
    except Exception as error:  # see module docstring
        raise DecodeError(
            f"body is not a valid Avro container file: {error!r}", where=where
        ) from error
    if len(records) != 1:
        raise SchemaError(f"Avro container holds {len(records)} records, expected 1", where=where)
    return _as_record(records[0], where=where)


def read_json(
    document: Any,
    writer: dict[str, Any],
    reader: dict[str, Any],
    *,
    where: str,
    names: Names = _UNNAMED,
) -> dict[str, Any]:
    """One record in Avro's JSON encoding, from an already parsed (bounded) JSON value."""
    # fastavro's JSON decoder reads one record per line: hand it the value on one line.
    line = io.StringIO(json.dumps(document))
    try:
        records = list(fastavro.json_reader(line, writer, None if writer is reader else reader))
    except SchemaResolutionError as error:
        raise _unresolvable(error, names, where=where) from error
    except Exception as error:  # see module docstring
        raise SchemaError(f"body does not match the Avro schema: {error!r}", where=where) from error
    if len(records) != 1:
        raise SchemaError(f"Avro JSON holds {len(records)} records, expected 1", where=where)
    return _as_record(records[0], where=where)


def _as_record(value: object, *, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(f"Avro value is a {type(value).__name__}, expected a record", where=where)
    return value
