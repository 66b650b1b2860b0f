"""Google Cloud Storage adapter for ``gs://bucket/key`` URIs.

One ``google.cloud.storage.Client`` is built per adapter and reused. Every call carries an
explicit timeout and ``retry=None``: retries happen only in :mod:`worker.storage.retry`.
The client is built by :mod:`worker.storage.gcs_client`; SDK errors that survive the
retries are translated by :mod:`worker.storage.gcs_errors`.
Large transfers move in ``chunk_size`` pieces; downloads are verified against the
object's crc32c (or md5) before the file appears at its destination.

Conditional writes (the manifest commit) always go out as one single-request upload,
because fake-gcs-server ignores ``ifGenerationMatch`` on resumable uploads (see
``docs/storage.md``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import structlog
from google.api_core import exceptions as api_exceptions

from worker.errors import (
    CommitConflictError,
    ConfigurationError,
    InputNotFoundError,
    StorageError,
    TransientStorageError,
)
from worker.storage.base import ObjectInfo
from worker.storage.digests import StreamDigest
from worker.storage.gcs_client import make_client
from worker.storage.gcs_errors import translate_sdk_errors
from worker.storage.retry import RetryPolicy, call_with_retries
from worker.storage.uris import GCS_SCHEME, parse_uri

T = TypeVar("T")

MIB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 8 * MIB
SINGLE_REQUEST_UPLOAD_LIMIT = 8 * MIB
"""Largest body google-cloud-storage sends as one multipart request; above it, resumable."""
_CHUNK_GRANULARITY = 256 * 1024  # the JSON API wants chunk sizes in multiples of 256 KiB

_log = structlog.get_logger(__name__)


def _split(uri: str, *, object_required: bool = True) -> tuple[str, str]:
    parsed = parse_uri(uri)
    if parsed.scheme != GCS_SCHEME:
        raise StorageError("Cloud Storage was handed a non-gs:// URI", where=uri)
    if object_required and not parsed.key:
        raise StorageError("gs:// URI names a bucket, not an object", where=uri)
    return parsed.bucket, parsed.key


def _hex(b64_digest: str | None) -> str | None:
    """Cloud Storage's base64 digests (``md5Hash``, ``crc32c``) as hex."""
    return base64.b64decode(b64_digest).hex() if b64_digest else None


def _info(bucket: str, blob: Any) -> ObjectInfo:
    return ObjectInfo(
        uri=f"gs://{bucket}/{blob.name}",
        size=int(blob.size or 0),
        generation=int(blob.generation),
        md5=_hex(blob.md5_hash),
        crc32c=_hex(blob.crc32c),
    )


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _under(name: str, key: str) -> bool:
    prefix = key.rstrip("/")
    return not prefix or name == prefix or name.startswith(prefix + "/")


