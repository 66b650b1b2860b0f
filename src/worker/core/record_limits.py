"""Longest-record checks for text inputs, streamed before a parser sees the file.

Polars' CSV and NDJSON readers hold a whole record in memory, and a record of a gigabyte
(one giant quoted field, say) costs several times that. These checks read the file in
chunks no larger than the limit and keep only counters, so their memory is one chunk.

A CSV record ends at a newline outside quotes; with RFC 4180 quoting (``""`` inside a
quoted field is a literal quote) "outside quotes" means "after an even number of quote
characters", which needs one ``bytes.count`` per chunk and, only in chunks that contain
quotes, a walk from quote to quote. A JSON line ends at any newline (JSON strings cannot
hold a raw one).
"""

from __future__ import annotations

from pathlib import Path

from worker.errors import InputFormatError

_CHUNK_BYTES = 1024**2


def _first_boundary(chunk: bytes, quote: bytes | None, odd: bool) -> int:
    """Index of the first newline outside quotes, given whether the chunk starts inside
    quotes (``odd``); -1 if there is none."""
    if quote is None:
        return chunk.find(b"\n")
    pos = 0
    while True:
        next_quote = chunk.find(quote, pos)
        end = len(chunk) if next_quote < 0 else next_quote
        if not odd:
            newline = chunk.find(b"\n", pos, end)
            if newline >= 0:
                return newline
        if next_quote < 0:
            return -1
        pos, odd = next_quote + 1, not odd


def _last_boundary(chunk: bytes, quote: bytes | None, odd_at_end: bool) -> int:
    """Index of the last newline outside quotes, given the quote state at the chunk's end."""
    if quote is None:
        return chunk.rfind(b"\n")
    end, odd = len(chunk), odd_at_end
    while True:
        last_quote = chunk.rfind(quote, 0, end)
        if not odd:
            newline = chunk.rfind(b"\n", last_quote + 1, end)
            if newline >= 0:
                return newline
        if last_quote < 0:
            return -1
        end, odd = last_quote, not odd


def check_record_lengths(
    path: Path, max_record_bytes: int, *, quote_char: str | None, kind: str, where: str
) -> None:
    """Raise InputFormatError naming the line where the first record longer than
    ``max_record_bytes`` starts (``kind``: "CSV record" or "JSON line")."""
    quote = quote_char.encode() if quote_char else None
    chunk_bytes = max(1, min(_CHUNK_BYTES, max_record_bytes))
    pending = 0  # bytes of the record that is still open
    start = offset = 0  # where the open record starts / where the next chunk starts
    odd = False  # inside quotes at the current position
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            odd_at_end = odd ^ (quote is not None and chunk.count(quote) % 2 == 1)
            first = _first_boundary(chunk, quote, odd)
            if first < 0:
                pending += len(chunk)
            else:
                if pending + first > max_record_bytes:
                    break
                last = _last_boundary(chunk, quote, odd_at_end)
                start, pending = offset + last + 1, len(chunk) - last - 1
            if pending > max_record_bytes:
                break
            offset += len(chunk)
            odd = odd_at_end
        else:
            return
    raise InputFormatError(
        f"{kind} starting on line {_line_at(path, start)} is longer than the limit of "
        f"{max_record_bytes} bytes (max_line_bytes)",
        where=where,
    )


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line number of byte ``offset`` (counted only when there is an error)."""
    newlines = 0
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(_CHUNK_BYTES, offset))):
            newlines += chunk.count(b"\n")
            offset -= len(chunk)
    return newlines + 1
