"""One exception tree for the whole worker.

Every error the worker raises on purpose is a :class:`WorkerError`. Each class says
whether retrying the same work may succeed (``retryable``), which CLI exit code it maps
to (``exit_code``) and, for messages, which dead-letter ``reason`` it is filed under::

    WorkerError                         exit 1
    ├── ConfigurationError              exit 3   bad settings, unknown dataset, bad flags
    │   └── UnknownDatasetError
    ├── InputDataError                  exit 4   the input itself is wrong (permanent)
    │   ├── InputNotFoundError
    │   ├── InputFormatError            unreadable / malformed / not what the extension says
    │   ├── ContractError               schema-level Pandera contract failure
    │   ├── QuarantineThresholdError    too many rows quarantined
    │   ├── QualityError                a partition check at severity error failed
    │   ├── EmptyPartitionError         no rows, and the dataset does not allow empty partitions
    │   └── ForbiddenPathError          outside the landing root or output root
    ├── MessageError                    exit 1   a Pub/Sub message we cannot act on (permanent)
    │   ├── DecodeError                 not valid Avro / JSON / unknown content type
    │   ├── SchemaError                 decoded, but not the event shape we expect
    │   └── UnroutableError             no dataset matches the object
    ├── StorageError                    exit 1
    │   ├── TransientStorageError       retryable: 429, 5xx, timeouts, resets
    │   │   └── AnnouncementPendingError another replica claimed a backfill's announcement
    │   ├── CommitConflictError         another writer committed first (412)
    │   └── OutputNotWritableError
    └── PartialFailureError             exit 2   some partitions of a batch failed

Pub/Sub failures are the broker's own tree (``faststream_gcp_pubsub.errors.BrokerError``
and its subclasses: transient, ack failed, push request, unknown subscription,
provisioning), which has the same ``retryable`` and ``reason`` attributes; the CLI maps
them to exit 1 and the service's failure policy reads them like a ``WorkerError``
(:data:`KNOWN_ERRORS`). Adapters translate SDK exceptions into these trees at the
boundary; nothing above the adapters catches a ``google.*`` exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class WorkerError(Exception):
    """Root of every error the worker raises on purpose."""

    retryable: ClassVar[bool] = False
    exit_code: ClassVar[int] = 1
    reason: ClassVar[str] = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{message} ({where})" if where else message)


class ConfigurationError(WorkerError):
    exit_code = 3
    reason = "configuration"


class UnknownDatasetError(ConfigurationError):
    reason = "unknown-dataset"


class InputDataError(WorkerError):
    exit_code = 4
    reason = "input-data"


class InputNotFoundError(InputDataError):
    reason = "input-not-found"


class InputFormatError(InputDataError):
    reason = "input-format"


class ContractError(InputDataError):
    reason = "contract"


class QuarantineThresholdError(InputDataError):
    reason = "quarantine-threshold"


class QualityError(InputDataError):
    """Carries the whole quality report (``report``), failed and passed checks alike."""

    reason = "quality"

    def __init__(
        self, message: str, *, where: str | None = None, report: Sequence[object] = ()
    ) -> None:
        super().__init__(message, where=where)
        self.report = tuple(report)


class ForbiddenPathError(InputDataError):
    reason = "forbidden-path"


class EmptyPartitionError(InputDataError):
    reason = "empty-partition"


class MessageError(WorkerError):
    reason = "message"


class DecodeError(MessageError):
    reason = "decode"


class SchemaError(MessageError):
    reason = "schema"


class UnroutableError(MessageError):
    reason = "unroutable"


class StorageError(WorkerError):
    reason = "storage"


class TransientStorageError(StorageError):
    retryable = True
    reason = "storage-transient"


class AnnouncementPendingError(TransientStorageError):
    """Another replica claimed a backfill's completion announcement and has not published
    it yet: retry later, and take the claim over once it is stale."""

    reason = "announcement-pending"


class CommitConflictError(StorageError):
    reason = "commit-conflict"


class OutputNotWritableError(StorageError):
    reason = "output-not-writable"


class PartialFailureError(WorkerError):
    exit_code = 2
    reason = "partial-failure"
