"""docs/operations.md documents every option of ``worker dlq`` and ``worker docs``."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.cli.app import load_command
from worker.cli.common import SETTINGS_PARAMETERS

DOC = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
SHARED = {f"--{p.name.replace('_', '-')}" for p in SETTINGS_PARAMETERS}


@pytest.mark.parametrize(
    ("group", "name"), [("dlq", "list"), ("dlq", "replay"), ("docs", "gen"), ("docs", "serve")]
)
def test_every_option_is_documented(group: str, name: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    command = load_command(group).commands[name]  # type: ignore[attr-defined]
    assert f"worker {group} {name}" in text
    for param in command.params:
        for flag in param.opts:
            if flag == "--help" or flag in SHARED:
                continue
            assert f"`{flag}" in text, f"{flag} of worker {group} {name} is not in {DOC.name}"
