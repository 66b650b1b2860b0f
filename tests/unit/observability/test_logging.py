from __future__ import annotations

import io
import json

import structlog
from pydantic import SecretStr

from worker.observability.logging import configure_logging, get_logger


def test_json_lines_carry_bound_context_and_hide_secrets() -> None:
    out = io.StringIO()
    configure_logging("json", stream=out)
    structlog.contextvars.bind_contextvars(dataset="trips", partition="2024-01-15")
    try:
        get_logger("t").info(
            "job.completed",
            push_auth_token="hunter2",  # noqa: S106 - a marker value the test must not find
            settings_secret=SecretStr("hunter3"),
        )
    finally:
        structlog.contextvars.clear_contextvars()

    line = json.loads(out.getvalue().strip())
    assert line["event"] == "job.completed"
    assert line["dataset"] == "trips"
    assert line["partition"] == "2024-01-15"
    assert "hunter2" not in out.getvalue()
    assert "hunter3" not in out.getvalue()


def test_console_format_is_not_json() -> None:
    out = io.StringIO()
    configure_logging("console", stream=out)
    get_logger("t").info("hello", answer=42)
    assert "hello" in out.getvalue()
    assert not out.getvalue().lstrip().startswith("{")
