# shellcheck shell=bash
# The variables below are read by the scripts that source this file.
# shellcheck disable=SC2034
# Shared by the deploy scripts: configuration with defaults, checks and a dry-run mode.
#
# Names follow the worker's own settings: set WORKER_TOPIC_FILE_ARRIVED (and friends) once and
# both the worker and these scripts agree on the topic names. With DRY_RUN=1 every command that
# would change something (or call gcloud at all) is printed, one per line as "+ cmd args...",
# instead of being run; the unit tests read that plan.

DRY_RUN="${DRY_RUN:-0}"

die() {
  echo "error: $*" >&2
  exit 1
}

# run CMD...: execute, or print under DRY_RUN=1 (arguments shell-quoted).
run() {
  if [[ "$DRY_RUN" == "1" ]]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# exists CMD...: true when a describe-style command succeeds. Under DRY_RUN=1 nothing is
# asked, so the plan shows every create.
exists() {
  [[ "$DRY_RUN" != "1" ]] && "$@" >/dev/null 2>&1
}

# require VAR...: fail naming every empty variable.
require() {
  local missing=()
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  ((${#missing[@]} == 0)) || die "set ${missing[*]} (see docs/deploy.md)"
}

if [[ -z "${PROJECT_ID:-}" && "$DRY_RUN" != "1" ]]; then
  PROJECT_ID="$(gcloud config get-value project 2>/dev/null || true)"
fi
PROJECT_ID="${PROJECT_ID:-${WORKER_PROJECT:-}}"
REGION="${REGION:-europe-west1}"

# Pub/Sub names: the worker's settings and defaults (worker.settings.TopicNames).
FILE_ARRIVED_TOPIC="${WORKER_TOPIC_FILE_ARRIVED:-file-arrived}"
BACKFILL_REQUESTED_TOPIC="${WORKER_TOPIC_BACKFILL_REQUESTED:-backfill-requested}"
PARTITION_REQUESTED_TOPIC="${WORKER_TOPIC_PARTITION_REQUESTED:-partition-requested}"
PARTITION_COMPLETED_TOPIC="${WORKER_TOPIC_PARTITION_COMPLETED:-partition-completed}"
BACKFILL_COMPLETED_TOPIC="${WORKER_TOPIC_BACKFILL_COMPLETED:-backfill-completed}"
# The topics the worker consumes; partition-completed and backfill-completed are only
# published (for downstream).
CONSUMED_TOPICS=("$FILE_ARRIVED_TOPIC" "$BACKFILL_REQUESTED_TOPIC" "$PARTITION_REQUESTED_TOPIC")

subscription_for() { printf '%s-worker' "$1"; }
dead_letter_topic_for() { printf '%s-dlq' "$1"; }
dead_letter_keep_for() { printf '%s-dlq-keep' "$1"; }

# Delivery policy: the worker's settings and defaults (worker.settings.Settings).
MAX_DELIVERY_ATTEMPTS="${WORKER_MAX_DELIVERY_ATTEMPTS:-5}"
RETRY_MIN_BACKOFF_S="${WORKER_RETRY_MIN_BACKOFF_S:-10}"
RETRY_MAX_BACKOFF_S="${WORKER_RETRY_MAX_BACKOFF_S:-600}"
ACK_DEADLINE_S="${WORKER_ACK_DEADLINE_S:-60}"

# Identities and resources shared by several scripts.
RUNTIME_SA_NAME="${RUNTIME_SA_NAME:-worker-runtime}"
SCHEDULER_SA_NAME="${SCHEDULER_SA_NAME:-worker-scheduler}"
PUSH_SA_NAME="${PUSH_SA_NAME:-worker-push}"
SERVICE_NAME="${SERVICE_NAME:-worker}"
DAILY_JOB_NAME="${DAILY_JOB_NAME:-worker-daily}"
BACKFILL_JOB_NAME="${BACKFILL_JOB_NAME:-worker-backfill}"
PUSH_TOKEN_SECRET="${PUSH_TOKEN_SECRET:-worker-push-auth-token}"

sa_email() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT_ID"; }

# The project number names Google's service agents; under DRY_RUN a placeholder stands in.
project_number() {
  if [[ -n "${PROJECT_NUMBER:-}" ]]; then
    printf '%s' "$PROJECT_NUMBER"
  elif [[ "$DRY_RUN" == "1" ]]; then
    printf 'PROJECT_NUMBER'
  else
    gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)'
  fi
}

pubsub_service_agent() {
  printf 'service-%s@gcp-sa-pubsub.iam.gserviceaccount.com' "$(project_number)"
}

# Cloud Storage's service agent publishes bucket notifications; asking gcloud also creates it.
storage_service_agent() {
  if [[ "$DRY_RUN" == "1" ]]; then
    printf 'service-%s@gs-project-accounts.iam.gserviceaccount.com' "$(project_number)"
  else
    gcloud storage service-agent --project="$PROJECT_ID"
  fi
}
