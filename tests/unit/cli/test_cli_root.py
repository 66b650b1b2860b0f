"""The root ``worker`` group: usage mistakes are configuration errors (exit 3)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from worker import __version__
from worker.cli.app import COMMANDS, app, load_command


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["--bogus", "version"], "No such option: --bogus"),
    ],
)
def test_usage_mistakes_exit_3_with_one_line(argv: list[str], message: str) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 3
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert message in lines[0]


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_loads_under_its_name(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output


def test_version_does_not_import_the_data_stack() -> None:
    probe = (
        "import sys; from worker.cli.app import main; sys.argv=['worker','version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('polars','pandera','faststream') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