class GcsStorage:
    """Storage over Google Cloud Storage (``gs://bucket/key``)."""

    def __init__(
        self,
        project: str | None = None,
        *,
        client: Any = None,
        timeout_s: float = 60.0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry_policy: RetryPolicy | None = None,
        emulator_host: str | None = None,
    ) -> None:
        """``client``: a ``google.cloud.storage.Client`` to use (the caller keeps ownership);
        otherwise one is built, for ``emulator_host`` or ``STORAGE_EMULATOR_HOST`` when set
        (anonymous credentials, ``project`` or ``local-project``), else with default
        credentials."""
        if chunk_size <= 0 or chunk_size % _CHUNK_GRANULARITY:
            raise ConfigurationError(
                f"GCS chunk_size must be a positive multiple of 256 KiB, got {chunk_size}"
            )
        if timeout_s <= 0:
            raise ConfigurationError(f"GCS timeout_s must be positive, got {timeout_s}")
        self._owns_client = client is None
        self._client = make_client(project, emulator_host) if client is None else client
        self._timeout = timeout_s
        self._chunk_size = chunk_size
        self._policy = retry_policy or RetryPolicy()

    def _call(
        self, action: str, uri: str, attempt: Callable[[int], T], *, writing: bool = False
    ) -> T:
        with translate_sdk_errors(action, uri, writing=writing):
            return call_with_retries(attempt, policy=self._policy, action=action, uri=uri)

    def stat(self, uri: str) -> ObjectInfo | None:
        bucket, key = _split(uri)

        def attempt(_: int) -> ObjectInfo | None:
            blob = self._client.bucket(bucket).get_blob(key, timeout=self._timeout, retry=None)
            return None if blob is None else _info(bucket, blob)

        return self._call("stat", uri, attempt)

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        bucket, key = _split(prefix_uri, object_required=False)

        def attempt(_: int) -> list[ObjectInfo]:
            blobs = self._client.list_blobs(
                bucket, prefix=key or None, timeout=self._timeout, retry=None
            )
            found = [
                _info(bucket, blob)
                for blob in blobs
                if _under(blob.name, key) and not blob.name.endswith("/")
            ]
            return sorted(found, key=lambda info: info.uri)

        return self._call("list", prefix_uri, attempt)

    def download(self, uri: str, dest: Path) -> ObjectInfo:
        bucket, key = _split(uri)

        def attempt(_: int) -> ObjectInfo:
            meta = self._client.bucket(bucket).get_blob(key, timeout=self._timeout, retry=None)
            if meta is None:
                raise InputNotFoundError("input object does not exist", where=uri)
            self._download_verified(meta, uri, dest)
            return _info(bucket, meta)

        return self._call("download", uri, attempt)

    def _download_verified(self, meta: Any, uri: str, dest: Path) -> None:
        """Stream the object version ``meta`` describes into a temporary file beside ``dest``,
        check its digest, rename."""
        # A fresh blob builds the media URL from our endpoint; ``meta.media_link`` names the
        # server's own idea of its address (an emulator's -external-url, bypassing proxies).
        blob = meta.bucket.blob(meta.name, chunk_size=self._chunk_size)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                digest = StreamDigest.for_object(
                    handle, crc32c_b64=meta.crc32c, md5_b64=meta.md5_hash, size=meta.size
                )
                try:
                    # An empty object has nothing to fetch; some servers (fake-gcs-server)
                    # answer the ranged read of 0 bytes with a malformed 416.
                    if meta.size:
                        blob.download_to_file(
                            digest,
                            if_generation_match=meta.generation,
                            timeout=self._timeout,
                            checksum=None,
                            retry=None,
                        )
                except api_exceptions.PreconditionFailed as exc:
                    raise TransientStorageError(
                        "object was replaced while downloading", where=uri
                    ) from exc
            if meta.content_encoding == "gzip":
                # The server decompressed the bytes; the stored digests describe the gzip.
                _log.info("gzip-encoded object: checksum not verifiable", uri=uri)
            else:
                digest.verify(where=uri)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def upload(self, src: Path, uri: str) -> ObjectInfo:
        bucket, key = _split(uri)
        if not src.is_file():
            raise StorageError(f"local source file {src} does not exist", where=uri)

        def attempt(_: int) -> ObjectInfo:
            blob = self._client.bucket(bucket).blob(key, chunk_size=self._chunk_size)
            blob.upload_from_filename(
                str(src), content_type=_content_type(key), timeout=self._timeout, retry=None
            )
            return _info(bucket, blob)

        return self._call("upload", uri, attempt, writing=True)

    def read_bytes(self, uri: str) -> tuple[bytes, int] | None:
        bucket, key = _split(uri)

        def attempt(_: int) -> tuple[bytes, int] | None:
            blob = self._client.bucket(bucket).blob(key)
            try:
                data = blob.download_as_bytes(timeout=self._timeout, checksum=None, retry=None)
            except api_exceptions.NotFound:
                return None
            # Digests and generation come from this very response's headers.
            digest = StreamDigest.for_object(
                None, crc32c_b64=blob.crc32c, md5_b64=blob.md5_hash, size=len(data)
            )
            digest.write(data)
            if blob.content_encoding != "gzip":
                digest.verify(where=uri)
            if blob.generation is None:
                raise StorageError("download response carried no generation", where=uri)
            return data, int(blob.generation)

        return self._call("read", uri, attempt)

    def write_bytes(self, uri: str, data: bytes, *, if_generation_match: int | None = None) -> int:
        bucket, key = _split(uri)
        conditional = if_generation_match is not None
        if conditional and len(data) > SINGLE_REQUEST_UPLOAD_LIMIT:
            raise StorageError(
                f"conditional write of {len(data)} bytes refused: preconditions are only "
                f"reliable on single-request uploads of at most {SINGLE_REQUEST_UPLOAD_LIMIT} "
                "bytes (fake-gcs-server ignores them on resumable uploads)",
                where=uri,
            )
        our_md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()

        def attempt(number: int) -> int:
            # Without chunk_size the client sends bodies <= 8 MiB as one multipart request.
            blob = self._client.bucket(bucket).blob(
                key, chunk_size=None if conditional else self._chunk_size
            )
            try:
                blob.upload_from_string(
                    data,
                    content_type=_content_type(key),
                    if_generation_match=if_generation_match,
                    timeout=self._timeout,
                    retry=None,
                )
            except api_exceptions.PreconditionFailed as exc:
                if number > 1:
                    # An earlier attempt may have landed before its response was lost.
                    current = self._client.bucket(bucket).get_blob(
                        key, timeout=self._timeout, retry=None
                    )
                    if current is not None and current.md5_hash == our_md5:
                        return int(current.generation)
                raise CommitConflictError(
                    f"another writer changed the object first (HTTP 412; expected generation "
                    f"{if_generation_match})",
                    where=uri,
                ) from exc
            return int(blob.generation)

        return self._call("write", uri, attempt, writing=True)

    def delete(self, uri: str) -> None:
        bucket, key = _split(uri)

        def attempt(_: int) -> None:
            with contextlib.suppress(api_exceptions.NotFound):
                self._client.bucket(bucket).delete_blob(key, timeout=self._timeout, retry=None)

        self._call("delete", uri, attempt, writing=True)

    def local_path(self, uri: str) -> Path | None:
        return None

    def ensure_bucket(self, name: str) -> None:
        """Create bucket ``name`` unless it exists (idempotent; for demos and tests)."""
        uri = f"gs://{name}"
        _split(uri, object_required=False)

        def attempt(_: int) -> None:
            if self._client.lookup_bucket(name, timeout=self._timeout, retry=None) is not None:
                return
            # A retried create whose first attempt landed answers 409: that is success too.
            with contextlib.suppress(api_exceptions.Conflict):
                self._client.create_bucket(name, timeout=self._timeout, retry=None)

        self._call("create bucket", uri, attempt, writing=True)

    def close(self) -> None:
        """Close the HTTP session of a client this adapter built (a passed-in one is left open)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GcsStorage:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
