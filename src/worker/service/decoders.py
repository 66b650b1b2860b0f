"""FastStream decoders: raw Pub/Sub bytes and attributes → our typed events.

Each subscriber gets its own decoder, so a handler's parameter is the event model itself
(and AsyncAPI documents the real schema). A message from a topic bound to a Pub/Sub schema
is read with its writer's revision (:class:`SchemaRevisions`, looked up once per revision).
Decoding errors are the ``worker.errors`` the events package raises (``DecodeError``,
``SchemaError``, ``ForbiddenPathError``); the settling middleware sees them and
dead-letters the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from faststream.message import StreamMessage

from worker.events import (
    BackfillRequested,
    FileArrived,
    Ignored,
    PartitionRequested,
    decode_backfill_requested,
    decode_partition_requested,
    normalize_file_arrived,
)
from worker.observability.tracing import stage_span
from worker.service.policy import MessageIgnored
from worker.service.schema_revisions import SchemaRevisions
from worker.service.scope import enter_stage


def _body(message: StreamMessage[Any]) -> bytes:
    body = message.body
    return body if isinstance(body, bytes) else bytes(body)


@dataclass(frozen=True)
class Decoders:
    """The three subscribers' decoders, sharing one cache of writer schema revisions."""

    revisions: SchemaRevisions

    async def file_arrived(self, message: StreamMessage[Any]) -> FileArrived:
        """Any producer's "a file arrived" (notification, CloudEvent, our event) → FileArrived."""
        enter_stage("decode")
        with stage_span("decode"):
            await self.revisions.prepare(message.headers)
            event = normalize_file_arrived(
                _body(message), message.headers, writer_schemas=self.revisions.known
            )
        if isinstance(event, Ignored):
            raise MessageIgnored(event.reason)
        return event

    async def backfill(self, message: StreamMessage[Any]) -> BackfillRequested:
        enter_stage("decode")
        with stage_span("decode"):
            await self.revisions.prepare(message.headers)
            return decode_backfill_requested(
                _body(message), message.headers, writer_schemas=self.revisions.known
            )

    async def partition(self, message: StreamMessage[Any]) -> PartitionRequested:
        enter_stage("decode")
        with stage_span("decode"):
            await self.revisions.prepare(message.headers)
            return decode_partition_requested(
                _body(message), message.headers, writer_schemas=self.revisions.known
            )
