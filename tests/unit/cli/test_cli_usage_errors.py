"""Usage mistakes anywhere in the ``worker`` tree exit 3 with one line naming what and where.

The groups and commands are discovered from the app, so a new sub-group or command is
covered without touching this file.
"""

from __future__ import annotations

import pytest
import typer

# typer vendors a trimmed click: groups are TyperGroup, the rest lives in a private module.
from typer._click.core import Command, Context
from typer.core import TyperGroup as Group
from typer.testing import CliRunner, Result

from worker.cli.app import app


def _walk(command: Command, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Command]]:
    found = [(path, command)]
    if isinstance(command, Group):
        context = Context(command, info_name=path[-1] if path else "worker")
        for name in command.list_commands(context):
            child = command.get_command(context, name)
            assert child is not None, f"{' '.join(path)} lists {name!r} but cannot load it"
            found += _walk(child, (*path, name))
    return found


COMMAND_TREE = _walk(typer.main.get_command(app), ())
GROUPS = [path for path, command in COMMAND_TREE if isinstance(command, Group)]
COMMANDS = [path for path, command in COMMAND_TREE if not isinstance(command, Group)]
EVERY_PATH = [path for path, _ in COMMAND_TREE]


def _ids(path: tuple[str, ...]) -> str:
    return " ".join(("worker", *path))


def invoke(*argv: str) -> Result:
    return CliRunner().invoke(app, list(argv))


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_the_tree_has_sub_groups_to_check() -> None:
    assert ("dlq",) in GROUPS
    assert ("docs",) in GROUPS
    assert ("dlq", "replay") in COMMANDS


@pytest.mark.parametrize("path", GROUPS, ids=_ids)
def test_an_unknown_subcommand_exits_3_naming_it_and_its_group(path: tuple[str, ...]) -> None:
    result = invoke(*path, "frobnicate")
    assert result.exit_code == 3, result.output
    group = " ".join(("worker", *path))
    assert error_lines(result) == [f"error: No such command 'frobnicate'. (see '{group} --help')"]


@pytest.mark.parametrize("path", EVERY_PATH, ids=_ids)
def test_an_unknown_option_exits_3_naming_it_and_its_command(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--bogus-flag")
    assert result.exit_code == 3, result.output
    command = " ".join(("worker", *path))
    assert error_lines(result) == [f"error: No such option: --bogus-flag (see '{command} --help')"]


@pytest.mark.parametrize("path", GROUPS, ids=_ids)
def test_a_group_without_a_command_shows_help_and_exits_3(path: tuple[str, ...]) -> None:
    result = invoke(*path)
    assert result.exit_code == 3
    assert "Usage:" in result.stdout
    group = " ".join(("worker", *path))
    assert error_lines(result) == [f"error: Missing command. (see '{group} --help')"]


@pytest.mark.parametrize("path", EVERY_PATH, ids=_ids)
def test_help_still_exits_0(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert result.stderr == ""


def test_a_bad_value_under_a_sub_group_names_the_option_and_exits_3() -> None:
    result = invoke("dlq", "list", "--subscription", "x", "--limit", "0")
    assert result.exit_code == 3
    [line] = error_lines(result)
    assert line.startswith("error: Invalid value for '--limit' / '-n'")
    assert line.endswith("(see 'worker dlq list --help')")


def test_a_usage_error_raised_by_a_plain_typer_sub_app_is_caught_at_the_root() -> None:
    plain = typer.Typer(name="plain")

    @plain.command("go")
    def go(count: int) -> None:
        """A command made without worker's classes."""

    app.add_typer(plain, name="plain")
    try:
        result = invoke("plain", "go", "many")
    finally:
        app.registered_groups.pop()
    assert result.exit_code == 3
    [line] = error_lines(result)
    assert line.startswith("error: Invalid value for 'count'")
    assert line.endswith("(see 'worker plain go --help')")
