"""Avro object container files → Parquet staging files, in bounded batches.

Polars has no lazy Avro scan, so records are decoded with fastavro in batches, each batch
written as one Parquet file; the batches are then scanned lazily like any Parquet input.
Only the columns the contract names are kept, and memory holds one batch at a time: a batch
ends after ``batch_rows`` records or once the blocks it came from hold ``batch_bytes`` of
decoded Avro, whichever comes first (one block is never split; its size is bounded by
:mod:`worker.core.avro_blocks`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import fastavro
import polars as pl

from worker.errors import InputFormatError

_PRIMITIVES: dict[str, pl.DataType] = {
    "null": pl.Null(),
    "boolean": pl.Boolean(),
    "int": pl.Int32(),
    "long": pl.Int64(),
    "float": pl.Float32(),
    "double": pl.Float64(),
    "string": pl.String(),
    "bytes": pl.Binary(),
    "enum": pl.String(),
}
_LOGICAL: dict[str, pl.DataType] = {
    "date": pl.Date(),
    # fastavro yields timezone-aware UTC datetimes for both timestamp precisions.
    "timestamp-millis": pl.Datetime("us", "UTC"),
    "timestamp-micros": pl.Datetime("us", "UTC"),
    "local-timestamp-millis": pl.Datetime("us"),
    "local-timestamp-micros": pl.Datetime("us"),
    "uuid": pl.String(),
}


def _polars_type(avro_type: Any, *, field: str, where: str) -> pl.DataType:
    if isinstance(avro_type, list):
        branches = [branch for branch in avro_type if branch != "null"]
        if len(branches) == 1:
            return _polars_type(branches[0], field=field, where=where)
    elif isinstance(avro_type, str) and avro_type in _PRIMITIVES:
        return _PRIMITIVES[avro_type]
    elif isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical in _LOGICAL:
            return _LOGICAL[logical]
        if logical == "decimal":
            return pl.Decimal(int(avro_type["precision"]), int(avro_type.get("scale", 0)))
        if avro_type.get("type") in _PRIMITIVES:
            return _PRIMITIVES[avro_type["type"]]
    raise InputFormatError(
        f"Avro field {field!r} has a type the worker cannot map to a column: {avro_type!r}",
        where=where,
    )


def _batches(
    blocks: Iterator[Iterable[Any]], block_bytes: Sequence[int], rows: int, max_bytes: int
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    held = 0
    for index, block in enumerate(blocks):
        held += block_bytes[index] if index < len(block_bytes) else 0
        for record in block:
            batch.append(record)
            if len(batch) >= rows:
                yield batch
                batch, held = [], 0
        if held >= max_bytes and batch:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def avro_to_parquet(
    src: Path,
    staging_dir: Path,
    columns: Collection[str],
    batch_rows: int,
    *,
    where: str,
    block_bytes: Sequence[int] = (),
    batch_bytes: int = 32 * 1024**2,
) -> list[Path]:
    """Write the ``columns`` of ``src`` as Parquet files under ``staging_dir``; return them
    in record order (at least one file, possibly empty, so the schema is always known).
    ``block_bytes`` are the decoded sizes of the file's blocks, in order (from
    :func:`worker.core.avro_blocks.check_avro_blocks`)."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    records = 0
    schema = pl.Schema()
    try:
        with src.open("rb") as handle:
            reader = fastavro.block_reader(handle)
            writer_schema = reader.writer_schema
            fields = writer_schema.get("fields", []) if isinstance(writer_schema, dict) else []
            schema = pl.Schema(
                {
                    spec["name"]: _polars_type(spec["type"], field=spec["name"], where=where)
                    for spec in fields
                    if spec["name"] in columns
                }
            )
            for batch in _batches(iter(reader), block_bytes, batch_rows, batch_bytes):
                records += len(batch)
                frame = pl.from_dicts(batch, schema=schema)
                written.append(staging_dir / f"batch-{len(written):05d}.parquet")
                frame.write_parquet(written[-1])
    except InputFormatError:
        raise
    except Exception as exc:
        raise InputFormatError(
            f"unreadable Avro after {records} records: {type(exc).__name__}: {exc}",
            where=where,
        ) from None
    if not written:
        written.append(staging_dir / "batch-00000.parquet")
        pl.DataFrame(schema=schema).write_parquet(written[-1])
    return written
