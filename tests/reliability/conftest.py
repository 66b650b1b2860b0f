"""Reliability scenarios: a clean WORKER_* environment, our datasets importable everywhere.

Scenarios that run ``worker`` subprocesses build their environment from ours, so
``PYTHONPATH`` here lets them import ``support.reliability_datasets`` too. The rest (no
WORKER_* variables, a temporary working directory, logging undone after each test) is the
shared ``command_environment`` fixture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def reliability_environment(command_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", f"{TESTS_DIR}{os.pathsep}{path}" if path else str(TESTS_DIR))
    return command_environment
