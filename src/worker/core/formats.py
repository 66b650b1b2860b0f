"""Input format options a dataset declares, and the limits that guard reading untrusted files.

A dataset reads one format. Text formats (CSV, JSON lines) may also arrive gzip-compressed
(``.gz`` appended to the name); Parquet and Avro carry their own compression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from worker.errors import ConfigurationError

GZIP_SUFFIX = ".gz"


MIB = 1024**2


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Ceilings that turn hostile or broken inputs into clear errors instead of OOM kills.

    Each is checked while the bytes stream past, before a parser holds them. ``None`` means
    "derived from the worker's budget" (``WORKER_MEMORY_BYTES`` / ``WORKER_SCRATCH_BYTES``,
    see :class:`worker.core.budget.ByteBudget`)."""

    max_decompressed_bytes: int | None = None
    """A .gz input may not inflate beyond this many bytes; None: what is left of the
    partition's scratch budget."""
    max_compression_ratio: float = 200.0
    """Nor beyond this ratio (decompressed / compressed); checked once output passes
    ``ratio_check_after_bytes`` so small, highly regular files are not refused."""
    ratio_check_after_bytes: int = MIB
    max_header_bytes: int = MIB
    """Longest CSV header line accepted."""
    max_columns: int = 4096
    """Most CSV header columns accepted."""
    max_line_bytes: int = 16 * MIB
    """Longest CSV record (one line, or several joined by newlines inside quotes) or JSON
    line; every field and JSON value lies within one, so this bounds them too."""
    max_avro_block_bytes: int = 64 * MIB
    """Largest Avro data block as stored in the file."""
    max_avro_block_decompressed_bytes: int = 256 * MIB
    """Largest Avro data block once its codec (deflate, bzip2, xz) inflates it; other codecs
    are refused."""
    max_parquet_footer_bytes: int = 16 * MIB
    """Largest Parquet footer (file metadata) read."""
    max_parquet_row_group_bytes: int | None = None
    """Largest uncompressed Parquet row group; None: a quarter of the memory budget."""

    def describe(self) -> dict[str, Any]:
        return {
            "max_decompressed_bytes": self.max_decompressed_bytes or "scratch budget",
            "max_compression_ratio": self.max_compression_ratio,
            "max_header_bytes": self.max_header_bytes,
            "max_columns": self.max_columns,
            "max_line_bytes": self.max_line_bytes,
            "max_avro_block_bytes": self.max_avro_block_bytes,
            "max_avro_block_decompressed_bytes": self.max_avro_block_decompressed_bytes,
            "max_parquet_footer_bytes": self.max_parquet_footer_bytes,
            "max_parquet_row_group_bytes": self.max_parquet_row_group_bytes or "memory budget / 4",
        }


@dataclass(frozen=True, slots=True)
class Csv:
    """Delimited text with a header line. Any Python codec is accepted as ``encoding``;
    non-UTF-8 files are transcoded to a UTF-8 staging file before the scan."""

    separator: str = ","
    encoding: str = "utf-8"
    null_values: tuple[str, ...] = ("",)
    quote_char: str | None = '"'
    datetime_format: str | None = None
    """strftime format of Datetime/Date columns; None infers it from the first value. Either
    way temporal text is parsed after the scan, which is several times faster than the CSV
    reader's per-value datetime parsing."""

    kind: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt")
    compressible: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if len(self.separator) != 1:
            raise ConfigurationError(
                f"CSV separator must be one character, got {self.separator!r}", where="Csv"
            )
        if self.quote_char is not None and len(self.quote_char) != 1:
            raise ConfigurationError(
                f"CSV quote_char must be one character, got {self.quote_char!r}", where="Csv"
            )

    @property
    def is_utf8(self) -> bool:
        return self.encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "separator": self.separator,
            "encoding": self.encoding,
            "null_values": list(self.null_values),
            "quote_char": self.quote_char,
            "datetime_format": self.datetime_format,
        }


@dataclass(frozen=True, slots=True)
class JsonLines:
    """One JSON object per line."""

    kind: ClassVar[str] = "jsonl"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".json")
    compressible: ClassVar[bool] = True

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True, slots=True)
class Parquet:
    kind: ClassVar[str] = "parquet"
    extensions: ClassVar[tuple[str, ...]] = (".parquet", ".pq")
    compressible: ClassVar[bool] = False

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True, slots=True)
class Avro:
    """Avro object container files; converted to Parquet staging in batches of ``batch_rows``
    (or ``batch_bytes`` of decoded Avro blocks, whichever is reached first) because Polars
    cannot scan Avro lazily."""

    batch_rows: int = 250_000
    batch_bytes: int = 32 * MIB

    kind: ClassVar[str] = "avro"
    extensions: ClassVar[tuple[str, ...]] = (".avro",)
    compressible: ClassVar[bool] = False

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "batch_rows": self.batch_rows, "batch_bytes": self.batch_bytes}


InputFormat = Csv | JsonLines | Parquet | Avro


def is_gzipped_name(name: str, input_format: InputFormat) -> bool:
    """Whether ``name`` says gzip (only text formats may be gzipped as a whole)."""
    return input_format.compressible and name.lower().endswith(GZIP_SUFFIX)


def name_fits_format(name: str, input_format: InputFormat) -> bool:
    lowered = name.lower()
    if is_gzipped_name(lowered, input_format):
        lowered = lowered[: -len(GZIP_SUFFIX)]
    return lowered.endswith(input_format.extensions)
