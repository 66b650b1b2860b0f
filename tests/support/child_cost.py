"""Run ``worker run`` in a child process and measure what it cost: peak RSS and bytes written.

Peak RSS is the child's ``ru_maxrss`` (kilobytes on Linux, getrusage(2)); bytes written are
its ``ru_oublock`` (512-byte blocks the child dirtied, counted when written even if the file
is deleted before it reaches the disk, as the scratch is). The child gets a data-segment
limit (RLIMIT_DATA, setrlimit(2)) so that a regression fails the test, not the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ORDERS_MODULE = """
import pandera.polars as pa

from worker.core.datasets import Dataset
from worker.core.formats import {format_class}
from worker.core.matching import MatchRule


class Order(pa.DataFrameModel):
    order_id: int
    note: str = pa.Field(nullable=True)


DATASETS = [
    Dataset(
        name="orders",
        match=MatchRule(glob="orders/{{date}}/*.{pattern}"),
        input_model=Order,
        input_format={format_class}(),
    )
]
"""
DAY = "2024-03-05"
CHILD_DATA_LIMIT = 3 * 1024**3


@dataclass(frozen=True)
class ChildCost:
    exit_code: int
    peak_rss_bytes: int
    written_bytes: int
    stderr: str


def orders_module(root: Path, format_class: str, pattern: str) -> str:
    """Write a user dataset module ``orders_limits`` under ``root``; return its name."""
    (root / "orders_limits.py").write_text(
        ORDERS_MODULE.format(format_class=format_class, pattern=pattern)
    )
    return "orders_limits"


def landing_file(root: Path, name: str) -> Path:
    path = root / "landing" / "orders" / DAY / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _limit_data() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (CHILD_DATA_LIMIT, CHILD_DATA_LIMIT))


def run_worker(root: Path, module: str, **settings: str) -> ChildCost:
    """``worker run --dataset orders --date DAY`` over ``root/landing``, measured."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WORKER_")}
    env |= {
        "PYTHONPATH": str(root),
        "WORKER_DATASETS": module,
        "WORKER_LANDING_URI": str(root / "landing"),
        "WORKER_OUTPUT_URI": str(root / "output"),
        "WORKER_WORKDIR": str(root / "work"),
        "WORKER_LOG_FORMAT": "json",
        **{f"WORKER_{key.upper()}": value for key, value in settings.items()},
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "worker", "run", "--dataset", "orders", "--date", DAY],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # A preexec_fn makes subprocess fork rather than vfork/posix_spawn: the exec of a
        # vforked child merges the parent's peak RSS into the child's ru_maxrss, which would
        # measure this test process instead of the worker. It only calls setrlimit.
        preexec_fn=_limit_data,
    )
    assert child.stderr is not None
    with child.stderr:
        stderr = child.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return ChildCost(
        exit_code=child.returncode,
        peak_rss_bytes=usage.ru_maxrss * 1024,
        written_bytes=usage.ru_oublock * 512,
        stderr=stderr,
    )
