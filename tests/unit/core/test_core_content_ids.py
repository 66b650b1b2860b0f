"""Run ids come from the content digests storage reports, not from generations.

Cloud Storage's object resource carries ``md5Hash`` for every object except composite ones,
which have only ``crc32c`` (https://cloud.google.com/storage/docs/composite-objects,
"Composite object metadata"; https://cloud.google.com/storage/docs/hashes-etags).
fake-gcs-server gives composite objects an MD5 too, so the CRC32C-only case is played here
by a local storage that reports what Cloud Storage reports for a composite object.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import google_crc32c
from core_support import DAY, encode, make_ports, orders_rows, write_input

from worker.core.formats import Csv
from worker.core.model import PartitionTask
from worker.core.pipeline import process_partition
from worker.storage.base import ObjectInfo
from worker.storage.local import LocalStorage


class CompositeObjects(LocalStorage):
    """Local files described as Cloud Storage describes composite objects: CRC32C, no MD5."""

    def _composite(self, info: ObjectInfo) -> ObjectInfo:
        data = Path(info.uri).read_bytes()
        crc = google_crc32c.Checksum(data)  # type: ignore[no-untyped-call]
        return dataclasses.replace(info, md5=None, crc32c=crc.digest().hex())

    def stat(self, uri: str) -> ObjectInfo | None:
        info = super().stat(uri)
        return None if info is None else self._composite(info)

    def list(self, prefix_uri: str) -> list[ObjectInfo]:
        return [self._composite(info) for info in super().list(prefix_uri)]


def test_a_crc32c_only_object_is_identified_by_its_crc32c(tmp_path: Path) -> None:
    path = write_input(tmp_path / "landing", "a.csv", encode(orders_rows(4), Csv()))
    ports = make_ports(tmp_path, storage=CompositeObjects())
    first = process_partition(PartitionTask("orders", DAY), ports)
    assert first.inputs[0].content.startswith("crc32c:")
    original = path.read_bytes()
    path.unlink()
    path.write_bytes(original)  # a new generation of the same bytes
    again = process_partition(PartitionTask("orders", DAY), ports)
    assert (again.status, again.run_id) == ("skipped", first.run_id)
    path.write_bytes(original + original.splitlines(keepends=True)[1])
    assert process_partition(PartitionTask("orders", DAY), ports).run_id != first.run_id
