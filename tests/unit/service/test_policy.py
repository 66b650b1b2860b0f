from __future__ import annotations

import pytest

from faststream_gcp_pubsub.errors import TransientBrokerError
from worker import errors
from worker.service.policy import MessageIgnored, decide


def test_success_is_acked() -> None:
    assert decide(None).fate == "ack"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (errors.DecodeError("bad avro"), "decode"),
        (errors.SchemaError("missing field"), "schema"),
        (errors.UnroutableError("no dataset"), "unroutable"),
        (errors.QuarantineThresholdError("too many bad rows"), "quarantine-threshold"),
        (errors.ForbiddenPathError("outside landing"), "forbidden-path"),
        (errors.InputFormatError("not gzip"), "input-format"),
        (errors.ContractError("missing column"), "contract"),
        (errors.UnknownDatasetError("nope"), "unknown-dataset"),
    ],
)
def test_permanent_errors_are_dead_lettered_with_their_reason(
    error: errors.WorkerError, reason: str
) -> None:
    verdict = decide(error)
    assert verdict.fate == "dead-letter"
    assert verdict.reason == reason


@pytest.mark.parametrize(
    "error",
    [
        errors.TransientStorageError("503"),
        TransientBrokerError("UNAVAILABLE"),
        errors.CommitConflictError("412"),
        errors.OutputNotWritableError("403"),
        RuntimeError("bug"),
    ],
)
def test_transient_and_unknown_errors_are_nacked(error: BaseException) -> None:
    assert decide(error).fate == "nack"


def test_unknown_errors_say_so() -> None:
    assert decide(KeyError("x")).reason == "unexpected"


def test_ignored_messages_are_acked_as_ignored_with_their_reason() -> None:
    verdict = decide(MessageIgnored("OBJECT_DELETE: only finalized objects start work"))
    assert verdict.fate == "ignored"
    assert verdict.reason.startswith("OBJECT_DELETE")
