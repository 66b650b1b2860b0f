"""deploy/ shell scripts: syntax, and the plans they print under DRY_RUN=1.

The plans are compared with the worker's settings, so the Pub/Sub names and delivery policy
provisioned by gcloud are the ones the worker expects.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_files import DEPLOY_DIR, REPO_ROOT, PlanRunner, flag, load_yaml, worker_names_in

from worker.settings import Settings, TopicNames

SCRIPTS = sorted(DEPLOY_DIR.rglob("*.sh"))
ENTRY_SCRIPTS = [path for path in SCRIPTS if path.name != "lib.sh"]
PROJECT = {"PROJECT_ID": "acme-data", "PROJECT_NUMBER": "123456789"}
BUCKETS = {"LANDING_BUCKET": "acme-landing", "OUTPUT_BUCKET": "acme-out"}
RUNTIME = "serviceAccount:worker-runtime@acme-data.iam.gserviceaccount.com"
PUBSUB_AGENT = "serviceAccount:service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com"
SHELLCHECK_MISSING = "LOUD SKIP: shellcheck is not installed; deploy/ scripts were only parsed"


def script_id(path: Path) -> str:
    return str(path.relative_to(DEPLOY_DIR))


def consumed_topics() -> list[str]:
    topics = TopicNames()
    return [topics.file_arrived, topics.backfill_requested, topics.partition_requested]


def commands(plan: list[list[str]], *prefix: str) -> list[list[str]]:
    return [command for command in plan if command[: len(prefix)] == list(prefix)]


@pytest.mark.parametrize("path", SCRIPTS, ids=script_id)
def test_script_parses(path: Path) -> None:
    completed = subprocess.run(
        ["bash", "-n", str(path)], capture_output=True, text=True, timeout=30, check=False
    )
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize("path", ENTRY_SCRIPTS, ids=script_id)
def test_script_fails_fast(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text


def test_scripts_pass_shellcheck() -> None:
    executable = shutil.which("shellcheck")
    if executable is None:
        pytest.skip(SHELLCHECK_MISSING)
    completed = subprocess.run(
        [executable, "--external-sources", *map(str, SCRIPTS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout


def test_scripts_read_only_real_settings(valid_env_names: frozenset[str]) -> None:
    texts = [path.read_text(encoding="utf-8") for path in SCRIPTS]
    assert worker_names_in(texts) - valid_env_names == set()


def test_pubsub_plan_matches_the_settings(run_plan: PlanRunner) -> None:
    settings = Settings()
    plan = run_plan("pubsub/setup.sh", **PROJECT, **BUCKETS)
    created_topics = {
        command[4] for command in commands(plan, "gcloud", "pubsub", "topics", "create")
    }
    expected_topics = {TopicNames().partition_completed, TopicNames().backfill_completed}
    for topic in consumed_topics():
        expected_topics |= {topic, settings.dead_letter_topic_for(topic)}
    assert created_topics == expected_topics

    subscriptions = {
        command[4]: command
        for command in commands(plan, "gcloud", "pubsub", "subscriptions", "create")
    }
    for topic in consumed_topics():
        dead_letter_topic = settings.dead_letter_topic_for(topic)
        worker = subscriptions.pop(settings.subscription_for(topic))
        assert flag(worker, "topic") == topic
        assert flag(worker, "dead-letter-topic") == f"projects/acme-data/topics/{dead_letter_topic}"
        assert flag(worker, "max-delivery-attempts") == str(settings.max_delivery_attempts)
        assert float((flag(worker, "min-retry-delay") or "").removesuffix("s")) == (
            settings.retry_min_backoff_s
        )
        assert float((flag(worker, "max-retry-delay") or "").removesuffix("s")) == (
            settings.retry_max_backoff_s
        )
        assert flag(worker, "ack-deadline") == str(settings.ack_deadline_s)
        keep = subscriptions.pop(f"{dead_letter_topic}-keep")
        assert flag(keep, "topic") == dead_letter_topic
        assert flag(keep, "expiration-period") == "never"
    assert subscriptions == {}, "unexpected subscriptions"

    (notification,) = commands(plan, "gcloud", "storage", "buckets", "notifications", "create")
    assert notification[5] == "gs://acme-landing"
    assert flag(notification, "topic") == f"projects/acme-data/topics/{TopicNames().file_arrived}"
    assert flag(notification, "event-types") == "OBJECT_FINALIZE"
    assert flag(notification, "payload-format") == "json"


def test_pubsub_plan_follows_topic_and_policy_overrides(run_plan: PlanRunner) -> None:
    plan = run_plan(
        "pubsub/setup.sh",
        WORKER_TOPIC_FILE_ARRIVED="acme-arrivals",
        WORKER_MAX_DELIVERY_ATTEMPTS="9",
        **PROJECT,
        **BUCKETS,
    )
    subscriptions = {
        command[4]: command
        for command in commands(plan, "gcloud", "pubsub", "subscriptions", "create")
    }
    arrivals = subscriptions["acme-arrivals-worker"]
    assert flag(arrivals, "dead-letter-topic") == "projects/acme-data/topics/acme-arrivals-dlq"
    assert flag(arrivals, "max-delivery-attempts") == "9"
    (notification,) = commands(plan, "gcloud", "storage", "buckets", "notifications", "create")
    assert flag(notification, "topic") == "projects/acme-data/topics/acme-arrivals"


def bindings(plan: list[list[str]]) -> set[tuple[str, str, str, str]]:
    """(resource kind, resource, member, role) for every add-iam-policy-binding in a plan."""
    found = set()
    for command in plan:
        if "add-iam-policy-binding" in command:
            at = command.index("add-iam-policy-binding")
            kind = " ".join(command[1:at])
            found.add(
                (kind, command[at + 1], flag(command, "member") or "", flag(command, "role") or "")
            )
    return found


def test_iam_plan_is_least_privilege(run_plan: PlanRunner) -> None:
    settings = Settings()
    topics = TopicNames()
    plan = run_plan("iam/setup.sh", **PROJECT, **BUCKETS)
    granted = bindings(plan)
    assert not [b for b in granted if b[0] in {"projects", "organizations"}], "no project roles"

    runtime = {
        (kind, resource, role) for kind, resource, member, role in granted if member == RUNTIME
    }
    expected_runtime = {
        ("storage buckets", "gs://acme-landing", "roles/storage.objectViewer"),
        ("storage buckets", "gs://acme-out", "roles/storage.objectAdmin"),
        ("pubsub topics", topics.partition_completed, "roles/pubsub.publisher"),
        ("pubsub topics", topics.backfill_completed, "roles/pubsub.publisher"),
        ("pubsub topics", topics.partition_requested, "roles/pubsub.publisher"),
        ("secrets", "worker-push-auth-token", "roles/secretmanager.secretAccessor"),
    }
    for topic in consumed_topics():
        expected_runtime |= {
            ("pubsub subscriptions", settings.subscription_for(topic), "roles/pubsub.subscriber"),
            ("pubsub topics", settings.dead_letter_topic_for(topic), "roles/pubsub.publisher"),
        }
    assert runtime == expected_runtime

    agent = {(resource, role) for _, resource, member, role in granted if member == PUBSUB_AGENT}
    assert agent == {
        grant
        for topic in consumed_topics()
        for grant in (
            (settings.dead_letter_topic_for(topic), "roles/pubsub.publisher"),
            (settings.subscription_for(topic), "roles/pubsub.subscriber"),
        )
    }

    storage_agent = "serviceAccount:service-123456789@gs-project-accounts.iam.gserviceaccount.com"
    assert (
        "pubsub topics",
        topics.file_arrived,
        storage_agent,
        "roles/pubsub.publisher",
    ) in granted

    scheduler = [b for b in granted if "worker-scheduler@" in b[2]]
    assert scheduler == [("run jobs", "worker-daily", scheduler[0][2], "roles/run.invoker")]


def test_push_plan_points_pubsub_at_the_service_with_oidc(run_plan: PlanRunner) -> None:
    settings = Settings()
    plan = run_plan("pubsub/push-subscription.sh", **PROJECT)
    pushes = commands(plan, "gcloud", "pubsub", "subscriptions", "modify-push-config")
    assert [command[4] for command in pushes] == [
        settings.subscription_for(topic) for topic in consumed_topics()
    ]
    for command in pushes:
        endpoint = flag(command, "push-endpoint") or ""
        assert endpoint.startswith("https://SERVICE_URL/pubsub/push?token=")
        assert (
            flag(command, "push-auth-service-account")
            == "worker-push@acme-data.iam.gserviceaccount.com"
        )
        assert flag(command, "push-auth-token-audience") == "https://SERVICE_URL"
    invokers = [b for b in bindings(plan) if b[3] == "roles/run.invoker"]
    assert invokers == [
        (
            "run services",
            "worker",
            "serviceAccount:worker-push@acme-data.iam.gserviceaccount.com",
            "roles/run.invoker",
        )
    ]


def test_scheduler_plan_runs_the_daily_job_as_the_scheduler(run_plan: PlanRunner) -> None:
    plan = run_plan("scheduler/daily-run.sh", **PROJECT, REGION="us-central1")
    (create,) = commands(plan, "gcloud", "scheduler", "jobs", "create", "http")
    assert flag(create, "uri") == (
        "https://run.googleapis.com/v2/projects/acme-data/locations/us-central1/jobs/worker-daily:run"
    )
    assert flag(create, "http-method") == "POST"
    assert flag(create, "oauth-service-account-email") == (
        "worker-scheduler@acme-data.iam.gserviceaccount.com"
    )
    assert len((flag(create, "schedule") or "").split()) == 5


def test_scheduler_and_iam_name_the_job_that_is_deployed(
    run_plan: PlanRunner, tmp_path: Path
) -> None:
    deployed = run_plan(
        "cloudrun/deploy.sh", "jobs", RENDER_DIR=str(tmp_path), **PROJECT, **BUCKETS
    )
    (daily_manifest,) = [Path(c[4]) for c in deployed if Path(c[4]).name == "job-daily.yaml"]
    daily_job = load_yaml(daily_manifest)["metadata"]["name"]
    (create,) = commands(
        run_plan("scheduler/daily-run.sh", **PROJECT), "gcloud", "scheduler", "jobs", "create"
    )
    assert (flag(create, "uri") or "").endswith(f"/jobs/{daily_job}:run")
    invoked = {
        b[1] for b in bindings(run_plan("iam/setup.sh", **PROJECT, **BUCKETS)) if b[0] == "run jobs"
    }
    assert invoked == {daily_job}
