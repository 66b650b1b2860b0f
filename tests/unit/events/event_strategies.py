"""Hypothesis strategies for valid events of every type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from worker.events.models import (
    AVRO_LONG_MAX,
    BackfillRequested,
    Event,
    FileArrived,
    InputRef,
    PartitionCompleted,
    PartitionRequested,
)

texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40)
names = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40)
counts = st.integers(min_value=0, max_value=AVRO_LONG_MAX)
dates = st.dates()
timestamps = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=7, minutes=30))]
    ),
)
_BUCKET_EDGE = "abcdefghijklmnopqrstuvwxyz0123456789"
# Bucket names ([a-z0-9][a-z0-9_-]{1,20}[a-z0-9]) built from plain pieces: cheaper to draw
# and to shrink than st.from_regex.
buckets = st.builds(
    "{}{}{}".format,
    st.sampled_from(_BUCKET_EDGE),
    st.text(alphabet=_BUCKET_EDGE + "_-", min_size=1, max_size=20),
    st.sampled_from(_BUCKET_EDGE),
)


@st.composite
def file_arrived(draw: st.DrawFn) -> FileArrived:
    if draw(st.booleans()):
        bucket, name = draw(buckets), draw(names)
        uri = f"gs://{bucket}/{name}"
    else:
        bucket, name = "", "/" + draw(names)
        uri = name
    return FileArrived(
        event_id=draw(names),
        uri=uri,
        bucket=bucket,
        object=name,
        generation=draw(counts),
        size=draw(st.none() | counts),
        content_type=draw(st.none() | texts),
        event_time=draw(timestamps),
        source=draw(st.sampled_from(["gcs_notification", "cloudevent", "worker"])),
        dataset=draw(st.none() | names),
    )


@st.composite
def backfill_requested(draw: st.DrawFn) -> BackfillRequested:
    start, end = sorted([draw(dates), draw(dates)])
    return BackfillRequested(
        backfill_id=draw(names),
        dataset=draw(names),
        start_date=start,
        end_date=end,
        mode=draw(st.sampled_from(["missing", "failed", "all"])),
        reason=draw(st.none() | texts),
        requested_by=draw(names),
        requested_at=draw(timestamps),
    )


partition_requested = st.builds(
    PartitionRequested,
    backfill_id=st.none() | names,
    dataset=names,
    partition_date=dates,
    force=st.booleans(),
    reason=st.none() | texts,
    requested_at=timestamps,
)


@st.composite
def partition_completed(draw: st.DrawFn) -> PartitionCompleted:
    run_id = draw(names)
    return PartitionCompleted(
        event_id=run_id,
        run_id=run_id,
        dataset=draw(names),
        partition_date=draw(dates),
        partition_uri=draw(names),
        manifest_uri=draw(names),
        status=draw(st.sampled_from(["committed", "skipped"])),
        rows_in=draw(counts),
        rows_out=draw(counts),
        rows_quarantined=draw(counts),
        files=tuple(draw(st.lists(texts, max_size=4))),
        inputs=tuple(draw(st.lists(st.builds(InputRef, uri=names, generation=counts), max_size=4))),
        backfill_id=draw(st.none() | names),
        completed_at=draw(timestamps),
        worker_version=draw(names),
    )


STRATEGIES: dict[type[Event], st.SearchStrategy[Event]] = {
    FileArrived: file_arrived(),
    BackfillRequested: backfill_requested(),
    PartitionRequested: partition_requested,
    PartitionCompleted: partition_completed(),
}
