"""Match what the demo observed (completion events, dead letters) against its plan.

The demo is done when every planned file has an outcome, whatever it is; it succeeded
when every outcome is the expected one. Completion events may arrive more than once
(Pub/Sub delivers at least once, and a partition is announced again when it is already
committed): each is counted, a partition is settled by the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from worker.devenv.demo_plan import DemoPlan, PlannedFile


@dataclass(frozen=True, slots=True)
class Completion:
    """One ``partition-completed`` event, as a downstream consumer receives it."""

    dataset: str
    partition: date
    status: str
    run_id: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    partition_uri: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter from a ``<topic>-dlq-keep`` subscription."""

    reason: str
    error_type: str
    message: str
    subscription: str
    uri: str | None
    """The object the original message named, when it could be read."""


@dataclass(frozen=True, slots=True)
class FileVerdict:
    planned: PlannedFile
    outcome: str
    """committed / skipped / dead-letter:<reason> / pending."""
    ok: bool


@dataclass
class DemoTally:
    plan: DemoPlan
    landing_uri: str
    completions: list[Completion] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def add_completion(self, completion: Completion) -> None:
        self.completions.append(completion)

    def add_dead_letter(self, dead_letter: DeadLetter) -> None:
        self.dead_letters.append(dead_letter)

    def _completion_for(self, planned: PlannedFile) -> Completion | None:
        if planned.partition is None or planned.role == "unroutable":
            return None
        return next((c for c in self.completions if c.partition == planned.partition), None)

    def _dead_letter_for(self, planned: PlannedFile) -> DeadLetter | None:
        uri = self.plan.uri(self.landing_uri, planned)
        return next((d for d in self.dead_letters if d.uri == uri), None)

    def verdict(self, planned: PlannedFile) -> FileVerdict:
        dead_letter = self._dead_letter_for(planned)
        if dead_letter is not None:
            ok = planned.expect == "dead-letter" and dead_letter.reason == planned.reason
            return FileVerdict(planned, f"dead-letter:{dead_letter.reason}", ok)
        completion = self._completion_for(planned)
        if completion is not None:
            return FileVerdict(planned, completion.status, planned.expect == "committed")
        return FileVerdict(planned, "pending", ok=False)

    def verdicts(self) -> list[FileVerdict]:
        return [self.verdict(planned) for planned in self.plan.files]

    def pending(self) -> list[PlannedFile]:
        return [v.planned for v in self.verdicts() if v.outcome == "pending"]

    @property
    def done(self) -> bool:
        return not self.pending()

    @property
    def succeeded(self) -> bool:
        return all(v.ok for v in self.verdicts())

    def unexplained_dead_letters(self) -> list[DeadLetter]:
        """Dead letters for nothing the demo uploaded (e.g. left over, or a worker bug)."""
        planned = {self.plan.uri(self.landing_uri, f) for f in self.plan.files}
        return [d for d in self.dead_letters if d.uri not in planned]
