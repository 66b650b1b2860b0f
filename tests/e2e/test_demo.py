"""``worker demo`` run as a user runs it: the installed command, non-interactively.

The emulator runs need Google's Pub/Sub emulator (they skip loudly without it); the
in-memory run needs nothing and runs everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from worker.devenv.emulators import find_fake_gcs_server, find_pubsub_emulator

WORKER = Path(sys.executable).parent / "worker"
DEMO_TIMEOUT_S = 420
WEEK = [f"2024-01-0{day}" for day in range(1, 8)]
DEAD_LETTER_REASONS = {"unroutable", "input-format"}

needs_emulators = pytest.mark.skipif(
    find_pubsub_emulator() is None or find_fake_gcs_server() is None,
    reason="LOUD SKIP: Google's Pub/Sub emulator or fake-gcs-server is not installed; "
    "the emulator demo did not run",
)


def clean_env() -> dict[str, str]:
    """This environment without settings or emulator hosts that other tests may have set."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WORKER_")
        and key not in {"PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"}
    }


def demo_command(tmp_path: Path, *extra: str) -> list[str]:
    return [
        str(WORKER),
        "demo",
        "--workdir",
        str(tmp_path / "demo"),
        "--json-summary",
        str(tmp_path / "summary.json"),
        "--pid-file",
        str(tmp_path / "pids.json"),
        *extra,
    ]


def run_demo(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    result = subprocess.run(
        demo_command(tmp_path, *extra),
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"worker demo failed:\n{result.stdout}\n{result.stderr}"
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    return result, summary


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_the_week_committed_and_the_poison_dead_lettered(summary: Any, stdout: str) -> None:
    assert summary["succeeded"], summary["failure"]
    partitions = summary["partitions"]
    assert [p["partition"] for p in partitions] == WEEK
    assert {p["status"] for p in partitions} == {"committed"}
    assert all(0 < p["rows_quarantined"] < p["rows_in"] for p in partitions)
    assert all(p["rows_out"] + p["rows_quarantined"] == p["rows_in"] for p in partitions)
    assert summary["completion_events"] >= len(WEEK)
    reasons = {d["reason"]: d for d in summary["dead_letters"]}
    assert set(reasons) == DEAD_LETTER_REASONS
    assert reasons["unroutable"]["uri"].endswith("notes/vendor-contacts.txt")
    assert reasons["input-format"]["uri"].endswith("trips/2024-01-08.csv")
    assert "gzip" in reasons["input-format"]["message"]
    for day in WEEK:
        assert day in stdout
    assert "unroutable" in stdout
    assert "input-format" in stdout
    assert "demo passed" in stdout


@pytest.mark.e2e
def test_in_memory_demo_commits_the_week_and_dead_letters_the_poison(tmp_path: Path) -> None:
    result, summary = run_demo(tmp_path, "--no-emulators")

    assert summary["mode"] == "in-memory"
    assert_the_week_committed_and_the_poison_dead_lettered(summary, result.stdout)
    assert summary["processes"] == []
    manifests = sorted((tmp_path / "demo" / "output").rglob("_manifest.json"))
    assert len(manifests) == len(WEEK)
    assert (tmp_path / "demo" / "landing" / "notes" / "vendor-contacts.txt").is_file()


@pytest.mark.e2e
@pytest.mark.integration
@needs_emulators
def test_emulator_demo_commits_the_week_and_stops_every_process(tmp_path: Path) -> None:
    result, summary = run_demo(tmp_path)

    assert summary["mode"] == "emulators"
    assert_the_week_committed_and_the_poison_dead_lettered(summary, result.stdout)
    assert summary["landing_uri"].startswith("gs://")
    names = [p["name"] for p in summary["processes"]]
    assert names == ["pubsub-emulator", "fake-gcs-server", "worker-serve"]
    assert not [p for p in summary["processes"] if alive(p["pid"])]
    manifests = sorted((tmp_path / "demo" / "output").rglob("_manifest.json"))
    assert len(manifests) == len(WEEK)
    assert (tmp_path / "demo" / "logs" / "worker-serve.log").stat().st_size > 0


def wait_for_pids(pid_file: Path, count: int, demo: subprocess.Popen[str]) -> list[int]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert demo.poll() is None, "the demo ended before it started its processes"
        if pid_file.is_file():
            try:
                records = json.loads(pid_file.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                records = []  # caught mid-write; read again
            if len(records) >= count:
                return [record["pid"] for record in records]
        time.sleep(0.2)
    raise AssertionError(f"{pid_file} never listed {count} processes")


@pytest.mark.e2e
@pytest.mark.integration
@needs_emulators
def test_ctrl_c_stops_every_process_the_demo_started(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        demo_command(tmp_path),
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = wait_for_pids(tmp_path / "pids.json", 2, demo)
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()

    assert demo.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not [pid for pid in pids if alive(pid)]
