"""Exit codes, one-line errors and settings flags shared by every command."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from faststream_gcp_pubsub.errors import TransientBrokerError
from worker import errors
from worker.cli.common import error_line, exit_code_for, register_command, worker_command
from worker.errors import WorkerError
from worker.settings import Settings

EXPECTED_EXIT_CODES = {
    "WorkerError": 1,
    "ConfigurationError": 3,
    "UnknownDatasetError": 3,
    "InputDataError": 4,
    "InputNotFoundError": 4,
    "InputFormatError": 4,
    "ContractError": 4,
    "QuarantineThresholdError": 4,
    "ForbiddenPathError": 4,
    "MessageError": 1,
    "DecodeError": 1,
    "StorageError": 1,
    "TransientStorageError": 1,
    "CommitConflictError": 1,
    "OutputNotWritableError": 1,
    "PartialFailureError": 2,
}
ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, WorkerError) and cls.__module__ == errors.__name__
]

app = typer.Typer()
raised: list[BaseException] = []


@worker_command
def explode(
    settings: Settings,
    error: Annotated[str, typer.Option("--error")] = "",
) -> None:
    if error:
        if error == "RuntimeError":
            raise RuntimeError("input file is empty")
        raise getattr(errors, error)(
            "input file is empty", where="gs://landing/trips/2024-01-01.csv"
        )
    typer.echo(
        f"{settings.landing_uri}|{settings.output_uri}|{settings.project}|"
        f"{settings.datasets}|{settings.log_format}"
    )


register_command(app, "explode", explode)
register_command(app, "other", explode)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["explode", *args])
    return result.exit_code, result.stdout, result.stderr


def documented_exit_code(cls: type[WorkerError]) -> int:
    """The code of the nearest class named in the table (new subclasses inherit theirs)."""
    return next(
        EXPECTED_EXIT_CODES[base.__name__]
        for base in cls.__mro__
        if base.__name__ in EXPECTED_EXIT_CODES
    )


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_class_maps_to_its_documented_exit_code(cls: type[WorkerError]) -> None:
    assert exit_code_for(cls("boom")) == documented_exit_code(cls)


def test_broker_errors_are_known_errors_with_exit_1() -> None:
    error = TransientBrokerError("UNAVAILABLE", where="topic file-arrived")
    assert exit_code_for(error) == 1
    assert error_line(error) == "error: UNAVAILABLE (topic file-arrived)"


def test_foreign_exceptions_map_to_1_and_ctrl_c_to_130() -> None:
    assert exit_code_for(ValueError("x")) == 1
    assert exit_code_for(KeyboardInterrupt()) == 130


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("ConfigurationError", 3),
        ("InputNotFoundError", 4),
        ("PartialFailureError", 2),
        ("StorageError", 1),
    ],
)
def test_a_command_error_is_one_stderr_line_with_the_mapped_code(error: str, code: int) -> None:
    exit_code, stdout, stderr = invoke("--error", error)
    assert exit_code == code
    assert stdout == ""
    assert stderr.splitlines() == ["error: input file is empty (gs://landing/trips/2024-01-01.csv)"]


def test_unexpected_errors_say_so_and_hide_the_traceback_unless_debug() -> None:
    exit_code, _, stderr = invoke("--error", "RuntimeError")
    assert exit_code == 1
    assert stderr.splitlines() == [
        "error: unexpected RuntimeError: input file is empty (rerun with --debug for the traceback)"
    ]


def test_debug_flag_and_env_show_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    exit_code, _, stderr = invoke("--error", "InputFormatError", "--debug")
    assert exit_code == 4
    assert "Traceback (most recent call last)" in stderr
    assert stderr.splitlines()[-1].startswith("error: input file is empty")
    monkeypatch.setenv("WORKER_DEBUG", "1")
    assert "Traceback" in invoke("--error", "InputFormatError")[2]


def test_flag_mistakes_exit_3_with_one_line() -> None:
    exit_code, _, stderr = invoke("--no-such-flag")
    assert exit_code == 3
    assert stderr.splitlines() == [
        "error: No such option: --no-such-flag (see 'root explode --help')"
    ]


def test_settings_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_LANDING_URI", "/env/landing")
    monkeypatch.setenv("WORKER_PROJECT", "env-project")
    exit_code, stdout, _ = invoke(
        "--output-uri", "/flag/out", "--datasets", "acme.a, acme.b", "--log-format", "json"
    )
    assert exit_code == 0
    assert stdout.strip() == "/env/landing|/flag/out|env-project|acme.a,acme.b|json"


def test_env_file_flag_is_read_and_must_exist(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("WORKER_LANDING_URI=gs://landing/in\nWORKER_PROJECT=from-file\n")
    exit_code, stdout, _ = invoke("--env-file", str(env_file), "--project", "from-flag")
    assert exit_code == 0
    assert stdout.startswith("gs://landing/in|./data/output|from-flag|")

    exit_code, _, stderr = invoke("--env-file", str(tmp_path / "absent.env"))
    assert exit_code == 3
    assert stderr.strip() == f"error: env file does not exist ({tmp_path / 'absent.env'})"


def test_invalid_setting_values_are_configuration_errors() -> None:
    exit_code, _, stderr = invoke("--log-format", "xml")
    assert exit_code == 3
    assert stderr.startswith("error: invalid settings: log_format")
    assert len(stderr.splitlines()) == 1
