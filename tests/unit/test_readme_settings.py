"""The README's settings table names every setting the worker reads, and nothing else."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import AliasChoices

from worker.settings import Settings, TopicNames, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"
EXTERNAL = {"CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", "WORKER_DEBUG"}


def setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        if name == "topics":
            continue
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        else:
            names.add(f"WORKER_{name.upper()}")
    names.update(f"WORKER_TOPIC_{name.upper()}" for name in TopicNames.model_fields)
    return names


def documented_names() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    first_cells = [row.split("|")[1] for row in rows]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}


def test_every_setting_is_documented() -> None:
    missing = setting_names() - documented_names()
    assert not missing, f"README settings table lacks {sorted(missing)}"


def test_the_table_documents_no_setting_that_does_not_exist() -> None:
    unknown = documented_names() - setting_names() - EXTERNAL
    assert not unknown, f"README documents unknown settings {sorted(unknown)}"


def test_env_example_names_only_real_settings_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = README.parent / ".env.example"
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example.read_text(), re.MULTILINE))
    assert names, ".env.example lists no settings"
    assert names <= setting_names(), f"unknown in .env.example: {sorted(names - setting_names())}"
    assert setting_names() - names <= {
        "WORKER_PUBSUB_EMULATOR_HOST",
        "WORKER_STORAGE_EMULATOR_HOST",
    }

    for name in list(os.environ):
        if name.startswith("WORKER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(example.read_text())
    settings = load_settings()
    assert settings.landing_uri == "./data/landing"
    assert settings.topics.partition_completed == "partition-completed"
