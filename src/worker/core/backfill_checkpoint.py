"""The record of one backfill's finished partitions, so an interrupted run resumes.

The file is rewritten atomically (temp file + rename) after every finished partition: a
crash leaves the previous complete version, never a torn one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from worker.errors import ConfigurationError

OutcomeStatus = Literal["committed", "skipped", "dry-run", "failed"]
DONE_STATUSES = frozenset({"committed", "skipped"})
"""Outcomes a resumed backfill does not repeat; failures are retried."""


@dataclass(frozen=True, slots=True)
class PartitionOutcome:
    """What happened to one partition of a backfill."""

    partition: date
    status: OutcomeStatus
    run_id: str | None = None
    rows_out: int = 0
    rows_quarantined: int = 0
    duration_s: float = 0.0
    error: str | None = None
    error_type: str | None = None
    reason: str | None = None
    """For ``failed``: the error's dead-letter reason (quality, contract, ...)."""
    resumed: bool = False
    """True when the checkpoint says an earlier, interrupted invocation finished it."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["partition"] = self.partition.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartitionOutcome:
        return cls(**{**data, "partition": date.fromisoformat(data["partition"])})


@dataclass
class Checkpoint:
    """Finished partitions of one backfill, rewritten atomically after each one."""

    path: Path
    backfill_id: str = field(default_factory=lambda: f"bf-{uuid.uuid4().hex[:16]}")
    finished: dict[date, PartitionOutcome] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> Checkpoint:
        """Load ``path`` when an earlier invocation left it, else start a fresh one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"backfill checkpoint is unreadable ({exc}); delete it or pass --fresh",
                where=str(path),
            ) from None
        try:
            outcomes = (PartitionOutcome.from_json(item) for item in data["finished"])
            finished = {outcome.partition: outcome for outcome in outcomes}
            return cls(path, str(data["backfill_id"]), finished)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"backfill checkpoint has an unexpected shape ({exc}); delete it or pass --fresh",
                where=str(path),
            ) from None

    def is_done(self, day: date) -> bool:
        outcome = self.finished.get(day)
        return outcome is not None and outcome.status in DONE_STATUSES

    def record(self, outcome: PartitionOutcome) -> None:
        self.finished[outcome.partition] = outcome
        payload = {
            "backfill_id": self.backfill_id,
            "finished": [self.finished[day].to_json() for day in sorted(self.finished)],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def checkpoint_path(
    directory: Path,
    *,
    dataset: str,
    start: date,
    end: date,
    mode: str,
    output_uri: str,
    shard: tuple[int, int] = (0, 1),
) -> Path:
    """Where the checkpoint of this exact backfill (and shard) lives."""
    identity = json.dumps([dataset, start.isoformat(), end.isoformat(), mode, output_uri, *shard])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return directory / f"backfill-{digest}.json"
