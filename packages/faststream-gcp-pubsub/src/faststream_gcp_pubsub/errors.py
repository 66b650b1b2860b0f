"""The broker's own exception tree, independent of any application that uses it::

    BrokerError                     a Pub/Sub operation failed (permanent unless retryable)
    ├── TransientBrokerError        retryable: UNAVAILABLE, DEADLINE_EXCEEDED, a stopped subscriber
    ├── AckFailedError              an exactly-once ack was refused: the message may come again
    ├── PushRequestError            a push request whose body is not Pub/Sub's envelope
    ├── UnknownSubscriptionError    a push for a subscription no subscriber consumes
    └── ProvisioningError           a declared resource cannot be created as declared

Every class says whether retrying may succeed (``retryable``) and names a short
``reason`` (used as the ``x-error-reason`` of a dead letter). Applications may raise
their own exceptions with the same two class attributes: the dead-letter attributes
read ``reason`` from any exception that has one.
"""

from __future__ import annotations

from typing import ClassVar


class BrokerError(Exception):
    """Root of every error the broker raises on purpose."""

    retryable: ClassVar[bool] = False
    reason: ClassVar[str] = "broker"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{message} ({where})" if where else message)


class TransientBrokerError(BrokerError):
    retryable = True
    reason = "broker-transient"


class AckFailedError(BrokerError):
    reason = "ack-failed"


class PushRequestError(BrokerError):
    reason = "push-request"


class UnknownSubscriptionError(BrokerError):
    reason = "unknown-subscription"


class ProvisioningError(BrokerError):
    reason = "configuration"
