"""The committed AsyncAPI docs are current, and say what operators need from the service."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from worker import __version__
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
        binding = channel_at(document, address)["bindings"]["googlepubsub"]
        assert binding["x-topic"] == topic
        settings = binding["x-subscription"]
        assert settings["name"] == address
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


def test_faststreams_own_cli_writes_the_same_document(tmp_path: Path) -> None:
    """``faststream docs gen <app>`` (FastStream's CLI: https://faststream.ag2.ai/latest/
    getting-started/asyncapi/export/) reads the app's own specification: title, version,
    description, servers and channels are those of ``worker docs gen``."""
    out = tmp_path / "asyncapi.json"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_")}
    faststream = Path(sys.executable).with_name("faststream")
    completed = subprocess.run(
        [str(faststream), "docs", "gen", "worker.service.app:app", "--out", str(out)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    generated = json.loads(out.read_text(encoding="utf-8"))
    assert generated == service_document()
    assert generated["info"]["title"] == "worker"
    assert generated["info"]["version"] == __version__


def test_faststreams_docs_serve_serves_the_same_document(tmp_path: Path) -> None:
    """``faststream docs serve <app>`` renders the app's specification into its page (the
    document is embedded in the AsyncAPI component's configuration)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WORKER_")}
    faststream = Path(sys.executable).with_name("faststream")
    command = [str(faststream), "docs", "serve", "worker.service.app:app"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = _fetch_when_up(f"http://127.0.0.1:{port}/", server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rendered = re.search(r"AsyncApiStandalone\.render\(\s*(\{.*\}),\s*document", page, re.DOTALL)
    assert rendered is not None
    served = json.loads(json.loads(rendered.group(1))["schema"])
    assert served == service_document()


def _fetch_when_up(url: str, server: subprocess.Popen[bytes]) -> str:
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"faststream docs serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                return str(response.read().decode("utf-8"))
        except OSError:
            time.sleep(0.1)
    raise AssertionError("faststream docs serve never answered")
