"""Parquet footer checks: refuse a footer or a row group too large for the budget before
any reader loads it.

A Parquet file ends with its metadata (a Thrift compact-protocol ``FileMetaData``), the
metadata's length as a 4-byte little-endian integer, and ``PAR1``. The length is checked
against the footer limit before the metadata is read; the metadata is then walked for
each row group's ``total_byte_size`` (its uncompressed size, field 2 of ``RowGroup``)
and nothing else is kept. Format: https://parquet.apache.org/docs/file-format/metadata/
and the Thrift compact protocol specification.
"""

from __future__ import annotations

import struct
from pathlib import Path

from worker.errors import InputFormatError

_MAGIC = b"PAR1"
_TAIL = 8
_MAX_DEPTH = 32
_ROW_GROUPS_FIELD = 4  # FileMetaData.row_groups: list<RowGroup>
_TOTAL_BYTE_SIZE_FIELD = 2  # RowGroup.total_byte_size: i64
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(
    13
)


class _Corrupt(Exception):
    pass


class _Reader:
    """Just enough of the Thrift compact protocol to walk and skip any value."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _Corrupt("metadata ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            current = self.byte()
            result |= (current & 0x7F) << shift
            if not current & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise _Corrupt("varint too long")

    def zigzag(self) -> int:
        raw = self.varint()
        return (raw >> 1) ^ -(raw & 1)

    def field_header(self, last_id: int) -> tuple[int, int]:
        header = self.byte()
        kind = header & 0x0F
        if kind == _STOP:
            return 0, _STOP
        delta = header >> 4
        return (last_id + delta if delta else self.zigzag()), kind

    def list_header(self) -> tuple[int, int]:
        header = self.byte()
        size = header >> 4
        if size == 15:
            size = self.varint()
        return size, header & 0x0F

    def skip(self, kind: int, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _Corrupt("metadata nested too deeply")
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.byte()
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.advance(8)
        elif kind == _BINARY:
            self.advance(self.varint())
        elif kind in (_LIST, _SET):
            size, element = self.list_header()
            for _ in range(size):
                self.skip_element(element, depth + 1)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip_element(types >> 4, depth + 1)
                    self.skip_element(types & 0x0F, depth + 1)
        elif kind == _STRUCT:
            last = 0
            while True:
                last, inner = self.field_header(last)
                if inner == _STOP:
                    return
                self.skip(inner, depth + 1)
        else:
            raise _Corrupt(f"unknown Thrift type {kind}")

    def skip_element(self, kind: int, depth: int) -> None:
        # Booleans inside containers take one byte each; as struct fields they take none.
        if kind in (_TRUE, _FALSE):
            self.byte()
        else:
            self.skip(kind, depth)

    def advance(self, count: int) -> None:
        if count < 0 or self.pos + count > len(self.data):
            raise _Corrupt("metadata ends early")
        self.pos += count


def _row_group_sizes(metadata: bytes) -> list[int]:
    reader = _Reader(metadata)
    sizes: list[int] = []
    last = 0
    while True:
        last, kind = reader.field_header(last)
        if kind == _STOP:
            return sizes
        if last != _ROW_GROUPS_FIELD or kind != _LIST:
            reader.skip(kind, 1)
            continue
        count, element = reader.list_header()
        if element != _STRUCT:
            raise _Corrupt("row_groups is not a list of structs")
        for _ in range(count):
            size, field_id = 0, 0
            while True:
                field_id, inner = reader.field_header(field_id)
                if inner == _STOP:
                    break
                if field_id == _TOTAL_BYTE_SIZE_FIELD and inner == _I64:
                    size = reader.zigzag()
                else:
                    reader.skip(inner, 2)
            sizes.append(size)


def check_parquet_footer(
    path: Path, *, max_footer_bytes: int, max_row_group_bytes: int, where: str
) -> None:
    """Raise InputFormatError if the footer or any row group exceeds its limit."""
    file_size = path.stat().st_size
    with path.open("rb") as handle:
        if file_size < len(_MAGIC) + _TAIL:
            raise InputFormatError("too short to be Parquet", where=where)
        handle.seek(file_size - _TAIL)
        tail = handle.read(_TAIL)
        (footer_bytes,) = struct.unpack("<I", tail[:4])
        if tail[4:] != _MAGIC:
            raise InputFormatError("not Parquet: the file does not end with PAR1", where=where)
        if footer_bytes > max_footer_bytes:
            raise InputFormatError(
                f"Parquet footer of {footer_bytes} bytes is beyond the limit of "
                f"{max_footer_bytes} bytes (max_parquet_footer_bytes)",
                where=where,
            )
        if footer_bytes > file_size - _TAIL - len(_MAGIC):
            raise InputFormatError(
                f"corrupt Parquet: footer length {footer_bytes} exceeds the file", where=where
            )
        handle.seek(file_size - _TAIL - footer_bytes)
        metadata = handle.read(footer_bytes)
    try:
        sizes = _row_group_sizes(metadata)
    except _Corrupt as exc:
        raise InputFormatError(f"corrupt Parquet footer: {exc}", where=where) from None
    for index, size in enumerate(sizes):
        if size > max_row_group_bytes:
            raise InputFormatError(
                f"Parquet row group {index} holds {size} uncompressed bytes, beyond the limit "
                f"of {max_row_group_bytes} bytes (max_parquet_row_group_bytes / "
                "WORKER_MEMORY_BYTES)",
                where=where,
            )
