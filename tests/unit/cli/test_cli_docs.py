"""docs/cli.md documents every batch command and every one of its options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worker.cli.app import load_command

DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"
BATCH_COMMANDS = ("run", "backfill", "status", "datasets", "sample-data")


def section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/cli.md has no section {heading!r}"
    return match.group(1)


@pytest.mark.parametrize("name", BATCH_COMMANDS)
def test_every_option_is_documented(name: str) -> None:
    command = load_command(name)
    shared = section("Settings flags (every command)")
    own = section(f"`worker {name}`")
    for param in command.params:
        for flag in param.opts:
            if flag == "--help":
                continue
            assert f"`{flag}" in own or f"`{flag}" in shared, (
                f"{flag} of worker {name} is not in docs/cli.md"
            )


def test_exit_codes_table_matches_the_error_tree() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in (0, 1, 2, 3, 4, 130):
        assert re.search(rf"^\| {code} \|", text, re.MULTILINE), f"exit code {code} undocumented"
