"""Check what a run left behind, as a reader and a downstream consumer would see it.

A reader trusts only the files ``_manifest.json`` names: a partition is *corrupt* when one
of them is missing, differs from its recorded checksum or row count, or when the named
files do not add up to the manifest's rows; an input is *lost* when its day has no
manifest or the manifest does not cover that input (object and generation) with all its
rows. Completion events must name each committed partition at least once, always with
the manifest's run id as event id.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from worker.core.manifest import FAILURE_NAME, MANIFEST_NAME, Manifest


@dataclass(frozen=True)
class Landed:
    """One input object as the test uploaded it."""

    uri: str
    generation: int
    rows: int


@dataclass
class Audit:
    partitions: int = 0
    """Partitions with a readable manifest."""
    corrupt: int = 0
    lost: int = 0
    orphans: int = 0
    """Unnamed files left in partitions (invisible to readers; removed by the next commit)."""
    run_ids: dict[date, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def partition_dir(output: Path, dataset: str, day: date) -> Path:
    return (
        output / dataset / f"year={day.year:04d}" / f"month={day.month:02d}" / f"day={day.day:02d}"
    )


def _check_files(directory: Path, manifest: Manifest) -> list[str]:
    problems = []
    for entry in (*manifest.files, *manifest.quarantine):
        path = directory / entry.path
        if not path.is_file():
            problems.append(f"{entry.path} is named by the manifest but missing")
            continue
        data = path.read_bytes()
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            problems.append(f"{entry.path} differs from its manifest checksum")
            continue
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        if rows != entry.rows:
            problems.append(f"{entry.path} holds {rows} rows, the manifest says {entry.rows}")
    if sum(entry.rows for entry in manifest.files) != manifest.rows_out:
        problems.append("the named data files do not add up to rows_out")
    return problems


def audit_partitions(output: Path, dataset: str, landed: Mapping[date, Iterable[Landed]]) -> Audit:
    """Check every day of ``landed`` (each day's inputs) under ``output``."""
    audit = Audit()
    for day, inputs in sorted(landed.items()):
        inputs = list(inputs)
        directory = partition_dir(output, dataset, day)
        manifest_path = directory / MANIFEST_NAME
        if not manifest_path.is_file():
            audit.lost += len(inputs)
            audit.problems.append(f"{day}: no manifest")
            continue
        manifest = Manifest.model_validate_json(manifest_path.read_bytes())
        audit.partitions += 1
        audit.run_ids[day] = manifest.run_id
        covered = {(item.uri, item.generation) for item in manifest.inputs}
        missing = [item for item in inputs if (item.uri, item.generation) not in covered]
        if missing or manifest.rows_in != sum(item.rows for item in inputs):
            audit.lost += len(missing) or 1
            audit.problems.append(
                f"{day}: inputs not fully covered ({missing}, rows_in {manifest.rows_in})"
            )
        file_problems = _check_files(directory, manifest)
        if file_problems:
            audit.corrupt += 1
            audit.problems += [f"{day}: {problem}" for problem in file_problems]
        named = manifest.named_paths() | {MANIFEST_NAME, FAILURE_NAME}
        audit.orphans += sum(
            1
            for path in directory.rglob("*")
            if path.is_file() and str(path.relative_to(directory)) not in named
        )
    return audit


@dataclass
class Completions:
    events: int = 0
    """Completion messages received (at least once: duplicates are allowed)."""
    distinct_ids: int = 0
    missing: list[date] = field(default_factory=list)
    """Committed partitions no event announced."""
    unstable: list[date] = field(default_factory=list)
    """Partitions announced under more than one id, or an id other than the run id."""


def check_completions(
    bodies: Iterable[bytes], dataset: str, run_ids: Mapping[date, str]
) -> Completions:
    """Compare ``partition-completed`` bodies (JSON) with the committed run ids."""
    ids: dict[date, set[str]] = defaultdict(set)
    count = 0
    for body in bodies:
        event = json.loads(body)
        if event["dataset"] != dataset:
            continue
        count += 1
        ids[date.fromisoformat(event["partition_date"])].add(event["event_id"])
    result = Completions(events=count, distinct_ids=sum(len(found) for found in ids.values()))
    for day, run_id in sorted(run_ids.items()):
        if day not in ids:
            result.missing.append(day)
        elif ids[day] != {run_id}:
            result.unstable.append(day)
    return result


def announced_days(bodies: Iterable[bytes], dataset: str) -> set[date]:
    """The partitions of ``dataset`` that ``partition-completed`` bodies announce."""
    days = set()
    for body in bodies:
        event = json.loads(body)
        if event["dataset"] == dataset:
            days.add(date.fromisoformat(event["partition_date"]))
    return days


_COMMITTED = re.compile(r'"event": "partition\.completed"')


def commits_per_partition(log_text: str, dataset: str) -> Counter[str]:
    """How many times the workers' logs say they committed each partition of ``dataset``."""
    commits: Counter[str] = Counter()
    for line in log_text.splitlines():
        if not _COMMITTED.search(line):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by SIGKILL
        if entry.get("dataset") == dataset and entry.get("status") == "committed":
            commits[str(entry["partition"])] += 1
    return commits
