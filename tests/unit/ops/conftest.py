"""Commands run in a temp working directory with a clean WORKER_* environment, and the
logging they configure (pointed at CliRunner's stream) is undone afterwards."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog


@pytest.fixture(autouse=True)
def clean_command_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in list(os.environ):
        if name.startswith(("WORKER_", "CLOUD_RUN_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield tmp_path
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
