"""The partition's commit record (``_manifest.json``) and its last-failure note.

The manifest is the commit point: readers trust only the files it names. The failure note
(``_last_failure.json``) records the last failed attempt for ``worker status`` and backfill
``--mode failed``; a successful commit removes it.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from worker.core.quality import CheckOutcome
from worker.errors import StorageError
from worker.storage.base import Storage
from worker.storage.uris import join_uri

MANIFEST_NAME = "_manifest.json"
FAILURE_NAME = "_last_failure.json"
QUARANTINE_DIR = "_quarantine"


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    """Relative to the partition directory."""
    rows: int
    size: int
    sha256: str


class ManifestInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    uri: str
    generation: int
    """The generation read, for lineage; the run id does not depend on it."""
    size: int
    content: str | None = None
    """The content digest the run id hashes (absent in manifests older than content ids)."""


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    manifest_version: int = 1
    dataset: str
    partition: date
    run_id: str
    dataset_version: str
    code_version: str
    committed_at: datetime
    trigger: str
    backfill_id: str | None = None
    inputs: tuple[ManifestInput, ...]
    files: tuple[ManifestFile, ...]
    quarantine: tuple[ManifestFile, ...] = ()
    rows_in: int
    rows_out: int
    rows_quarantined: int
    columns: dict[str, str]
    """Output column name → Polars dtype."""
    timings_s: dict[str, float]
    quality: tuple[CheckOutcome, ...] = ()
    """Every partition check with its measure, bound and verdict (warnings included)."""

    def named_paths(self) -> set[str]:
        return {entry.path for entry in (*self.files, *self.quarantine)}


class FailureRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str
    partition: date
    run_id: str | None
    error_type: str
    reason: str
    message: str
    failed_at: datetime
    stage: str | None = None
    quarantine_uri: str | None = None
    quality: tuple[CheckOutcome, ...] = ()
    """The quality report of the failed attempt, when its pass got that far."""


def manifest_uri(partition_uri: str) -> str:
    return join_uri(partition_uri, MANIFEST_NAME)


def failure_uri(partition_uri: str) -> str:
    return join_uri(partition_uri, FAILURE_NAME)


def read_manifest_versioned(storage: Storage, partition_uri: str) -> tuple[Manifest | None, int]:
    """The committed manifest and its generation (0 when there is none)."""
    uri = manifest_uri(partition_uri)
    found = storage.read_bytes(uri)
    if found is None:
        return None, 0
    data, generation = found
    try:
        return Manifest.model_validate_json(data), generation
    except ValidationError as exc:
        raise StorageError(
            f"manifest is unreadable: {exc.error_count()} problems", where=uri
        ) from None


def read_manifest(storage: Storage, partition_uri: str) -> Manifest | None:
    return read_manifest_versioned(storage, partition_uri)[0]


def read_failure(storage: Storage, partition_uri: str) -> FailureRecord | None:
    found = storage.read_bytes(failure_uri(partition_uri))
    if found is None:
        return None
    try:
        return FailureRecord.model_validate_json(found[0])
    except ValidationError:
        # A torn or foreign note must not hide the partition's state; it is only a hint.
        return None
