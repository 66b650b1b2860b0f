#!/usr/bin/env bash
# Render the Cloud Run manifests in this directory and apply them with gcloud.
#
#   deploy/cloudrun/deploy.sh [service] [pool] [push] [jobs]      (default: service jobs)
#
# Required: PROJECT_ID, LANDING_BUCKET, OUTPUT_BUCKET. Optional (defaults in brackets):
#   REGION [europe-west1]  IMAGE [REGION-docker.pkg.dev/PROJECT_ID/worker/worker:latest]
#   DATASET [trips]  BACKFILL_START_DATE [30 days ago]  BACKFILL_END_DATE [yesterday]
#   WORKER_DATASETS [""]  POOL_NAME [worker-pool]  POOL_INSTANCES [1]
#   RENDER_DIR [a fresh temporary directory]  DRY_RUN [0]
# service (pull), pool (pull, on a worker pool) and push (the service in push mode, same
# service name as "service") are three homes for the same subscribers: deploy one.
# After "push", run deploy/pubsub/push-subscription.sh to point the subscriptions at it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MANIFEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
require PROJECT_ID REGION LANDING_BUCKET OUTPUT_BUCKET

IMAGE="${IMAGE:-${REGION}-docker.pkg.dev/${PROJECT_ID}/worker/worker:latest}"
DATASET="${DATASET:-trips}"
BACKFILL_START_DATE="${BACKFILL_START_DATE:-$(date -u -d '30 days ago' +%F)}"
BACKFILL_END_DATE="${BACKFILL_END_DATE:-$(date -u -d yesterday +%F)}"
WORKER_DATASETS="${WORKER_DATASETS:-}"
POOL_NAME="${POOL_NAME:-worker-pool}"
POOL_INSTANCES="${POOL_INSTANCES:-1}"
# Read through ${!name} in render().
# shellcheck disable=SC2034
RUNTIME_SA="$(sa_email "$RUNTIME_SA_NAME")"
RENDER_DIR="${RENDER_DIR:-$(mktemp -d)}"

# Every ${NAME} a manifest may use; anything else left in a manifest is an error.
PLACEHOLDERS=(
  PROJECT_ID REGION IMAGE LANDING_BUCKET OUTPUT_BUCKET RUNTIME_SA DATASET
  BACKFILL_START_DATE BACKFILL_END_DATE WORKER_DATASETS POOL_NAME
  POOL_INSTANCES SERVICE_NAME DAILY_JOB_NAME BACKFILL_JOB_NAME PUSH_TOKEN_SECRET
)

# render NAME.yaml: write RENDER_DIR/NAME.yaml with the placeholders filled in; print its path.
render() {
  # Bash 5.2 would otherwise read "&" in a value as "the matched text".
  shopt -u patsub_replacement 2>/dev/null || true
  local source="$MANIFEST_DIR/$1" target="$RENDER_DIR/$1" text name
  text="$(<"$source")"
  for name in "${PLACEHOLDERS[@]}"; do
    text="${text//\$\{$name\}/${!name}}"
  done
  if [[ "$text" == *"\${"* ]]; then
    die "$source uses a placeholder deploy.sh does not know:" \
      "$(grep -o "\\\${[A-Za-z_]*}" <<<"$text" | sort -u | tr '\n' ' ')"
  fi
  mkdir -p "$RENDER_DIR"
  printf '%s\n' "$text" >"$target"
  printf '%s' "$target"
}

# apply KIND NAME.yaml: render the manifest, then create or replace the resource.
apply() {
  local manifest
  manifest="$(render "$2")"
  run gcloud run "$1" replace "$manifest" --project="$PROJECT_ID" --region="$REGION"
}

targets=("$@")
((${#targets[@]} > 0)) || targets=(service jobs)
for target in "${targets[@]}"; do
  case "$target" in
    service) apply services service.yaml ;;
    pool) apply worker-pools worker-pool.yaml ;;
    push) apply services service-push.yaml ;;
    jobs)
      apply jobs job-daily.yaml
      apply jobs job-backfill.yaml
      ;;
    *) die "unknown target '$target' (expected service, pool, push or jobs)" ;;
  esac
done
echo "rendered manifests are in $RENDER_DIR"
