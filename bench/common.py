"""What every benchmark shares: measuring a child process, the machine, the output codec."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OUT = REPO / "bench" / "out"
"""Generated inputs and scratch output (ignored by git)."""
RESULTS = REPO / "bench" / "results"
"""Result JSON files (committed with RESULTS.md)."""


@dataclass(frozen=True)
class Measurement:
    """One child process: wall time, CPU time (user + system) and peak resident memory."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    load_before: float

    def payload(self) -> dict[str, Any]:
        """The JSON object the child printed on stdout (the whole output, else its last line)."""
        with contextlib.suppress(json.JSONDecodeError):
            whole: dict[str, Any] = json.loads(self.stdout)
            return whole
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                parsed: dict[str, Any] = json.loads(line)
                return parsed
        return {}

    def summary(self) -> dict[str, Any]:
        fields = asdict(self)
        fields.pop("stdout")
        return fields


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    env.update(extra or {})
    return env


class _PeakMemory(threading.Thread):
    """Samples a process tree's memory until stopped.

    ``wait4``'s ``ru_maxrss`` cannot be used: a child inherits the runner's high-water mark
    across fork and exec. Instead each process's own ``VmHWM`` (reset by exec) is read from
    /proc, and the tree's summed RSS covers pools of worker processes."""

    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak_bytes = 0
        self.done = threading.Event()

    def _sample(self) -> None:
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for process in tree:
            with contextlib.suppress(psutil.Error, OSError, ValueError):
                total += process.memory_info().rss
                status = Path(f"/proc/{process.pid}/status").read_text()
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_bytes = max(self.peak_bytes, int(line.split()[1]) * 1024)
        self.peak_bytes = max(self.peak_bytes, total)

    def run(self) -> None:
        while not self.done.is_set():
            self._sample()
            self.done.wait(self.interval_s)


def measure(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO) -> Measurement:
    """Run ``argv`` to completion: CPU time (its own and its reaped descendants') from
    ``wait4``, peak memory sampled from /proc while it runs."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env or child_env(), stdout=out, stderr=err)
        memory = _PeakMemory(process.pid)
        memory.start()
        _, status, usage = os.wait4(process.pid, 0)
        memory.done.set()
        memory.join()
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}:\n{stderr[-3000:]}")
    return Measurement(
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        peak_rss_mb=round(memory.peak_bytes / 1024**2, 1),
        stdout=stdout,
        load_before=round(load_before, 2),
    )


def machine() -> dict[str, Any]:
    """Where the figures were measured: CPU, cores, memory, versions, current load."""
    import polars

    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total_gb = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_gb = round(int(line.split()[1]) / 1024**2, 1)
    versions = {"python": platform.python_version(), "polars": polars.__version__}
    for name in ("duckdb", "pandas", "pyarrow", "pandera", "psutil"):
        with contextlib.suppress(ImportError):
            versions[name] = str(__import__(name).__version__)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_gb": mem_total_gb,
        "platform": platform.platform(),
        "versions": versions,
        "loadavg": [round(value, 2) for value in os.getloadavg()],
    }


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path
