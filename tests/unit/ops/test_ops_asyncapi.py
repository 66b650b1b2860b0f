"""The committed AsyncAPI docs are current, and say what operators need from the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from worker.cli.app import app
from worker.events.schemas import schema_path
from worker.ops.asyncapi import (
    DOCUMENT_FILE,
    PAGE_FILE,
    documentation_files,
    service_document,
    stale_files,
    write_files,
)
from worker.settings import Settings, TopicNames

COMMITTED = Path(__file__).resolve().parents[3] / "asyncapi"
SUBSCRIPTIONS = {
    "file-arrived-worker": ("file-arrived", "FileArrived"),
    "backfill-requested-worker": ("backfill-requested", "BackfillRequested"),
    "partition-requested-worker": ("partition-requested", "PartitionRequested"),
}
PUBLISHED = {
    "backfill-completed": "BackfillCompleted",
    "partition-completed": "PartitionCompleted",
    "partition-requested": "PartitionRequested",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return service_document()


@pytest.fixture(scope="module")
def files(document: dict[str, Any]) -> dict[str, str]:
    return documentation_files(document)


def channel_at(document: dict[str, Any], address: str) -> dict[str, Any]:
    matches = [c for c in document["channels"].values() if c["address"] == address]
    assert len(matches) == 1, f"expected one channel at {address}, got {len(matches)}"
    return matches[0]


def payload_of(document: dict[str, Any], channel: dict[str, Any]) -> str:
    (reference,) = channel["messages"].values()
    message = document["components"]["messages"][reference["$ref"].rsplit("/", 1)[-1]]
    payload_ref: str = message["payload"]["$ref"]
    return payload_ref.rsplit("/", 1)[-1]


def test_committed_docs_are_current(files: dict[str, str]) -> None:
    stale = stale_files(files, COMMITTED)
    assert not stale, f"asyncapi/ is stale ({', '.join(stale)}): run `make docs`"


def test_generation_is_deterministic(files: dict[str, str]) -> None:
    assert documentation_files(service_document()) == files


def test_the_document_is_googlepubsub_with_one_channel_per_subscription_and_topic(
    document: dict[str, Any],
) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert {server["protocol"] for server in document["servers"].values()} == {"googlepubsub"}
    addresses = sorted(channel["address"] for channel in document["channels"].values())
    assert addresses == sorted([*SUBSCRIPTIONS, *PUBLISHED])


def test_messages_carry_the_handler_types_schemas(document: dict[str, Any]) -> None:
    for address, (_, model) in SUBSCRIPTIONS.items():
        assert payload_of(document, channel_at(document, address)) == model
    for address, model in PUBLISHED.items():
        assert payload_of(document, channel_at(document, address)) == model
    file_arrived = document["components"]["schemas"]["FileArrived"]
    assert {"uri", "bucket", "object", "generation"} <= set(file_arrived["required"])


def test_subscriptions_show_their_pubsub_settings(document: dict[str, Any]) -> None:
    defaults = Settings.model_construct(topics=TopicNames.model_construct())
    for address, (topic, _) in SUBSCRIPTIONS.items():
        settings = channel_at(document, address)["x-google-pubsub"]
        assert settings["topic"] == topic
        assert settings["ackDeadlineSeconds"] == defaults.ack_deadline_s
        assert settings["deadLetterPolicy"] == {
            "deadLetterTopic": f"{topic}-dlq",
            "maxDeliveryAttempts": defaults.max_delivery_attempts,
            "keptBy": f"{topic}-dlq-keep",
        }
        assert settings["retryPolicy"] == {
            "minimumBackoff": f"{defaults.retry_min_backoff_s:g}s",
            "maximumBackoff": f"{defaults.retry_max_backoff_s:g}s",
        }


def test_event_messages_link_their_avro_schema(
    document: dict[str, Any], files: dict[str, str]
) -> None:
    linked = {message["x-avro-schema"] for message in document["components"]["messages"].values()}
    assert linked == {
        f"schemas/{schema_path(event_type).name}"
        for event_type in (
            "file-arrived",
            "backfill-requested",
            "partition-requested",
            "partition-completed",
            "backfill-completed",
        )
    }
    for path in linked:
        assert path in files
        assert f'href="{path}"' in files[PAGE_FILE]


def test_the_yaml_reads_back_as_the_document(
    document: dict[str, Any], files: dict[str, str]
) -> None:
    assert yaml.safe_load(files[DOCUMENT_FILE]) == document


def test_the_document_ignores_the_environment_unless_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, files: dict[str, str]
) -> None:
    monkeypatch.setenv("WORKER_TOPIC_FILE_ARRIVED", "landed")
    assert documentation_files(service_document()) == files

    result = CliRunner().invoke(app, ["docs", "gen", "--from-settings", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    renamed = yaml.safe_load((tmp_path / DOCUMENT_FILE).read_text(encoding="utf-8"))
    assert "landed-worker" in {channel["address"] for channel in renamed["channels"].values()}


def test_stale_files_are_named_and_check_fails(files: dict[str, str], tmp_path: Path) -> None:
    write_files(files, tmp_path)
    assert stale_files(files, tmp_path) == []
    (tmp_path / PAGE_FILE).write_text("<html>old</html>", encoding="utf-8")
    (tmp_path / DOCUMENT_FILE).unlink()
    assert stale_files(files, tmp_path) == [DOCUMENT_FILE, PAGE_FILE]

    result = CliRunner().invoke(app, ["docs", "gen", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "run `make docs`" in result.output


def test_gen_writes_what_check_then_accepts(tmp_path: Path) -> None:
    out = tmp_path / "docs"
    assert CliRunner().invoke(app, ["docs", "gen", "--out", str(out)]).exit_code == 0
    assert (out / DOCUMENT_FILE).is_file()
    assert (out / "schemas" / "file_arrived.v1.avsc").is_file()
    result = CliRunner().invoke(app, ["docs", "gen", "--check", "--out", str(out)])
    assert result.exit_code == 0, result.output
