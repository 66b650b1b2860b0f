"""The versioned Avro schemas of our messages, readable from the installed package.

The canonical files live in ``schemas/`` at the repository root; identical copies ship in
``worker/events/avro/`` so a wheel or container image can load them (a test keeps the two
in step). File names are ``<event_type with underscores>.v<version>.avsc``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import fastavro

from worker.errors import SchemaError

SCHEMA_DIR = Path(__file__).parent / "avro"
EVENT_TYPES = (
    "file-arrived",
    "backfill-requested",
    "partition-requested",
    "partition-completed",
    "backfill-completed",
)
_FILE_NAME = re.compile(r"^(?P<stem>[a-z_]+)\.v(?P<version>[1-9][0-9]*)\.avsc$")


def _stem(event_type: str) -> str:
    if event_type not in EVENT_TYPES:
        raise SchemaError(
            f"unknown event type (known: {', '.join(EVENT_TYPES)})", where=repr(event_type)
        )
    return event_type.replace("-", "_")


def _shown(file_name: str) -> str:
    return f"schemas/{file_name}"


def available_versions(event_type: str) -> tuple[int, ...]:
    """Every schema version shipped for ``event_type``, oldest first."""
    stem = _stem(event_type)
    versions = []
    for path in SCHEMA_DIR.glob("*.avsc"):
        match = _FILE_NAME.match(path.name)
        if match and match["stem"] == stem:
            versions.append(int(match["version"]))
    return tuple(sorted(versions))


def latest_version(event_type: str) -> int:
    versions = available_versions(event_type)
    if not versions:
        raise SchemaError("no schema file shipped", where=_shown(f"{_stem(event_type)}.v*.avsc"))
    return versions[-1]


def schema_path(event_type: str, version: int | None = None) -> Path:
    """The ``.avsc`` file of ``event_type`` (latest version unless one is given)."""
    chosen = latest_version(event_type) if version is None else version
    path = SCHEMA_DIR / f"{_stem(event_type)}.v{chosen}.avsc"
    if not path.is_file():
        raise SchemaError(
            f"no schema version {chosen} for {event_type} "
            f"(shipped: {list(available_versions(event_type))})",
            where=f"{event_type} schema-version",
        )
    return path


@functools.cache
def _raw_schema(event_type: str, version: int | None) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path(event_type, version).read_text("utf-8"))
    return loaded


def load_schema(event_type: str, version: int | None = None) -> dict[str, Any]:
    """The schema as plain JSON data (a fresh copy: callers may embed or mutate it)."""
    return copy.deepcopy(_raw_schema(event_type, version))


def parsed_schema(event_type: str, version: int | None = None) -> dict[str, Any]:
    """The schema parsed by fastavro, ready for its readers and writers (cached: the
    same version is always the same object, which lets readers skip schema resolution)."""
    return _parsed_schema(event_type, latest_version(event_type) if version is None else version)


@functools.cache
def _parsed_schema(event_type: str, version: int) -> dict[str, Any]:
    parsed = fastavro.parse_schema(load_schema(event_type, version))
    if not isinstance(parsed, dict):
        raise SchemaError(
            "schema is not an Avro record", where=_shown(schema_path(event_type, version).name)
        )
    return parsed
