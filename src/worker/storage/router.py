"""Pick the storage adapter by URI scheme; the GCS client is built once, on first use."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from worker.storage.base import ObjectInfo, Storage
from worker.storage.local import LocalStorage
from worker.storage.uris import GCS_SCHEME, parse_uri

if TYPE_CHECKING:
    from worker.storage.gcs import GcsStorage


class StorageRouter:
    """A Storage that forwards each call to the local or GCS adapter by the URI's scheme."""

    def __init__(
        self,
        *,
        project: str | None = None,
        gcs: Storage | None = None,
        emulator_host: str | None = None,
    ) -> None:
        self._project = project
        self._emulator_host = emulator_host
        self._local = LocalStorage()
        self._gcs: Storage | GcsStorage | None = gcs
        self._owns_gcs = gcs is None

    def _for(self, uri: str) -> Storage:
        if parse_uri(uri).scheme != GCS_SCHEME:
            return self._local
        if self._gcs is None:
            from worker.storage.gcs import GcsStorage

            self._gcs = GcsStorage(project=self._project, emulator_host=self._emulator_host)
        return self._gcs

    def stat(self, uri: str) -> ObjectInfo | None:
        return self._for(uri).stat(uri)

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        return self._for(prefix_uri).list(prefix_uri)

    def download(self, uri: str, dest: Path) -> ObjectInfo:
        return self._for(uri).download(uri, dest)

    def upload(self, src: Path, uri: str) -> ObjectInfo:
        return self._for(uri).upload(src, uri)

    def read_bytes(self, uri: str) -> tuple[bytes, int] | None:
        return self._for(uri).read_bytes(uri)

    def write_bytes(self, uri: str, data: bytes, *, if_generation_match: int | None = None) -> int:
        return self._for(uri).write_bytes(uri, data, if_generation_match=if_generation_match)

    def delete(self, uri: str) -> None:
        self._for(uri).delete(uri)

    def local_path(self, uri: str) -> Path | None:
        return self._for(uri).local_path(uri)

    def close(self) -> None:
        """Close the GCS adapter this router built (a passed-in one is the caller's)."""
        from worker.storage.gcs import GcsStorage

        if self._owns_gcs and isinstance(self._gcs, GcsStorage):
            self._gcs.close()
            self._gcs = None

    def __enter__(self) -> StorageRouter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
