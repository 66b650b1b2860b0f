"""The manifest commit on GCS: conditional writes with if_generation_match (HTTP 412)."""

from __future__ import annotations

import threading

import pytest

from support.faulty_proxy import FaultyProxy
from worker.errors import CommitConflictError, StorageError
from worker.storage.gcs import GcsStorage
from worker.storage.retry import RetryPolicy

pytestmark = pytest.mark.integration


def test_create_only_if_absent(gcs: GcsStorage, bucket: str) -> None:
    uri = f"gs://{bucket}/out/dt=2024-01-01/_manifest.json"
    generation = gcs.write_bytes(uri, b'{"run_id": "a"}', if_generation_match=0)
    with pytest.raises(CommitConflictError, match=r"412.*expected generation 0") as caught:
        gcs.write_bytes(uri, b'{"run_id": "b"}', if_generation_match=0)
    assert caught.value.where == uri
    assert not caught.value.retryable
    assert gcs.read_bytes(uri) == (b'{"run_id": "a"}', generation)


def test_overwrite_only_from_the_generation_we_read(gcs: GcsStorage, bucket: str) -> None:
    uri = f"gs://{bucket}/out/_manifest.json"
    first = gcs.write_bytes(uri, b"v1")
    second = gcs.write_bytes(uri, b"v2", if_generation_match=first)
    assert second != first
    with pytest.raises(CommitConflictError):
        gcs.write_bytes(uri, b"v3 from a stale read", if_generation_match=first)
    assert gcs.read_bytes(uri) == (b"v2", second)


def test_conditional_write_over_the_single_request_limit_is_refused(
    gcs: GcsStorage, bucket: str
) -> None:
    uri = f"gs://{bucket}/out/_manifest.json"
    with pytest.raises(StorageError, match="single-request uploads"):
        gcs.write_bytes(uri, b"x" * (8 * 1024 * 1024 + 1), if_generation_match=0)
    assert gcs.stat(uri) is None


def _is_upload(method: str, path: str) -> bool:
    return method == "POST" and path.startswith("/upload/")


@pytest.mark.parametrize("existing", [False, True], ids=["create", "overwrite"])
def test_two_racing_writers_exactly_one_wins_and_the_loser_backs_off(
    proxy: FaultyProxy, fast_retries: RetryPolicy, gcs: GcsStorage, bucket: str, existing: bool
) -> None:
    uri = f"gs://{bucket}/out/dt=2024-01-01/_manifest.json"
    expected = gcs.write_bytes(uri, b"previous run") if existing else 0
    writers = [
        GcsStorage(emulator_host=proxy.url, retry_policy=fast_retries, timeout_s=10)
        for _ in range(2)
    ]
    start = threading.Barrier(len(writers))
    outcomes: dict[int, int | CommitConflictError] = {}

    def commit(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = writers[index].write_bytes(
                uri, f"manifest of writer {index}".encode(), if_generation_match=expected
            )
        except CommitConflictError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for writer in writers:
        writer.close()

    winners = [i for i, outcome in outcomes.items() if isinstance(outcome, int)]
    losers = [i for i, outcome in outcomes.items() if isinstance(outcome, CommitConflictError)]
    assert (len(winners), len(losers)) == (1, 1)
    # A conflict is final: the loser sent one upload and did not retry it.
    assert sum(_is_upload(r.method, r.path) for r in proxy.requests) == 2
    stored = gcs.read_bytes(uri)
    assert stored == (f"manifest of writer {winners[0]}".encode(), outcomes[winners[0]])
    # Backing off means: re-read the manifest, then commit on top of what won.
    retried = gcs.write_bytes(uri, b"loser, rebased", if_generation_match=stored[1])
    assert gcs.read_bytes(uri) == (b"loser, rebased", retried)
