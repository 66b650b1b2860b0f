"""Cloud Run manifests under deploy/: parseable, renderable, and in agreement with the settings."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_files import DEPLOY_DIR, PlanRunner, containers_of, load_yaml, plain_env

from worker.settings import Settings

CLOUDRUN = DEPLOY_DIR / "cloudrun"
REQUIRED = {
    "PROJECT_ID": "acme-data",
    "LANDING_BUCKET": "acme-landing",
    "OUTPUT_BUCKET": "acme-out",
}


def manifest(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(CLOUDRUN / name)
    return loaded


@pytest.mark.parametrize(
    "path", sorted(DEPLOY_DIR.rglob("*.yaml")), ids=lambda p: str(p.relative_to(DEPLOY_DIR))
)
def test_every_yaml_under_deploy_parses(path: Path) -> None:
    assert isinstance(load_yaml(path), dict)


@pytest.mark.parametrize(
    "name", ["service.yaml", "worker-pool.yaml", "job-backfill.yaml", "job-daily.yaml"]
)
def test_containers_set_only_real_settings(name: str, valid_env_names: frozenset[str]) -> None:
    for container in containers_of(manifest(name)):
        names = {item["name"] for item in container["env"]}
        assert names <= valid_env_names, f"{name}: {sorted(names - valid_env_names)}"
        env = plain_env(container)
        assert env["WORKER_OUTPUT_URI"].startswith("gs://")
        assert env["WORKER_LANDING_URI"].startswith("gs://")


def test_service_keeps_pull_subscribers_running() -> None:
    service = manifest("service.yaml")
    assert service["kind"] == "Service"
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["autoscaling.knative.dev/minScale"]) >= 1
    assert annotations["run.googleapis.com/cpu-throttling"] == "false"
    assert service["metadata"]["annotations"]["run.googleapis.com/ingress"] != "all"


def test_service_probes_the_health_port_of_the_settings() -> None:
    (container,) = containers_of(manifest("service.yaml"))
    port = int(plain_env(container).get("WORKER_HEALTH_PORT", Settings().health_port))
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert container["args"] == ["serve"]
    assert container["startupProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}


def test_drain_fits_in_cloud_runs_ten_second_shutdown() -> None:
    for name in ("service.yaml", "worker-pool.yaml"):
        (container,) = containers_of(manifest(name))
        assert float(plain_env(container)["WORKER_SHUTDOWN_GRACE_S"]) < 10, name


def test_push_token_comes_from_secret_manager() -> None:
    (container,) = containers_of(manifest("service.yaml"))
    (token,) = [item for item in container["env"] if item["name"] == "WORKER_PUSH_AUTH_TOKEN"]
    assert "value" not in token
    assert set(token["valueFrom"]["secretKeyRef"]) == {"name", "key"}


def test_worker_pool_runs_serve_on_fixed_instances() -> None:
    pool = manifest("worker-pool.yaml")
    assert (pool["apiVersion"], pool["kind"]) == ("run.googleapis.com/v1", "WorkerPool")
    assert "run.googleapis.com/manualInstanceCount" in pool["metadata"]["annotations"]
    (container,) = containers_of(pool)
    assert container["args"] == ["serve"]


def test_backfill_job_shards_across_tasks() -> None:
    job = manifest("job-backfill.yaml")
    assert (job["apiVersion"], job["kind"]) == ("run.googleapis.com/v1", "Job")
    execution = job["spec"]["template"]["spec"]
    assert execution["taskCount"] > 1
    assert 1 <= execution["parallelism"] <= execution["taskCount"]
    (container,) = containers_of(job)
    args = [str(arg) for arg in container["args"]]
    assert args[0] == "backfill"
    assert {"--dataset", "--start-date", "--end-date", "--parallel", "--mode"} <= set(args)
    assert args[args.index("--mode") + 1] == "missing", "retried tasks must not redo committed days"


def test_daily_job_runs_yesterday() -> None:
    (container,) = containers_of(manifest("job-daily.yaml"))
    script = " ".join([*container["command"], *container["args"]])
    assert "worker run --dataset" in script
    assert "date -u -d yesterday" in script
    assert "$(" not in script, "Cloud Run expands $(NAME) in args itself"


def test_rendered_manifests_are_complete(run_plan: PlanRunner, tmp_path: Path) -> None:
    image = "europe-docker.pkg.dev/acme-data/worker/worker:1.2.3"
    plan = run_plan(
        "cloudrun/deploy.sh",
        "service",
        "pool",
        "jobs",
        RENDER_DIR=str(tmp_path),
        IMAGE=image,
        **REQUIRED,
    )
    applied = {(command[2], Path(command[4]).name) for command in plan}
    assert applied == {
        ("services", "service.yaml"),
        ("worker-pools", "worker-pool.yaml"),
        ("jobs", "job-daily.yaml"),
        ("jobs", "job-backfill.yaml"),
    }
    for command in plan:
        rendered_path = Path(command[4])
        text = rendered_path.read_text(encoding="utf-8")
        assert "${" not in text, f"{rendered_path.name} kept a placeholder"
        rendered: dict[str, Any] = load_yaml(rendered_path)
        (container,) = containers_of(rendered)
        assert container["image"] == image
        assert plain_env(container)["WORKER_PROJECT"] == REQUIRED["PROJECT_ID"]
        assert plain_env(container)["WORKER_OUTPUT_URI"] == f"gs://{REQUIRED['OUTPUT_BUCKET']}"
        spec = rendered["spec"]["template"]["spec"]
        if rendered["kind"] == "Job":
            spec = spec["template"]["spec"]
        assert spec["serviceAccountName"] == "worker-runtime@acme-data.iam.gserviceaccount.com"


def test_deploy_refuses_to_run_without_its_required_settings(tmp_path: Path) -> None:
    completed = subprocess.run(
        ["bash", str(CLOUDRUN / "deploy.sh")],
        env={"PATH": "/usr/bin:/bin", "DRY_RUN": "1", "RENDER_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert all(name in completed.stderr for name in REQUIRED)
