"""The push variant under deploy/: the manifest runs the service in push mode, as documented."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

from worker.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
CLOUDRUN = REPO_ROOT / "deploy" / "cloudrun"
PUSH_SCRIPT = REPO_ROOT / "deploy" / "pubsub" / "push-subscription.sh"


def render_push(tmp_path: Path) -> dict[str, Any]:
    """``deploy.sh push`` under DRY_RUN: the manifest it applies, rendered."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        "DRY_RUN": "1",
        "PROJECT_ID": "acme-data",
        "LANDING_BUCKET": "acme-landing",
        "OUTPUT_BUCKET": "acme-out",
        "RENDER_DIR": str(tmp_path),
    }
    completed = subprocess.run(
        ["bash", str(CLOUDRUN / "deploy.sh"), "push"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    [command] = [
        shlex.split(line[2:]) for line in completed.stdout.splitlines() if line[:2] == "+ "
    ]
    assert command[:4] == ["gcloud", "run", "services", "replace"]
    rendered: dict[str, Any] = yaml.safe_load(Path(command[4]).read_text(encoding="utf-8"))
    return rendered


def test_the_push_manifest_serves_push_with_the_secret_token(tmp_path: Path) -> None:
    service = render_push(tmp_path)
    templates = [
        yaml.safe_load((CLOUDRUN / name).read_text())
        for name in ("service.yaml", "service-push.yaml")
    ]

    # One service name: the push variant replaces the pull one.
    assert len({template["metadata"]["name"] for template in templates}) == 1
    [container] = service["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    settings = Settings(**{
        name.removeprefix("WORKER_").lower(): item["value"]
        for name, item in env.items() if "value" in item
    })  # fmt: skip
    assert settings.delivery == "push"
    assert "value" not in env["WORKER_PUSH_AUTH_TOKEN"]
    assert set(env["WORKER_PUSH_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]) == {"name", "key"}
    assert container["args"] == ["serve"]
    assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert service["spec"]["template"]["spec"]["containerConcurrency"] == settings.max_messages


def test_a_push_request_may_last_as_long_as_the_push_ack_deadline(tmp_path: Path) -> None:
    service = render_push(tmp_path)
    deadline = re.search(
        r'PUSH_ACK_DEADLINE_S="\$\{PUSH_ACK_DEADLINE_S:-(\d+)\}"', PUSH_SCRIPT.read_text()
    )

    assert deadline is not None
    assert service["spec"]["template"]["spec"]["timeoutSeconds"] >= int(deadline.group(1))
