"""Local-filesystem storage: the default for development, tests and the demo.

Writes go to a temporary file in the same directory and are renamed into place, so a
reader sees the old file or the new one, never a torn one. Conditional writes hold an
exclusive ``flock`` on the parent directory while comparing generations, which makes the
check-and-rename atomic between processes on one machine.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from worker.errors import (
    CommitConflictError,
    InputNotFoundError,
    OutputNotWritableError,
    StorageError,
)
from worker.storage.base import ObjectInfo
from worker.storage.uris import FILE_SCHEME, parse_uri


def _path(uri: str) -> Path:
    parsed = parse_uri(uri)
    if parsed.scheme != FILE_SCHEME:
        raise StorageError("local storage was handed a non-local URI", where=uri)
    return Path(parsed.key)


def _info(path: Path) -> ObjectInfo:
    st = path.stat()
    return ObjectInfo(uri=str(path), size=st.st_size, generation=st.st_mtime_ns)


@contextlib.contextmanager
def _writable(uri: str) -> Iterator[None]:
    try:
        yield
    except PermissionError as exc:
        raise OutputNotWritableError(f"cannot write: {exc.strerror}", where=uri) from exc
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EEXIST):
            raise OutputNotWritableError(f"cannot write: {exc.strerror}", where=uri) from exc
        raise StorageError(f"local write failed: {exc.strerror}", where=uri) from exc


@contextlib.contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class LocalStorage:
    """Storage over the local filesystem (``file://`` URIs and plain paths)."""

    def stat(self, uri: str) -> ObjectInfo | None:
        path = _path(uri)
        try:
            return _info(path) if path.is_file() else None
        except FileNotFoundError:
            return None

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        root = _path(prefix_uri)
        if root.is_file():
            return [_info(root)]
        if not root.is_dir():
            return []
        found = [
            _info(path)
            for path in root.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        ]
        return sorted(found, key=lambda info: info.uri)

    def download(self, uri: str, dest: Path) -> ObjectInfo:
        path = _path(uri)
        if not path.is_file():
            raise InputNotFoundError("input file does not exist", where=uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        return _info(path)

    def upload(self, src: Path, uri: str) -> ObjectInfo:
        path = _path(uri)
        with _writable(uri):
            path.parent.mkdir(parents=True, exist_ok=True)
            if src.resolve() != path.resolve():
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                os.close(fd)
                try:
                    shutil.copyfile(src, tmp)
                    os.replace(tmp, path)
                except BaseException:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                    raise
        return _info(path)

    def read_bytes(self, uri: str) -> tuple[bytes, int] | None:
        path = _path(uri)
        try:
            with path.open("rb") as handle:
                generation = os.fstat(handle.fileno()).st_mtime_ns
                return handle.read(), generation
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write_bytes(self, uri: str, data: bytes, *, if_generation_match: int | None = None) -> int:
        path = _path(uri)
        with _writable(uri):
            path.parent.mkdir(parents=True, exist_ok=True)
            if if_generation_match is None:
                _atomic_write(path, data)
                return path.stat().st_mtime_ns
            with _dir_lock(path.parent):
                current = path.stat().st_mtime_ns if path.exists() else 0
                if current != if_generation_match:
                    raise CommitConflictError(
                        f"generation is {current}, expected {if_generation_match}", where=uri
                    )
                _atomic_write(path, data)
                generation = path.stat().st_mtime_ns
                if generation == current:
                    # Same-nanosecond rewrite: bump so the generation always changes.
                    os.utime(path, ns=(generation + 1, generation + 1))
                    generation += 1
                return generation

    def delete(self, uri: str) -> None:
        path = _path(uri)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def local_path(self, uri: str) -> Path | None:
        return _path(uri)
