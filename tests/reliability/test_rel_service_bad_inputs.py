"""Bad input through the running service: every bad message or file is dead-lettered with
the right ``x-error-reason``, the worker keeps serving, and a good file after them commits.

The same run checks that secrets stay out of everything the worker writes: it runs with
``WORKER_PUSH_AUTH_TOKEN`` set to a marker, and the marker appears in no log line, no dead
letter and no page of its HTTP server. Property-based fuzzing of every decoder and
normalizer lives in tests/unit/events/test_event_fuzz.py.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from google.cloud.pubsub_v1.publisher.exceptions import MessageTooLargeError

from support import reliability_inputs as bad
from support.gcs_notifications import finalized
from support.reliability_audit import Landed, audit_partitions
from support.reliability_results import record
from support.reliability_stack import Pulled, Stack, wait_for
from worker.devenv.emulators import ManagedProcess
from worker.events import FileArrived
from worker.events.codec import encode

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SECRET_MARKER = "s3cr3t-marker-7f1c9e"  # noqa: S105 - a marker to search logs for, not a secret
FORBIDDEN = "forbidden-path"
JSON_EVENT = {"content-type": "application/json", "event-type": "file-arrived"}


def _avro_file_arrived() -> tuple[bytes, dict[str, str]]:
    """A valid Avro ``file-arrived`` for a day nothing else touches, and its attributes."""
    event = FileArrived(
        event_id="e-avro",
        uri="gs://landing/trips/2024-02-09.csv",
        bucket="landing",
        object="trips/2024-02-09.csv",
        generation=1,
        event_time=datetime(2024, 2, 1, tzinfo=UTC),
        source="gcs_notification",
    )
    return encode(event, "application/avro")


AVRO_BODY, AVRO_ATTRIBUTES = _avro_file_arrived()


# (case, body, attributes, expected x-error-reason); each message carries its case name.
MESSAGES: list[tuple[str, bytes, dict[str, str], str]] = [
    ("malformed JSON", b'{"uri": "gs://landing/trips/2024-', JSON_EVENT, "decode"),
    (
        "wrong field types",
        json.dumps({"event_id": 7, "uri": ["x"], "generation": "many"}).encode(),
        JSON_EVENT,
        "schema",
    ),
    ("truncated Avro", AVRO_BODY[: len(AVRO_BODY) // 2], AVRO_ATTRIBUTES, "decode"),
    (
        "Avro with an unknown schema",
        AVRO_BODY,
        {**AVRO_ATTRIBUTES, "schema-version": "97"},
        "schema",
    ),
    ("missing attributes", b'{"name": "trips/2024-02-09.csv"}', {}, "schema"),
    (
        "notification without objectId",
        b"",
        {k: v for k, v in finalized("landing", "x").items() if k != "objectId"},
        "schema",
    ),
    ("unconfigured bucket", b"", finalized("elsewhere", "trips/2024-02-09.csv"), FORBIDDEN),
    ("'..' in object name", b"", finalized("landing", "trips/../../etc/x.csv"), FORBIDDEN),
    ("absolute object name", b"", finalized("landing", "/etc/trips/x.csv"), FORBIDDEN),
    (
        "URL-encoded traversal",
        b"",
        finalized("landing", "trips/%2e%2e/%2e%2e/2024-02-09.csv"),
        FORBIDDEN,
    ),
    ("NUL byte in name", b"", finalized("landing", "trips/2024-02-09.csv\x00.sh"), FORBIDDEN),
    ("unroutable object", b"", finalized("landing", "misc/readme.txt"), "unroutable"),
]
# (object name, bytes, expected x-error-reason): uploaded, announced by fake-gcs-server.
# No empty object here: fake-gcs-server answers the ranged download of a 0-byte object with
# 416 but without ``Content-Range: bytes */0`` (real Cloud Storage sends it, and the client
# relies on it), so there it fails as a storage error. test_rel_cli_bad_inputs.py covers
# empty files.
FILES: list[tuple[str, bytes, str]] = [
    ("gz/2024-02-01.csv.gz", bad.gzip_bomb(), "input-format"),
    ("trips/2024-02-02.csv", bad.huge_header_csv(), "input-format"),
    ("trips/2024-02-03.csv", bad.readings_parquet(), "input-format"),
    ("trips/2024-02-04.csv", bad.malformed_csv(), "input-format"),
    ("parquet/2024-02-01.parquet", bad.other_schema_parquet(), "contract"),
    ("avro/2024-02-01.avro", bad.truncated_avro(), "input-format"),
]
_WORKER_AREAS = ("logs", "output", "scratch")
"""What a test stack's directory may hold: process logs, the output root, the workdir."""
OVERSIZED_BYTES = 10 * 1024 * 1024 + 1


