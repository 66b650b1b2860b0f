"""Attributes that explain why a message was dead-lettered, and their removal for replay.

A dead letter carries the original body and attributes unchanged plus ``x-*`` attributes
describing the failure. :func:`strip_error_attributes` removes exactly those, so replaying
a dead letter republishes what originally arrived. Pub/Sub limits attributes to 100 per
message, keys to 256 bytes and values to 1024 bytes; values are cut to fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from faststream_gcp_pubsub.errors import BrokerError
from worker.errors import WorkerError

MAX_ATTRIBUTES = 100
MAX_VALUE_BYTES = 1024
MAX_ERROR_MESSAGE_BYTES = 512
"""Error messages can quote whole inputs; half the value limit keeps dead letters readable."""

ERROR_TYPE = "x-error-type"
ERROR_REASON = "x-error-reason"
ERROR_MESSAGE = "x-error-message"
ERROR_STAGE = "x-error-stage"
SOURCE_SUBSCRIPTION = "x-source-subscription"
SOURCE_TOPIC = "x-source-topic"
ORIGINAL_MESSAGE_ID = "x-original-message-id"
DELIVERY_ATTEMPT = "x-delivery-attempt"
WORKER_VERSION = "x-worker-version"
DEAD_LETTERED_AT = "x-dead-lettered-at"

# In order of importance: when the original already uses most of the 100 attributes,
# the first ones are kept.
ERROR_ATTRIBUTE_KEYS = (
    ERROR_TYPE,
    ERROR_REASON,
    ERROR_MESSAGE,
    ERROR_STAGE,
    SOURCE_SUBSCRIPTION,
    ORIGINAL_MESSAGE_ID,
    DELIVERY_ATTEMPT,
    SOURCE_TOPIC,
    WORKER_VERSION,
    DEAD_LETTERED_AT,
)
UNEXPECTED_REASON = "unexpected"


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, never inside a character; a cut is
    marked with an ellipsis."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return encoded.decode("utf-8")
    marker = "…"
    budget = max_bytes - len(marker.encode("utf-8"))
    return encoded[:budget].decode("utf-8", errors="ignore") + marker


def dead_letter_attributes(
    original: Mapping[str, str],
    *,
    error: WorkerError | Exception,
    stage: str,
    subscription: str,
    message_id: str,
    delivery_attempt: int | None,
    worker_version: str,
    now: datetime,
    topic: str | None = None,
) -> dict[str, str]:
    """The attributes to publish a dead letter with: ``original`` plus the error ones.

    Error attributes from an earlier dead-lettering (a replayed message that failed
    again) are replaced, not duplicated.
    """
    kept = strip_error_attributes(original)
    described = {
        ERROR_TYPE: type(error).__name__,
        ERROR_REASON: error.reason
        if isinstance(error, WorkerError | BrokerError)
        else UNEXPECTED_REASON,
        ERROR_MESSAGE: truncate_utf8(str(error) or repr(error), MAX_ERROR_MESSAGE_BYTES),
        ERROR_STAGE: stage,
        SOURCE_SUBSCRIPTION: subscription,
        ORIGINAL_MESSAGE_ID: message_id,
        DELIVERY_ATTEMPT: None if delivery_attempt is None else str(delivery_attempt),
        SOURCE_TOPIC: topic,
        WORKER_VERSION: worker_version,
        DEAD_LETTERED_AT: now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    room = MAX_ATTRIBUTES - len(kept)
    for key in ERROR_ATTRIBUTE_KEYS:
        value = described[key]
        if value is None:
            continue
        if room <= 0:
            break
        kept[key] = truncate_utf8(value, MAX_VALUE_BYTES)
        room -= 1
    return kept


def strip_error_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """The attributes as they were before dead-lettering added the error ones."""
    return {key: value for key, value in attributes.items() if key not in ERROR_ATTRIBUTE_KEYS}
