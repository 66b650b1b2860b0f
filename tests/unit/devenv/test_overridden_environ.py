from __future__ import annotations

import os

import pytest

from worker.devenv.environment import overridden_environ


def _set_then_fail() -> None:
    with overridden_environ({"WORKER_T_KEPT": "x", "WORKER_T_NEW": "y"}):
        assert os.environ["WORKER_T_KEPT"] == "x"
        assert os.environ["WORKER_T_NEW"] == "y"
        raise RuntimeError("restored even on error")


def test_values_hold_inside_and_the_previous_environment_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKER_T_KEPT", "before")
    monkeypatch.delenv("WORKER_T_NEW", raising=False)
    with pytest.raises(RuntimeError, match="restored even on error"):
        _set_then_fail()
    assert os.environ["WORKER_T_KEPT"] == "before"
    assert "WORKER_T_NEW" not in os.environ
