"""Verify downloaded bytes against the digests Cloud Storage keeps for each object.

GCS stores a crc32c for every object and an md5 for non-composite ones, both base64 of the
big-endian digest. The bytes are hashed while they stream to disk, so verification costs no
second read of the file.
"""

from __future__ import annotations

import base64
import hashlib
from typing import BinaryIO, Protocol

import google_crc32c

from worker.errors import TransientStorageError


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> object: ...

    def digest(self) -> bytes: ...


class StreamDigest:
    """A write-only stream that hashes what passes through it on its way to ``sink``."""

    def __init__(
        self,
        sink: BinaryIO | None,
        *,
        algorithm: str | None,
        expected_b64: str | None,
        expected_size: int | None,
    ) -> None:
        self._sink = sink
        self.algorithm = algorithm
        self._expected_b64 = expected_b64
        self._expected_size = expected_size
        self._hasher: _Hasher | None = _new_hasher(algorithm)
        self.size = 0

    @classmethod
    def for_object(
        cls,
        sink: BinaryIO | None,
        *,
        crc32c_b64: str | None,
        md5_b64: str | None,
        size: int | str | None,
    ) -> StreamDigest:
        """Check crc32c when the object has one (every GCS object does), else md5."""
        algorithm, expected = ("crc32c", crc32c_b64) if crc32c_b64 else ("md5", md5_b64)
        return cls(
            sink,
            algorithm=algorithm if expected else None,
            expected_b64=expected,
            expected_size=None if size is None else int(size),
        )

    def write(self, data: bytes) -> int:
        if self._hasher is not None:
            self._hasher.update(data)
        self.size += len(data)
        return self._sink.write(data) if self._sink is not None else len(data)

    def verify(self, *, where: str) -> None:
        """Raise TransientStorageError when size or digest differ from the object's."""
        if self._expected_size is not None and self.size != self._expected_size:
            raise TransientStorageError(
                f"downloaded {self.size} bytes, the object has {self._expected_size}",
                where=where,
            )
        if self._hasher is None or self._expected_b64 is None:
            return
        actual = base64.b64encode(self._hasher.digest()).decode()
        if actual != self._expected_b64:
            raise TransientStorageError(
                f"downloaded bytes fail the {self.algorithm} check: "
                f"expected {self._expected_b64}, got {actual}",
                where=where,
            )


def _new_hasher(algorithm: str | None) -> _Hasher | None:
    if algorithm == "crc32c":
        # google_crc32c declares no annotations on Checksum.__init__.
        return google_crc32c.Checksum()  # type: ignore[no-untyped-call]
    if algorithm == "md5":
        return hashlib.md5(usedforsecurity=False)
    return None
