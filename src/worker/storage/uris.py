"""URI parsing, joining and confinement checks shared by every storage adapter.

Object names arrive from outside (notifications, CLI flags): they are validated here and
never interpolated into paths unchecked.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from worker.errors import ConfigurationError, ForbiddenPathError

GCS_SCHEME = "gs"
FILE_SCHEME = "file"
MAX_OBJECT_NAME_BYTES = 1024
"""Cloud Storage's limit on an object name, UTF-8 encoded."""
MAX_LOCAL_PATH_BYTES = 4095
"""Linux's PATH_MAX (4096, with the terminating NUL)."""
MAX_SEGMENT_BYTES = 255
"""Linux's NAME_MAX: the longest file name, which a segment becomes in local storage and in
the scratch directory an object is downloaded to."""


@dataclass(frozen=True, slots=True)
class ParsedUri:
    scheme: str
    """``gs`` or ``file``."""
    bucket: str
    """The GCS bucket; empty for local files."""
    key: str
    """Object name for GCS (no leading slash); absolute path for local files."""

    def __str__(self) -> str:
        if self.scheme == GCS_SCHEME:
            return f"gs://{self.bucket}/{self.key}" if self.key else f"gs://{self.bucket}"
        return self.key


def check_object_name(name: str, *, where: str, max_bytes: int = MAX_OBJECT_NAME_BYTES) -> str:
    """Refuse names that could escape a root: NUL bytes, ``..`` segments (also URL-encoded),
    backslashes and control characters; and names no storage can hold: longer than
    ``max_bytes`` or with a segment longer than 255 bytes (UTF-8)."""
    encoded = name.encode("utf-8", "surrogatepass")
    if len(encoded) > max_bytes:
        raise ForbiddenPathError(
            f"object name is {len(encoded)} bytes long, the limit is {max_bytes}", where=where
        )
    longest = max(len(part) for part in encoded.split(b"/"))
    if longest > MAX_SEGMENT_BYTES:
        raise ForbiddenPathError(
            f"object name has a {longest}-byte segment, the limit is {MAX_SEGMENT_BYTES}",
            where=where,
        )
    decoded = unquote(name)
    for candidate in (name, decoded):
        if "\x00" in candidate or any(ord(ch) < 0x20 for ch in candidate):
            raise ForbiddenPathError("object name contains control characters", where=where)
        if "\\" in candidate:
            raise ForbiddenPathError("object name contains a backslash", where=where)
        if any(part == ".." for part in candidate.split("/")):
            raise ForbiddenPathError("object name contains a '..' segment", where=where)
    return name


def parse_uri(uri: str) -> ParsedUri:
    """Parse ``gs://bucket/key``, ``file:///abs`` or a plain local path."""
    if not uri:
        raise ConfigurationError("empty storage URI")
    if uri.startswith("gs://"):
        rest = uri[len("gs://") :]
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise ConfigurationError("gs:// URI has no bucket", where=uri)
        check_object_name(key, where=uri)
        return ParsedUri(GCS_SCHEME, bucket, key)
    if uri.startswith("file://"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            # A host would otherwise be dropped silently and the path read on this machine.
            raise ConfigurationError("file:// URI names a remote host", where=uri)
        path = unquote(parsed.path)
        check_object_name(path, where=uri, max_bytes=MAX_LOCAL_PATH_BYTES)
        return ParsedUri(FILE_SCHEME, "", str(Path(path).absolute()))
    if "://" in uri:
        raise ConfigurationError("unsupported URI scheme (use gs:// or a local path)", where=uri)
    check_object_name(uri, where=uri, max_bytes=MAX_LOCAL_PATH_BYTES)
    return ParsedUri(FILE_SCHEME, "", str(Path(uri).absolute()))


def join_uri(base: str, *parts: str) -> str:
    """Join validated relative parts onto a base URI."""
    for part in parts:
        check_object_name(part, where=part, max_bytes=MAX_LOCAL_PATH_BYTES)
        if part.startswith("/"):
            raise ForbiddenPathError("absolute path where a relative name was expected", where=part)
    parsed = parse_uri(base)
    if parsed.scheme == GCS_SCHEME:
        key = posixpath.join(parsed.key, *parts) if parsed.key else posixpath.join(*parts)
        return f"gs://{parsed.bucket}/{key}"
    return str(Path(parsed.key, *parts))


def is_within(uri: str, root: str, *, real: bool = True) -> bool:
    """True when ``uri`` names an object under ``root`` (same scheme and bucket); for local
    paths also by real path unless ``real=False``."""
    target, base = parse_uri(uri), parse_uri(root)
    if (target.scheme, target.bucket) != (base.scheme, base.bucket):
        return False
    if target.scheme == GCS_SCHEME:
        prefix = base.key.rstrip("/")
        return not prefix or target.key == prefix or target.key.startswith(prefix + "/")
    target_path = Path(posixpath.normpath(target.key))
    if not target_path.is_relative_to(Path(posixpath.normpath(base.key))):
        return False
    if not real:
        return True
    # A symlink under the root may point anywhere: what it resolves to must be inside too.
    return Path(os.path.realpath(target_path)).is_relative_to(os.path.realpath(base.key))


def require_within(uri: str, root: str, *, what: str, real: bool = True) -> str:
    if not is_within(uri, root, real=real):
        raise ForbiddenPathError(f"{what} is outside the allowed root {root}", where=uri)
    return uri


def relative_to(uri: str, root: str, *, real: bool = True) -> str:
    """The part of ``uri`` below ``root`` (posix separators); ``real=False`` confines by the
    path as written only (a listing's names, before it is known which are inputs)."""
    require_within(uri, root, what="object", real=real)
    target, base = parse_uri(uri), parse_uri(root)
    if target.scheme == GCS_SCHEME:
        prefix = base.key.rstrip("/")
        return target.key[len(prefix) + 1 :] if prefix else target.key
    return Path(target.key).relative_to(base.key).as_posix()
