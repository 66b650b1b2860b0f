"""Fixtures for the deployment-file tests: the settings' env names and dry-run plans."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest
from deploy_files import DEPLOY_DIR, PlanRunner, settings_env_names


@pytest.fixture(scope="session")
def valid_env_names() -> frozenset[str]:
    return settings_env_names()


@pytest.fixture
def run_plan() -> PlanRunner:
    """Run a deploy script with DRY_RUN=1 in a clean environment; return its planned commands."""

    def run(script: str, *args: str, **env: str) -> list[list[str]]:
        completed = subprocess.run(
            ["bash", str(DEPLOY_DIR / script), *args],
            env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "DRY_RUN": "1"}
            | env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 0, f"{script} failed: {completed.stderr}"
        return [
            shlex.split(line[2:]) for line in completed.stdout.splitlines() if line.startswith("+ ")
        ]

    return run
