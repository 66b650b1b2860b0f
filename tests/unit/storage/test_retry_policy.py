"""Retry classification and the bounded backoff loop, driven by fake callables (no network)."""

from __future__ import annotations

import http.client

import pytest
import requests
import urllib3.exceptions
from google.api_core import exceptions as api_exceptions
from google.cloud.storage.exceptions import DataCorruption

from worker.errors import (
    CommitConflictError,
    InputNotFoundError,
    StorageError,
    TransientStorageError,
)
from worker.storage.retry import RetryPolicy, call_with_retries, is_transient

TRANSIENT = [
    api_exceptions.TooManyRequests("slow down"),
    api_exceptions.InternalServerError("boom"),
    api_exceptions.BadGateway("bad gateway"),
    api_exceptions.ServiceUnavailable("unavailable"),
    api_exceptions.GatewayTimeout("gateway timeout"),
    api_exceptions.from_http_status(408, "request timeout"),
    requests.exceptions.ConnectionError("connection aborted"),
    requests.exceptions.ConnectTimeout("connect timeout"),
    requests.exceptions.ReadTimeout("read timeout"),
    requests.exceptions.ChunkedEncodingError("connection broken"),
    urllib3.exceptions.ProtocolError("connection aborted"),
    ConnectionResetError(104, "Connection reset by peer"),
    ConnectionAbortedError(103, "Software caused connection abort"),
    ConnectionRefusedError(111, "Connection refused"),
    http.client.RemoteDisconnected("Remote end closed connection"),
    TimeoutError("timed out"),
    TransientStorageError("checksum mismatch", where="gs://b/x"),
    DataCorruption(None, "upload digest differs"),
]

PERMANENT = [
    api_exceptions.BadRequest("bad request"),
    api_exceptions.Unauthorized("who are you"),
    api_exceptions.Forbidden("no"),
    api_exceptions.NotFound("no such object"),
    api_exceptions.Conflict("exists"),
    api_exceptions.PreconditionFailed("generation mismatch"),
    requests.exceptions.InvalidURL("bad url"),
    FileNotFoundError(2, "No such file"),
    ValueError("bad argument"),
    CommitConflictError("lost the race", where="gs://b/m"),
    InputNotFoundError("missing", where="gs://b/x"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize("exc", PERMANENT, ids=lambda e: type(e).__name__)
def test_permanent_failures_are_not_retried(exc: BaseException) -> None:
    assert not is_transient(exc)


class FlakyCall:
    """Raises the scripted failures in order, then returns ``result``."""

    def __init__(self, failures: list[BaseException], result: str = "done") -> None:
        self.failures = list(failures)
        self.result = result
        self.attempts: list[int] = []

    def __call__(self, attempt: int) -> str:
        self.attempts.append(attempt)
        if self.failures:
            raise self.failures.pop(0)
        return self.result


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def policy(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts=4, initial_backoff_s=1.0, max_backoff_s=3.0, sleep=waits.append)


def test_transient_failures_then_success_returns_the_result(
    policy: RetryPolicy, waits: list[float]
) -> None:
    call = FlakyCall([api_exceptions.ServiceUnavailable("503"), ConnectionResetError()])
    assert call_with_retries(call, policy=policy, action="read", uri="gs://b/x") == "done"
    assert call.attempts == [1, 2, 3]
    assert len(waits) == 2


def test_backoff_grows_exponentially_with_jitter_and_is_capped(waits: list[float]) -> None:
    policy = RetryPolicy(attempts=8, initial_backoff_s=1.0, max_backoff_s=3.0, sleep=waits.append)
    call = FlakyCall([TimeoutError()] * 7)
    call_with_retries(call, policy=policy, action="read", uri="gs://b/x")
    ceilings = [1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    assert len(waits) == len(ceilings)
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
    # Full jitter: the waits are drawn, not fixed; seven equal draws would mean no jitter.
    assert len(set(waits)) > 1


def test_persistent_transient_failure_becomes_transient_storage_error(
    policy: RetryPolicy, waits: list[float]
) -> None:
    last = api_exceptions.ServiceUnavailable("still down")
    call = FlakyCall([api_exceptions.ServiceUnavailable("down")] * 3 + [last])
    with pytest.raises(TransientStorageError) as caught:
        call_with_retries(call, policy=policy, action="download", uri="gs://b/in/x.csv")
    assert call.attempts == [1, 2, 3, 4]
    assert len(waits) == 3
    error = caught.value
    assert error.retryable
    assert error.where == "gs://b/in/x.csv"
    assert "download failed after 4 attempt(s)" in str(error)
    assert error.__cause__ is last


def test_permanent_failure_propagates_after_one_attempt(
    policy: RetryPolicy, waits: list[float]
) -> None:
    forbidden = api_exceptions.Forbidden("no access")
    call = FlakyCall([forbidden])
    with pytest.raises(api_exceptions.Forbidden) as caught:
        call_with_retries(call, policy=policy, action="write", uri="gs://b/x")
    assert caught.value is forbidden
    assert call.attempts == [1]
    assert waits == []


def test_permanent_failure_after_transient_ones_stops_the_loop(policy: RetryPolicy) -> None:
    call = FlakyCall([ConnectionResetError(), CommitConflictError("lost", where="gs://b/m")])
    with pytest.raises(CommitConflictError):
        call_with_retries(call, policy=policy, action="write", uri="gs://b/m")
    assert call.attempts == [1, 2]


def test_a_single_attempt_policy_does_not_retry(waits: list[float]) -> None:
    policy = RetryPolicy(attempts=1, sleep=waits.append)
    call = FlakyCall([ConnectionRefusedError()])
    with pytest.raises(TransientStorageError, match="after 1 attempt"):
        call_with_retries(call, policy=policy, action="stat", uri="gs://b/x")
    assert waits == []


def test_transient_storage_error_is_still_a_storage_error() -> None:
    assert issubclass(TransientStorageError, StorageError)


@pytest.mark.parametrize(
    "kwargs", [{"attempts": 0}, {"initial_backoff_s": -1.0}, {"max_backoff_s": -0.5}]
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
