# syntax=docker/dockerfile:1
# The worker image: one image for every mode (Cloud Run service, worker pool, job, local demo).
#   docker build -t worker:local .
#   docker run --rm worker:local                                    # worker serve
#   docker run --rm worker:local run --dataset trips --date 2024-01-15
# Base images are pinned by version; pin by digest as well in your registry mirror if your
# supply-chain policy asks for it.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

# uv is copied out of its release image, so the runtime stage never sees it.
FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode is compiled at build time because the runtime user cannot write into the venv.
# The venv uses the base image's interpreter, which sits at the same path in the runtime stage.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /build
# Dependencies first, from the lock file alone: this layer is rebuilt only when the lock changes.
# The broker is a workspace member (its own distribution); its pyproject.toml is part of the lock.
COPY pyproject.toml uv.lock ./
COPY packages/faststream-gcp-pubsub/pyproject.toml packages/faststream-gcp-pubsub/
RUN uv sync --frozen --no-dev --no-editable --no-install-workspace
# Then the project itself, installed as a wheel (--no-editable) so /build is not needed at runtime.
# README.md is the package's readme in pyproject.toml; the build backend reads it.
COPY README.md ./
COPY schemas/ schemas/
COPY src/ src/
COPY packages/ packages/
RUN uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="worker" \
      org.opencontainers.image.description="Google Cloud event-driven data worker: Pub/Sub-triggered, Pandera-validated, Polars-transformed, Hive-partitioned Parquet." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

# A fixed uid/gid so volume permissions and runAsNonRoot policies can name it.
RUN groupadd --system --gid 10001 worker \
    && useradd --system --uid 10001 --gid 10001 --home-dir /srv/worker --create-home \
       --shell /usr/sbin/nologin worker

# The code stays root-owned and read-only for the worker user; only /srv/worker is writable
# (relative paths such as the default ./data/landing and the backfill checkpoints live there).
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /build/schemas /app/schemas

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/srv/worker
WORKDIR /srv/worker
USER 10001:10001

# The health server (liveness /healthz, readiness /readyz) of `worker serve`; Cloud Run's
# default $PORT is 8080 too.
EXPOSE 8080
# slim has no curl: probe with the interpreter the image already carries. Cloud Run ignores
# this and uses the probes in deploy/cloudrun/*.yaml instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; port = os.environ.get('WORKER_HEALTH_PORT') or os.environ.get('PORT') or '8080'; urllib.request.urlopen('http://127.0.0.1:' + port + '/healthz', timeout=4)" || exit 1

ENTRYPOINT ["worker"]
CMD ["serve"]
