"""AsyncAPI 3.0 from FastStream's own generator: a contract test against faststream upgrades.

Pub/Sub settings are ``googlepubsub`` channel bindings (AsyncAPI bindings 0.2.0:
https://www.asyncapi.com/docs/reference/bindings/googlepubsub); descriptions are exactly
what the user wrote (FastStream: a handler's docstring when no ``description=``).

Regenerate the snapshot on purpose with ``WORKER_UPDATE_SNAPSHOTS=1 pytest <this file>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pubsub_sample_app import broker

from faststream_gcp_pubsub import PubSubAsyncAPI

SNAPSHOT = Path(__file__).parent / "snapshots" / "asyncapi_sample.json"


def _document() -> dict[str, Any]:
    spec = PubSubAsyncAPI(broker, title="sample", version="1.0.0", schema_version="3.0.0")
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
    assert subscription["description"] == "Turn an arrived file into its partition."
    assert subscription["bindings"]["googlepubsub"] == {
        "bindingVersion": "0.2.0",
        "x-topic": "file-arrived",
        "x-subscription": {
            "name": "file-arrived-worker",
            "ackDeadlineSeconds": 60,
            "deadLetterPolicy": {
                "deadLetterTopic": "file-arrived-dlq",
                "maxDeliveryAttempts": 5,
                "keptBy": "file-arrived-dlq-keep",
            },
            "retryPolicy": {"minimumBackoff": "10s", "maximumBackoff": "600s"},
            "enableMessageOrdering": False,
            "enableExactlyOnceDelivery": False,
        },
    }
    publisher = channels["partition-completed:Publisher"]
    assert publisher["address"] == "partition-completed"
    assert publisher["description"] == "A partition was committed."
    assert publisher["bindings"]["googlepubsub"]["x-topic"] == "partition-completed"
    schemas = document["components"]["schemas"]
    assert set(schemas["FileArrived"]["properties"]) == {"bucket", "name", "generation"}
    assert set(schemas["PartitionCompleted"]["properties"]) == {"dataset", "partition", "rows"}


def test_a_channel_without_description_has_none_and_batch_ordering_filter_are_bound() -> None:
    from faststream_gcp_pubsub import PubSubBroker

    bare = PubSubBroker(project="p", logger=None)

    @bare.subscriber(
        "rows-sub",
        topic="rows",
        batch=True,
        max_batch=50,
        enable_message_ordering=True,
        enable_exactly_once_delivery=True,
        filter='attributes.kind = "row"',
    )
    async def handle(rows: list[int]) -> None:
        pass

    document = PubSubAsyncAPI(bare, schema_version="3.0.0").to_specification().to_jsonable()
    [channel] = document["channels"].values()
    assert "description" not in channel
    settings = channel["bindings"]["googlepubsub"]["x-subscription"]
    assert settings["maxBatch"] == 50
    assert settings["enableMessageOrdering"] is True
    assert settings["enableExactlyOnceDelivery"] is True
    assert settings["filter"] == 'attributes.kind = "row"'
