"""Avro container block limits, checked in one streaming pass before fastavro reads the file.

fastavro reads a data block whole and inflates it whole, so one block that says it is
2 GB, or a small deflate block that inflates to 2 GB, costs that much memory. This pass
walks the container as the Avro specification lays it out (magic, metadata map, sync
marker, then blocks of: record count, byte size, data, sync marker), refuses a block whose
stored size is over the limit without reading it, and inflates compressed blocks in
bounded pieces, counting the bytes and keeping none.
https://avro.apache.org/docs/1.11.1/specification/#object-container-files
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from worker.errors import InputFormatError

_MAGIC = b"Obj\x01"
_SYNC_BYTES = 16
_PIECE = 64 * 1024
_MAX_METADATA_BYTES = 1024**2


def _inflate_zlib(pieces: Iterator[bytes], limit: int) -> int:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # Avro's deflate is raw RFC 1951
    produced = 0
    for piece in pieces:
        data = piece
        while data and produced <= limit:
            produced += len(inflater.decompress(data, _PIECE))
            data = inflater.unconsumed_tail
    return produced + (len(inflater.flush()) if produced <= limit else 0)


def _inflate_stream(pieces: Iterator[bytes], limit: int, codec: str) -> int:
    inflater = bz2.BZ2Decompressor() if codec == "bzip2" else lzma.LZMADecompressor()
    produced = 0
    for piece in pieces:
        produced += len(inflater.decompress(piece, _PIECE))
        while produced <= limit and not inflater.eof and not inflater.needs_input:
            produced += len(inflater.decompress(b"", _PIECE))
        if produced > limit or inflater.eof:
            break
    return produced


_STREAMING = ("deflate", "bzip2", "xz")


class _Corrupt(Exception):
    pass


class _Refused(Exception):
    pass


def _long(handle: BinaryIO) -> int | None:
    """A zig-zag varint; None at a clean end of file."""
    shift = raw = 0
    while True:
        byte = handle.read(1)
        if not byte:
            if shift:
                raise _Corrupt("file ends inside a number")
            return None
        raw |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return (raw >> 1) ^ -(raw & 1)
        shift += 7
        if shift > 63:
            raise _Corrupt("number too long")


def _required_long(handle: BinaryIO) -> int:
    value = _long(handle)
    if value is None:
        raise _Corrupt("file ends early")
    return value


def _exact(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise _Corrupt("file ends early")
    return data


def _header(handle: BinaryIO) -> tuple[str, bytes]:
    """The codec and sync marker from the container header."""
    if handle.read(len(_MAGIC)) != _MAGIC:
        raise _Corrupt("not an Avro container (bad magic)")
    metadata: dict[str, bytes] = {}
    budget = _MAX_METADATA_BYTES
    while count := _required_long(handle):
        if count < 0:
            count = -count
            _required_long(handle)  # the block's byte size, redundant here
        for _ in range(count):
            key_size = _required_long(handle)
            key = _exact(handle, _in_budget(key_size, budget))
            budget -= key_size
            value_size = _required_long(handle)
            metadata[key.decode("utf-8", "replace")] = _exact(
                handle, _in_budget(value_size, budget)
            )
            budget -= value_size
    codec = metadata.get("avro.codec", b"null").decode("utf-8", "replace")
    return codec, _exact(handle, _SYNC_BYTES)


def _in_budget(size: int, budget: int) -> int:
    if size < 0 or size > budget:
        raise _Corrupt(f"header metadata beyond {_MAX_METADATA_BYTES} bytes")
    return size


def _inflated_size(handle: BinaryIO, size: int, codec: str, limit: int) -> int:
    """Inflate ``size`` stored bytes in pieces; stop as soon as the output passes ``limit``."""
    if codec == "null":
        handle.seek(size, 1)
        return size
    if codec not in _STREAMING:
        raise _Refused(
            f"Avro codec {codec!r} is not one the worker can bound (null, {', '.join(_STREAMING)})"
        )
    pieces = _Pieces(handle, size)
    if codec == "deflate":
        produced = _inflate_zlib(iter(pieces), limit)
    else:
        produced = _inflate_stream(iter(pieces), limit, codec)
    handle.seek(pieces.left, 1)  # the rest of a block already over the limit is not read
    return produced


class _Pieces:
    """A block's stored bytes in bounded pieces; ``left`` is what was not read."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle, self.left = handle, size

    def __iter__(self) -> Iterator[bytes]:
        while self.left:
            piece = _exact(self.handle, min(self.left, _PIECE))
            self.left -= len(piece)
            yield piece


def check_avro_blocks(
    handle: BinaryIO, *, max_block_bytes: int, max_inflated_bytes: int, where: str
) -> list[int]:
    """The decoded size of each block, in order; InputFormatError for the first block over
    a limit (or a corrupt layout)."""
    block = 0
    sizes: list[int] = []
    try:
        codec, sync = _header(handle)
        while (count := _long(handle)) is not None:
            size = _required_long(handle)
            if count < 0 or size < 0:
                raise _Corrupt(f"block {block} has a negative count or size")
            if size > max_block_bytes:
                raise InputFormatError(
                    f"Avro block {block} stores {size} bytes, beyond the limit of "
                    f"{max_block_bytes} bytes (max_avro_block_bytes)",
                    where=where,
                )
            inflated = _inflated_size(handle, size, codec, max_inflated_bytes)
            if inflated > max_inflated_bytes:
                raise InputFormatError(
                    f"Avro block {block} ({codec}) inflates beyond the limit of "
                    f"{max_inflated_bytes} bytes (max_avro_block_decompressed_bytes)",
                    where=where,
                )
            if _exact(handle, _SYNC_BYTES) != sync:
                raise _Corrupt(f"block {block} is not followed by the sync marker")
            sizes.append(inflated)
            block += 1
    except _Refused as exc:
        raise InputFormatError(str(exc), where=where) from None
    except (_Corrupt, zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
        raise InputFormatError(f"unreadable Avro at block {block}: {exc}", where=where) from None
    return sizes
