"""Checks that run on raw input bytes before any parser sees them.

Untrusted files can be hostile (a gzip bomb, a header line with a billion columns) or simply
mislabelled (Parquet bytes named ``.csv``). Each guard streams in bounded chunks and turns
the problem into an InputFormatError that names the file.
"""

from __future__ import annotations

import codecs
import csv
import zlib
from collections import Counter
from pathlib import Path

from worker.core.budget import ByteBudget, ScratchMeter
from worker.core.formats import Csv, InputLimits
from worker.errors import InputFormatError

CHUNK_BYTES = 1024**2
_PACKED_CHUNK_BYTES = 64 * 1024
_SNIFF_BYTES = 8192
_MAGIC = (
    (b"PAR1", "parquet"),
    (b"Obj\x01", "avro"),
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


def sniff(path: Path) -> str:
    """What the first bytes of ``path`` say it is: a magic-number format, ``binary``,
    ``text`` or ``empty``."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head:
        return "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return "binary" if b"\x00" in head else "text"


def require_content(path: Path, expected: str, *, where: str, name_says: str) -> str:
    """Raise unless the sniffed content is ``expected`` (or empty); return what was found."""
    found = sniff(path)
    if found not in (expected, "empty"):
        raise InputFormatError(
            f"content looks like {found}, but the name says {name_says}", where=where
        )
    return found


def _ceiling(limits: InputLimits, scratch: ScratchMeter) -> tuple[int, str]:
    """How many bytes a .gz may inflate to, and which limit says so."""
    configured = limits.max_decompressed_bytes
    if configured is not None and configured <= scratch.remaining:
        return configured, "max_decompressed_bytes"
    return scratch.remaining, "what is left of the scratch budget, WORKER_SCRATCH_BYTES"


def gunzip(
    src: Path,
    dest: Path,
    limits: InputLimits,
    *,
    where: str,
    scratch: ScratchMeter | None = None,
) -> None:
    """Decompress ``src`` into ``dest`` in chunks, refusing non-gzip data, corrupt streams
    and bombs (more bytes out than ``max_decompressed_bytes`` or the scratch left, or too
    many out per byte in). The output is accounted on ``scratch`` (default: a meter over
    :class:`ByteBudget`'s default scratch)."""
    meter = scratch if scratch is not None else ScratchMeter(ByteBudget().scratch_bytes)
    ceiling = _ceiling(limits, meter)
    with src.open("rb") as head:
        if head.read(2) != b"\x1f\x8b":
            raise InputFormatError("named .gz but is not gzip data", where=where)
    # wbits=32+MAX_WBITS: gzip header; concatenated members are handled by the outer loop.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
    consumed = produced = 0
    try:
        with src.open("rb") as packed, dest.open("wb") as out:
            while chunk := packed.read(_PACKED_CHUNK_BYTES):
                data = chunk
                while data:
                    piece = inflater.decompress(data, CHUNK_BYTES)
                    # Count only the packed bytes zlib actually used, so the ratio is exact.
                    consumed += len(data) - len(inflater.unconsumed_tail)
                    produced += len(piece)
                    _check_inflation(produced, consumed, limits, ceiling, where=where)
                    out.write(piece)
                    data = inflater.unconsumed_tail
                    if inflater.eof and inflater.unused_data:
                        consumed -= len(inflater.unused_data)
                        data = inflater.unused_data + data
                        inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
            out.write(inflater.flush())
    except zlib.error as exc:
        raise InputFormatError(f"corrupt gzip data: {exc}", where=where) from None
    if not inflater.eof:
        raise InputFormatError("truncated gzip data (stream ends early)", where=where)
    meter.claim(produced, what="the inflated file", where=where)


def _check_inflation(
    produced: int, consumed: int, limits: InputLimits, ceiling: tuple[int, str], *, where: str
) -> None:
    limit, source = ceiling
    if produced > limit:
        raise InputFormatError(
            f"decompresses beyond the limit of {limit} bytes ({source}; possible gzip bomb)",
            where=where,
        )
    if produced > limits.ratio_check_after_bytes and produced > consumed * (
        limits.max_compression_ratio
    ):
        raise InputFormatError(
            f"compression ratio above {limits.max_compression_ratio:g}:1 "
            f"({produced} bytes from {consumed}; possible gzip bomb)",
            where=where,
        )


def transcode_to_utf8(
    src: Path, dest: Path, encoding: str, *, where: str, scratch: ScratchMeter | None = None
) -> None:
    """Re-encode a text file to UTF-8 in chunks (Polars reads UTF-8 only), accounting the
    output on ``scratch`` as it is written."""
    meter = scratch if scratch is not None else ScratchMeter(ByteBudget().scratch_bytes)
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise InputFormatError(f"unknown text encoding {encoding!r}", where=where) from None
    offset = 0
    try:
        with src.open("rb") as raw, dest.open("wb") as out:
            while chunk := raw.read(CHUNK_BYTES):
                utf8 = decoder.decode(chunk).encode("utf-8")
                meter.claim(len(utf8), what="the UTF-8 copy", where=where)
                out.write(utf8)
                offset += len(chunk)
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputFormatError(
            f"not valid {encoding} at byte {offset + exc.start}: {exc.reason}", where=where
        ) from None


def read_csv_header(path: Path, options: Csv, limits: InputLimits, *, where: str) -> list[str]:
    """The header's column names, read within the header-size and column-count limits.

    Returns [] for an empty file."""
    with path.open("rb") as handle:
        head = handle.read(limits.max_header_bytes + 1)
    if not head:
        return []
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) > limits.max_header_bytes:
        raise InputFormatError(
            f"header line is longer than {limits.max_header_bytes} bytes", where=where
        )
    if line.count(options.separator.encode()) + 1 > limits.max_columns:
        raise InputFormatError(f"header has more than {limits.max_columns} columns", where=where)
    try:
        text = line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"header is not valid UTF-8: {exc.reason}", where=where) from None
    if options.quote_char:
        parsed = csv.reader([text], delimiter=options.separator, quotechar=options.quote_char)
    else:
        parsed = csv.reader([text], delimiter=options.separator, quoting=csv.QUOTE_NONE)
    row = next(parsed, [])
    names = list(row)
    duplicates = sorted(name for name, seen in Counter(names).items() if seen > 1)
    if duplicates:
        raise InputFormatError(f"header repeats columns {duplicates}", where=where)
    return names
