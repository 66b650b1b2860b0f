"""Worker settings: environment, ``.env`` and CLI flags, built once at the edge.

The names are part of the public interface (see README, "Settings"). The core never reads
the environment: the CLI or the service factory builds one :class:`Settings` and passes
typed values down.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker.errors import ConfigurationError

BrokerKind = Literal["pubsub", "memory"]
LogFormat = Literal["auto", "json", "console"]
EventEncoding = Literal["json", "avro"]
TraceExporterName = Literal["none", "console"]
DeliveryMode = Literal["pull", "push"]


class TopicNames(BaseSettings):
    """Pub/Sub topic names; each consumed topic has ``<topic>-worker`` and ``<topic>-dlq``."""

    model_config = SettingsConfigDict(env_prefix="WORKER_TOPIC_", env_file=".env", extra="ignore")

    file_arrived: str = "file-arrived"
    backfill_requested: str = "backfill-requested"
    partition_requested: str = "partition-requested"
    partition_completed: str = "partition-completed"
    backfill_completed: str = "backfill-completed"


class Settings(BaseSettings):
    """Every knob of the worker. Environment variables are ``WORKER_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="WORKER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    project: str = Field(default="local-project", description="GCP project id.")
    landing_uri: str = Field(
        default="./data/landing",
        description="Where inputs land: gs://bucket/prefix, a local path or file:// URI. "
        "Inputs outside it are refused.",
    )
    output_uri: str = Field(
        default="./data/output", description="Root of the Hive-partitioned output."
    )
    datasets: str = Field(
        default="",
        description="Comma-separated importable modules that register extra datasets.",
    )
    broker: BrokerKind = Field(default="pubsub", description="pubsub or memory.")
    log_format: LogFormat = Field(default="auto", description="json, console or auto (TTY).")
    log_level: str = Field(default="INFO")
    workdir: str = Field(
        default="", description="Local scratch directory for staging; empty = system temp."
    )
    memory_bytes: int | None = Field(
        default=None,
        ge=64 * 1024**2,
        description="Memory the worker may use, in bytes; unset = the container's memory "
        "limit (cgroups), else the machine's memory.",
    )
    scratch_bytes: int | None = Field(
        default=None,
        ge=1024**2,
        description="Bytes one partition may write to the scratch directory (downloads, "
        "inflated .gz, transcoded text); unset = half of WORKER_MEMORY_BYTES.",
    )
    max_delivery_attempts: int = Field(default=5, ge=5, le=100)
    retry_min_backoff_s: float = Field(default=10.0, ge=0, le=600)
    retry_max_backoff_s: float = Field(default=600.0, ge=0, le=600)
    ack_deadline_s: int = Field(default=60, ge=10, le=600)
    max_messages: int = Field(default=4, ge=1)
    shutdown_grace_s: float = Field(default=25.0, ge=0)
    health_port: int = Field(default=8080, ge=1, le=65535)
    health_host: str = Field(
        # Cloud Run and container health checks reach the server from outside the loopback.
        default="0.0.0.0",  # noqa: S104
        description="Address `worker serve` binds its health and metrics server to.",
    )
    event_encoding: EventEncoding = Field(
        default="json", description="Encoding of the events the worker publishes: json or avro."
    )
    trace_exporter: TraceExporterName = Field(
        default="none", description="Where `worker serve` sends spans: none or console."
    )
    delivery: DeliveryMode = Field(
        default="pull",
        description="pull: `worker serve` streams from its subscriptions; push: it opens no "
        "stream and takes the messages Pub/Sub POSTs to /pubsub/push.",
    )
    push_auth_token: SecretStr | None = Field(
        default=None,
        description="Shared secret a push request must carry as ?token=; without one, push "
        "requests are refused (403) unless WORKER_PUSH_ALLOW_NO_TOKEN is set.",
    )
    push_allow_no_token: bool = Field(
        default=False,
        description="Accept push requests without a token when WORKER_PUSH_AUTH_TOKEN is "
        "unset: only where something else authenticates callers (Cloud Run's IAM check).",
    )
    pubsub_emulator_host: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PUBSUB_EMULATOR_HOST", "WORKER_PUBSUB_EMULATOR_HOST"),
    )
    storage_emulator_host: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STORAGE_EMULATOR_HOST", "WORKER_STORAGE_EMULATOR_HOST"),
    )
    topics: TopicNames = Field(default_factory=TopicNames)

    @field_validator("datasets")
    @classmethod
    def _strip_modules(cls, value: str) -> str:
        return ",".join(part.strip() for part in value.split(",") if part.strip())

    @property
    def dataset_modules(self) -> tuple[str, ...]:
        return tuple(self.datasets.split(",")) if self.datasets else ()

    def subscription_for(self, topic: str) -> str:
        return f"{topic}-worker"

    def dead_letter_topic_for(self, topic: str) -> str:
        return f"{topic}-dlq"


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env with CLI overrides; bad values become ConfigurationError."""
    from pydantic import ValidationError

    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
