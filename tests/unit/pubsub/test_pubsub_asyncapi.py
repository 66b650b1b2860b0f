"""AsyncAPI 3.0 from FastStream's own generator: a contract test against faststream upgrades.

Regenerate the snapshot on purpose with ``WORKER_UPDATE_SNAPSHOTS=1 pytest <this file>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI
from pubsub_sample_app import broker

SNAPSHOT = Path(__file__).parent / "snapshots" / "asyncapi_sample.json"


def _document() -> dict[str, Any]:
    spec = AsyncAPI(broker, title="sample", version="1.0.0", schema_version="3.0.0")
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return document


def test_asyncapi_document_matches_snapshot() -> None:
    document = _document()
    if os.environ.get("WORKER_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")

    assert document == json.loads(SNAPSHOT.read_text())


def test_document_names_protocol_channels_schemas_and_pubsub_settings() -> None:
    document = _document()

    server = document["servers"]["development"]
    assert server["protocol"] == "googlepubsub"
    assert server["host"] == "pubsub.googleapis.com"
    assert server["pathname"] == "/projects/sample-project"
    channels = document["channels"]
    subscription = channels["file-arrived-worker:OnFile"]
    assert subscription["address"] == "file-arrived-worker"
    for setting in (
        "topic `file-arrived`",
        "dead-letter topic `file-arrived-dlq` after 5 delivery attempts",
        "retry backoff 10-600 s",
        "ack deadline 60 s",
    ):
        assert setting in subscription["description"]
    assert channels["partition-completed:Publisher"]["address"] == "partition-completed"
    schemas = document["components"]["schemas"]
    assert set(schemas["FileArrived"]["properties"]) == {"bucket", "name", "generation"}
    assert set(schemas["PartitionCompleted"]["properties"]) == {"dataset", "partition", "rows"}
