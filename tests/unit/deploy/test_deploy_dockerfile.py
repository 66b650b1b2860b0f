"""The Dockerfile and .dockerignore, read statically (no Docker engine on CI machines)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field

import pytest
from deploy_files import REPO_ROOT, settings_env_names, worker_names_in

from worker.settings import Settings

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args_of(self, keyword: str) -> list[str]:
        return [args for instruction, args in self.instructions if instruction == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
        elif keyword == "ARG" and "=" in args:
            key, _, value = args.partition("=")
            global_args[key.strip()] = value.strip()
    return global_args, stages


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def resolve(image: str, global_args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], image)


def test_build_is_multi_stage_with_a_separate_runtime(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    global_args, stages = dockerfile
    builder = next(stage for stage in stages if stage.name == "builder")
    runtime = stages[-1]
    assert runtime is not builder
    copied_from = [args for args in runtime.args_of("COPY") if args.startswith("--from=")]
    assert copied_from, "the runtime stage must copy the built venv out of the builder"
    assert all(args.startswith("--from=builder ") for args in copied_from)
    assert resolve(runtime.base, global_args) == resolve(builder.base, global_args), (
        "the venv's interpreter path must exist in the runtime: build on the same base image"
    )


def test_base_images_are_pinned_to_a_version(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    global_args, stages = dockerfile
    for stage in stages:
        image = resolve(stage.base, global_args)
        if image in {s.name for s in stages}:
            continue
        tag = image.rpartition(":")[2]
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", tag), f"{image}: pin a full version, not {tag!r}"
    python = resolve(stages[-1].base, global_args)
    assert python.startswith("python:3.11.")
    assert "slim" in python


def test_dependencies_install_from_the_lock_file_before_the_source_is_copied(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    builder = next(stage for stage in stages if stage.name == "builder")
    steps = builder.instructions
    copy_lock = next(i for i, (kw, args) in enumerate(steps) if kw == "COPY" and "uv.lock" in args)
    syncs = [i for i, (kw, args) in enumerate(steps) if kw == "RUN" and "uv sync" in args]
    copy_src = next(i for i, (kw, args) in enumerate(steps) if kw == "COPY" and "src/" in args)
    assert syncs
    assert copy_lock < syncs[0] < copy_src < syncs[-1]
    for index in syncs:
        command = steps[index][1].split()
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(command), steps[index][1]


def test_runtime_carries_no_build_tools(dockerfile: tuple[dict[str, str], list[Stage]]) -> None:
    _, stages = dockerfile
    runtime_text = " ".join(args for _, args in stages[-1].instructions)
    for tool in ("uv sync", "/uv ", "gcc", "build-essential", "apt-get install"):
        assert tool not in runtime_text, f"runtime stage installs or copies {tool!r}"


def test_runtime_runs_as_a_fixed_non_root_user(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    users = stages[-1].args_of("USER")
    assert users, "no USER in the runtime stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"USER {users[-1]}: use a fixed numeric uid"
    assert int(uid) != 0, "the runtime must not run as root"


def test_entrypoint_is_the_cli_and_serve_is_the_default(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    runtime = stages[-1]
    assert json.loads(runtime.args_of("ENTRYPOINT")[-1]) == ["worker"]
    assert json.loads(runtime.args_of("CMD")[-1]) == ["serve"]
    env = " ".join(runtime.args_of("ENV"))
    assert "/app/.venv/bin" in env
    assert "PYTHONUNBUFFERED=1" in env


def test_healthcheck_probes_liveness_on_the_settings_port(
    dockerfile: tuple[dict[str, str], list[Stage]],
) -> None:
    _, stages = dockerfile
    runtime = stages[-1]
    healthchecks = runtime.args_of("HEALTHCHECK")
    assert healthchecks, "no HEALTHCHECK"
    probe = healthchecks[-1]
    assert "/healthz" in probe
    assert "urllib.request" in probe, "slim has no curl: probe with python"
    assert worker_names_in([probe]) <= settings_env_names()
    default_port = str(Settings.model_fields["health_port"].default)
    assert f"'{default_port}'" in probe
    assert runtime.args_of("EXPOSE") == [default_port]


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/"))
    tokens = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(tokens.get(part, re.escape(part)) for part in parts))


def is_excluded(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a matched directory takes its contents."""
    prefixes = ["/".join(path.split("/")[: i + 1]) for i in range(path.count("/") + 1)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = glob_to_regex(pattern.removeprefix("!"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".venv/bin/python",
        ".git/HEAD",
        "data/landing/trips/2024-01-15.csv",
        "tests/unit/test_x.py",
        "bench/out/result.json",
        ".mypy_cache/3.11/x.json",
        "src/worker/__pycache__/settings.cpython-311.pyc",
    ],
)
def test_dockerignore_keeps_secrets_and_local_state_out(path: str) -> None:
    assert is_excluded(path, dockerignore_patterns()), f"{path} would enter the build context"


def test_dockerignore_keeps_everything_the_build_copies() -> None:
    readme = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "readme"
    ]
    needed = ["pyproject.toml", "uv.lock", readme, "src/worker/settings.py", "schemas/x.avsc"]
    patterns = dockerignore_patterns()
    assert not [path for path in needed if is_excluded(path, patterns)]
