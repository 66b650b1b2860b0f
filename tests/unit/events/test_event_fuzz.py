"""Whatever arrives, decoders and normalizers raise only errors of our tree."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import pytest
from event_strategies import STRATEGIES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.errors import WorkerError
from worker.events.codec import decode, encode
from worker.events.models import Event, FileArrived
from worker.events.normalize import (
    Ignored,
    decode_backfill_requested,
    decode_partition_requested,
    normalize_file_arrived,
)

Reader = Callable[[bytes, Mapping[str, str]], object]

KNOWN_VALUES: dict[str, list[str]] = {
    "content-type": [
        "application/avro",
        "application/json",
        "application/cloudevents+json",
        "text/plain",
    ],
    "event-type": ["file-arrived", "backfill-requested", "partition-requested", "x"],
    "schema-version": ["1", "2", "0", "-1", "one"],
    "googclient_schemaencoding": ["BINARY", "JSON", "PROTO"],
    "eventType": ["OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_ARCHIVE", "NOPE"],
    "payloadFormat": ["JSON_API_V1", "NONE", "XML"],
    "bucketId": ["landing", "B", "..", ""],
    "objectId": ["a.csv", "../x", "/abs", "%2e%2e/x", "a\x00b", ""],
    "objectGeneration": ["1", "-1", "99999999999999999999", "x"],
    "eventTime": ["2024-01-15T10:00:00Z", "yesterday", "2024-01-15T10:00:00"],
    "ce-specversion": ["1.0", "0.3"],
    "ce-type": [
        "google.cloud.storage.object.v1.finalized",
        "google.cloud.storage.object.v1.deleted",
        "other",
    ],
    "ce-source": ["//storage.googleapis.com/projects/_/buckets/landing", "//x"],
    "ce-subject": ["objects/a.csv", "objects/../a", "objects/", "a"],
    "ce-id": ["1", ""],
    "ce-time": ["2024-01-15T10:00:00Z", "never"],
}
text = st.text(max_size=30)
attributes = st.dictionaries(
    st.sampled_from(sorted(KNOWN_VALUES)) | text,
    text,
    max_size=8,
).flatmap(
    lambda free: st.fixed_dictionaries(
        {},
        optional={key: st.sampled_from(values) | text for key, values in KNOWN_VALUES.items()},
    ).map(lambda known: free | known)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)
resource_like = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        ("name", "bucket", "generation", "size", "contentType", "updated", "data"),
        json_values | text,
    ),
)


@st.composite
def corrupted_events(draw: st.DrawFn) -> bytes:
    """A real encoded event with a few bytes changed, cut or appended."""
    event: Event = draw(st.sampled_from(list(STRATEGIES)).flatmap(lambda model: STRATEGIES[model]))
    body = bytearray(
        encode(event, draw(st.sampled_from(["application/avro", "application/json"])))[0]
    )
    for _ in range(draw(st.integers(0, 3))):
        if body:
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body[: draw(st.integers(0, len(body)))]) + draw(st.binary(max_size=4))


bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value).encode())
    | resource_like.map(lambda value: json.dumps(value).encode())
    | corrupted_events()
)

READERS: dict[str, Reader] = {
    "normalize_file_arrived": normalize_file_arrived,
    "decode_backfill_requested": decode_backfill_requested,
    "decode_partition_requested": decode_partition_requested,
    **{
        f"decode[{model.event_type}]": (
            lambda body, attrs, model=model: decode(body, attrs, model)  # type: ignore[misc]
        )
        for model in STRATEGIES
    },
}


@pytest.mark.parametrize("reader", list(READERS.values()), ids=list(READERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, attrs=attributes)
def test_arbitrary_messages_raise_only_worker_errors(
    reader: Reader, body: bytes, attrs: dict[str, str]
) -> None:
    try:
        result = reader(body, attrs)
    except WorkerError:
        return
    assert isinstance(result, Event | Ignored)


@settings(max_examples=100, deadline=None)
@given(resource=resource_like, attrs=attributes)
def test_notification_and_cloudevent_shapes_raise_only_worker_errors(
    resource: dict[str, object], attrs: dict[str, str]
) -> None:
    body = json.dumps(resource).encode()
    for marker in (
        {"eventType": "OBJECT_FINALIZE"},
        {"ce-type": "google.cloud.storage.object.v1.finalized"},
    ):
        try:
            result = normalize_file_arrived(body, attrs | marker)
        except WorkerError:
            continue
        assert isinstance(result, FileArrived | Ignored)
