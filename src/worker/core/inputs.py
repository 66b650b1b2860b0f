"""Which objects feed a partition, and the run id they determine.

An arrival recomputes the whole partition, so by default every object of the day under the
landing root that the dataset's rule matches is an input. Explicit inputs (a rerun of given
files) are confined to the landing root and must match the rule and the date too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

from worker.core.datasets import Dataset
from worker.core.model import InputFingerprint
from worker.errors import ConfigurationError, InputNotFoundError
from worker.storage.base import Storage
from worker.storage.uris import join_uri, relative_to, require_within

RUN_ID_CHARS = 16


def _is_hidden(relative: str) -> bool:
    # Temp files, markers and tool droppings (.foo.tmp, _SUCCESS) are never inputs.
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def discover_inputs(
    dataset: Dataset, day: date, storage: Storage, landing_uri: str
) -> list[InputFingerprint]:
    prefix = dataset.match.static_prefix
    listing_root = join_uri(landing_uri, prefix) if prefix else landing_uri
    found = [
        InputFingerprint(uri=info.uri, generation=info.generation, size=info.size)
        for info in storage.list(listing_root)
        if not _is_hidden(relative_to(info.uri, landing_uri))
        and dataset.partition_date(info.uri, landing_uri) == day
    ]
    if not found:
        raise InputNotFoundError(
            f"no input for dataset {dataset.name!r} on {day.isoformat()}",
            where=listing_root,
        )
    return sorted(found, key=lambda fingerprint: fingerprint.uri)


def explicit_inputs(
    dataset: Dataset, day: date, uris: Sequence[str], storage: Storage, landing_uri: str
) -> list[InputFingerprint]:
    if not uris:
        raise InputNotFoundError(
            "an explicit, empty input list was given", where=f"{dataset.name} {day.isoformat()}"
        )
    found = []
    for uri in uris:
        require_within(uri, landing_uri, what="input")
        matched = dataset.partition_date(uri, landing_uri)
        if matched != day:
            raise ConfigurationError(
                f"input does not belong to dataset {dataset.name!r} on {day.isoformat()} "
                f"(its rule gives {matched.isoformat() if matched else 'no match'})",
                where=uri,
            )
        info = storage.stat(uri)
        if info is None:
            raise InputNotFoundError("input file does not exist", where=uri)
        found.append(InputFingerprint(uri=info.uri, generation=info.generation, size=info.size))
    return sorted(set(found), key=lambda fingerprint: fingerprint.uri)


def resolve_inputs(
    dataset: Dataset,
    day: date,
    uris: Sequence[str] | None,
    storage: Storage,
    landing_uri: str,
) -> list[InputFingerprint]:
    if uris is None:
        return discover_inputs(dataset, day, storage, landing_uri)
    return explicit_inputs(dataset, day, uris, storage, landing_uri)


def compute_run_id(dataset: Dataset, day: date, inputs: Sequence[InputFingerprint]) -> str:
    """hash(dataset, partition, sorted (uri, generation), dataset version): same inputs, same id."""
    identity = {
        "dataset": dataset.name,
        "partition": day.isoformat(),
        "inputs": sorted([fingerprint.uri, fingerprint.generation] for fingerprint in inputs),
        "version": dataset.version,
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:RUN_ID_CHARS]
