"""Parsing Pub/Sub's push envelope: every field Pub/Sub sends, every way it can be wrong."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from faststream_gcp_pubsub.errors import PushRequestError
from faststream_gcp_pubsub.push import parse_push_envelope


def body(**changes: Any) -> bytes:
    """A push body as Pub/Sub sends it, with ``changes`` applied (None removes a key)."""
    message: dict[str, Any] = {
        "data": base64.b64encode(b'{"n": 1}').decode(),
        "attributes": {"content-type": "application/json"},
        "messageId": "1234",
        "message_id": "1234",
        "publishTime": "2024-01-15T10:00:00.123456789Z",
        "publish_time": "2024-01-15T10:00:00.123456789Z",
        "orderingKey": "key-1",
    }
    document: dict[str, Any] = {
        "message": message,
        "subscription": "projects/proj/subscriptions/file-arrived-worker",
        "deliveryAttempt": 3,
    }
    for key, value in changes.items():
        target = document if key in document else message
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return json.dumps(document).encode()


def test_reads_every_field_pubsub_sends() -> None:
    envelope = parse_push_envelope(body())

    assert envelope.project == "proj"
    assert envelope.subscription == "file-arrived-worker"
    assert envelope.message_id == "1234"
    assert envelope.data == b'{"n": 1}'
    assert envelope.attributes == {"content-type": "application/json"}
    assert envelope.ordering_key == "key-1"
    assert envelope.publish_time == datetime(2024, 1, 15, 10, 0, 0, 123456, tzinfo=UTC)
    assert envelope.delivery_attempt == 3


def test_optional_fields_may_be_absent_and_snake_case_is_accepted() -> None:
    envelope = parse_push_envelope(
        body(data=None, attributes=None, orderingKey=None, deliveryAttempt=None,
             messageId=None, publishTime=None)
    )  # fmt: skip

    assert envelope.message_id == "1234"
    assert envelope.data == b""
    assert envelope.attributes == {}
    assert envelope.ordering_key == ""
    assert envelope.delivery_attempt is None
    assert envelope.publish_time == datetime(2024, 1, 15, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({"subscription": "projects/p/subscriptions/s"}).encode(), "'message'"),
        (body(subscription="file-arrived-worker"), "projects/P/subscriptions/S"),
        (body(subscription=7), "projects/P/subscriptions/S"),
        (body(messageId=None, message_id=None), "'message.messageId' is missing"),
        (body(messageId=12), "'message.messageId' is not a string"),
        (body(data="not base64!"), "'message.data' is not base64"),
        (body(data=5), "'message.data' is not a base64 string"),
        (body(attributes={"n": 1}), "'message.attributes' is not a string map"),
        (body(attributes=["a"]), "'message.attributes' is not a string map"),
        (body(publishTime="yesterday"), "'message.publishTime'"),
        (body(deliveryAttempt=0), "'deliveryAttempt' must be a positive integer"),
        (body(deliveryAttempt=True), "'deliveryAttempt' must be a positive integer"),
        (body(deliveryAttempt="2"), "'deliveryAttempt' must be a positive integer"),
    ],
)
def test_a_malformed_envelope_names_its_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(PushRequestError, match="push envelope") as raised:
        parse_push_envelope(raw)
    assert problem in str(raised.value)
