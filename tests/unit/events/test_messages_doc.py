"""Every example in docs/messages.md decodes as the page says it does."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from worker.core.datasets import load_registry
from worker.core.load import partition_uri
from worker.core.manifest import Manifest, ManifestFile, ManifestInput, manifest_uri
from worker.core.model import PartitionResult
from worker.core.quality import CheckOutcome
from worker.core.sink import data_file_name
from worker.events.codec import decode
from worker.events.models import BackfillCompleted, Event, FileArrived, PartitionCompleted
from worker.events.normalize import (
    decode_backfill_requested,
    decode_partition_requested,
    normalize_file_arrived,
)
from worker.service.completion import completion_event
from worker.storage.uris import join_uri

DOC = (Path(__file__).parents[3] / "docs" / "messages.md").read_text("utf-8")
_BLOCK = re.compile(r"(?:<!-- (?P<marker>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)
READERS: dict[str, Callable[[bytes, Mapping[str, str]], object]] = {
    "file-arrived": normalize_file_arrived,
    "backfill-requested": decode_backfill_requested,
    "partition-requested": decode_partition_requested,
    "partition-completed": lambda body, attributes: decode(body, attributes, PartitionCompleted),
    "backfill-completed": lambda body, attributes: decode(body, attributes, BackfillCompleted),
}


def _blocks(lang: str) -> list[re.Match[str]]:
    return [block for block in _BLOCK.finditer(DOC) if block["lang"] == lang]


def _publish_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("shell"):
        for command in block["code"].replace("\\\n", " ").split("\ngcloud "):
            words = shlex.split(command.removeprefix("gcloud "))
            if words[:3] == ["pubsub", "topics", "publish"]:
                commands.append(words[3:])
    return commands


def _publish_arguments(words: list[str]) -> tuple[str, bytes, dict[str, str]]:
    topic, options = words[0], words[1:]
    body, attributes = b"", dict[str, str]()
    for option in options:
        name, _, value = option.partition("=")
        if name == "--message":
            body = value.encode()
        elif name == "--attribute":
            for pair in value.split(","):
                key, _, attribute_value = pair.partition("=")
                attributes[key] = attribute_value
        else:
            raise AssertionError(f"unexpected gcloud option {option!r}")
    return topic, body, attributes


PUBLISHED = _publish_commands()


def test_the_page_has_an_example_for_every_topic() -> None:
    assert {words[0] for words in PUBLISHED} == set(READERS)
    assert len(PUBLISHED) >= 7


@pytest.mark.parametrize("words", PUBLISHED, ids=lambda words: words[0])
def test_each_gcloud_publish_example_decodes(words: list[str]) -> None:
    topic, body, attributes = _publish_arguments(words)
    decoded = READERS[topic](body, attributes)
    assert isinstance(decoded, Event)
    assert decoded.event_type == topic


def test_file_arrived_examples_all_describe_the_same_object() -> None:
    arrivals = [
        READERS["file-arrived"](*_publish_arguments(words)[1:])
        for words in PUBLISHED
        if words[0] == "file-arrived"
    ]
    assert all(isinstance(arrival, FileArrived) for arrival in arrivals)
    assert {(a.uri, a.generation) for a in arrivals if isinstance(a, FileArrived)} == {
        ("gs://landing/trips/2024-01-15.csv", 1705312800123456)
    }


def test_the_notification_examples_feed_a_partition_of_the_shipped_dataset() -> None:
    registry = load_registry()
    for words in PUBLISHED:
        if words[0] != "file-arrived":
            continue
        arrival = READERS["file-arrived"](*_publish_arguments(words)[1:])
        assert isinstance(arrival, FileArrived)
        routed = registry.match(arrival.uri, "gs://landing")
        assert routed is not None, f"no shipped dataset claims {arrival.uri}"
        assert (routed[0].name, routed[1]) == ("trips", date(2024, 1, 15))


def _completed_example() -> PartitionCompleted:
    (words,) = [words for words in PUBLISHED if words[0] == "partition-completed"]
    completed = READERS["partition-completed"](*_publish_arguments(words)[1:])
    assert isinstance(completed, PartitionCompleted)
    return completed


def test_the_completion_example_has_the_layout_the_worker_writes() -> None:
    completed = _completed_example()
    where = partition_uri("gs://warehouse", completed.dataset, completed.partition_date)
    assert completed.partition_uri == where
    assert completed.manifest_uri == manifest_uri(where)
    assert completed.files == (join_uri(where, data_file_name(completed.run_id)),)


def test_a_re_announced_completion_has_the_status_the_page_shows() -> None:
    """A redelivery finds the partition committed (the core says ``skipped``); the event it
    re-publishes is built from the manifest and must equal the page's example."""
    completed = _completed_example()
    manifest = Manifest(
        dataset=completed.dataset,
        partition=completed.partition_date,
        run_id=completed.run_id,
        dataset_version="1",
        code_version=completed.worker_version,
        committed_at=completed.completed_at,
        trigger="file-arrived",
        inputs=tuple(
            ManifestInput(uri=ref.uri, generation=ref.generation, size=2048)
            for ref in completed.inputs
        ),
        files=(ManifestFile(path=data_file_name(completed.run_id), rows=990, size=1, sha256="0"),),
        rows_in=completed.rows_in,
        rows_out=completed.rows_out,
        rows_quarantined=completed.rows_quarantined,
        columns={},
        timings_s={},
        quality=tuple(CheckOutcome(**check.model_dump()) for check in completed.quality),
    )
    skipped = PartitionResult(
        dataset=completed.dataset,
        partition=completed.partition_date,
        run_id=completed.run_id,
        status="skipped",
        partition_uri=completed.partition_uri,
        manifest_uri=completed.manifest_uri,
        inputs=(),
    )
    assert completion_event(skipped, manifest, backfill_id=None) == completed


def test_avro_json_example_decodes_as_a_schema_topic_delivers_it() -> None:
    (block,) = [block for block in _blocks("json") if block["marker"] == "avro-json: file-arrived"]
    arrived = normalize_file_arrived(block["code"].encode(), {"googclient_schemaencoding": "JSON"})
    assert isinstance(arrived, FileArrived)
    assert arrived.size == 2048
    assert arrived.event_time.isoformat() == "2024-01-15T10:00:00.456000+00:00"


class _RecordingPublisher:
    published: ClassVar[list[tuple[str, bytes, dict[str, str]]]] = []

    def topic_path(self, project: str, topic: str) -> str:
        return f"projects/{project}/topics/{topic}"

    def publish(self, topic: str, data: bytes, **attributes: str) -> _RecordingPublisher:
        self.published.append((topic, data, attributes))
        return self

    def result(self) -> str:
        return "1"


def test_python_examples_run_and_publish_a_decodable_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.cloud import pubsub_v1  # type: ignore[import-untyped]

    monkeypatch.setattr(pubsub_v1, "PublisherClient", _RecordingPublisher)
    monkeypatch.setattr(_RecordingPublisher, "published", [])
    namespace: dict[str, Any] = {}
    for block in _blocks("python"):
        exec(compile(block["code"], "docs/messages.md", "exec"), namespace)  # noqa: S102 -- runs our own documentation
    ((topic, data, attributes),) = _RecordingPublisher.published
    assert topic == "projects/my-project/topics/partition-requested"
    assert decode_partition_requested(data, attributes) == namespace["request"]
    assert attributes == {
        "content-type": "application/avro",
        "event-type": "partition-requested",
        "schema-version": "1",
    }
