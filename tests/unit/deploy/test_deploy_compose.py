"""docker-compose.yml: valid for Compose, and in agreement with the worker's settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any
from urllib.parse import urlparse

import pytest
from deploy_files import REPO_ROOT, load_yaml

from worker.settings import Settings, TopicNames

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
WORKER_SERVICES = ("setup", "worker", "docs")
COMPOSE_MISSING = (
    "LOUD SKIP: docker-compose is not installed (Debian package docker-compose); "
    "docker-compose.yml was not validated by Compose"
)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return dict(compose["services"])


def env_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "write environment as a mapping"
    return {name: str(value) for name, value in environment.items()}


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return " ".join(command).split() if isinstance(command, list) else str(command).split()


def option(words: list[str], name: str) -> str:
    """The value of `name value` or `name=value` in a command line."""
    for index, word in enumerate(words):
        if word == name:
            return words[index + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    raise AssertionError(f"{name} not in {' '.join(words)}")


def bucket_of(uri: str) -> str:
    parsed = urlparse(uri)
    assert parsed.scheme == "gs", uri
    return parsed.netloc


def test_compose_validates() -> None:
    executable = shutil.which("docker-compose")
    if executable is None:
        pytest.skip(COMPOSE_MISSING)
    completed = subprocess.run(
        [executable, "--file", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_every_service_of_the_demo_exists(services: dict[str, Any]) -> None:
    assert set(services) >= {"pubsub", "gcs", *WORKER_SERVICES}
    assert all(services[name]["build"]["context"] == "." for name in WORKER_SERVICES)
    assert len({services[name]["image"] for name in WORKER_SERVICES}) == 1


def test_worker_containers_set_only_real_settings(
    services: dict[str, Any], valid_env_names: frozenset[str]
) -> None:
    for name in WORKER_SERVICES:
        unknown = set(env_of(services[name])) - valid_env_names
        assert not unknown, f"service {name}: {sorted(unknown)} are not worker settings"
    for name, service in services.items():
        worker_names = {env for env in env_of(service) if env.startswith("WORKER_")}
        assert worker_names <= valid_env_names, f"service {name}: {worker_names}"


def test_emulator_images_are_pinned(services: dict[str, Any]) -> None:
    for name in ("pubsub", "gcs"):
        tag = services[name]["image"].rpartition(":")[2]
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{name}: pin {services[name]['image']}"
    assert services["pubsub"]["image"].startswith(
        "gcr.io/google.com/cloudsdktool/google-cloud-cli:"
    )
    assert services["pubsub"]["image"].endswith("-emulators")


def test_ports_are_published_on_loopback_only(services: dict[str, Any]) -> None:
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published), published


def test_workers_reach_the_emulators_by_service_name(services: dict[str, Any]) -> None:
    pubsub_port = option(command_words(services["pubsub"]), "--host-port").rpartition(":")[2]
    gcs_port = option(command_words(services["gcs"]), "-port")
    for name in WORKER_SERVICES:
        env = env_of(services[name])
        assert env["PUBSUB_EMULATOR_HOST"] == f"pubsub:{pubsub_port}"
        assert env["STORAGE_EMULATOR_HOST"] == f"http://gcs:{gcs_port}"
    assert env_of(services["gcs"])["PUBSUB_EMULATOR_HOST"] == f"pubsub:{pubsub_port}"


def test_one_project_and_the_settings_topic_for_notifications(services: dict[str, Any]) -> None:
    gcs = command_words(services["gcs"])
    project = option(command_words(services["pubsub"]), "--project")
    assert option(gcs, "-event.pubsub-project-id") == project
    assert option(gcs, "-event.pubsub-topic") == TopicNames().file_arrived
    for name in WORKER_SERVICES:
        env = env_of(services[name])
        assert env["WORKER_PROJECT"] == project
        assert env.get("WORKER_TOPIC_FILE_ARRIVED", TopicNames().file_arrived) == option(
            gcs, "-event.pubsub-topic"
        )


def test_buckets_exist_and_only_landing_notifies(services: dict[str, Any]) -> None:
    gcs = command_words(services["gcs"])
    data_dir = option(gcs, "-data")
    created = set(re.findall(rf"{re.escape(data_dir)}/([a-z0-9][a-z0-9._-]+)", " ".join(gcs)))
    env = env_of(services["worker"])
    landing, output = bucket_of(env["WORKER_LANDING_URI"]), bucket_of(env["WORKER_OUTPUT_URI"])
    assert {landing, output} <= created, f"fake-gcs-server creates {created}"
    assert option(gcs, "-event.bucket") == landing
    assert option(gcs, "-backend") == "memory"


def test_worker_health_port_agrees_everywhere(services: dict[str, Any]) -> None:
    worker = services["worker"]
    port = int(env_of(worker).get("WORKER_HEALTH_PORT", Settings().health_port))
    published = {int(str(mapping).rsplit(":", 1)[1]) for mapping in worker["ports"]}
    assert port in published
    probe = " ".join(worker["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/readyz" in probe


def test_startup_order_waits_for_health_and_setup(services: dict[str, Any]) -> None:
    healthy = {"pubsub": {"condition": "service_healthy"}, "gcs": {"condition": "service_healthy"}}
    assert services["setup"]["depends_on"] == healthy
    assert services["setup"]["command"] == ["setup"]
    assert services["worker"]["depends_on"] == healthy | {
        "setup": {"condition": "service_completed_successfully"}
    }
    assert services["worker"]["command"] == ["serve"]
    assert all("healthcheck" in services[name] for name in ("pubsub", "gcs", "worker"))


def test_docs_serve_listens_on_its_published_port(services: dict[str, Any]) -> None:
    docs = services["docs"]
    words = docs["command"]
    assert words[:2] == ["docs", "serve"]
    assert option(words, "--host") == "0.0.0.0"
    assert f"127.0.0.1:{option(words, '--port')}:{option(words, '--port')}" in docs["ports"]
