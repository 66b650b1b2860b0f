"""Every Storage method of GcsStorage against the real fake-gcs-server."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import google_crc32c
import pytest

from worker.devenv.emulators import free_port
from worker.errors import (
    InputNotFoundError,
    OutputNotWritableError,
    StorageError,
    TransientStorageError,
)
from worker.storage import StorageRouter
from worker.storage.gcs import GcsStorage
from worker.storage.retry import RetryPolicy

pytestmark = pytest.mark.integration


def test_write_read_stat_round_trip(gcs: GcsStorage, bucket: str) -> None:
    uri = f"gs://{bucket}/out/dt=2024-01-01/_manifest.json"
    generation = gcs.write_bytes(uri, b'{"rows": 3}')
    assert gcs.read_bytes(uri) == (b'{"rows": 3}', generation)
    info = gcs.stat(uri)
    assert info is not None
    assert (info.uri, info.size, info.generation) == (uri, 11, generation)
    assert info.md5 == hashlib.md5(b'{"rows": 3}', usedforsecurity=False).hexdigest()


def test_object_metadata_carries_both_content_digests_across_generations(
    gcs: GcsStorage, bucket: str
) -> None:
    """The object resource holds ``md5Hash`` and ``crc32c`` (base64, big-endian) for every
    upload (https://cloud.google.com/storage/docs/json_api/v1/objects#resource): a second
    upload of the same bytes is a new generation with the same digests."""
    uri = f"gs://{bucket}/in/2024-01-01.csv"
    payload = b"id,value\n1,2.5\n"
    first = gcs.write_bytes(uri, payload)
    before = gcs.stat(uri)
    second = gcs.write_bytes(uri, payload)
    (after,) = gcs.list(f"gs://{bucket}/in")
    assert before is not None
    assert second != first
    assert (before.generation, after.generation) == (first, second)
    crc = google_crc32c.Checksum(payload)  # type: ignore[no-untyped-call]
    assert before.crc32c == after.crc32c == crc.digest().hex()
    assert before.md5 == after.md5 == hashlib.md5(payload, usedforsecurity=False).hexdigest()


def test_missing_objects_read_as_none(gcs: GcsStorage, bucket: str) -> None:
    assert gcs.stat(f"gs://{bucket}/nope") is None
    assert gcs.read_bytes(f"gs://{bucket}/nope") is None


def test_upload_and_download_in_several_chunks(
    gcs_server: object, bucket: str, tmp_path: Path
) -> None:
    payload = os.urandom(3 * 256 * 1024 + 17)  # four 256 KiB chunks, the last one short
    src = tmp_path / "src.bin"
    src.write_bytes(payload)
    uri = f"gs://{bucket}/in/big.bin"
    with GcsStorage(chunk_size=256 * 1024) as chunked:
        uploaded = chunked.upload(src, uri)
        dest = tmp_path / "dl" / "big.bin"
        downloaded = chunked.download(uri, dest)
    assert dest.read_bytes() == payload
    assert uploaded == downloaded
    assert uploaded.size == len(payload)
    assert uploaded.md5 == hashlib.md5(payload, usedforsecurity=False).hexdigest()
    assert [p.name for p in dest.parent.iterdir()] == ["big.bin"]


def test_an_empty_object_downloads_as_an_empty_file(
    gcs: GcsStorage, bucket: str, tmp_path: Path
) -> None:
    uri = f"gs://{bucket}/in/empty.csv"
    gcs.write_bytes(uri, b"")
    dest = tmp_path / "dl" / "empty.csv"
    info = gcs.download(uri, dest)
    assert info.size == 0
    assert dest.read_bytes() == b""


def test_download_of_a_missing_object_names_it(
    gcs: GcsStorage, bucket: str, tmp_path: Path
) -> None:
    uri = f"gs://{bucket}/in/missing.csv"
    with pytest.raises(InputNotFoundError, match=f"{uri}"):
        gcs.download(uri, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_upload_of_a_missing_local_file_is_refused(
    gcs: GcsStorage, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        gcs.upload(tmp_path / "never-written.bin", f"gs://{bucket}/x")


def test_list_is_recursive_sorted_and_bounded_by_the_prefix(gcs: GcsStorage, bucket: str) -> None:
    names = ["data/b/2.csv", "data/a/1.csv", "data/a/deep/3.csv", "database/x.csv", "other/y"]
    for name in names:
        gcs.write_bytes(f"gs://{bucket}/{name}", b"x")
    listed = [info.uri for info in gcs.list(f"gs://{bucket}/data")]
    expected = ["data/a/1.csv", "data/a/deep/3.csv", "data/b/2.csv"]
    assert listed == [f"gs://{bucket}/{name}" for name in expected]
    assert [info.uri for info in gcs.list(f"gs://{bucket}/data/")] == listed
    assert len(gcs.list(f"gs://{bucket}")) == len(names)
    assert [info.uri for info in gcs.list(f"gs://{bucket}/data/a/1.csv")] == [
        f"gs://{bucket}/data/a/1.csv"
    ]
    assert gcs.list(f"gs://{bucket}/empty") == []


def test_delete_is_idempotent(gcs: GcsStorage, bucket: str) -> None:
    uri = f"gs://{bucket}/stale/part-old.parquet"
    gcs.write_bytes(uri, b"old")
    gcs.delete(uri)
    gcs.delete(uri)
    assert gcs.stat(uri) is None


def test_local_path_is_none_for_remote_objects(gcs: GcsStorage, bucket: str) -> None:
    assert gcs.local_path(f"gs://{bucket}/x") is None


def test_ensure_bucket_is_idempotent(gcs: GcsStorage, unique_name: str) -> None:
    gcs.ensure_bucket(unique_name)
    gcs.ensure_bucket(unique_name)
    gcs.write_bytes(f"gs://{unique_name}/probe", b"1")
    assert gcs.stat(f"gs://{unique_name}/probe") is not None


def test_a_missing_bucket_is_not_writable_and_not_listable(
    gcs: GcsStorage, unique_name: str
) -> None:
    with pytest.raises(OutputNotWritableError, match=f"gs://{unique_name}/x"):
        gcs.write_bytes(f"gs://{unique_name}/x", b"1")
    with pytest.raises(StorageError, match="not found"):
        gcs.list(f"gs://{unique_name}/")


def test_router_builds_the_gcs_adapter_for_gs_uris(
    gcs: GcsStorage, bucket: str, tmp_path: Path
) -> None:
    with StorageRouter(project="local-project") as router:
        generation = router.write_bytes(f"gs://{bucket}/r.json", b"{}", if_generation_match=0)
        assert router.read_bytes(f"gs://{bucket}/r.json") == (b"{}", generation)
        assert router.local_path(f"gs://{bucket}/r.json") is None
        assert router.local_path(str(tmp_path)) == tmp_path


def test_unreachable_server_is_transient(unique_name: str) -> None:
    policy = RetryPolicy(attempts=2, initial_backoff_s=0.01, max_backoff_s=0.01)
    with (
        GcsStorage(emulator_host=f"127.0.0.1:{free_port()}", retry_policy=policy) as dead,
        pytest.raises(TransientStorageError, match="after 2 attempt"),
    ):
        dead.stat(f"gs://{unique_name}/x")
