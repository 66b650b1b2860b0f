"""The root ``worker`` group: usage mistakes are configuration errors (exit 3)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from worker import __version__
from worker.cli.app import app


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
