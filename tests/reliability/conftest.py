"""Reliability scenarios: a clean WORKER_* environment, our datasets importable everywhere.

Scenarios that run ``worker`` subprocesses build their environment from ours, so
``PYTHONPATH`` here lets them import ``support.reliability_datasets`` too. Logging that an
in-process command configures is undone after each test.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

TESTS_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def reliability_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith(("WORKER_", "CLOUD_RUN_")):
            monkeypatch.delenv(name)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", f"{TESTS_DIR}{os.pathsep}{path}" if path else str(TESTS_DIR))
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
