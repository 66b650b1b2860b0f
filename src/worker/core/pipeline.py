"""``process_partition``: the one use case the CLI and the service both run.

extract (scan inputs) → validate (schema level now, row level in the pass) → transform
(lazy) → load (the one streaming pass, upload, manifest commit, stale-file cleanup).
Raises only ``worker.errors`` classes; every failed attempt leaves a failure note.

The pass runs strictly first; only when it fails does :mod:`worker.core.reparse` re-run it
leniently. Errors reading or parsing inputs are reported in stage ``extract`` even though
the lazy pass runs in ``load``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import polars as pl
from structlog.typing import FilteringBoundLogger

from worker.core import load
from worker.core.datasets import Dataset
from worker.core.extract import combined, scan_inputs
from worker.core.inputs import compute_run_id, resolve_inputs
from worker.core.manifest import (
    FailureRecord,
    Manifest,
    ManifestInput,
    manifest_uri,
    read_manifest_versioned,
)
from worker.core.model import InputFingerprint, PartitionResult, PartitionTask, Ports, Status
from worker.core.quality import CheckOutcome, raise_on_errors
from worker.core.quality_pass import QualityBranches, judge, quality_branches
from worker.core.reparse import lenient_pass
from worker.core.sink import StagedPartition, run_pass
from worker.core.validate import Split, check_threshold, split
from worker.errors import (
    CommitConflictError,
    ContractError,
    EmptyPartitionError,
    InputFormatError,
    StorageError,
    WorkerError,
)
from worker.observability.logging import get_logger
from worker.storage.uris import join_uri

T = TypeVar("T")


@dataclass
class _Attempt:
    """Mutable bookkeeping of one attempt, for the result, the manifest and the failure note."""

    task: PartitionTask
    dataset: Dataset
    ports: Ports
    part_uri: str
    run_id: str | None = None
    inputs: tuple[InputFingerprint, ...] = ()
    stage: str | None = None
    kept_quarantine_uri: str | None = None
    quality: tuple[CheckOutcome, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @contextmanager
    def stage_of(self, name: str) -> Iterator[None]:
        self.stage = name
        began = time.monotonic()
        with self.ports.stage(name):
            yield
        self.timings[name] = round(time.monotonic() - began, 6)
        self.ports.heartbeat()

    def result(
        self,
        status: Status,
        *,
        rows: tuple[int, int, int] = (0, 0, 0),
        files: tuple[str, ...] = (),
        reason: str | None = None,
        quality: tuple[CheckOutcome, ...] = (),
    ) -> PartitionResult:
        rows_in, rows_out, rows_quarantined = rows
        return PartitionResult(
            dataset=self.dataset.name,
            partition=self.task.partition,
            run_id=self.run_id or "",
            status=status,
            partition_uri=self.part_uri,
            manifest_uri=manifest_uri(self.part_uri),
            inputs=self.inputs,
            rows_in=rows_in,
            rows_out=rows_out,
            rows_quarantined=rows_quarantined,
            files=files,
            duration_s=round(time.monotonic() - self.started, 6),
            backfill_id=self.task.backfill_id,
            reason=reason,
            quality=quality,
        )


def process_partition(task: PartitionTask, ports: Ports) -> PartitionResult:
    """Compute (or confirm) one partition; see the module docstring."""
    dataset = ports.registry.get(task.dataset)
    attempt = _Attempt(
        task, dataset, ports, load.partition_uri(ports.output_uri, dataset.name, task.partition)
    )
    log = get_logger("worker.core.pipeline").bind(
        dataset=dataset.name,
        partition=task.partition.isoformat(),
        run_id=None,
        trigger=task.trigger,
        backfill_id=task.backfill_id,
    )
    try:
        inputs = resolve_inputs(
            dataset, task.partition, task.inputs, ports.storage, ports.landing_uri
        )
        attempt.inputs = tuple(inputs)
        attempt.run_id = compute_run_id(dataset, task.partition, inputs)
        log = log.bind(run_id=attempt.run_id)
        committed, generation = read_manifest_versioned(ports.storage, attempt.part_uri)
        up_to_date = committed is not None and committed.run_id == attempt.run_id
        if task.dry_run:
            why = _why_run(task, committed)
            verdict = "would skip: already committed" if up_to_date and not task.force else why
            return attempt.result("dry-run", reason=verdict)
        if committed is not None and up_to_date and not task.force:
            log.info("partition.skipped", reason="already committed with this run id")
            return _skipped(attempt, committed)
        log.info(
            "partition.started",
            inputs=len(inputs),
            reason=_why_run(task, committed).removeprefix("would run: "),
        )
        result = _run(attempt, generation)
    except WorkerError as exc:
        _note_failure(attempt, exc, log)
        raise
    except Exception as exc:
        wrapped = WorkerError(
            f"unexpected {type(exc).__name__} in stage {attempt.stage or 'planning'}: {exc}",
            where=attempt.part_uri,
        )
        _note_failure(attempt, wrapped, log)
        raise wrapped from exc
    log.info(
        "partition.completed" if result.status == "committed" else "partition.skipped",
        status=result.status,
        duration_s=result.duration_s,
        rows_in=result.rows_in,
        rows_out=result.rows_out,
        rows_quarantined=result.rows_quarantined,
        output=attempt.part_uri,
    )
    return result


def _why_run(task: PartitionTask, committed: Manifest | None) -> str:
    if committed is None:
        return "would run: no committed manifest"
    if task.force:
        return f"would run: forced (over committed run {committed.run_id})"
    return f"would run: inputs or dataset version changed since committed run {committed.run_id}"


def _skipped(attempt: _Attempt, committed: Manifest) -> PartitionResult:
    return attempt.result(
        "skipped",
        rows=(committed.rows_in, committed.rows_out, committed.rows_quarantined),
        files=tuple(join_uri(attempt.part_uri, entry.path) for entry in committed.files),
        reason="already committed with this run id",
        quality=committed.quality,
    )


def _run(attempt: _Attempt, previous_generation: int) -> PartitionResult:
    ports, dataset = attempt.ports, attempt.dataset
    run_id = attempt.run_id or ""
    ports.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{dataset.name}-{run_id}-", dir=ports.workdir))
    try:
        with attempt.stage_of("extract"):
            scanned = scan_inputs(
                dataset,
                [fp.uri for fp in attempt.inputs],
                ports.storage,
                scratch / "inputs",
                budget=ports.budget,
                sizes={fp.uri: fp.size for fp in attempt.inputs},
            )
        with attempt.stage_of("validate"):
            branches = split(combined(scanned), dataset.input_contract, dataset.quality.measures)
        with attempt.stage_of("transform"):
            transformed = _transform(dataset, branches.clean)
        with attempt.stage_of("load"):
            began = time.monotonic()
            sides: list[QualityBranches] = []

            def data_pass(split_: Split, transformed: pl.LazyFrame, name: str) -> StagedPartition:
                # The quality aggregates hang off whichever pass runs: strict, or the re-pass.
                side = quality_branches(
                    dataset.quality, split_.clean, transformed.collect_schema(), scratch / name
                )
                sides.append(side)
                staging = scratch / f"staging-{name}"
                return _execute(lambda: run_pass(split_, transformed, staging, run_id, side.frames))

            try:
                staged = data_pass(branches, transformed, "strict")
            except pl.exceptions.PolarsError as exc:
                try:
                    staged = lenient_pass(
                        dataset,
                        scanned,
                        exc,
                        run_id=run_id,
                        transform=_transform,
                        data_pass=lambda split_, transformed: data_pass(
                            split_, transformed, "lenient"
                        ),
                    )
                except InputFormatError:
                    # Reading and parsing inputs is extract's work, though the pass runs here.
                    attempt.stage = "extract"
                    raise
            side = sides[-1]
            # The data pass (scan, checks, transform, write) runs here, inside "load".
            attempt.timings["data_pass"] = round(time.monotonic() - began, 6)
            if dataset.quality.check_names():
                began = time.monotonic()
                attempt.quality = judge(side, staged.measures, attempt.task.partition, staged.data)
                attempt.timings["quality"] = round(time.monotonic() - began, 6)
            return _commit(attempt, staged, previous_generation)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _transform(dataset: Dataset, clean: pl.LazyFrame) -> pl.LazyFrame:
    where = f"dataset {dataset.name!r} transform"
    try:
        transformed = dataset.transform(clean)
        schema = transformed.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise ContractError(f"transform failed on the input contract: {exc}", where=where) from exc
    dataset.output_contract.validate_schema(schema, where=where)
    return transformed.select(list(dataset.output_contract.columns))


def _execute(work: Callable[[], T]) -> T:
    try:
        return work()
    except OSError as exc:
        raise StorageError(f"staging failed: {exc}", where="workdir") from exc


def _commit(
    attempt: _Attempt, staged: StagedPartition, previous_generation: int
) -> PartitionResult:
    ports, dataset, task = attempt.ports, attempt.dataset, attempt.task
    where = attempt.part_uri
    if staged.rows_in == 0 and not dataset.allow_empty:
        raise EmptyPartitionError(
            "the inputs hold no rows and the dataset does not allow an empty partition", where=where
        )
    # The written file is checked against the output contract, not just the plan's promise.
    dataset.output_contract.validate_schema(staged.columns, where=f"{where} output")
    if staged.quarantine is not None:
        quarantine_uri = join_uri(where, "_quarantine", staged.data.name)
        try:
            check_threshold(
                rows_in=staged.rows_in,
                rows_quarantined=staged.rows_quarantined,
                max_fraction=dataset.max_quarantine_fraction,
                where=where,
            )
        except WorkerError:
            # Kept beside the partition (unnamed by any manifest) so the operator can look.
            ports.storage.upload(staged.quarantine, quarantine_uri)
            attempt.kept_quarantine_uri = quarantine_uri
            raise
    raise_on_errors(attempt.quality, where=where)
    files, quarantine = load.publish_files(ports.storage, staged, where)
    manifest = Manifest(
        dataset=dataset.name,
        partition=task.partition,
        run_id=attempt.run_id or "",
        dataset_version=dataset.version,
        code_version=ports.code_version,
        committed_at=ports.clock(),
        trigger=task.trigger,
        backfill_id=task.backfill_id,
        inputs=tuple(
            ManifestInput(uri=fp.uri, generation=fp.generation, size=fp.size, content=fp.content)
            for fp in attempt.inputs
        ),
        files=files,
        quarantine=quarantine,
        rows_in=staged.rows_in,
        rows_out=staged.rows_out,
        rows_quarantined=staged.rows_quarantined,
        columns={name: str(dtype) for name, dtype in staged.columns.items()},
        timings_s=dict(attempt.timings),
        quality=attempt.quality,
    )
    status, generation = load.commit_manifest(ports.storage, where, manifest, previous_generation)
    if status == "committed":
        load.remove_stale(ports.storage, where, manifest, generation, previous_generation)
    return attempt.result(
        status,
        rows=(staged.rows_in, staged.rows_out, staged.rows_quarantined),
        files=tuple(join_uri(where, entry.path) for entry in files),
        reason=None if status == "committed" else "a racing run committed the same run id",
        quality=attempt.quality,
    )


def _note_failure(attempt: _Attempt, exc: WorkerError, log: FilteringBoundLogger) -> None:
    if attempt.task.dry_run:
        return
    if isinstance(exc, CommitConflictError):
        # Another run committed this partition: it is not failed, and the winner's cleanup
        # may already have run, so a note written now would wrongly outlive it.
        log.warning("partition.superseded", error=str(exc), stage=attempt.stage)
        return
    record = FailureRecord(
        dataset=attempt.dataset.name,
        partition=attempt.task.partition,
        run_id=attempt.run_id,
        error_type=type(exc).__name__,
        reason=exc.reason,
        message=str(exc),
        failed_at=attempt.ports.clock(),
        stage=attempt.stage,
        quarantine_uri=attempt.kept_quarantine_uri,
        quality=attempt.quality,
    )
    written = load.record_failure(attempt.ports.storage, attempt.part_uri, record)
    log.error(
        "partition.failed",
        error_type=type(exc).__name__,
        error=str(exc),
        stage=attempt.stage,
        duration_s=round(time.monotonic() - attempt.started, 6),
        failure_note_written=written,
    )
