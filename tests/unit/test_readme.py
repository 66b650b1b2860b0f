"""The README's CLI examples run as written, in order, from an empty directory.

Every ``$ worker ...`` line of a ```console block is executed; it must exit 0 unless the
line ends with ``# exits N``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from worker.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXPECTED_EXIT = re.compile(r"\s+#\s*exits\s+(\d+)\s*$")


def readme_commands() -> list[tuple[list[str], int]]:
    """(argv after ``worker``, expected exit code) for each example line, in README order."""
    commands = []
    for block in CONSOLE_BLOCK.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if not line.startswith("$ worker "):
                continue
            command = line.removeprefix("$ ")
            expected = EXPECTED_EXIT.search(command)
            if expected:
                command = command[: expected.start()]
            argv = shlex.split(command)
            commands.append((argv[1:], int(expected.group(1)) if expected else 0))
    return commands


@pytest.fixture
def empty_directory(command_environment: Path) -> Path:
    return command_environment


def test_readme_has_examples_for_every_batch_command() -> None:
    commands = {argv[0] for argv, _ in readme_commands()}
    assert {"datasets", "sample-data", "run", "backfill", "status"} <= commands
    assert any(code != 0 for _, code in readme_commands()), "the error examples are missing"


def test_readme_cli_examples_exit_as_documented(empty_directory: Path) -> None:
    runner = CliRunner()
    outcomes = []
    for argv, expected in readme_commands():
        result = runner.invoke(app, argv)
        outcomes.append((" ".join(argv), result.exit_code, expected, result.stderr[-400:]))
    wrong = [outcome for outcome in outcomes if outcome[1] != outcome[2]]
    assert not wrong, "\n".join(
        f"worker {command}: exit {got}, README says {want}\n{stderr}"
        for command, got, want, stderr in wrong
    )
    assert (empty_directory / "data" / "output" / "trips").is_dir()
