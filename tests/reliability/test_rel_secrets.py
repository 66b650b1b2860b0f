"""Secrets are ``SecretStr`` and never reach output: the ``worker`` CLI, run with the push
token set to a marker (from the environment, then from ``.env``), prints it nowhere — not on
success, not in an error with ``--debug`` tracebacks. The service side of the same promise
is checked in test_rel_service_bad_inputs.py.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from support.reliability_inputs import trips_csv
from support.reliability_results import record
from support.reliability_stack import WORKER
from worker.settings import Settings

pytestmark = pytest.mark.reliability

MARKER = "cli-s3cr3t-marker-b41d"


def _worker(root: Path, *args: str, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "CLOUD_RUN_"))}
    env |= {
        "WORKER_LANDING_URI": str(root / "landing"),
        "WORKER_OUTPUT_URI": str(root / "output"),
        "WORKER_LOG_FORMAT": "json",
        "WORKER_LOG_LEVEL": "DEBUG",
        **extra,
    }
    return subprocess.run(
        [str(WORKER), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_push_token_appears_in_no_cli_output(tmp_path: Path) -> None:
    day = date(2024, 8, 1)
    landing = tmp_path / "landing" / "trips"
    landing.mkdir(parents=True)
    (landing / "2024-08-01.csv").write_bytes(trips_csv(day, 50))
    (landing / "2024-08-02.csv").write_bytes(b"not,a,trips\nfile,at,all\n")

    from_env = _worker(
        tmp_path,
        "run",
        "-d",
        "trips",
        "--date",
        "2024-08-01",
        extra={"WORKER_PUSH_AUTH_TOKEN": MARKER},
    )
    failing = _worker(
        tmp_path,
        "run",
        "-d",
        "trips",
        "--date",
        "2024-08-02",
        "--debug",
        extra={"WORKER_PUSH_AUTH_TOKEN": MARKER, "WORKER_DEBUG": "1"},
    )
    (tmp_path / ".env").write_text(f"WORKER_PUSH_AUTH_TOKEN={MARKER}\n")
    from_dot_env = _worker(
        tmp_path, "run", "-d", "trips", "--date", "2024-08-01", "--force", extra={}
    )

    outputs = [from_env, failing, from_dot_env]
    captured = "".join(run.stdout + run.stderr for run in outputs)
    leaks = captured.count(MARKER)
    record(
        "secrets-cli",
        runs=len(outputs),
        exit_codes="/".join(str(run.returncode) for run in outputs),
        output_bytes=len(captured),
        leaks=leaks,
    )
    assert [run.returncode for run in outputs] == [0, 4, 0], captured[-3000:]
    assert "Traceback" in failing.stderr, "--debug should have printed a traceback to search"
    assert leaks == 0, "the push token leaked into CLI output"


def test_the_push_token_is_a_secret_str_that_renders_masked() -> None:
    settings = Settings(push_auth_token=MARKER)
    assert settings.push_auth_token is not None
    assert settings.push_auth_token.get_secret_value() == MARKER
    assert MARKER not in repr(settings)
    assert MARKER not in settings.model_dump_json()
