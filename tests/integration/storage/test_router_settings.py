"""The settings alias WORKER_STORAGE_EMULATOR_HOST reaches the GCS adapter the router builds."""

from __future__ import annotations

import pytest

from worker.devenv.emulators import ManagedProcess
from worker.runtime import build_ports
from worker.settings import load_settings
from worker.storage.gcs import GcsStorage

pytestmark = pytest.mark.integration


def test_worker_storage_emulator_host_setting_is_honored(
    gcs_server: ManagedProcess,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    with GcsStorage() as direct:
        direct.ensure_bucket(unique_name)
        direct.write_bytes(f"gs://{unique_name}/in/a.csv", b"x,y\n1,2\n")

    # Only the worker's own alias is set: Google's variable is absent.
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")
    monkeypatch.setenv("WORKER_STORAGE_EMULATOR_HOST", f"http://{gcs_server.host}")
    settings = load_settings(
        landing_uri=f"gs://{unique_name}/in", output_uri=f"gs://{unique_name}/o"
    )

    ports = build_ports(settings)
    listed = ports.storage.list(f"gs://{unique_name}/in")

    assert [info.uri for info in listed] == [f"gs://{unique_name}/in/a.csv"]
