"""Commands here run in a clean working directory and environment (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_command_environment(command_environment: Path) -> Path:
    return command_environment