def _case_of(letter: Pulled) -> str:
    return letter.attributes.get("case") or letter.attributes.get("objectId", "?")


def _page(worker: ManagedProcess, path: str) -> str:
    with urllib.request.urlopen(f"http://{worker.host}{path}", timeout=10) as response:
        body: bytes = response.read()
    return body.decode(errors="replace")


def test_bad_messages_and_files_are_dead_lettered_and_the_worker_keeps_serving(
    pubsub_emulator: ManagedProcess, tmp_path: Path, unique_name: str
) -> None:
    stack = Stack(
        tmp_path,
        pubsub_emulator.host,
        unique_name,
        extra_env={
            "WORKER_PUSH_AUTH_TOKEN": SECRET_MARKER,
            "WORKER_DATASETS": "support.reliability_datasets",
        },
    )
    try:
        stack.start()
        worker = stack.start_worker("bad-inputs")
        stack.publish(
            "file-arrived",
            [(body, {**attributes, "case": case}) for case, body, attributes, _ in MESSAGES],
        )
        # Pub/Sub's 10 MB limit stops an oversized message before any worker sees it; the
        # worker's own body limit (the same 10 MiB) is covered by the codec unit tests.
        with pytest.raises(MessageTooLargeError):
            stack.publish("file-arrived", [(b"x" * OVERSIZED_BYTES, JSON_EVENT)])
        for name, data, _ in FILES:
            stack.upload(name, data)
        expected = {case: reason for case, _, _, reason in MESSAGES}
        expected |= {name: reason for name, _, reason in FILES}

        letters: dict[str, Pulled] = {}

        def all_dead_lettered() -> bool:
            for letter in stack.pull("file-arrived-dlq-keep", quiet_s=0):
                letters[_case_of(letter)] = letter
            return set(expected) <= set(letters)

        wait_for(all_dead_lettered, 180, "a dead letter for every bad input", every_s=1.0)
        good_day = date(2024, 2, 10)
        generation = stack.upload("trips/2024-02-10.csv", bad.trips_csv(good_day, 100))
        landed = {good_day: [Landed("gs://landing/trips/2024-02-10.csv", generation, 100)]}
        wait_for(
            lambda: audit_partitions(stack.output, "trips", landed).partitions == 1,
            120,
            "the good file after the bad ones to commit",
        )
        reasons = {case: letters[case].attributes.get("x-error-reason") for case in expected}
        committed = sorted(
            str(path.parent.relative_to(stack.output))
            for path in stack.output.rglob("_manifest.json")
        )
        # The worker runs in this directory: whatever it wrote with a relative path is here.
        outside_output = sorted(
            str(path.relative_to(tmp_path))
            for path in tmp_path.rglob("*")
            if path.is_file() and path.relative_to(tmp_path).parts[0] not in _WORKER_AREAS
        )
        originals_kept = sum(
            1
            for case, body, attributes, _ in MESSAGES
            if letters[case].data == body
            and all(letters[case].attributes.get(k) == v for k, v in attributes.items())
        )
        alive = worker.proc.poll() is None
        pages = _page(worker, "/healthz") + _page(worker, "/metrics")
        logs = stack.log_lines()
        dead_letter_text = "".join(
            letter.data.decode(errors="replace") + json.dumps(letter.attributes)
            for letter in letters.values()
        )
        leaks = sum(text.count(SECRET_MARKER) for text in (logs, pages, dead_letter_text))
        wrong = {
            case: (reasons[case], want) for case, want in expected.items() if reasons[case] != want
        }
        record(
            "service-bad-inputs",
            inputs_tried=len(expected) + 1,
            dead_lettered=len(letters),
            wrong_reason=len(wrong),
            originals_kept=originals_kept,
            oversized_refused_at_publish=1,
            good_after_bad="committed",
            partitions_committed=len(committed),
            written_outside_output=len(outside_output),
            worker_alive=str(alive),
        )
        record("secrets-service", secret_settings=1, log_bytes=len(logs), leaks=leaks)
        assert wrong == {}, f"case: (got, expected) {wrong}"
        assert committed == ["trips/year=2024/month=02/day=10"], "only the good file may commit"
        assert outside_output == [], "the worker wrote outside its output root and scratch"
        assert originals_kept == len(MESSAGES), (
            "dead letters must carry the original bytes and attributes"
        )
        assert alive, f"the worker died; log {worker.log}"
        assert leaks == 0, "the secret marker leaked into logs, pages or dead letters"
    finally:
        stack.stop()
