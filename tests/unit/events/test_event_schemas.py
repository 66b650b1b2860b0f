from __future__ import annotations

from pathlib import Path

import fastavro
import pytest

from worker.errors import SchemaError
from worker.events.codec import decode
from worker.events.models import FileArrived
from worker.events.schemas import (
    EVENT_TYPES,
    SCHEMA_DIR,
    available_versions,
    load_schema,
    parsed_schema,
    schema_path,
)

REPO_SCHEMAS = Path(__file__).parents[3] / "schemas"


def test_packaged_schemas_are_byte_identical_to_the_canonical_ones() -> None:
    canonical = {path.name: path.read_bytes() for path in REPO_SCHEMAS.glob("*.avsc")}
    packaged = {path.name: path.read_bytes() for path in SCHEMA_DIR.glob("*.avsc")}
    assert canonical, f"no schemas found in {REPO_SCHEMAS}"
    assert packaged == canonical


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_has_a_loadable_v1_schema(event_type: str) -> None:
    assert 1 in available_versions(event_type)
    schema = load_schema(event_type, 1)
    assert schema["namespace"] == "dev.worker.events"
    assert schema_path(event_type, 1).name == f"{event_type.replace('-', '_')}.v1.avsc"
    parsed = fastavro.parse_schema(schema)
    assert isinstance(parsed, dict)
    assert parsed["type"] == "record"
    assert parsed_schema(event_type)["name"] == f"dev.worker.events.{schema['name']}"


def test_load_schema_returns_a_copy_callers_may_change() -> None:
    first = load_schema("file-arrived")
    first["fields"].clear()
    assert load_schema("file-arrived")["fields"]


def test_unknown_event_type_is_a_schema_error_naming_it() -> None:
    with pytest.raises(SchemaError, match="file-landed"):
        load_schema("file-landed")


def test_unknown_version_is_a_schema_error_naming_it() -> None:
    with pytest.raises(SchemaError, match="no schema version 9"):
        schema_path("file-arrived", 9)


def test_the_current_version_parses_to_one_shared_schema_object() -> None:
    latest = available_versions("file-arrived")[-1]
    assert parsed_schema("file-arrived") is parsed_schema("file-arrived", latest)


def test_an_unknown_schema_version_names_no_path_of_the_installed_package() -> None:
    """Issue 14: errors speak of the message (its event type and ``schema-version``), not of
    where the worker happens to be installed."""
    installed = str(SCHEMA_DIR.parent.parent)
    body = b'{"bucket": "b", "name": "n", "generation": 1}'
    attributes = {"content-type": "application/json", "schema-version": "9"}
    with pytest.raises(SchemaError) as raised:
        decode(body, attributes, FileArrived)
    text = str(raised.value)
    assert "no schema version 9 for file-arrived" in text
    assert "schema-version" in text
    assert installed not in text
    assert "/avro/" not in text
    assert ".avsc" not in text
