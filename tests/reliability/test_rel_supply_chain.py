"""What ships is pinned and audited, and secrets stay out of git.

The container's non-root user is checked by tests/unit/deploy/test_deploy_dockerfile.py.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from support.reliability_results import record

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]


def test_dot_env_is_ignored_and_untracked() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", ".env"], cwd=REPO, check=False, timeout=30
    )
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".env", "**/.env"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert ignored.returncode == 0, ".env is not ignored by git"
    assert tracked == [], f"secrets files tracked by git: {tracked}"
    record("env-file-ignored", env_ignored="yes", env_files_tracked=len(tracked))


def test_faststream_is_pinned_exactly_and_every_locked_package_has_a_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    # faststream itself, not the names that merely start with it (faststream-gcp-pubsub).
    pins = [
        dep
        for dep in project["project"]["dependencies"]
        if re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0] == "faststream"
    ]
    packages = lock["package"]
    unversioned = [p["name"] for p in packages if not p.get("version")]
    unsourced = [p["name"] for p in packages if not p.get("source")]
    locked_faststream = {p["version"] for p in packages if p["name"] == "faststream"}

    assert pins == ["faststream==0.7.8"]
    assert locked_faststream == {"0.7.8"}
    assert unversioned == [], f"uv.lock packages without a version: {unversioned}"
    assert unsourced == [], f"uv.lock packages without a source: {unsourced}"
    record(
        "dependencies-pinned",
        packages_locked=len(packages),
        unversioned=len(unversioned),
        faststream=locked_faststream.pop(),
    )


def test_make_lint_runs_pip_audit() -> None:
    makefile = (REPO / "Makefile").read_text()
    lint = re.search(r"^lint:.*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL)
    assert lint is not None, "Makefile has no lint target"
    recipe = lint.group(0)
    assert "/bin/pip-audit" in recipe, "make lint does not run pip-audit"
    # Known vulnerabilities must fail the target, not just print.
    assert re.search(r"known vulnerabilit.*exit 1", recipe), "pip-audit findings do not fail lint"
    assert (REPO / ".venv" / "bin" / "pip-audit").is_file(), (
        "pip-audit is not installed (dev group)"
    )
    record("pip-audit-in-lint", pip_audit_in_lint="yes", findings_fail_lint="yes")
