"""GcsStorage behind a fault-injecting proxy: what it retries, and when it gives up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.faulty_proxy import Fault, FaultyProxy
from worker.errors import TransientStorageError
from worker.storage.gcs import GcsStorage
from worker.storage.retry import RetryPolicy

pytestmark = pytest.mark.integration


def _uploads(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/upload/")


def _media_downloads(method: str, path: str) -> bool:
    return method == "GET" and "alt=media" in path


@pytest.mark.parametrize(
    "fault", [Fault.UNAVAILABLE, Fault.RATE_LIMITED, Fault.INTERNAL_ERROR, Fault.RESET]
)
def test_a_few_transient_faults_are_retried_away(
    proxied: GcsStorage, proxy: FaultyProxy, bucket: str, fault: Fault
) -> None:
    uri = f"gs://{bucket}/out/_manifest.json"
    proxy.inject(fault, times=2)
    generation = proxied.write_bytes(uri, b'{"ok": true}', if_generation_match=0)
    proxy.inject(fault, times=2)
    assert proxied.read_bytes(uri) == (b'{"ok": true}', generation)
    assert proxy.faults_served() == 4


def test_mixed_faults_on_a_download_still_deliver_the_exact_bytes(
    proxied: GcsStorage, proxy: FaultyProxy, bucket: str, tmp_path: Path
) -> None:
    payload = os.urandom(300_000)
    src = tmp_path / "in.bin"
    src.write_bytes(payload)
    uri = f"gs://{bucket}/in/file.bin"
    proxied.upload(src, uri)
    proxy.inject(Fault.RESET)
    proxy.inject(Fault.UNAVAILABLE)
    proxy.inject(Fault.CORRUPT_BODY, when=_media_downloads)
    dest = tmp_path / "out" / "file.bin"
    info = proxied.download(uri, dest)
    assert dest.read_bytes() == payload
    assert info.size == len(payload)
    assert proxy.faults_served() == 3


@pytest.mark.parametrize("fault", [Fault.UNAVAILABLE, Fault.RESET])
def test_persistent_faults_give_up_after_the_bounded_attempts(
    proxied: GcsStorage,
    proxy: FaultyProxy,
    bucket: str,
    fault: Fault,
    fast_retries: RetryPolicy,
) -> None:
    uri = f"gs://{bucket}/x.json"
    proxy.inject(fault, times=None)
    with pytest.raises(TransientStorageError, match="after 4 attempt") as caught:
        proxied.write_bytes(uri, b"{}")
    assert caught.value.retryable
    assert caught.value.where == uri
    assert len(proxy.requests) == fast_retries.attempts
    proxy.clear()
    assert proxied.stat(uri) is None


def test_persistently_corrupt_downloads_fail_and_leave_no_file(
    proxied: GcsStorage, proxy: FaultyProxy, bucket: str, tmp_path: Path
) -> None:
    uri = f"gs://{bucket}/in/data.csv"
    proxied.write_bytes(uri, b"a,b\n1,2\n" * 1000)
    proxy.inject(Fault.CORRUPT_BODY, times=None, when=_media_downloads)
    dest = tmp_path / "staging" / "data.csv"
    with pytest.raises(TransientStorageError, match="crc32c"):
        proxied.download(uri, dest)
    assert list(dest.parent.iterdir()) == []
    with pytest.raises(TransientStorageError, match="crc32c"):
        proxied.read_bytes(uri)


def test_a_conditional_write_whose_answer_was_lost_is_recognised_as_ours(
    proxied: GcsStorage, proxy: FaultyProxy, bucket: str
) -> None:
    uri = f"gs://{bucket}/out/dt=2024-01-01/_manifest.json"
    manifest = b'{"run_id": "r-1"}'
    proxy.inject(Fault.RESET_AFTER_FORWARD, when=_uploads)
    generation = proxied.write_bytes(uri, manifest, if_generation_match=0)
    # The first upload landed; the retry met 412 and the re-read found our own bytes.
    assert [r.fault for r in proxy.requests if _uploads(r.method, r.path)] == [
        Fault.RESET_AFTER_FORWARD,
        None,
    ]
    assert proxied.read_bytes(uri) == (manifest, generation)


def test_a_stalled_request_times_out_and_is_retried(
    proxy: FaultyProxy, fast_retries: RetryPolicy, bucket: str
) -> None:
    uri = f"gs://{bucket}/in/slow.json"
    with GcsStorage(emulator_host=proxy.url, retry_policy=fast_retries, timeout_s=0.5) as store:
        store.write_bytes(uri, b"{}")
        proxy.inject(Fault.STALL)
        assert store.read_bytes(uri) is not None
    assert [r.fault for r in proxy.requests][-2:] == [Fault.STALL, None]
