"""The cache of writer schema revisions in front of the Schema service: each revision named
by a message's ``googclient_schemaname`` / ``googclient_schemarevisionid`` attributes
(https://cloud.google.com/pubsub/docs/publish-topics-schema) is looked up once; revisions
are immutable, so neither a definition nor "unknown" is looked up again."""

from __future__ import annotations

import json

import pytest

from worker.errors import SchemaError
from worker.events.schemas import load_schema
from worker.service.schema_revisions import SchemaRevisions

NAME = "projects/p/schemas/file-arrived-v1"


def _attributes(revision: str) -> dict[str, str]:
    return {
        "googclient_schemaname": NAME,
        "googclient_schemarevisionid": revision,
        "googclient_schemaencoding": "BINARY",
    }


async def test_each_revision_is_fetched_once_known_or_not() -> None:
    asked: list[str] = []
    definition = json.dumps(load_schema("file-arrived"))

    def fetch(key: str) -> str | None:
        asked.append(key)
        return definition if key.endswith("@aaaa1111") else None

    revisions = SchemaRevisions(fetch)
    for revision in ("aaaa1111", "bbbb2222", "aaaa1111", "bbbb2222"):
        await revisions.prepare(_attributes(revision))
    await revisions.prepare({"content-type": "application/json"})
    assert asked == [f"{NAME}@aaaa1111", f"{NAME}@bbbb2222"]
    assert dict(revisions.known) == {f"{NAME}@aaaa1111": load_schema("file-arrived")}


async def test_a_revision_whose_definition_is_not_json_is_a_schema_error() -> None:
    revisions = SchemaRevisions(lambda key: "{not json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        await revisions.prepare(_attributes("cccc3333"))
