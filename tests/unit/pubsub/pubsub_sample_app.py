"""A small app whose AsyncAPI document is snapshot-tested (FastStream contract check)."""

from __future__ import annotations

from pydantic import BaseModel

from faststream_gcp_pubsub import PubSubBroker, PubSubMessage


class FileArrived(BaseModel):
    bucket: str
    name: str
    generation: int


class PartitionCompleted(BaseModel):
    dataset: str
    partition: str
    rows: int


broker = PubSubBroker(project="sample-project", logger=None)


@broker.subscriber(
    "file-arrived-worker",
    topic="file-arrived",
    dead_letter_topic="file-arrived-dlq",
    max_delivery_attempts=5,
    retry_backoff=(10, 600),
    ack_deadline=60,
    max_messages=100,
)
@broker.publisher("partition-completed", description="A partition was committed.")
async def on_file(event: FileArrived, msg: PubSubMessage) -> PartitionCompleted:
    """Turn an arrived file into its partition."""
    return PartitionCompleted(dataset="trips", partition="2026-01-02", rows=1)
