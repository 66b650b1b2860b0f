"""What ``worker dev`` prints for a second terminal, and the settings behind it."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from worker.devenv.dev import dev_instructions
from worker.devenv.environment import (
    embedded_settings,
    emulated_settings,
    export_lines,
    service_environment,
)
from worker.settings import Settings, TopicNames


def base_settings() -> Settings:
    return Settings(_env_file=None, project="demo-project")  # type: ignore[call-arg]


def test_emulated_settings_point_at_the_emulators_and_a_local_output(tmp_path: Path) -> None:
    settings = emulated_settings(
        base_settings(),
        pubsub_host="127.0.0.1:8085",
        storage_host="http://127.0.0.1:4443",
        workdir=tmp_path,
    )

    assert service_environment(settings) == {
        "WORKER_PROJECT": "demo-project",
        "WORKER_BROKER": "pubsub",
        "WORKER_LANDING_URI": "gs://landing",
        "WORKER_OUTPUT_URI": str(tmp_path / "output"),
        "WORKER_WORKDIR": str(tmp_path / "scratch"),
        "PUBSUB_EMULATOR_HOST": "127.0.0.1:8085",
        "STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443",
    }


def test_embedded_settings_use_the_memory_broker_and_a_landing_directory(tmp_path: Path) -> None:
    settings = embedded_settings(base_settings(), workdir=tmp_path)

    env = service_environment(settings)

    assert env["WORKER_BROKER"] == "memory"
    assert env["WORKER_LANDING_URI"] == str(tmp_path / "landing")
    assert "PUBSUB_EMULATOR_HOST" not in env


def test_renamed_topics_travel_and_default_ones_do_not(tmp_path: Path) -> None:
    renamed = base_settings().model_copy(
        update={"topics": TopicNames.model_construct(file_arrived="uploads")}
    )

    env = service_environment(embedded_settings(renamed, workdir=tmp_path))

    topic_variables = {name: value for name, value in env.items() if "TOPIC" in name}
    assert topic_variables == {"WORKER_TOPIC_FILE_ARRIVED": "uploads"}


def test_export_lines_survive_a_shell_round_trip(tmp_path: Path) -> None:
    env = {"WORKER_OUTPUT_URI": str(tmp_path / "with space"), "WORKER_PROJECT": "p'1"}

    show = 'printf "%s|%s" "$WORKER_OUTPUT_URI" "$WORKER_PROJECT"'
    script = "\n".join([*export_lines(env), show])
    out = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, check=True, env=dict(os.environ)
    ).stdout

    assert out == f"{tmp_path / 'with space'}|p'1"


def test_dev_instructions_export_the_environment_then_say_what_to_try(tmp_path: Path) -> None:
    settings = emulated_settings(
        base_settings(),
        pubsub_host="127.0.0.1:8085",
        storage_host="http://127.0.0.1:4443",
        workdir=tmp_path,
    )

    lines = dev_instructions(settings, "http://127.0.0.1:9000")

    exported = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in lines
        if line.startswith("export ")
    )
    assert exported == service_environment(settings)
    assert any(line.startswith("worker sample-data") for line in lines)
    assert any("http://127.0.0.1:9000/readyz" in line for line in lines)
    assert any("--subscription file-arrived-dlq-keep" in line for line in lines)
