"""Event models, Avro/JSON codecs and normalizers of the messages the worker exchanges.

Pure library code: no broker, storage or network. The service turns raw Pub/Sub bytes and
attributes into typed events with :func:`normalize_file_arrived`,
:func:`decode_backfill_requested`, :func:`decode_partition_requested` (or :func:`decode`)
and encodes what it publishes with :func:`encode`.
"""

from worker.events.codec import ContentType, WriterSchemas, decode, decode_event, encode
from worker.events.deadletter import dead_letter_attributes, strip_error_attributes
from worker.events.models import (
    BackfillCompleted,
    BackfillFailure,
    BackfillRequested,
    Event,
    FileArrived,
    InputRef,
    PartitionCompleted,
    PartitionRequested,
    QualityCheck,
)
from worker.events.normalize import (
    Ignored,
    decode_backfill_requested,
    decode_partition_requested,
    normalize_file_arrived,
)

__all__ = [
    "BackfillCompleted",
    "BackfillFailure",
    "BackfillRequested",
    "ContentType",
    "Event",
    "FileArrived",
    "Ignored",
    "InputRef",
    "PartitionCompleted",
    "PartitionRequested",
    "QualityCheck",
    "WriterSchemas",
    "dead_letter_attributes",
    "decode",
    "decode_backfill_requested",
    "decode_event",
    "decode_partition_requested",
    "encode",
    "normalize_file_arrived",
    "strip_error_attributes",
]
