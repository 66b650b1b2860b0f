"""Retries for Cloud Storage calls: which failures are worth another attempt, and how often.

Retries happen here and nowhere else: the adapter passes ``retry=None`` to every
google-cloud-storage call it wraps, so a call is never retried twice over by two layers
that know nothing of each other.

A failure is *transient* when the same request may succeed later: HTTP 408, 429 and
500/502/503/504, timeouts, connections that were refused, reset or aborted, and bytes
that arrived corrupted (digest mismatch). Every
other failure (400, 401, 403, 404, 412 ...) is returned to the caller at once, to be
translated into the :mod:`worker.errors` tree. When the bounded attempts run out, the last
transient failure becomes a :class:`~worker.errors.TransientStorageError`, so the message
that asked for the work is nacked and redelivered later.
"""

from __future__ import annotations

import http.client
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests
import structlog
import urllib3.exceptions
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

# google-cloud-storage ships no py.typed marker.
from google.cloud.storage.exceptions import DataCorruption  # type: ignore[import-untyped]
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from worker.errors import TransientStorageError

T = TypeVar("T")

TRANSIENT_HTTP_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_TRANSIENT_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    # Builtins cover ConnectionResetError, ConnectionAbortedError, ConnectionRefusedError,
    # BrokenPipeError and http.client.RemoteDisconnected.
    ConnectionError,
    TimeoutError,
    http.client.IncompleteRead,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
    auth_exceptions.TransportError,
    # The client compares an upload's digest with the one the server computed.
    DataCorruption,
)

_log = structlog.get_logger(__name__)


def is_transient(exc: BaseException) -> bool:
    """True when repeating the request that raised ``exc`` may succeed."""
    if isinstance(exc, TransientStorageError):
        return True
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        return exc.code in TRANSIENT_HTTP_STATUSES
    return isinstance(exc, _TRANSIENT_TRANSPORT_ERRORS)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    The wait before attempt ``n + 1`` is drawn uniformly from
    ``[0, min(max_backoff_s, initial_backoff_s * 2**(n - 1))]``, so many workers hit by the
    same outage do not come back in lockstep.
    """

    attempts: int = 5
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 16.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    """Injected so tests can record the waits instead of sleeping through them."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("RetryPolicy backoff times must be >= 0")


def call_with_retries(
    attempt: Callable[[int], T], *, policy: RetryPolicy, action: str, uri: str
) -> T:
    """Run ``attempt(n)`` (``n`` = 1, 2, ...) until it returns, retrying transient failures.

    Non-transient exceptions propagate unchanged after the attempt that raised them; when
    every attempt failed transiently, a TransientStorageError naming ``action`` and ``uri``
    is raised from the last failure.
    """
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_random_exponential(multiplier=policy.initial_backoff_s, max=policy.max_backoff_s),
        retry=retry_if_exception(is_transient),
        sleep=policy.sleep,
        before_sleep=lambda state: _log.warning(
            "storage call failed, retrying",
            action=action,
            uri=uri,
            attempt=state.attempt_number,
            error=repr(state.outcome.exception()) if state.outcome else None,
        ),
        reraise=True,
    )
    attempt_numbers = itertools.count(1)
    try:
        return retrying(lambda: attempt(next(attempt_numbers)))
    except Exception as exc:
        if is_transient(exc):
            raise TransientStorageError(
                f"{action} failed after {policy.attempts} attempt(s): {_describe(exc)}",
                where=uri,
            ) from exc
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TransientStorageError):
        return exc.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
