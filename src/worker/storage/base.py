"""The Storage protocol: the only way the worker touches bytes at rest.

Adapters (``local``, ``gcs``) implement it; ``router.StorageRouter`` picks one by URI scheme.
URIs are ``gs://bucket/key`` or local paths / ``file://`` URIs. Generations identify one
version of an object: GCS generations, or a local file's ``st_mtime_ns``. Conditional
writes (``if_generation_match``; ``0`` = must not exist yet) are how a manifest commit
guarantees that only one of two racing writers wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One version of one object."""

    uri: str
    size: int
    generation: int
    md5: str | None = None
    """Hex MD5 digest where the backend knows it cheaply (GCS, except composite objects;
    local never)."""
    crc32c: str | None = None
    """Hex CRC32C digest where the backend knows it cheaply (every GCS object; local never)."""


@runtime_checkable
class Storage(Protocol):
    def stat(self, uri: str) -> ObjectInfo | None:
        """The current version of ``uri``, or None when it does not exist."""

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        """Every object under ``prefix_uri`` (recursive), sorted by URI."""

    def download(self, uri: str, dest: Path) -> ObjectInfo:
        """Copy ``uri`` to the local file ``dest``, verifying its checksum; raise
        InputNotFoundError when missing."""

    def upload(self, src: Path, uri: str) -> ObjectInfo:
        """Copy the local file ``src`` to ``uri`` (overwrite)."""

    def read_bytes(self, uri: str) -> tuple[bytes, int] | None:
        """(data, generation) of a small object, or None when it does not exist."""

    def write_bytes(self, uri: str, data: bytes, *, if_generation_match: int | None = None) -> int:
        """Write a small object and return its new generation. With ``if_generation_match``
        the write happens only when the current generation equals it (0: absent);
        otherwise CommitConflictError is raised and nothing changes."""

    def delete(self, uri: str) -> None:
        """Remove ``uri``; a missing object is not an error."""

    def local_path(self, uri: str) -> Path | None:
        """A local path that can be read directly (no copy), or None for remote storage."""
