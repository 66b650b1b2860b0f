"""The README's settings table names every setting the worker reads, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from worker.settings import Settings, TopicNames

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
