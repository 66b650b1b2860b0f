"""The container's memory limit, read where Linux publishes it, and the budget built on it.

Cloud Run and Kubernetes put the worker in a memory cgroup. With cgroup v2 the limit is
``memory.max`` in the process's cgroup directory (``max`` when unlimited); ancestors may
set a lower one, so every level up to the mount is read and the smallest wins. With
cgroup v1 it is ``memory/memory.limit_in_bytes``, where "unlimited" is a huge number.
Without either the machine's physical memory is the limit.
https://docs.kernel.org/admin-guide/cgroup-v2.html#memory-interface-files
"""

from __future__ import annotations

import os
from pathlib import Path

from worker.core.budget import ByteBudget

CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED_V1 = 1 << 60  # v1 reports "no limit" as PAGE_COUNTER_MAX pages, ~2**63 bytes
SCRATCH_FRACTION = 2
"""Scratch gets 1/SCRATCH_FRACTION of memory: on Cloud Run /tmp is memory itself."""


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _own_cgroup(proc_cgroup: Path, controller: str) -> str:
    """This process's cgroup path for ``controller`` ("" = the v2 unified line)."""
    try:
        lines = proc_cgroup.read_text("utf-8").splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "-", "")
        if controller in controllers.split(",") or (not controller and not controllers):
            return path or "/"
    return "/"


def _smallest_up_the_tree(mount: Path, own: str, file_name: str) -> int | None:
    """The smallest limit in ``file_name`` from this process's cgroup up to the mount."""
    directory = mount / own.lstrip("/")
    found: list[int] = []
    while True:
        value = _read_int(directory / file_name)
        if value is not None and value < _UNLIMITED_V1:
            found.append(value)
        if directory == mount or mount not in directory.parents:
            return min(found) if found else None
        directory = directory.parent


def cgroup_memory_limit(
    root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The memory limit the kernel enforces on this process, or None when there is none."""
    if (root / "cgroup.controllers").is_file():
        return _smallest_up_the_tree(root, _own_cgroup(proc_cgroup, ""), "memory.max")
    return _smallest_up_the_tree(
        root / "memory", _own_cgroup(proc_cgroup, "memory"), "memory.limit_in_bytes"
    )


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def byte_budget(
    memory_bytes: int | None,
    scratch_bytes: int | None,
    *,
    root: Path = CGROUP_ROOT,
    proc_cgroup: Path = Path("/proc/self/cgroup"),
) -> ByteBudget:
    """The budget from explicit settings, else from the container's limit."""
    memory = memory_bytes or cgroup_memory_limit(root, proc_cgroup) or physical_memory()
    if memory is None:
        return ByteBudget() if scratch_bytes is None else ByteBudget(scratch_bytes=scratch_bytes)
    return ByteBudget(
        memory_bytes=memory,
        scratch_bytes=scratch_bytes if scratch_bytes is not None else memory // SCRATCH_FRACTION,
    )
