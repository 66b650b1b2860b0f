"""List dead letters without consuming them, and replay them to their source topic.

Both use synchronous pull on the dead-letter subscription (``<topic>-dlq-keep``):

* :meth:`DeadLetterQueue.peek` pulls, then sets every pulled message's ack deadline to 0,
  so the dead letters stay available to the next look or the replay.
* :meth:`DeadLetterQueue.replay` republishes each dead letter's ORIGINAL bytes and
  attributes (error attributes stripped) to its source topic and acks the dead letter only
  once that publish has resolved; a failed publish nacks it, so it stays. A crash between
  publish and ack replays that message again later: replay is at least once, which the
  worker's idempotent processing absorbs.

A dead letter that had an ordering key is republished with it, through a publisher with
message ordering enabled; one without is republished without. Once a publish with a key
fails, the later letters with that key in the same run are not published (they stay in
the subscription), so a replay never overtakes a message of its own key.

``PUBSUB_EMULATOR_HOST`` (or ``emulator_host``) points the clients at the emulator; Google
client errors are translated to :mod:`worker.errors` (:mod:`worker.ops.pubsub_clients`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from faststream_gcp_pubsub.errors import BrokerError
from worker.errors import ConfigurationError
from worker.ops.deadletters import DeadLetter, source_topic
from worker.ops.pubsub_clients import make_clients, translate_error

MAX_PULL_BATCH = 100
LEASE_WHILE_WORKING_S = 60
"""Ack deadline given to pulled dead letters while they are listed or replayed, so a slow
run does not see them redelivered to itself."""
RESERVED_ATTRIBUTE_NAMES = frozenset({"topic", "data", "ordering_key", "retry", "timeout"})
"""Keyword names of ``PublisherClient.publish``; attributes so named cannot be republished."""

ReplayStatus = Literal["replayed", "failed", "unacked", "dry-run"]
OrderedKey = tuple[str, str]
"""(topic path, ordering key): the unit Google's publisher pauses after a failed publish."""


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What happened to one dead letter in a replay."""

    letter: DeadLetter
    status: ReplayStatus
    topic: str | None = None
    new_message_id: str | None = None
    error: str | None = None


@dataclass(slots=True)
class ReplayReport:
    subscription: str
    dry_run: bool
    outcomes: list[ReplayOutcome] = field(default_factory=list)

    def count(self, status: ReplayStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def problems(self) -> list[ReplayOutcome]:
        """Dead letters that were not replayed as asked (failed, or replayed but unacked)."""
        return [o for o in self.outcomes if o.status in ("failed", "unacked")]


class DeadLetterQueue:
    """Dead-letter subscriptions of one project, read and replayed synchronously."""

    def __init__(
        self,
        project: str,
        *,
        emulator_host: str | None = None,
        clients: tuple[Any, Any] | None = None,
        pull_timeout_s: float = 5.0,
        publish_timeout_s: float = 60.0,
    ) -> None:
        self.project = project
        self._subscriber, self._publisher = clients or make_clients(emulator_host)
        self.pull_timeout_s = pull_timeout_s
        self.publish_timeout_s = publish_timeout_s

    def close(self) -> None:
        self._publisher.stop()
        self._subscriber.close()

    def __enter__(self) -> DeadLetterQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def subscription_path(self, subscription: str) -> str:
        if subscription.startswith("projects/"):
            return subscription
        return f"projects/{self.project}/subscriptions/{subscription}"

    def topic_path(self, topic: str) -> str:
        return topic if topic.startswith("projects/") else f"projects/{self.project}/topics/{topic}"

    def peek(self, subscription: str, limit: int) -> list[DeadLetter]:
        """Up to ``limit`` dead letters, left in the subscription for the next reader."""
        path = self.subscription_path(subscription)
        held: list[DeadLetter] = []
        try:
            for batch in self._batches(path, limit):
                held.extend(batch)
        finally:
            self._release(path, held)
        return held

    def replay(
        self,
        subscription: str,
        limit: int,
        *,
        to_topic: str | None = None,
        dry_run: bool = False,
    ) -> ReplayReport:
        """Republish up to ``limit`` dead letters to their source topic (or ``to_topic``)."""
        path = self.subscription_path(subscription)
        report = ReplayReport(subscription=subscription, dry_run=dry_run)
        # Dead letters not acked (dry run, failed publish) are held until the end of the run,
        # so later pulls bring new ones, and then given back all at once.
        held: list[DeadLetter] = []
        failed_keys: set[OrderedKey] = set()
        try:
            for batch in self._batches(path, limit):
                if dry_run:
                    outcomes = [self._plan(letter, path, to_topic) for letter in batch]
                else:
                    outcomes = self._replay_batch(path, batch, to_topic, failed_keys)
                report.outcomes.extend(outcomes)
                held.extend(o.letter for o in outcomes if o.status in ("failed", "dry-run"))
        finally:
            self._release(path, held)
            self._resume(failed_keys)
        return report

    def _plan(self, letter: DeadLetter, path: str, to_topic: str | None) -> ReplayOutcome:
        try:
            topic = self.topic_path(source_topic(letter, path, to_topic))
        except ConfigurationError as exc:
            return ReplayOutcome(letter, "failed", error=str(exc))
        return ReplayOutcome(letter, "dry-run", topic=topic)

    def _replay_batch(
        self,
        path: str,
        batch: Sequence[DeadLetter],
        to_topic: str | None,
        failed_keys: set[OrderedKey],
    ) -> list[ReplayOutcome]:
        # Publish the whole batch first so the client can batch the RPCs, then settle each
        # dead letter by its own publish result.
        started: list[tuple[DeadLetter, str | None, Any, str | None]] = []
        for letter in batch:
            topic: str | None = None
            try:
                topic = self.topic_path(source_topic(letter, path, to_topic))
                future = self._publish(topic, letter, failed_keys)
            except Exception as exc:
                # One letter's failure is reported with it; the others still go.
                started.append((letter, topic, None, str(exc)))
                continue
            started.append((letter, topic, future, None))
        return [self._settle(path, *item, failed_keys) for item in started]

    def _publish(self, topic: str, letter: DeadLetter, failed_keys: set[OrderedKey]) -> Any:
        where = f"dead letter {letter.message_id}"
        original = letter.original_attributes
        reserved = sorted(RESERVED_ATTRIBUTE_NAMES.intersection(original))
        if reserved:
            raise BrokerError(
                f"attributes {reserved} collide with PublisherClient.publish keywords; "
                "republish this message by hand",
                where=where,
            )
        if (topic, letter.ordering_key) in failed_keys:
            raise BrokerError(
                f"not republished: an earlier dead letter with ordering key "
                f"{letter.ordering_key!r} failed in this run, and this one must not overtake it",
                where=where,
            )
        return self._publisher.publish(
            topic, letter.data, ordering_key=letter.ordering_key, **original
        )

    def _settle(
        self,
        path: str,
        letter: DeadLetter,
        topic: str | None,
        future: Any,
        error: str | None,
        failed_keys: set[OrderedKey],
    ) -> ReplayOutcome:
        if future is not None:
            try:
                new_message_id = str(future.result(timeout=self.publish_timeout_s))
            except Exception as exc:
                # Whatever made the publish fail, the dead letter stays for another try.
                error = str(translate_error(exc, f"publish to {topic}"))
                if topic is not None and letter.ordering_key:
                    failed_keys.add((topic, letter.ordering_key))
            else:
                try:
                    self._subscriber.acknowledge(subscription=path, ack_ids=[letter.ack_id])
                except Exception as exc:
                    problem = translate_error(exc, f"ack on {path}")
                    return ReplayOutcome(
                        letter,
                        "unacked",
                        topic=topic,
                        new_message_id=new_message_id,
                        error=f"republished, but the ack failed, so it may be replayed again: "
                        f"{problem}",
                    )
                return ReplayOutcome(letter, "replayed", topic=topic, new_message_id=new_message_id)
        return ReplayOutcome(letter, "failed", topic=topic, error=error)

    def _resume(self, failed_keys: set[OrderedKey]) -> None:
        """Let the publisher take these keys again (it pauses a key whose publish failed)."""
        for topic, key in sorted(failed_keys):
            self._publisher.resume_publish(topic, key)

    def _batches(self, path: str, limit: int) -> Iterator[list[DeadLetter]]:
        """New dead letters, batch by batch, until ``limit`` or the subscription runs dry.

        A message seen before in this run (a failed replay given back, a lease that ran
        out) is released again and ends the run instead of looping over it.
        """
        seen: set[str] = set()
        remaining = limit
        while remaining > 0:
            pulled = self._pull(path, min(remaining, MAX_PULL_BATCH))
            fresh = [letter for letter in pulled if letter.message_id not in seen]
            self._release(path, [letter for letter in pulled if letter.message_id in seen])
            if not fresh:
                return
            self._extend(path, fresh)
            seen.update(letter.message_id for letter in fresh)
            remaining -= len(fresh)
            yield fresh

    def _pull(self, path: str, max_messages: int) -> list[DeadLetter]:
        from google.api_core.exceptions import DeadlineExceeded

        try:
            response = self._subscriber.pull(
                subscription=path, max_messages=max_messages, timeout=self.pull_timeout_s
            )
        except DeadlineExceeded:
            return []
        except Exception as exc:
            raise translate_error(exc, f"pull from {path}") from exc
        return [
            DeadLetter(
                ack_id=received.ack_id,
                message_id=received.message.message_id,
                data=bytes(received.message.data),
                attributes=dict(received.message.attributes),
                publish_time=received.message.publish_time,
                ordering_key=received.message.ordering_key,
            )
            for received in response.received_messages
        ]

    def _extend(self, path: str, letters: Sequence[DeadLetter]) -> None:
        self._modify_deadline(path, letters, LEASE_WHILE_WORKING_S)

    def _release(self, path: str, letters: Sequence[DeadLetter]) -> None:
        """Give the messages back now (ack deadline 0): the nack of synchronous pull."""
        self._modify_deadline(path, letters, 0)

    def _modify_deadline(self, path: str, letters: Sequence[DeadLetter], seconds: int) -> None:
        if not letters:
            return
        try:
            self._subscriber.modify_ack_deadline(
                subscription=path,
                ack_ids=[letter.ack_id for letter in letters],
                ack_deadline_seconds=seconds,
            )
        except Exception as exc:
            raise translate_error(exc, f"modify ack deadline on {path}") from exc
