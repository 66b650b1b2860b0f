"""The near-I/O limit: pyarrow streams the input into Parquet, no checks, no transform.

With ``--parse-only`` it only parses (CSV) or decodes (Parquet) and discards the batches.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.codec import PARQUET_CODEC, PARQUET_LEVEL, ROW_GROUP_ROWS

TIMESTAMP_COLUMNS = ("pickup_at", "dropoff_at")


def batches(path: Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    if path.suffix == ".parquet":
        parquet = pq.ParquetFile(path)
        return parquet.schema_arrow, parquet.iter_batches()
    # Arrow's built-in ISO-8601 parser reads the trips timestamps and is its fastest path.
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(TIMESTAMP_COLUMNS, pa.timestamp("us"))
    )
    reader = pacsv.open_csv(
        pa.input_stream(path, compression="detect"),
        read_options=pacsv.ReadOptions(block_size=8 * 1024**2),
        convert_options=convert,
    )
    return reader.schema, iter(reader)


def main(source: Path, output: Path, *, parse_only: bool) -> None:
    schema, stream = batches(source)
    rows = 0
    if parse_only:
        for batch in stream:
            rows += batch.num_rows
    else:
        output.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(
            output / "copy.parquet",
            schema,
            compression=PARQUET_CODEC,
            compression_level=PARQUET_LEVEL,
        ) as writer:
            for batch in stream:
                writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                rows += batch.num_rows
    print(json.dumps({"rows_out": rows}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), parse_only="--parse-only" in sys.argv[3:])
