"""Which objects feed a partition, and the run id they determine.

An arrival recomputes the whole partition, so by default every object of the day under the
landing root that the dataset's rule matches is an input. Explicit inputs (a rerun of given
files) are confined to the landing root and must match the rule and the date too.

The run id hashes each input's name, size and *content* digest, never its generation: the
same bytes uploaded again (a new generation) are the same input, and the partition is
``skipped``. Cloud Storage keeps an MD5 (``md5Hash``) for every object but composite ones
and a CRC32C for all, listed with the object's metadata at no extra cost; a local file has
neither, so it is hashed (SHA-256) when it is resolved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date

from worker.core.datasets import Dataset
from worker.core.model import InputFingerprint
from worker.errors import ConfigurationError, InputNotFoundError, StorageError
from worker.storage.base import ObjectInfo, Storage
from worker.storage.uris import join_uri, parse_uri, relative_to, require_within

RUN_ID_CHARS = 16


def _is_hidden(relative: str) -> bool:
    # Temp files, markers and tool droppings (.foo.tmp, _SUCCESS) are never inputs.
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def _content_digest(info: ObjectInfo, storage: Storage) -> str:
    if info.md5:
        return f"md5:{info.md5}"
    if info.crc32c:
        return f"crc32c:{info.crc32c}"
    local = storage.local_path(info.uri)
    if local is None:
        raise StorageError("the storage reports no content digest for the object", where=info.uri)
    try:
        with local.open("rb") as handle:
            return f"sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"
    except FileNotFoundError:
        raise InputNotFoundError("input file does not exist", where=info.uri) from None
    except OSError as exc:
        raise StorageError(f"cannot read the input: {exc.strerror}", where=info.uri) from exc


def _fingerprint(info: ObjectInfo, storage: Storage) -> InputFingerprint:
    return InputFingerprint(
        uri=info.uri,
        generation=info.generation,
        size=info.size,
        content=_content_digest(info, storage),
    )


def discover_inputs(
    dataset: Dataset, day: date, storage: Storage, landing_uri: str
) -> list[InputFingerprint]:
    prefix = dataset.match.static_prefix
    bucket = parse_uri(landing_uri).bucket
    listing_root = join_uri(landing_uri, prefix) if prefix else landing_uri
    found = []
    for info in storage.list(listing_root):
        relative = relative_to(info.uri, landing_uri, real=False)
        if _is_hidden(relative) or dataset.match.partition_date(relative, bucket) != day:
            continue
        # Only the day's inputs must also resolve inside the root: a symlink that leads
        # out refuses this day, not every day listed beside it.
        require_within(info.uri, landing_uri, what="input")
        found.append(_fingerprint(info, storage))
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
        found.append(_fingerprint(info, storage))
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
    """hash(dataset, partition, sorted (uri, size, content digest), dataset version): same
    names with the same bytes, same id — whatever their generations."""
    identity = {
        "dataset": dataset.name,
        "partition": day.isoformat(),
        "inputs": sorted(
            [fingerprint.uri, fingerprint.size, fingerprint.content] for fingerprint in inputs
        ),
        "version": dataset.version,
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:RUN_ID_CHARS]
