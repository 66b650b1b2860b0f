"""What a hostile input costs: each is refused with exit 4 (InputFormatError, dead-letter
reason ``input-format``) by a ``worker run`` child whose peak RSS and written bytes are
measured (getrusage(2): ``ru_maxrss``, ``ru_oublock``). Inputs are generated in tmp; the
big ones are sparse files, so they cost no disk and little time to make.

Cloud Run gives a partition 2-4 GiB, and its /tmp is memory too
(https://cloud.google.com/run/docs/container-contract#filesystem): each bound below is
under 1 GiB.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import zlib
from pathlib import Path

import fastavro
import polars as pl

from support.child_cost import landing_file, orders_module, run_worker

GIB = 1024**3
MIB = 1024**2
RSS_BOUND = GIB


def _sparse_quoted_field(path: Path, field_bytes: int) -> None:
    """A CSV whose second row holds one quoted field of ``field_bytes`` (mostly a hole)."""
    with path.open("wb") as handle:
        handle.write(b'order_id,note\n1,first\n2,"')
        handle.write(b"x" * 16384)  # text for the content sniffer, then the hole
        handle.truncate(handle.tell() + field_bytes)
        handle.seek(0, os.SEEK_END)
        handle.write(b'"\n3,last\n')


def test_a_1_gib_quoted_csv_field_is_refused_by_the_default_line_limit(tmp_path: Path) -> None:
    """The issue's input: one quoted field of 1 GiB. The default ``max_line_bytes``
    (16 MiB) refuses it while streaming; Polars never holds it."""
    module = orders_module(tmp_path, "Csv", "csv")
    _sparse_quoted_field(landing_file(tmp_path, "giant.csv"), GIB)
    cost = run_worker(tmp_path, module)
    assert cost.exit_code == 4, cost.stderr
    assert "CSV record starting on line 3 is longer than the limit of 16777216 bytes" in (
        cost.stderr
    )
    assert "giant.csv" in cost.stderr
    assert cost.peak_rss_bytes < RSS_BOUND
    assert cost.written_bytes < 16 * MIB


def test_a_json_line_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    module = orders_module(tmp_path, "JsonLines", "jsonl")
    path = landing_file(tmp_path, "giant.jsonl")
    with path.open("wb") as handle:
        handle.write(b'{"order_id": 1, "note": "a"}\n{"order_id": 2, "note": "')
        handle.write(b"y" * 8192)
        handle.truncate(handle.tell() + GIB)
        handle.seek(0, os.SEEK_END)
        handle.write(b'"}\n')
    cost = run_worker(tmp_path, module)
    assert cost.exit_code == 4, cost.stderr
    assert "JSON line starting on line 2 is longer than the limit" in cost.stderr
    assert cost.peak_rss_bytes < RSS_BOUND


def _avro_with_one_deflate_block(path: Path, inflated_bytes: int) -> None:
    """An Avro container whose single deflate block inflates to ``inflated_bytes``: the
    header from fastavro, the block written by hand (count, size, raw deflate, sync), as
    https://avro.apache.org/docs/1.11.1/specification/#object-container-files lays out."""
    schema = {
        "type": "record",
        "name": "Order",
        "fields": [{"name": "order_id", "type": "long"}, {"name": "note", "type": "string"}],
    }
    header = io.BytesIO()
    fastavro.writer(header, schema, [], codec="deflate", sync_marker=b"S" * 16)
    # After a full flush deflate forgets its history, so one flushed piece may repeat.
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(64 * MIB)
    piece = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    packed = piece * (inflated_bytes // len(zeros)) + packer.flush()

    def long(value: int) -> bytes:
        raw, out = (value << 1) ^ (value >> 63), bytearray()
        while raw > 0x7F:
            out.append((raw & 0x7F) | 0x80)
            raw >>= 7
        out.append(raw)
        return bytes(out)

    path.write_bytes(header.getvalue() + long(1) + long(len(packed)) + packed + b"S" * 16)


def test_an_avro_deflate_block_that_inflates_to_2_gb_is_refused(tmp_path: Path) -> None:
    module = orders_module(tmp_path, "Avro", "avro")
    _avro_with_one_deflate_block(landing_file(tmp_path, "bomb.avro"), 2 * GIB)
    cost = run_worker(tmp_path, module)
    assert cost.exit_code == 4, cost.stderr
    assert "Avro block 0 (deflate) inflates beyond the limit of 268435456 bytes" in cost.stderr
    assert cost.peak_rss_bytes < RSS_BOUND


def _csv_at_116_to_1(text_bytes: int) -> bytes:
    """A gzipped CSV of ``text_bytes`` whose ratio is about 116:1, as in the issue: a few
    dozen random rows, then long rows deflate packs tightly, over and over."""
    rng = random.Random(14)
    filler = (b"1," + b"a" * 4000 + b"\n") * 24
    parts, size = [b"order_id,note\n"], 0
    while size < text_bytes:
        rows = (b"%d,n%d\n" % (rng.randrange(10**6), rng.randrange(10**6)) for _ in range(76))
        block = b"".join(rows) + filler
        parts.append(block)
        size += len(block)
    return gzip.compress(b"".join(parts), compresslevel=6, mtime=0)


def test_a_gzip_below_the_ratio_guard_stops_at_the_scratch_budget(tmp_path: Path) -> None:
    """116:1 passes the 200:1 ratio guard; the scratch budget (here 64 MiB) stops it while
    inflating, so scratch never holds more than the budget."""
    module = orders_module(tmp_path, "Csv", "csv*")
    packed = _csv_at_116_to_1(160 * MIB)
    assert 100 < 160 * MIB / len(packed) < 200
    landing_file(tmp_path, "day.csv.gz").write_bytes(packed)
    cost = run_worker(tmp_path, module, scratch_bytes=str(64 * MIB))
    assert cost.exit_code == 4, cost.stderr
    assert "decompresses beyond the limit of 67108864 bytes" in cost.stderr
    assert "WORKER_SCRATCH_BYTES" in cost.stderr
    assert cost.written_bytes < 64 * MIB + 8 * MIB
    assert cost.peak_rss_bytes < RSS_BOUND


def test_the_scratch_budget_follows_the_memory_setting(tmp_path: Path) -> None:
    """Without WORKER_SCRATCH_BYTES the scratch is half of WORKER_MEMORY_BYTES."""
    module = orders_module(tmp_path, "Csv", "csv*")
    landing_file(tmp_path, "day.csv.gz").write_bytes(_csv_at_116_to_1(96 * MIB))
    cost = run_worker(tmp_path, module, memory_bytes=str(64 * MIB))
    assert cost.exit_code == 4, cost.stderr
    assert "decompresses beyond the limit of 33554432 bytes" in cost.stderr
    assert cost.written_bytes < 32 * MIB + 8 * MIB


def test_a_parquet_row_group_too_large_for_the_memory_budget_is_refused(tmp_path: Path) -> None:
    """One 64 MiB row group against a 64 MiB memory budget (row groups may take a quarter):
    refused from the footer, before a byte of it is read."""
    module = orders_module(tmp_path, "Parquet", "parquet")
    rows = 8 * MIB
    pl.DataFrame({"order_id": pl.int_range(0, rows, eager=True)}).write_parquet(
        landing_file(tmp_path, "day.parquet"), row_group_size=rows
    )
    cost = run_worker(tmp_path, module, memory_bytes=str(64 * MIB))
    assert cost.exit_code == 4, cost.stderr
    assert "Parquet row group 0 holds" in cost.stderr
    assert "beyond the limit of 16777216 bytes" in cost.stderr
    assert cost.peak_rss_bytes < RSS_BOUND
