"""Send an in-process worker's logs to a file, so a terminal shows only the demo's story.

``worker serve`` subprocesses write their own log files; the in-memory demo runs the
service inside the CLI process. Inside :func:`logs_to_file`, its structlog output and
FastStream's loggers (which do not propagate and write to stdout on their own, some
created only when the broker starts) go to ``path``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from worker.observability.logging import configure_logging

FASTSTREAM_LOGGER = "faststream"


def _faststream_loggers() -> list[logging.Logger]:
    names = [FASTSTREAM_LOGGER] + [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.startswith(f"{FASTSTREAM_LOGGER}.")
    ]
    return [logging.getLogger(name) for name in names]


def _drop_handlers_on(out: TextIO) -> None:
    for logger in _faststream_loggers():
        logger.handlers[:] = [
            handler
            for handler in logger.handlers
            if not (isinstance(handler, logging.StreamHandler) and handler.stream is out)
        ]


@contextlib.contextmanager
def logs_to_file(path: Path, level: str) -> Iterator[None]:
    """JSON logs to ``path`` inside; the caller reconfigures its own logging after.

    Standard output is redirected too while inside, so nothing else may print there.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = _faststream_loggers()
    saved = [logger.handlers[:] for logger in existing]
    with path.open("a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        configure_logging("json", level, stream=out)
        for logger in existing:
            logger.handlers[:] = [logging.StreamHandler(out)]
        try:
            yield
        finally:
            _drop_handlers_on(out)
            for logger, handlers in zip(existing, saved, strict=True):
                logger.handlers[:] = handlers
