"""The Parquet settings every contender writes with: the worker's own (``worker.core.sink``).

Kept as plain constants so contender processes need not import the worker (its imports
would be counted against them); ``bench.run`` refuses to start when they drift apart.
"""

from __future__ import annotations

PARQUET_CODEC = "zstd"
PARQUET_LEVEL = 1
ROW_GROUP_ROWS = 262_144


def drift_from_worker() -> list[str]:
    """Where these constants differ from the worker's sink settings (empty when none)."""
    from worker.core import sink

    pairs = {
        "PARQUET_CODEC": (PARQUET_CODEC, sink.PARQUET_COMPRESSION),
        "PARQUET_LEVEL": (PARQUET_LEVEL, sink.PARQUET_COMPRESSION_LEVEL),
        "ROW_GROUP_ROWS": (ROW_GROUP_ROWS, sink.ROW_GROUP_ROWS),
    }
    return [
        f"{name}: bench {ours!r}, worker {theirs!r}"
        for name, (ours, theirs) in pairs.items()
        if ours != theirs
    ]
