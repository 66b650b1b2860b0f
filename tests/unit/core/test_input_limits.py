"""The streamed limits one by one, at their exact boundaries.

CSV records follow RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180#section-2: a quoted
field may hold line breaks and doubled quotes); Avro containers follow
https://avro.apache.org/docs/1.11.1/specification/#object-container-files; Parquet footers
https://parquet.apache.org/docs/file-format/metadata/.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import struct
from pathlib import Path

import fastavro
import polars as pl
import pytest

from worker.core.avro import avro_to_parquet
from worker.core.avro_blocks import check_avro_blocks
from worker.core.budget import ScratchMeter
from worker.core.formats import InputLimits
from worker.core.guards import gunzip, transcode_to_utf8
from worker.core.parquet_footer import check_parquet_footer
from worker.core.record_limits import check_record_lengths
from worker.errors import InputFormatError

# Row 2 is one record of 30 bytes over three lines: 2,"a<LF>b ""q"" <LF>ccccccccccccc"
CSV = b'id,note\n1,x\n2,"a\nb ""q""\nccccccccccccccc"\n3,y\n'
RECORD = len(b'2,"a\nb ""q""\nccccccccccccccc"')


def _csv(tmp_path: Path, data: bytes = CSV) -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("limit", [RECORD, RECORD + 1, 64, 1024])
def test_a_record_of_exactly_the_limit_passes(tmp_path: Path, limit: int) -> None:
    check_record_lengths(_csv(tmp_path), limit, quote_char='"', kind="CSV record", where="in")


@pytest.mark.parametrize("limit", [RECORD - 1, 20, 12])
def test_a_record_over_the_limit_names_its_first_line(tmp_path: Path, limit: int) -> None:
    """Chunks are never larger than the limit, so the quoted newlines and doubled quotes
    of row 2 straddle chunk ends; the record is still measured whole."""
    with pytest.raises(InputFormatError, match=r"CSV record starting on line 3 is longer"):
        check_record_lengths(_csv(tmp_path), limit, quote_char='"', kind="CSV record", where="in")


def test_without_quoting_every_newline_ends_a_record(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    check_record_lengths(path, 16, quote_char=None, kind="CSV record", where="in")
    with pytest.raises(InputFormatError, match="line 5"):
        check_record_lengths(path, 15, quote_char=None, kind="CSV record", where="in")


def test_a_json_line_is_measured_to_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    line = b'{"note": "' + b"z" * 100 + b'"}'
    path.write_bytes(b"{}\n" + line + b"\n{}\n")
    check_record_lengths(path, len(line), quote_char=None, kind="JSON line", where="in")
    with pytest.raises(InputFormatError, match=r"JSON line starting on line 2.*in\.jsonl"):
        check_record_lengths(
            path, len(line) - 1, quote_char=None, kind="JSON line", where="in.jsonl"
        )


def test_an_unterminated_last_record_is_measured_too(tmp_path: Path) -> None:
    path = _csv(tmp_path, b'id,note\n1,"' + b"q" * 50)
    with pytest.raises(InputFormatError, match="line 2"):
        check_record_lengths(path, 40, quote_char='"', kind="CSV record", where="in")


def _avro(codec: str, records: int = 3000) -> bytes:
    schema = {"type": "record", "name": "R", "fields": [{"name": "s", "type": "string"}]}
    out = io.BytesIO()
    rows = ({"s": f"row {i} " * 20} for i in range(records))
    fastavro.writer(out, schema, rows, codec=codec, sync_interval=16_000)
    return out.getvalue()


@pytest.mark.parametrize("codec", ["null", "deflate", "bzip2", "xz"])
def test_avro_files_within_the_limits_pass_and_tight_limits_refuse(codec: str) -> None:
    data = _avro(codec)
    assert len(list(fastavro.reader(io.BytesIO(data)))) == 3000
    check_avro_blocks(
        io.BytesIO(data), max_block_bytes=64_000, max_inflated_bytes=64_000, where="a"
    )
    with pytest.raises(InputFormatError, match=r"Avro block 0 .*beyond the limit of 4000"):
        check_avro_blocks(
            io.BytesIO(data), max_block_bytes=4000, max_inflated_bytes=4000, where="a"
        )


def test_avro_batches_end_at_a_byte_budget_without_splitting_blocks(tmp_path: Path) -> None:
    """Rows alone would make one batch; the byte budget makes several, each of whole blocks,
    and no record is lost or reordered."""
    src = tmp_path / "in.avro"
    src.write_bytes(_avro("deflate"))
    with src.open("rb") as handle:
        sizes = check_avro_blocks(
            handle, max_block_bytes=1 << 20, max_inflated_bytes=1 << 20, where="a"
        )
    assert len(sizes) > 4
    written = avro_to_parquet(
        src,
        tmp_path / "staging",
        ["s"],
        10**6,
        where="a",
        block_bytes=sizes,
        batch_bytes=2 * max(sizes),
    )
    assert 2 < len(written) <= len(sizes)
    rows = pl.concat([pl.read_parquet(path) for path in written])["s"].to_list()
    assert rows == [f"row {i} " * 20 for i in range(3000)]


def test_an_avro_block_that_claims_to_be_huge_is_refused_without_reading_it() -> None:
    data = _avro("null", records=10)
    header_end = data.index(fastavro.reader(io.BytesIO(data))._header["sync"]) + 16
    forged = data[:header_end] + b"\x02" + b"\xfe\xff\xff\xff\x0f"  # count 1, size 2**31-1
    with pytest.raises(InputFormatError, match="stores 2147483647 bytes"):
        check_avro_blocks(
            io.BytesIO(forged), max_block_bytes=64 * 1024**2, max_inflated_bytes=1, where="a"
        )


def test_an_avro_codec_the_worker_cannot_bound_is_refused() -> None:
    """The container names its codec in the ``avro.codec`` metadata entry."""
    data = _avro("null", records=10).replace(b"\x08null", b"\x08zstd", 1)
    with pytest.raises(InputFormatError, match="Avro codec 'zstd' is not one the worker can"):
        check_avro_blocks(io.BytesIO(data), max_block_bytes=10**9, max_inflated_bytes=1, where="a")


def test_a_truncated_avro_block_is_unreadable_avro() -> None:
    data = _avro("deflate")
    with pytest.raises(InputFormatError, match=r"unreadable Avro at block \d+: file ends early"):
        check_avro_blocks(
            io.BytesIO(data[:-100]), max_block_bytes=10**9, max_inflated_bytes=10**9, where="a"
        )


def _parquet(tmp_path: Path, rows: int, row_group_size: int) -> Path:
    path = tmp_path / "in.parquet"
    pl.DataFrame({"n": pl.int_range(0, rows, eager=True)}).write_parquet(
        path, row_group_size=row_group_size
    )
    return path


def test_parquet_row_groups_are_measured_from_the_footer(tmp_path: Path) -> None:
    """Four row groups of 100,000 Int64 values: 800,000 bytes each, plus page headers."""
    path = _parquet(tmp_path, 400_000, 100_000)
    check_parquet_footer(path, max_footer_bytes=1 << 20, max_row_group_bytes=900_000, where="p")
    with pytest.raises(InputFormatError, match=r"row group 0 holds 8\d{5} uncompressed bytes"):
        check_parquet_footer(path, max_footer_bytes=1 << 20, max_row_group_bytes=800_000, where="p")


def test_a_parquet_footer_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = _parquet(tmp_path, 10, 10)
    (footer,) = struct.unpack("<I", path.read_bytes()[-8:-4])
    with pytest.raises(InputFormatError, match=f"footer of {footer} bytes is beyond the limit"):
        check_parquet_footer(
            path, max_footer_bytes=footer - 1, max_row_group_bytes=1 << 30, where="p"
        )


def test_a_footer_length_beyond_the_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 32 + struct.pack("<I", 1000) + b"PAR1")
    with pytest.raises(InputFormatError, match="footer length 1000 exceeds the file"):
        check_parquet_footer(path, max_footer_bytes=1 << 20, max_row_group_bytes=1, where="p")


def test_garbage_in_the_footer_is_a_corrupt_footer(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x19\xff\xff" + struct.pack("<I", 3) + b"PAR1")
    with pytest.raises(InputFormatError, match="corrupt Parquet footer"):
        check_parquet_footer(path, max_footer_bytes=1 << 20, max_row_group_bytes=1, where="p")


def test_gunzip_takes_the_smaller_of_its_limit_and_the_scratch_left(tmp_path: Path) -> None:
    src = tmp_path / "in.gz"
    src.write_bytes(gzip.compress(bytes(range(256)) * 4000))
    meter = ScratchMeter(limit=2_000_000, used=1_500_000)
    with pytest.raises(InputFormatError, match=r"limit of 500000 bytes .*WORKER_SCRATCH_BYTES"):
        gunzip(src, tmp_path / "out", InputLimits(), where="in.gz", scratch=meter)
    meter = ScratchMeter(limit=2_000_000)
    gunzip(src, tmp_path / "out", InputLimits(), where="in.gz", scratch=meter)
    assert meter.used == 1_024_000


def test_transcoding_accounts_its_output_on_the_scratch(tmp_path: Path) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("é".encode("latin-1") * 1000)  # 1000 bytes in, 2000 out
    meter = ScratchMeter(limit=1999)
    with pytest.raises(InputFormatError, match="the UTF-8 copy needs 2000 bytes of scratch"):
        transcode_to_utf8(src, tmp_path / "out", "latin-1", where="latin.csv", scratch=meter)


def test_docs_name_every_limit_with_its_default() -> None:
    """docs/datasets.md's table of ``InputLimits`` is the one users read."""
    docs = Path(__file__).resolve().parents[3] / "docs" / "datasets.md"
    section = docs.read_text("utf-8").split("## Reading untrusted files safely", 1)[1]
    defaults = InputLimits()
    for field in dataclasses.fields(InputLimits):
        assert f"`{field.name}`" in section, field.name
        value = getattr(defaults, field.name)
        if isinstance(value, int) and value >= 1024**2 and value % 1024**2 == 0:
            row = next(line for line in section.splitlines() if f"`{field.name}`" in line)
            assert f"{value // 1024**2} MiB" in row, row
