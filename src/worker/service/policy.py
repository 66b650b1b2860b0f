"""The one place that decides a message's fate.

success → ack; transient (retryable) → nack, so the subscription's retry policy backs off;
permanent (cannot decode, schema mismatch, unroutable, bad input data, forbidden path,
unknown dataset named by a message) → dead-letter with the reason, then ack; anything
unknown → nack, with the subscription's dead-letter policy as the backstop. A valid message
that asks for no work (a storage event other than "finalized") raises
:class:`MessageIgnored` and is acked as ``ignored``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faststream_gcp_pubsub.errors import BrokerError
from worker.errors import (
    ConfigurationError,
    InputDataError,
    MessageError,
    WorkerError,
)

Fate = Literal["ack", "nack", "dead-letter", "ignored"]

PERMANENT: tuple[type[WorkerError], ...] = (MessageError, InputDataError, ConfigurationError)
"""Errors that a redelivery of the same message cannot fix."""


class MessageIgnored(Exception):
    """Raised while decoding a message that is valid but asks for no work."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Verdict:
    fate: Fate
    reason: str
    """Dead-letter reason / log reason: the error class's ``reason`` or ``unexpected``."""


def decide(error: BaseException | None) -> Verdict:
    """Map the outcome of handling one message to its fate."""
    if error is None:
        return Verdict("ack", "processed")
    if isinstance(error, MessageIgnored):
        return Verdict("ignored", error.reason)
    if isinstance(error, WorkerError):
        if error.retryable:
            return Verdict("nack", error.reason)
        if isinstance(error, PERMANENT):
            return Verdict("dead-letter", error.reason)
        return Verdict("nack", error.reason)
    if isinstance(error, BrokerError):
        return Verdict("nack", error.reason)
    return Verdict("nack", "unexpected")
