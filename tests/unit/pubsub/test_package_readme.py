"""The broker package README's quick start runs as written.

Its ```python blocks are written in order to one module file (FastStream's test client
reads its caller's source, so it must be a real file) and imported; every ``test_*``
coroutine they define is then run, so the README's test-client and FastAPI examples are
real tests.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import types
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[3] / "packages" / "faststream-gcp-pubsub" / "README.md"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


README_TEST = re.compile(r"^async def (test_\w+)", re.MULTILINE)


def _source() -> str:
    return "\n".join(PYTHON_BLOCK.findall(README.read_text(encoding="utf-8")))


def _quick_start(directory: Path) -> types.ModuleType:
    path = directory / "readme_quick_start.py"
    path.write_text(_source(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_quick_start", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _readme_tests() -> list[str]:
    return README_TEST.findall(_source())


def test_the_readme_has_runnable_examples() -> None:
    assert len(PYTHON_BLOCK.findall(README.read_text(encoding="utf-8"))) >= 4
    assert len(_readme_tests()) >= 4


@pytest.mark.parametrize("name", _readme_tests())
def test_readme_example(name: str, tmp_path: Path) -> None:
    module = _quick_start(tmp_path)
    test: Any = getattr(module, name)
    asyncio.run(test())


def test_the_readme_app_documents_pubsub_bindings(tmp_path: Path) -> None:
    document = _quick_start(tmp_path).app.schema.to_specification().to_jsonable()
    assert document["info"]["title"] == "orders"
    channel = next(c for c in document["channels"].values() if c["address"] == "orders-sub")
    binding = channel["bindings"]["googlepubsub"]
    assert binding["x-subscription"]["deadLetterPolicy"]["deadLetterTopic"] == "orders-dlq"
