"""Where each reliability scenario leaves its counts: printed, and one JSON line in a file.

The file is ``$WORKER_RELIABILITY_REPORT`` (default ``.worker/reliability.jsonl``);
``tests/reliability/report.py`` renders it into ``RELIABILITY.md``.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

REPORT_ENV = "WORKER_RELIABILITY_REPORT"
DEFAULT_REPORT = Path(".worker/reliability.jsonl")
_INVOKED_IN = Path.cwd()
"""Where pytest was started: tests later run inside temporary directories."""
_REPORT_AT_START = _INVOKED_IN / Path(os.environ.get(REPORT_ENV) or DEFAULT_REPORT)
"""Read once: the tests clear WORKER_* variables from their environment."""

Count = int | float | str | list[int]


def report_path() -> Path:
    """The results file; a relative path is taken from where the run was started."""
    configured = os.environ.get(REPORT_ENV)
    return _INVOKED_IN / configured if configured else _REPORT_AT_START


def record(scenario: str, **counts: Count) -> dict[str, object]:
    """Print ``counts`` of ``scenario`` and append them as one JSON line to the report."""
    entry: dict[str, object] = {
        "scenario": scenario,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count() or 0,
        **counts,
    }
    print(f"\nRELIABILITY {scenario}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
    return entry


def env_int(name: str, default: int) -> int:
    """A scale knob for longer manual runs (``RELIABILITY_*`` variables, see RELIABILITY.md)."""
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default
