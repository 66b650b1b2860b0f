"""Build and publish our own events: what the service announces and what operators trigger.

Every event goes out in the configured encoding (``WORKER_EVENT_ENCODING``) with its
content type, event type and schema version in the attributes, plus the current trace
context, so the consumer's trace continues ours.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Protocol

from worker.errors import ConfigurationError
from worker.events import BackfillRequested, ContentType, Event, FileArrived, encode
from worker.observability.tracing import inject_context
from worker.settings import EventEncoding
from worker.storage.uris import GCS_SCHEME, parse_uri

MEDIA_TYPES: dict[EventEncoding, ContentType] = {
    "json": "application/json",
    "avro": "application/avro",
}


class Publisher(Protocol):
    """A FastStream publisher (or broker) bound to one topic."""

    async def publish(
        self, message: bytes, topic: str = "", *, headers: dict[str, str] | None = None
    ) -> str: ...


def wire_message(event: Event, encoding: EventEncoding) -> tuple[bytes, dict[str, str]]:
    """The body and attributes to publish ``event`` with, trace context included."""
    body, attributes = encode(event, MEDIA_TYPES[encoding])
    inject_context(attributes)
    return body, attributes


async def publish_event(
    publisher: Publisher, event: Event, encoding: EventEncoding, *, topic: str = ""
) -> str:
    """Publish ``event``; returns the Pub/Sub message id."""
    body, attributes = wire_message(event, encoding)
    return await publisher.publish(body, topic, headers=attributes)


def file_arrived_event(
    uri: str, *, generation: int, size: int | None, event_time: datetime
) -> FileArrived:
    """Our own ``file-arrived`` for ``uri`` (``gs://`` or a local path) at ``generation``.

    The event id is the same one a Cloud Storage notification of that generation gets, so
    announcing a file by hand and by notification deduplicates.
    """
    parsed = parse_uri(uri)
    canonical = str(parsed)
    return FileArrived(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{canonical}#{generation}")),
        uri=canonical,
        bucket=parsed.bucket if parsed.scheme == GCS_SCHEME else "",
        object=parsed.key,
        generation=generation,
        size=size,
        event_time=event_time,
        source="worker",
    )


def backfill_event(
    dataset: str,
    start: date,
    end: date,
    *,
    mode: str,
    reason: str | None,
    requested_by: str,
    requested_at: datetime,
) -> BackfillRequested:
    """A ``backfill-requested`` with a fresh backfill id (it names one operator request)."""
    if end < start:
        raise ConfigurationError(
            f"end date {end.isoformat()} is before start date {start.isoformat()}",
            where=f"backfill of {dataset}",
        )
    return BackfillRequested.model_validate(
        {
            "backfill_id": f"bf-{uuid.uuid4().hex[:16]}",
            "dataset": dataset,
            "start_date": start,
            "end_date": end,
            "mode": mode,
            "reason": reason,
            "requested_by": requested_by,
            "requested_at": requested_at,
        }
    )
