"""The Python example in docs/storage.md runs, as written, against fake-gcs-server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worker.devenv.emulators import ManagedProcess

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[3] / "docs" / "storage.md"


def test_storage_doc_example_runs(gcs_server: ManagedProcess) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, f"no python example found in {DOC}"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "docs_storage"})  # noqa: S102 - our own doc
