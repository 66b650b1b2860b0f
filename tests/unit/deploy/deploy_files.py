"""Reading helpers for the deployment-file tests (Dockerfile, compose, deploy/)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from worker.settings import Settings, TopicNames

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy"
# A name that ends in a letter or digit: "WORKER_TOPIC_*" in prose is not a variable.
WORKER_ENV_NAME = re.compile(r"\bWORKER_[A-Z0-9_]*[A-Z0-9]\b")

PlanRunner = Callable[..., list[list[str]]]


def settings_env_names() -> frozenset[str]:
    """Every environment variable the worker's settings read, from the models themselves."""
    names: set[str] = set()
    for model in (Settings, TopicNames):
        prefix = str(model.model_config.get("env_prefix", ""))
        for field_name, field in model.model_fields.items():
            nested = isinstance(field.annotation, type) and issubclass(
                field.annotation, BaseSettings
            )
            if nested:
                continue  # read through its own model (TopicNames), listed above
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(choice for choice in alias.choices if isinstance(choice, str))
            elif isinstance(alias, str):
                names.add(alias)
            else:
                names.add(f"{prefix}{field_name}".upper())
    return frozenset(names)


def worker_names_in(texts: Iterable[str]) -> set[str]:
    return {match for text in texts for match in WORKER_ENV_NAME.findall(text)}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def containers_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a Cloud Run service, worker pool or job manifest."""
    spec = manifest["spec"]["template"]["spec"]
    if manifest["kind"] == "Job":
        spec = spec["template"]["spec"]
    containers: list[dict[str, Any]] = spec["containers"]
    return containers


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: str(item["value"]) for item in container["env"] if "value" in item}


def flag(command: list[str], name: str) -> str | None:
    """The value of --name=value in a planned command, or None."""
    prefix = f"--{name}="
    values = [arg[len(prefix) :] for arg in command if arg.startswith(prefix)]
    return values[-1] if values else None
