"""Translate google-cloud-storage failures into the worker.errors tree.

Only what the retry loop let through arrives here: transient failures have already become
TransientStorageError. 403 and 404 on a write mean the output is not writable; on a read
they are plain storage errors. The URI is named in every message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import requests
from google.api_core import exceptions as api_exceptions

from worker.errors import OutputNotWritableError, StorageError, WorkerError


@contextlib.contextmanager
def translate_sdk_errors(action: str, uri: str, *, writing: bool) -> Iterator[None]:
    """Re-raise SDK failures inside the block as worker errors about ``action`` on ``uri``."""
    try:
        yield
    except WorkerError:
        raise
    except (api_exceptions.Forbidden, api_exceptions.Unauthorized) as exc:
        error = OutputNotWritableError if writing else StorageError
        raise error(f"{action}: permission denied (HTTP {exc.code})", where=uri) from exc
    except api_exceptions.NotFound as exc:
        error = OutputNotWritableError if writing else StorageError
        raise error(f"{action}: bucket or object not found (HTTP 404)", where=uri) from exc
    except api_exceptions.GoogleAPICallError as exc:
        raise StorageError(f"{action} failed: HTTP {exc.code} {exc.message}", where=uri) from exc
    except requests.exceptions.RequestException as exc:
        raise StorageError(f"{action} failed: {type(exc).__name__}: {exc}", where=uri) from exc
    except OSError as exc:
        raise StorageError(f"{action} failed locally: {exc}", where=uri) from exc
