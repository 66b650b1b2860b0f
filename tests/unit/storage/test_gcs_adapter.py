"""GcsStorage against a scripted stand-in client: error translation, call options, checksums.

The happy paths run against the real fake-gcs-server in tests/integration/storage; here a
fake client makes the server say what fake-gcs-server never says (403, 400, corrupt bytes).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import google_crc32c
import pytest
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials

from worker.errors import (
    CommitConflictError,
    ConfigurationError,
    OutputNotWritableError,
    StorageError,
    TransientStorageError,
)
from worker.storage import Storage
from worker.storage.digests import StreamDigest
from worker.storage.gcs import GcsStorage
from worker.storage.retry import RetryPolicy


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class FakeBlob:
    def __init__(self, client: FakeClient, name: str, stored: bytes, served: bytes) -> None:
        self.client = client
        self.bucket = FakeBucket(client)
        self.name = name
        self.size = len(stored)
        self.generation = 7
        self.md5_hash = _b64(hashlib.md5(stored, usedforsecurity=False).digest())
        self.crc32c = _b64(google_crc32c.Checksum(stored).digest())  # type: ignore[no-untyped-call]
        self.content_encoding: str | None = None
        self.chunk_size: int | None = None
        self._served = served

    def download_to_file(self, stream: Any, **kwargs: Any) -> None:
        self.client.record("download_to_file", kwargs)
        stream.write(self._served)

    def upload_from_string(self, data: bytes, **kwargs: Any) -> None:
        self.client.record("upload_from_string", kwargs)


class FakeBucket:
    def __init__(self, client: FakeClient) -> None:
        self.client = client

    def get_blob(self, key: str, **kwargs: Any) -> FakeBlob | None:
        self.client.record("get_blob", kwargs)
        return self.client.blob_for(key)

    def blob(self, key: str, chunk_size: int | None = None) -> FakeBlob:
        return self.client.blob_for(key) or FakeBlob(self.client, key, b"", b"")

    def delete_blob(self, key: str, **kwargs: Any) -> None:
        self.client.record("delete_blob", kwargs)


class FakeClient:
    """Answers every request with ``error`` when set, else with the scripted blob."""

    def __init__(
        self, *, error: Exception | None = None, stored: bytes = b"", served: bytes = b""
    ) -> None:
        self.error = error
        self.stored = stored
        self.served = served
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    def record(self, name: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((name, kwargs))
        if self.error is not None:
            raise self.error

    def blob_for(self, key: str) -> FakeBlob | None:
        return FakeBlob(self, key, self.stored, self.served) if self.stored else None

    def bucket(self, name: str) -> FakeBucket:
        return FakeBucket(self)

    def close(self) -> None:
        self.closed = True


def _storage(client: FakeClient, attempts: int = 2) -> GcsStorage:
    policy = RetryPolicy(attempts=attempts, sleep=lambda _: None)
    return GcsStorage(client=client, timeout_s=12.5, retry_policy=policy)


def test_gcs_storage_satisfies_the_protocol() -> None:
    assert isinstance(_storage(FakeClient()), Storage)


def test_forbidden_write_is_output_not_writable_and_names_the_uri() -> None:
    store = _storage(FakeClient(error=api_exceptions.Forbidden("denied")))
    with pytest.raises(OutputNotWritableError, match=r"permission denied.*gs://out/m\.json"):
        store.write_bytes("gs://out/m.json", b"{}")
    with pytest.raises(OutputNotWritableError, match=r"gs://out/old\.parquet"):
        store.delete("gs://out/old.parquet")


def test_forbidden_read_is_a_plain_storage_error() -> None:
    store = _storage(FakeClient(error=api_exceptions.Forbidden("denied")))
    with pytest.raises(StorageError, match=r"stat: permission denied \(HTTP 403\)") as caught:
        store.stat("gs://in/x.csv")
    assert not isinstance(caught.value, OutputNotWritableError)
    assert not caught.value.retryable


def test_bad_request_is_not_retried_and_reports_the_status() -> None:
    client = FakeClient(error=api_exceptions.BadRequest("invalid object name"))
    with pytest.raises(StorageError, match="HTTP 400"):
        _storage(client, attempts=5).stat("gs://in/x.csv")
    assert len(client.calls) == 1


def test_missing_bucket_on_write_is_output_not_writable() -> None:
    store = _storage(FakeClient(error=api_exceptions.NotFound("no such bucket")))
    with pytest.raises(OutputNotWritableError, match="gs://gone/x"):
        store.write_bytes("gs://gone/x", b"1")


def test_lost_conditional_race_is_a_commit_conflict_without_retries() -> None:
    client = FakeClient(error=api_exceptions.PreconditionFailed("generation mismatch"))
    with pytest.raises(CommitConflictError, match="expected generation 0"):
        _storage(client, attempts=5).write_bytes("gs://out/_m.json", b"{}", if_generation_match=0)
    assert [name for name, _ in client.calls] == ["upload_from_string"]


def test_every_call_carries_the_timeout_and_disables_the_client_retry(tmp_path: Path) -> None:
    client = FakeClient(stored=b"abc", served=b"abc")
    store = _storage(client)
    store.stat("gs://b/x")
    store.download("gs://b/x", tmp_path / "x")
    store.write_bytes("gs://b/y", b"1", if_generation_match=0)
    store.delete("gs://b/y")
    assert {name for name, _ in client.calls} == {
        "get_blob",
        "download_to_file",
        "upload_from_string",
        "delete_blob",
    }
    for name, kwargs in client.calls:
        assert kwargs["timeout"] == 12.5, name
        assert kwargs["retry"] is None, name


def test_corrupt_download_fails_transiently_and_leaves_no_file(tmp_path: Path) -> None:
    client = FakeClient(stored=b"the real bytes", served=b"the real bytez")
    dest = tmp_path / "in" / "x.csv"
    with pytest.raises(TransientStorageError, match="crc32c") as caught:
        _storage(client, attempts=3).download("gs://b/x.csv", dest)
    assert caught.value.retryable
    assert [name for name, _ in client.calls].count("download_to_file") == 3
    assert list(dest.parent.iterdir()) == []


def test_conditional_write_over_8_mib_is_refused_before_any_request() -> None:
    client = FakeClient()
    with pytest.raises(StorageError, match="conditional write of 8388609 bytes refused"):
        _storage(client).write_bytes(
            "gs://b/_m", b"x" * (8 * 1024 * 1024 + 1), if_generation_match=0
        )
    assert client.calls == []


@pytest.mark.parametrize("uri", ["/local/path", "gs://bucket-only"])
def test_uris_that_name_no_gcs_object_are_refused(uri: str) -> None:
    with pytest.raises(StorageError, match="gs://"):
        _storage(FakeClient()).stat(uri)


def test_close_leaves_a_passed_in_client_open() -> None:
    client = FakeClient()
    with _storage(client):
        pass
    assert not client.closed


@pytest.mark.parametrize("kwargs", [{"chunk_size": 1000}, {"chunk_size": 0}, {"timeout_s": 0}])
def test_bad_transfer_settings_are_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        GcsStorage(client=FakeClient(), **kwargs)


def test_emulator_host_gets_anonymous_credentials_and_a_default_project() -> None:
    store = GcsStorage(emulator_host="127.0.0.1:9")
    try:
        client = store._client
        assert client.project == "local-project"
        assert isinstance(client._credentials, AnonymousCredentials)
        assert client._connection.API_BASE_URL == "http://127.0.0.1:9"
    finally:
        store.close()


@pytest.mark.parametrize("algorithm", ["crc32c", "md5"])
def test_stream_digest_accepts_matching_bytes_and_rejects_others(algorithm: str) -> None:
    data = b"0123456789" * 100
    crc = _b64(google_crc32c.Checksum(data).digest())  # type: ignore[no-untyped-call]
    md5 = _b64(hashlib.md5(data, usedforsecurity=False).digest())
    expected = {"crc32c_b64": crc if algorithm == "crc32c" else None, "md5_b64": md5}
    good = StreamDigest.for_object(None, size=len(data), **expected)
    for start in range(0, len(data), 64):
        good.write(data[start : start + 64])
    good.verify(where="gs://b/x")
    assert good.algorithm == algorithm
    bad = StreamDigest.for_object(None, size=len(data), **expected)
    bad.write(data[:-1] + b"!")
    with pytest.raises(TransientStorageError, match=algorithm):
        bad.verify(where="gs://b/x")
    short = StreamDigest.for_object(None, size=len(data), **expected)
    short.write(data[:-1])
    with pytest.raises(TransientStorageError, match="downloaded 999 bytes"):
        short.verify(where="gs://b/x")
