"""Byte-level guards: content sniffing, bounded gunzip, CSV header limits, transcoding."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from worker.core.formats import Csv, InputLimits
from worker.core.guards import gunzip, read_csv_header, sniff, transcode_to_utf8
from worker.errors import InputFormatError


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"PAR1....", "parquet"),
        (b"Obj\x01rest", "avro"),
        (b"\x1f\x8b\x08", "gzip"),
        (b"a,b\n1,2\n", "text"),
        (b"\x00\x01\x02", "binary"),
        (b"", "empty"),
    ],
)
def test_sniff_names_what_the_bytes_are(tmp_path: Path, data: bytes, kind: str) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    assert sniff(path) == kind


def test_gunzip_inflates_single_and_concatenated_members(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.gz", tmp_path / "out"
    src.write_bytes(gzip.compress(b"a,b\n1,2\n") + gzip.compress(b"3,4\n"))
    gunzip(src, dest, InputLimits(), where="in.gz")
    assert dest.read_bytes() == b"a,b\n1,2\n3,4\n"


def test_gunzip_refuses_data_that_is_not_gzip(tmp_path: Path) -> None:
    src = tmp_path / "in.csv.gz"
    src.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(InputFormatError, match=r"not gzip.*in\.csv\.gz"):
        gunzip(src, tmp_path / "out", InputLimits(), where=str(src))


def test_gunzip_refuses_truncated_streams(tmp_path: Path) -> None:
    src = tmp_path / "in.gz"
    src.write_bytes(gzip.compress(b"x" * 100_000)[:-20])
    with pytest.raises(InputFormatError, match=r"truncated|corrupt"):
        gunzip(src, tmp_path / "out", InputLimits(), where="in.gz")


def test_gunzip_stops_a_bomb_by_ratio_before_writing_it_all(tmp_path: Path) -> None:
    src, dest = tmp_path / "bomb.gz", tmp_path / "out"
    src.write_bytes(gzip.compress(b"\x00" * 64 * 1024**2, compresslevel=9))
    with pytest.raises(InputFormatError, match="gzip bomb"):
        gunzip(src, dest, InputLimits(), where="bomb.gz")
    assert dest.stat().st_size < 8 * 1024**2


def test_gunzip_stops_at_the_absolute_size_limit(tmp_path: Path) -> None:
    src = tmp_path / "big.gz"
    src.write_bytes(gzip.compress(bytes(range(256)) * 20_000))
    limits = InputLimits(max_decompressed_bytes=1_000_000, max_compression_ratio=1e9)
    with pytest.raises(InputFormatError, match="beyond the limit of 1000000 bytes"):
        gunzip(src, tmp_path / "out", limits, where="big.gz")


def test_csv_header_limits(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    limits = InputLimits(max_header_bytes=1000, max_columns=50)
    path.write_bytes(b"c," * 2000 + b"c\n1\n")
    with pytest.raises(InputFormatError, match="longer than 1000 bytes"):
        read_csv_header(path, Csv(), limits, where="wide.csv")
    path.write_bytes(b",".join(b"c%d" % i for i in range(60)) + b"\n")
    with pytest.raises(InputFormatError, match="more than 50 columns"):
        read_csv_header(path, Csv(), limits, where="wide.csv")


def test_csv_header_parses_quotes_and_refuses_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b'a;"b;c";d\r\n1;2;3\r\n')
    assert read_csv_header(path, Csv(separator=";"), InputLimits(), where="h") == ["a", "b;c", "d"]
    path.write_bytes(b"a,b,a\n")
    with pytest.raises(InputFormatError, match="repeats columns"):
        read_csv_header(path, Csv(), InputLimits(), where="h")
    path.write_bytes(b"")
    assert read_csv_header(path, Csv(), InputLimits(), where="h") == []


def test_transcode_to_utf8_and_report_bad_bytes(tmp_path: Path) -> None:
    src, dest = tmp_path / "latin.csv", tmp_path / "utf8.csv"
    src.write_bytes("name\nJosé\n".encode("latin-1"))
    transcode_to_utf8(src, dest, "latin-1", where="latin.csv")
    assert dest.read_text(encoding="utf-8") == "name\nJosé\n"
    src.write_bytes(b"name\n\xff\xfe\n")
    with pytest.raises(InputFormatError, match=r"not valid utf-16le|not valid ascii at byte 5"):
        transcode_to_utf8(src, dest, "ascii", where="latin.csv")
    with pytest.raises(InputFormatError, match="unknown text encoding"):
        transcode_to_utf8(src, dest, "klingon", where="latin.csv")
