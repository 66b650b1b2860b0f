"""The container memory limit and the budget derived from it, read from files laid out as
the kernel documents them: cgroup v2 ``memory.max`` ("max" or bytes) in the process's
cgroup and its ancestors (https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files)
and cgroup v1 ``memory.limit_in_bytes``
(https://docs.kernel.org/admin-guide/cgroup-v1/memory.html); ``/proc/self/cgroup`` lines are
``hierarchy-ID:controller-list:cgroup-path`` (cgroups(7))."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import ConfigurationError
from worker.memory_limit import byte_budget, cgroup_memory_limit
from worker.settings import load_settings

GIB = 1024**3


def _v2(tmp_path: Path, limits: dict[str, str], own: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    for relative, value in limits.items():
        directory = root / relative
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "memory.max").write_text(value + "\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text(f"0::{own}\n")
    return root, proc


def test_cgroup_v2_takes_the_smallest_limit_up_the_tree(tmp_path: Path) -> None:
    root, proc = _v2(
        tmp_path, {"run": str(4 * GIB), "run/job": "max", "run/job/task": "max"}, "/run/job/task"
    )
    assert cgroup_memory_limit(root, proc) == 4 * GIB
    budget = byte_budget(None, None, root=root, proc_cgroup=proc)
    assert (budget.memory_bytes, budget.scratch_bytes) == (4 * GIB, 2 * GIB)
    assert budget.row_group_bytes == GIB


def test_cgroup_v2_without_a_limit_anywhere_is_none(tmp_path: Path) -> None:
    root, proc = _v2(tmp_path, {"": "max", "a": "max"}, "/a")
    assert cgroup_memory_limit(root, proc) is None


def test_cgroup_v1_limit_and_its_unlimited_sentinel(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    memory = root / "memory" / "docker" / "abc"
    memory.mkdir(parents=True)
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text("5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n")
    assert cgroup_memory_limit(root, proc) is None
    (memory / "memory.limit_in_bytes").write_text(f"{2 * GIB}\n")
    assert cgroup_memory_limit(root, proc) == 2 * GIB


def test_settings_override_the_container(tmp_path: Path) -> None:
    root, proc = _v2(tmp_path, {"": str(4 * GIB)}, "/")
    budget = byte_budget(GIB, None, root=root, proc_cgroup=proc)
    assert (budget.memory_bytes, budget.scratch_bytes) == (GIB, GIB // 2)
    budget = byte_budget(None, 100 * 1024**2, root=root, proc_cgroup=proc)
    assert (budget.memory_bytes, budget.scratch_bytes) == (4 * GIB, 100 * 1024**2)


def test_budget_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_MEMORY_BYTES", str(2 * GIB))
    monkeypatch.setenv("WORKER_SCRATCH_BYTES", str(GIB))
    settings = load_settings()
    assert (settings.memory_bytes, settings.scratch_bytes) == (2 * GIB, GIB)
    monkeypatch.setenv("WORKER_SCRATCH_BYTES", "12")
    with pytest.raises(ConfigurationError, match="scratch_bytes"):
        load_settings()
