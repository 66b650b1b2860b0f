from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from worker.errors import SchemaError
from worker.events.deadletter import (
    ERROR_ATTRIBUTE_KEYS,
    MAX_ATTRIBUTES,
    MAX_VALUE_BYTES,
    dead_letter_attributes,
    strip_error_attributes,
    truncate_utf8,
)

NOW = datetime(2024, 1, 15, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
ORIGINAL = {"content-type": "application/json", "event-type": "file-arrived"}


def _dead_letter(original: dict[str, str], error: Exception, **overrides: object) -> dict[str, str]:
    arguments: dict[str, object] = {
        "error": error,
        "stage": "decode",
        "subscription": "projects/p/subscriptions/file-arrived-worker",
        "message_id": "4242",
        "delivery_attempt": 3,
        "worker_version": "0.1.0",
        "now": NOW,
        "topic": "projects/p/topics/file-arrived",
    } | overrides
    return dead_letter_attributes(original, **arguments)  # type: ignore[arg-type]


def test_error_attributes_describe_the_failure_next_to_the_original_ones() -> None:
    error = SchemaError("missing field generation", where="file-arrived message")
    assert _dead_letter(ORIGINAL, error) == ORIGINAL | {
        "x-error-type": "SchemaError",
        "x-error-reason": "schema",
        "x-error-message": "missing field generation (file-arrived message)",
        "x-error-stage": "decode",
        "x-source-subscription": "projects/p/subscriptions/file-arrived-worker",
        "x-source-topic": "projects/p/topics/file-arrived",
        "x-original-message-id": "4242",
        "x-delivery-attempt": "3",
        "x-worker-version": "0.1.0",
        "x-dead-lettered-at": "2024-01-15T11:00:00.123+00:00",
    }


def test_unknown_attempt_and_topic_are_left_out_and_foreign_errors_are_unexpected() -> None:
    attributes = _dead_letter(ORIGINAL, KeyError("x"), delivery_attempt=None, topic=None)
    assert "x-delivery-attempt" not in attributes
    assert "x-source-topic" not in attributes
    assert attributes["x-error-type"] == "KeyError"
    assert attributes["x-error-reason"] == "unexpected"


def test_long_messages_are_cut_on_a_character_boundary() -> None:
    attributes = _dead_letter(ORIGINAL, ValueError("é" * 5000))
    message = attributes["x-error-message"]
    assert len(message.encode("utf-8")) <= 512
    assert message.endswith("…")
    assert set(message[:-1]) == {"é"}


def test_a_failing_replay_replaces_the_previous_error_attributes() -> None:
    first = _dead_letter(ORIGINAL, ValueError("first"))
    second = _dead_letter(first, ValueError("second"), delivery_attempt=None)
    assert second["x-error-message"] == "second"
    assert "x-delivery-attempt" not in second
    assert strip_error_attributes(second) == ORIGINAL


def test_a_crowded_original_keeps_all_its_attributes_and_the_most_important_error_ones() -> None:
    crowded = {f"k{index}": "v" for index in range(95)}
    attributes = _dead_letter(crowded, ValueError("boom"))
    assert len(attributes) == MAX_ATTRIBUTES
    assert {key: attributes[key] for key in crowded} == crowded
    assert [key for key in attributes if key not in crowded] == list(ERROR_ATTRIBUTE_KEYS[:5])


def test_truncate_utf8_leaves_short_text_alone() -> None:
    assert truncate_utf8("short", 10) == "short"
    assert truncate_utf8("abcdefghijk", 10) == "abcdefg…"


attribute_keys = st.text(min_size=1, max_size=20).filter(lambda key: not key.startswith("x-"))
originals = st.dictionaries(attribute_keys, st.text(max_size=50), max_size=90)


@given(original=originals, message=st.text(max_size=3000), stage=st.text(max_size=2000))
def test_replay_after_strip_is_exactly_what_arrived_and_limits_hold(
    original: dict[str, str], message: str, stage: str
) -> None:
    attributes = _dead_letter(original, RuntimeError(message), stage=stage, now=datetime.now(UTC))
    assert strip_error_attributes(attributes) == original
    assert len(attributes) <= MAX_ATTRIBUTES
    added = {key: value for key, value in attributes.items() if key not in original}
    assert all(len(value.encode("utf-8")) <= MAX_VALUE_BYTES for value in added.values())
    assert all(len(key.encode("utf-8")) <= 256 for key in added)
