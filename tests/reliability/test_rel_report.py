"""``tests/reliability/report.py`` turns the suite's JSON lines into RELIABILITY.md tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.reliability


def _report_module() -> ModuleType:
    path = Path(__file__).with_name("report.py")
    spec = importlib.util.spec_from_file_location("reliability_report", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_lines(path: Path, *entries: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries), encoding="utf-8")
    return path


def test_latest_entry_per_scenario_fills_the_tables_and_keeps_the_prose(tmp_path: Path) -> None:
    report = _report_module()
    results = _write_lines(
        tmp_path / "r.jsonl",
        {"scenario": "crash", "at": "old", "cpus": 2, "kills": 3, "lost": 0, "corrupt": 0},
        {"scenario": "faults", "at": "t1", "cpus": 2, "faults_injected": 40, "lost": 0},
        {"scenario": "crash", "at": "new", "cpus": 2, "kills": 7, "lost": 0, "corrupt": 0},
    )
    document = tmp_path / "RELIABILITY.md"
    document.write_text(
        f"# Reliability\n\nprose before\n\n{report.START}\nstale\n{report.END}\n\nprose after\n"
    )

    assert report.main(["--results", str(results), "--output", str(document)]) == 0

    text = document.read_text()
    assert "prose before" in text
    assert "prose after" in text
    assert "stale" not in text
    assert "| worker processes killed with SIGKILL (and restarted) | 7 |" in text
    assert "| storage faults served (503, 429, resets, stalls) | 40 |" in text
    assert "| `crash` | kills 7, lost 0, corrupt 0 | new (2 CPUs) |" in text
    assert "kills 3" not in text


def test_markers_are_appended_to_a_document_without_them(tmp_path: Path) -> None:
    report = _report_module()
    results = _write_lines(tmp_path / "r.jsonl", {"scenario": "load", "partitions": 5})
    document = tmp_path / "RELIABILITY.md"
    document.write_text("# Reliability\n")

    report.main(["--results", str(results), "--output", str(document)])

    text = document.read_text()
    assert text.startswith("# Reliability\n")
    assert report.START in text
    assert report.END in text
    assert "| partitions checked | 5 |" in text


def test_a_broken_results_line_is_named(tmp_path: Path) -> None:
    report = _report_module()
    results = tmp_path / "r.jsonl"
    results.write_text('{"scenario": "a"}\n{not json\n')
    with pytest.raises(SystemExit, match=r"r\.jsonl:2 is not JSON"):
        report.main(["--results", str(results), "--output", str(tmp_path / "out.md")])


def test_missing_results_exit_1_with_the_command_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report_module()
    code = report.main(
        ["--results", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "o.md")]
    )
    assert code == 1
    assert "run `pytest -m reliability` first" in capsys.readouterr().err
