"""LocalStorage: atomic writes, conditional commits between processes, listing, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from worker.errors import (
    CommitConflictError,
    InputNotFoundError,
    OutputNotWritableError,
    StorageError,
)
from worker.storage import LocalStorage, Storage


@pytest.fixture
def store() -> LocalStorage:
    return LocalStorage()


def test_local_storage_satisfies_the_protocol(store: LocalStorage) -> None:
    assert isinstance(store, Storage)


def test_write_then_read_round_trips_with_generation(store: LocalStorage, tmp_path: Path) -> None:
    uri = str(tmp_path / "a" / "b.json")
    generation = store.write_bytes(uri, b'{"x": 1}')
    assert store.read_bytes(uri) == (b'{"x": 1}', generation)
    info = store.stat(uri)
    assert info is not None
    assert (info.size, info.generation) == (8, generation)
    assert store.read_bytes(str(tmp_path / "missing")) is None
    assert store.stat(str(tmp_path / "missing")) is None


def test_failed_write_leaves_the_old_file_and_no_temp_file(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = str(tmp_path / "manifest.json")
    store.write_bytes(uri, b"old")

    def crash(src: str, dst: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError):
        store.write_bytes(uri, b"new")
    assert (tmp_path / "manifest.json").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_conditional_write_checks_the_generation(store: LocalStorage, tmp_path: Path) -> None:
    uri = str(tmp_path / "_manifest.json")
    first = store.write_bytes(uri, b"one", if_generation_match=0)
    with pytest.raises(CommitConflictError, match="expected 0"):
        store.write_bytes(uri, b"two", if_generation_match=0)
    with pytest.raises(CommitConflictError):
        store.write_bytes(uri, b"two", if_generation_match=first + 1)
    assert store.read_bytes(uri) == (b"one", first)
    second = store.write_bytes(uri, b"two", if_generation_match=first)
    assert second != first
    assert store.read_bytes(uri) == (b"two", second)


# Each racer imports and builds its storage first, reports ready, then spins until the
# parent creates the go-file, so both conditional writes start within a millisecond.
_RACER = """
import sys, time
from pathlib import Path
from worker.errors import CommitConflictError
from worker.storage.local import LocalStorage

uri, expected, payload, ready, go = sys.argv[1:6]
store = LocalStorage()
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.001)
try:
    store.write_bytes(uri, payload.encode(), if_generation_match=int(expected))
    print("won")
except CommitConflictError:
    print("conflict")
"""


def _start_racers(uri: str, expected: int, sync_dir: Path, count: int) -> list[str]:
    go = sync_dir / "go"
    racers = []
    for i in range(count):
        argv = [uri, str(expected), f"writer-{i}", str(sync_dir / f"ready-{i}"), str(go)]
        racers.append(
            subprocess.Popen(
                [sys.executable, "-c", _RACER, *argv], stdout=subprocess.PIPE, text=True
            )
        )
    deadline = time.monotonic() + 60
    while not all((sync_dir / f"ready-{i}").exists() for i in range(count)):
        assert time.monotonic() < deadline, "racer processes did not start"
        time.sleep(0.005)
    go.touch()
    outcomes = []
    for racer in racers:
        out, _ = racer.communicate(timeout=60)
        assert racer.returncode == 0
        outcomes.append(out.strip())
    return outcomes


@pytest.mark.parametrize("existing", [False, True], ids=["create", "overwrite"])
def test_two_processes_racing_one_conditional_write_exactly_one_wins(
    tmp_path: Path, existing: bool
) -> None:
    uri = str(tmp_path / "partition" / "_manifest.json")
    expected = LocalStorage().write_bytes(uri, b"base") if existing else 0
    sync_dir = tmp_path / "sync"
    sync_dir.mkdir()
    outcomes = _start_racers(uri, expected, sync_dir, count=2)
    assert sorted(outcomes) == ["conflict", "won"]
    data = LocalStorage().read_bytes(uri)
    assert data is not None
    assert data[0] == f"writer-{outcomes.index('won')}".encode()


def test_list_is_recursive_sorted_and_skips_temp_files(store: LocalStorage, tmp_path: Path) -> None:
    for name in ["b/2.csv", "a/1.csv", "a/deep/3.csv"]:
        store.write_bytes(str(tmp_path / name), b"x")
    (tmp_path / "a" / ".1.csv.abc123.tmp").write_bytes(b"partial")
    listed = [Path(info.uri).relative_to(tmp_path).as_posix() for info in store.list(str(tmp_path))]
    assert listed == ["a/1.csv", "a/deep/3.csv", "b/2.csv"]
    assert [info.uri for info in store.list(str(tmp_path / "a" / "1.csv"))] == [
        str(tmp_path / "a" / "1.csv")
    ]
    assert store.list(str(tmp_path / "nothing-here")) == []


def test_upload_download_and_delete(store: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    uploaded = store.upload(src, str(tmp_path / "out" / "obj.bin"))
    assert uploaded.size == 7
    dest = tmp_path / "copy" / "obj.bin"
    store.download(str(tmp_path / "out" / "obj.bin"), dest)
    assert dest.read_bytes() == b"payload"
    store.delete(str(tmp_path / "out" / "obj.bin"))
    store.delete(str(tmp_path / "out" / "obj.bin"))
    assert store.stat(str(tmp_path / "out" / "obj.bin")) is None
    assert store.local_path(str(src)) == src


def test_download_of_a_missing_file_names_it(store: LocalStorage, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(InputNotFoundError, match=r"nope\.csv"):
        store.download(missing, tmp_path / "dest.csv")


def test_write_below_a_file_is_not_writable(store: LocalStorage, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"a file where a directory should be")
    with pytest.raises(OutputNotWritableError, match="blocker"):
        store.write_bytes(str(tmp_path / "blocker" / "x.json"), b"{}")


def test_permission_denied_is_not_writable(
    store: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    # Root ignores directory modes, so the refusal is simulated where the write begins.
    monkeypatch.setattr("tempfile.mkstemp", denied)
    with pytest.raises(OutputNotWritableError, match="Permission denied"):
        store.write_bytes(str(tmp_path / "x.json"), b"{}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_not_writable(store: LocalStorage, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputNotWritableError):
            store.write_bytes(str(locked / "x.json"), b"{}")
    finally:
        locked.chmod(0o700)
