"""Create declared topics and subscriptions, idempotently; report drift; plan a dry run.

Existing resources are never changed: Pub/Sub cannot change a subscription's topic,
filter or ordering in place, and silently rewriting production settings is worse than
saying they differ. Each difference becomes a :class:`DriftFinding`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from faststream_gcp_pubsub.errors import ProvisioningError
from faststream_gcp_pubsub.specs import ResourceSet, SubscriptionSpec
from faststream_gcp_pubsub.transport.base import Admin

log = logging.getLogger(__name__)

ActionKind = Literal["create-topic", "create-subscription", "exists"]


@dataclass(frozen=True, slots=True)
class ProvisionAction:
    kind: ActionKind
    resource: str
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.kind} {self.resource}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class DriftFinding:
    """An existing subscription whose setting differs from what the worker declares."""

    resource: str
    setting: str
    declared: str
    actual: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.setting} is {self.actual}, declared {self.declared}"


@dataclass(slots=True)
class ProvisionReport:
    dry_run: bool
    actions: list[ProvisionAction] = field(default_factory=list)
    drift: list[DriftFinding] = field(default_factory=list)

    @property
    def created(self) -> list[ProvisionAction]:
        return [a for a in self.actions if a.kind != "exists"]

    def lines(self) -> list[str]:
        """Printable plan / outcome, one line each (for ``worker setup [--dry-run]``)."""
        verb = "would " if self.dry_run else ""
        out = [f"{verb}{a}" if a.kind != "exists" else str(a) for a in self.actions]
        out += [f"drift: {d}" for d in self.drift]
        return out


def _compared_settings(spec: SubscriptionSpec) -> dict[str, str]:
    values = {"topic": str(spec.topic)}
    if not spec.managed:
        return values
    backoff = spec.retry_backoff
    values |= {
        "ack deadline": f"{spec.ack_deadline_s} s",
        "dead-letter topic": str(spec.dead_letter_topic),
        "retry backoff": f"{backoff.minimum_s:g}-{backoff.maximum_s:g} s" if backoff else "none",
        "message ordering": str(spec.enable_message_ordering),
        "exactly-once delivery": str(spec.enable_exactly_once_delivery),
        "filter": repr(spec.filter),
    }
    if spec.dead_letter_topic:
        values["max delivery attempts"] = str(spec.max_delivery_attempts)
    return values


def find_drift(declared: SubscriptionSpec, actual: SubscriptionSpec) -> list[DriftFinding]:
    wanted = _compared_settings(declared)
    found = _compared_settings(actual)
    if declared.topic is None:
        wanted.pop("topic")
    return [
        DriftFinding(f"subscription {declared.name}", setting, value, found.get(setting, "?"))
        for setting, value in wanted.items()
        if found.get(setting) != value
    ]


async def provision(admin: Admin, resources: ResourceSet, *, dry_run: bool) -> ProvisionReport:
    """Bring ``resources`` into existence (topics first); with ``dry_run`` only plan."""
    report = ProvisionReport(dry_run=dry_run)
    for topic in resources.topics:
        if await admin.get_topic(topic) is not None:
            report.actions.append(ProvisionAction("exists", f"topic {topic}"))
            continue
        report.actions.append(ProvisionAction("create-topic", f"topic {topic}"))
        if not dry_run:
            await admin.create_topic(topic)

    for spec in resources.subscriptions:
        resource = f"subscription {spec.name}"
        actual = await admin.get_subscription(spec.name)
        if actual is not None:
            report.actions.append(ProvisionAction("exists", resource))
            report.drift += find_drift(spec, actual)
            continue
        if spec.topic is None:
            msg = "subscription does not exist and no topic was declared to create it on"
            raise ProvisioningError(msg, where=resource)
        report.actions.append(ProvisionAction("create-subscription", resource, spec.describe()))
        if not dry_run:
            await admin.create_subscription(spec)

    for finding in report.drift:
        log.warning("Pub/Sub drift: %s", finding)
    return report
