"""Matching observed completions and dead letters to the demo plan."""

from __future__ import annotations

from datetime import date

from worker.devenv.demo_plan import build_plan
from worker.devenv.demo_tally import Completion, DeadLetter, DemoTally

LANDING = "gs://demo-landing"


def completion(day: date, status: str = "committed") -> Completion:
    return Completion("trips", day, status, f"run-{day}", 100, 98, 2, f"out/{day}")


def dead_letter(name: str | None, reason: str) -> DeadLetter:
    uri = f"{LANDING}/{name}" if name else None
    return DeadLetter(reason, "SomeError", "why", "file-arrived-worker", uri)


def test_done_and_succeeded_once_every_file_has_its_expected_outcome() -> None:
    plan = build_plan(days=2)
    tally = DemoTally(plan, LANDING)

    tally.add_completion(completion(date(2024, 1, 1)))
    tally.add_completion(completion(date(2024, 1, 2)))
    tally.add_dead_letter(dead_letter("trips/2024-01-03.csv", "input-format"))
    assert not tally.done
    assert [f.name for f in tally.pending()] == ["notes/vendor-contacts.txt"]

    tally.add_dead_letter(dead_letter("notes/vendor-contacts.txt", "unroutable"))

    assert tally.done
    assert tally.succeeded
    assert [v.outcome for v in tally.verdicts()] == [
        "committed",
        "committed",
        "dead-letter:input-format",
        "dead-letter:unroutable",
    ]


def test_a_duplicate_completion_is_counted_but_settles_nothing_new() -> None:
    tally = DemoTally(build_plan(days=1), LANDING)

    tally.add_completion(completion(date(2024, 1, 1)))
    tally.add_completion(completion(date(2024, 1, 1), status="skipped"))

    assert len(tally.completions) == 2
    assert tally.verdicts()[0].outcome == "committed"
    assert not tally.done


def test_a_wrong_reason_or_a_dead_lettered_good_day_fails_the_demo() -> None:
    tally = DemoTally(build_plan(days=1), LANDING)
    tally.add_dead_letter(dead_letter("trips/2024-01-01.csv", "storage"))
    tally.add_completion(completion(date(2024, 1, 2)))
    tally.add_dead_letter(dead_letter("notes/vendor-contacts.txt", "forbidden-path"))

    verdicts = tally.verdicts()

    assert tally.done
    assert not tally.succeeded
    assert [v.ok for v in verdicts] == [False, False, False]
    assert verdicts[1].outcome == "committed"


def test_dead_letters_naming_no_planned_file_are_reported_apart() -> None:
    tally = DemoTally(build_plan(days=1), LANDING)
    stray = dead_letter(None, "decode")
    tally.add_dead_letter(stray)
    tally.add_dead_letter(dead_letter("notes/vendor-contacts.txt", "unroutable"))

    assert tally.unexplained_dead_letters() == [stray]
