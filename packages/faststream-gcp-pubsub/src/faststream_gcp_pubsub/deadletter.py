"""Attribute names the broker adds when it dead-letters a message itself (``reject``).

An application that dead-letters messages itself can use the same names, so a dead
letter looks the same whoever produced it and operator tools strip them alike on replay.
Pub/Sub limits an attribute value to 1024 bytes; error messages are cut to half of that,
on a character boundary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

ERROR_TYPE = "x-error-type"
ERROR_REASON = "x-error-reason"
ERROR_MESSAGE = "x-error-message"
SOURCE_SUBSCRIPTION = "x-source-subscription"
ORIGINAL_MESSAGE_ID = "x-original-message-id"
DELIVERY_ATTEMPT = "x-delivery-attempt"
DEAD_LETTERED_AT = "x-dead-lettered-at"
ERROR_STAGE = "x-error-stage"
SOURCE_TOPIC = "x-source-topic"
WORKER_VERSION = "x-worker-version"
"""Set only by the service's own dead-lettering; listed so a replay's stale ones go."""

DEAD_LETTER_ATTRIBUTE_KEYS = frozenset(
    {
        ERROR_TYPE,
        ERROR_REASON,
        ERROR_MESSAGE,
        ERROR_STAGE,
        SOURCE_SUBSCRIPTION,
        SOURCE_TOPIC,
        ORIGINAL_MESSAGE_ID,
        DELIVERY_ATTEMPT,
        WORKER_VERSION,
        DEAD_LETTERED_AT,
    }
)

UNEXPECTED_REASON = "unexpected"
MAX_ERROR_MESSAGE_BYTES = 512
_CUT_MARKER = "…"


def original_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """``attributes`` without those an earlier dead-lettering added (a replayed message
    that failed again is described once, by its latest failure)."""
    return {k: v for k, v in attributes.items() if k not in DEAD_LETTER_ATTRIBUTE_KEYS}


def origin_attributes(
    subscription: str, message_id: str, delivery_attempt: int | None, now: datetime
) -> dict[str, str]:
    """Where the dead letter came from and when it was dead-lettered."""
    attributes = {
        SOURCE_SUBSCRIPTION: subscription,
        ORIGINAL_MESSAGE_ID: message_id,
        DEAD_LETTERED_AT: now.astimezone(UTC).isoformat(timespec="milliseconds"),
    }
    if delivery_attempt is not None:
        attributes[DELIVERY_ATTEMPT] = str(delivery_attempt)
    return attributes


def error_attributes(error: BaseException) -> dict[str, str]:
    """What went wrong: the error's type, reason and (cut) message."""
    return {
        ERROR_TYPE: type(error).__name__,
        ERROR_REASON: _reason_of(error),
        ERROR_MESSAGE: _cut_utf8(str(error) or repr(error), MAX_ERROR_MESSAGE_BYTES),
    }


def _reason_of(error: BaseException) -> str:
    """The error class's ``reason`` (the broker's errors and any application's), else unexpected."""
    reason = getattr(type(error), "reason", None)
    return reason if isinstance(reason, str) and reason else UNEXPECTED_REASON


def _cut_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return encoded.decode("utf-8")
    budget = max_bytes - len(_CUT_MARKER.encode("utf-8"))
    return encoded[:budget].decode("utf-8", errors="ignore") + _CUT_MARKER
