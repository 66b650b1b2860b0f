"""``worker emulators``: the two emulators, wired, for running setup and serve by hand.

The exports it prints are the variables Google's clients honour: ``PUBSUB_EMULATOR_HOST``
(https://cloud.google.com/pubsub/docs/emulator#env) and ``STORAGE_EMULATOR_HOST`` (read by
google-cloud-storage, https://github.com/fsouza/fake-gcs-server#using-with-google-cloud-storage).
An upload must reach ``file-arrived`` as a Cloud Storage notification (attributes
``eventType``, ``bucketId``, ``objectId``: https://cloud.google.com/storage/docs/pubsub-notifications).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.devenv.emulators import find_pubsub_emulator

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        find_pubsub_emulator() is None, reason="LOUD SKIP: Google's Pub/Sub emulator is absent"
    ),
]


@pytest.fixture
def emulators(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WORKER_", "PUBSUB_", "STORAGE_"))
    }
    pid_file = tmp_path / "pids.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "emulators", "--workdir", str(tmp_path / "emu"),
         "--pid-file", str(pid_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        start_new_session=True,
    )  # fmt: skip
    exports: dict[str, str] = {}
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = shlex.split(value)[0]
        if line.startswith("# Ctrl-C") or time.monotonic() > deadline:
            break
    try:
        yield process, exports
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()


def test_it_prints_exports_that_setup_and_notifications_work_with_then_stops_on_ctrl_c(
    emulators: tuple[subprocess.Popen[str], dict[str, str]], tmp_path: Path
) -> None:
    process, exports = emulators
    assert {"PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "WORKER_LANDING_URI"} <= set(exports)
    env = {**os.environ, **exports}
    setup = subprocess.run(
        [sys.executable, "-m", "worker", "setup", "--keep-completed", "--no-schemas"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert "OBJECT_FINALIZE trips/2024-01-01.csv" in probe.stdout

    emulator_pids = [record["pid"] for record in json.loads((tmp_path / "pids.json").read_text())]
    assert len(emulator_pids) == 2
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    for pid in emulator_pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


PROBE = """
import os
from google.cloud import pubsub_v1, storage
project = os.environ["WORKER_PROJECT"]
subscriber = pubsub_v1.SubscriberClient()
topic = f"projects/{project}/topics/file-arrived"
path = subscriber.subscription_path(project, "file-arrived-probe")
subscriber.create_subscription(request={"name": path, "topic": topic})
bucket = os.environ["WORKER_LANDING_URI"].removeprefix("gs://")
client = storage.Client(project=project)
client.bucket(bucket).blob("trips/2024-01-01.csv").upload_from_string(b"trip_id\\n1\\n")
for _ in range(50):
    got = subscriber.pull(request={"subscription": path, "max_messages": 10}, timeout=10)
    for item in got.received_messages:
        attributes = item.message.attributes
        print(attributes["eventType"], attributes["objectId"])
    if got.received_messages:
        break
"""
