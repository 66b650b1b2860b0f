"""docs/service.md's failure table says what ``policy.decide`` does, for every error class."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker import errors
from worker.service.policy import decide

DOC = Path(__file__).resolve().parents[3] / "docs" / "service.md"


def error_classes(root: type[errors.WorkerError] = errors.WorkerError) -> Iterator[type]:
    yield root
    for child in root.__subclasses__():
        yield from error_classes(child)


def documented_fates() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Failure policy", 1)[1].split("\n## ", 1)[0]
    fates = {}
    for reasons, fate in re.findall(r"^\| (`[^|]+`) \| [^|]+ \| ([a-z-]+)[^|]*\|$", section, re.M):
        for reason in re.findall(r"`([^`]+)`", reasons):
            fates[reason] = fate
    return fates


@pytest.mark.parametrize("error_class", list(error_classes()), ids=lambda c: c.__name__)
def test_the_failure_table_documents_each_reason_with_its_fate(error_class: type) -> None:
    error = error_class("example")
    assert documented_fates().get(error.reason) == decide(error).fate


def test_unknown_exceptions_are_documented_as_nacked() -> None:
    assert documented_fates()["unexpected"] == decide(RuntimeError("bug")).fate == "nack"
