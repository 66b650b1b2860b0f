"""Pub/Sub push requests: the envelope Pub/Sub POSTs to an endpoint, parsed and checked.

A push subscription delivers each message as one HTTP POST whose JSON body is::

    {"message": {"data": "<base64>", "attributes": {"k": "v"}, "messageId": "123",
                 "publishTime": "2024-01-15T10:00:00.123456789Z", "orderingKey": "k"},
     "subscription": "projects/P/subscriptions/S",
     "deliveryAttempt": 3}

``data``, ``attributes`` and ``orderingKey`` may be absent (a message may carry only
attributes); ``deliveryAttempt`` is sent only when the subscription has a dead-letter
policy. Pub/Sub also repeats some fields in snake case (``message_id``,
``publish_time``); either spelling is accepted. The response status settles the message:
see :class:`faststream_gcp_pubsub.transport.push.PushTransport`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faststream_gcp_pubsub.errors import PushRequestError

MAX_MESSAGE_DATA_BYTES = 10 * 1024 * 1024
"""Pub/Sub's limit on one message's data."""
MAX_PUSH_BODY_BYTES = MAX_MESSAGE_DATA_BYTES * 4 // 3 + 1024 * 1024
"""The largest push body a valid message makes: base64 data plus attributes and envelope."""

_SUBSCRIPTION_PATH = re.compile(r"^projects/([^/]+)/subscriptions/([^/]+)$")
_FRACTION_BEYOND_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True, slots=True)
class PushEnvelope:
    """One pushed message, as the endpoint received it."""

    project: str
    subscription: str
    """The subscription's short name (``S`` of ``projects/P/subscriptions/S``)."""
    message_id: str
    data: bytes
    attributes: Mapping[str, str]
    ordering_key: str
    publish_time: datetime
    delivery_attempt: int | None


def parse_push_envelope(body: bytes) -> PushEnvelope:
    """The envelope in ``body``; :class:`PushRequestError` naming the first problem."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PushRequestError(f"body is not JSON: {error}", where="push envelope") from None
    if not isinstance(document, dict):
        raise PushRequestError("body is not a JSON object", where="push envelope")
    message = document.get("message")
    if not isinstance(message, dict):
        raise PushRequestError("'message' is missing or not an object", where="push envelope")
    project, subscription = _subscription(document.get("subscription"))
    where = f"push envelope of subscription {subscription}"
    message_id = _text(message, ("messageId", "message_id"), where, required=True)
    return PushEnvelope(
        project=project,
        subscription=subscription,
        message_id=message_id,
        data=_data(message.get("data"), f"{where}, message {message_id}"),
        attributes=_attributes(message.get("attributes"), f"{where}, message {message_id}"),
        ordering_key=_text(message, ("orderingKey", "ordering_key"), where),
        publish_time=_publish_time(message, f"{where}, message {message_id}"),
        delivery_attempt=_delivery_attempt(document.get("deliveryAttempt"), where),
    )


def _subscription(value: object) -> tuple[str, str]:
    match = _SUBSCRIPTION_PATH.match(value) if isinstance(value, str) else None
    if match is None:
        msg = f"'subscription' must be projects/P/subscriptions/S, not {value!r:.200}"
        raise PushRequestError(msg, where="push envelope")
    return match.group(1), match.group(2)


def _text(
    message: Mapping[str, Any], keys: tuple[str, ...], where: str, *, required: bool = False
) -> str:
    for key in keys:
        value = message.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise PushRequestError(f"'message.{key}' is not a string", where=where)
        return value
    if required:
        raise PushRequestError(f"'message.{keys[0]}' is missing", where=where)
    return ""


def _data(value: object, where: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise PushRequestError("'message.data' is not a base64 string", where=where)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as error:
        raise PushRequestError(f"'message.data' is not base64: {error}", where=where) from None


def _attributes(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PushRequestError("'message.attributes' is not a string map", where=where)
    return dict(value)


def _publish_time(message: Mapping[str, Any], where: str) -> datetime:
    text = _text(message, ("publishTime", "publish_time"), where)
    if not text:
        # Pub/Sub always sends it; a hand-made envelope without one is still processable.
        return datetime.now(UTC)
    # Pub/Sub writes nanoseconds; datetime keeps microseconds.
    trimmed = _FRACTION_BEYOND_MICROSECONDS.sub(r"\1", text)
    try:
        parsed = datetime.fromisoformat(trimmed)
    except ValueError:
        raise PushRequestError(
            f"'message.publishTime' {text!r:.64} is not RFC 3339", where=where
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _delivery_attempt(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PushRequestError(
            f"'deliveryAttempt' must be a positive integer, not {value!r:.32}", where=where
        )
    return value
