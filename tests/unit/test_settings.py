from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import ConfigurationError
from worker.settings import load_settings


def test_environment_names_are_the_public_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_PROJECT", "acme-prod")
    monkeypatch.setenv("WORKER_LANDING_URI", "gs://landing/in")
    monkeypatch.setenv("WORKER_OUTPUT_URI", "gs://lake/out")
    monkeypatch.setenv("WORKER_DATASETS", " acme.pipelines , acme.more ,")
    monkeypatch.setenv("WORKER_BROKER", "memory")
    monkeypatch.setenv("WORKER_LOG_FORMAT", "json")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:8085")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443")
    monkeypatch.setenv("WORKER_TOPIC_FILE_ARRIVED", "uploads")

    settings = load_settings()

    assert settings.project == "acme-prod"
    assert settings.landing_uri == "gs://landing/in"
    assert settings.output_uri == "gs://lake/out"
    assert settings.dataset_modules == ("acme.pipelines", "acme.more")
    assert settings.broker == "memory"
    assert settings.log_format == "json"
    assert settings.pubsub_emulator_host == "127.0.0.1:8085"
    assert settings.storage_emulator_host == "http://127.0.0.1:4443"
    assert settings.topics.file_arrived == "uploads"
    assert settings.subscription_for(settings.topics.file_arrived) == "uploads-worker"
    assert settings.dead_letter_topic_for("uploads") == "uploads-dlq"


def test_cli_overrides_win_over_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("WORKER_OUTPUT_URI=/from/env-file\nWORKER_PROJECT=p1\n")
    settings = load_settings(output_uri="/from/flag", project=None)
    assert settings.output_uri == "/from/flag"
    assert settings.project == "p1"


def test_bad_values_are_configuration_errors_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKER_BROKER", "kafka")
    with pytest.raises(ConfigurationError, match="broker"):
        load_settings()


def test_secrets_never_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_PUSH_AUTH_TOKEN", "s3cr3t-value")
    settings = load_settings()
    assert settings.push_auth_token is not None
    assert settings.push_auth_token.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" not in settings.model_dump_json()
