"""The byte budget one worker process runs a partition within: memory and scratch.

The edge (:mod:`worker.runtime`) builds one :class:`ByteBudget` from settings and the
container's memory limit; the core only reads it. A partition's extract stage accounts
every byte it puts in scratch (downloads, inflated ``.gz`` files, transcoded text) on one
:class:`ScratchMeter`, so the scratch directory cannot fill past the budget, even when it is
Cloud Run's in-memory ``/tmp``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.errors import InputFormatError

DEFAULT_MEMORY_BYTES = 2 * 1024**3
"""Assumed when nothing says otherwise: the smallest memory a Cloud Run partition job gets."""


@dataclass(frozen=True, slots=True)
class ByteBudget:
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    """What the process may hold in memory (the container's limit)."""
    scratch_bytes: int = DEFAULT_MEMORY_BYTES // 2
    """What one partition may write to the scratch directory."""

    @property
    def row_group_bytes(self) -> int:
        """Default ceiling of one uncompressed Parquet row group: a quarter of memory."""
        return self.memory_bytes // 4


@dataclass(slots=True)
class ScratchMeter:
    """Bytes written to one partition's scratch so far, against the budget."""

    limit: int
    used: int = field(default=0)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def claim(self, size: int, *, what: str, where: str) -> None:
        """Account ``size`` more bytes, or refuse them (nothing written yet)."""
        if size > self.remaining:
            raise InputFormatError(
                f"{what} needs {size} bytes of scratch, beyond the budget of {self.limit} "
                f"bytes ({self.used} already used; WORKER_SCRATCH_BYTES)",
                where=where,
            )
        self.used += size
